// Streaming container writer (FORMAT.md §2-§6): header first, then each segment's chunks as they are coded,
// then the index and the footer. Memory stays bounded by one read block and one chunk, whatever the file size.

import type { SegmentCoding } from './chunk-codec.js';
import { createChunkEncoder } from './chunk-engines.js';
import { DEFAULT_CHUNK_BYTES, MAX_CHUNK_VALUES, MAX_NAME_BYTES } from './constants.js';
import { FormatError, LimitError } from '../errors.js';
import { crc32c } from './crc32c.js';
import { writeIndexBlock } from './index-block.js';
import { writeFooter, writeHeader } from './envelope.js';
import { unsafePathReason, writeIndex, type ChunkRecord, type ContainerIndex, type ContainerKind, type MemberRecord, type SegmentRecord } from './index-codec.js';
import { createSha256, type Sha256 } from './sha256.js';
import { chooseCoding, rawCoding, SegmentStats } from '../transform/choose-layout.js';
import { validLaneCount } from '../entropy/rans.js';
import { dtypeBytes } from '../transform/dtypes.js';
import { readSafetensorsLayout } from '../safetensors/read-layout.js';
import type { ByteSink, ByteSource } from '../io/byte-source.js';
import { kernelsFor, type Engine, type Kernels } from '../wasm/kernels.js';
import { WasmSegmentStats } from '../wasm/wasm-segment-stats.js';
import { ChunkWindow } from '../workers/chunk-window.js';
import { checkThreads, poolFor, type ThreadOptions } from '../workers/pool.js';

/** Encoder options. Same input and options give the same bytes. */
export interface EncodeOptions extends ThreadOptions {
  /** Target original bytes per chunk (rounded down to whole values); default 256 KiB. */
  chunkBytes?: number;
  /** Called after each chunk with original bytes done so far in this member and the member's size. */
  onProgress?: (done: number, total: number) => void;
  /** 'wasm' (default): the WebAssembly kernels where they load, else TypeScript; 'ts': the TypeScript reference. Same bytes. */
  engine?: Engine;
  /**
   * Favour decode speed over size (default false): BF16, F16 and F32 tensors code only the plane that holds the
   * exponent and store sign and mantissa bits raw, one rANS symbol per value instead of two (about twice the
   * decode speed for BF16, about 0.5 % larger). Any decoder reads the result; the reference choice is unchanged.
   */
  fastDecode?: boolean;
  /**
   * rANS lanes per chunk, a power of two from 1 to 32 (default: by chunk size, FORMAT.md §4.3). 32 lanes with
   * small `chunkBytes` (e.g. 16 KiB) make many short chunks, which GPU decoders run in parallel; each chunk then
   * carries 128 bytes of lane states.
   */
  lanes?: number;
}

/** Pass-one read size: large reads, bounded memory. A multiple of every value width. */
const READ_BLOCK_BYTES = 8 * 1024 * 1024;

/** A byte range of a member to be coded as one segment. */
interface SegmentPlan {
  kind: 'tensor' | 'bytes';
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** A source that can read into a caller's buffer (FileSource). */
type ReadIntoSource = ByteSource & { readInto(offset: number, target: Uint8Array): Promise<void> };

function hasReadInto(source: ByteSource): source is ReadIntoSource {
  return typeof (source as Partial<ReadIntoSource>).readInto === 'function';
}

/**
 * `length` bytes at `offset` in a buffer of their own, to transfer to a worker. (Never a view of the source's memory:
 * a Node Buffer's slice() is one, and transferring it would detach the caller's whole buffer.)
 */
async function readOwned(source: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  if (!hasReadInto(source)) return new Uint8Array(await source.read(offset, length));
  const bytes = new Uint8Array(length);
  await source.readInto(offset, bytes);
  return bytes;
}

/** Numbers segments, so that worker-side caches of prepared encoders never confuse two. */
let segmentKeys = 0;

/** Writes one container to a sink, member by member. */
export class ContainerWriter {
  private offset = 0;
  private members: MemberRecord[] = [];
  private readonly chunkBytes: number;

  private constructor(private sink: ByteSink, private kind: ContainerKind, private options: EncodeOptions) {
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isSafeInteger(this.chunkBytes) || this.chunkBytes < 1) throw new RangeError(`chunkBytes ${this.chunkBytes} must be a positive integer`);
    checkThreads(options);
    if (options.lanes !== undefined && !validLaneCount(options.lanes)) throw new RangeError(`lanes ${options.lanes} must be 1, 2, 4, 8, 16 or 32`);
  }

  /** Starts a container: writes the header. */
  static async start(sink: ByteSink, kind: ContainerKind, options: EncodeOptions = {}): Promise<ContainerWriter> {
    const w = new ContainerWriter(sink, kind, options);
    await w.emit(writeHeader());
    return w;
  }

  private async emit(bytes: Uint8Array): Promise<void> {
    await this.sink.write(bytes);
    this.offset += bytes.length;
  }

  /**
   * Adds one original file. A `.safetensors` file is split into its header and tensors, each coded by dtype;
   * anything else is one byte segment.
   * @throws BAD_SAFETENSORS / LIMIT_EXCEEDED for a malformed safetensors file
   */
  async addFile(path: string, source: ByteSource, asSafetensors: boolean): Promise<MemberRecord> {
    // Refuse here what a reader would refuse (FORMAT.md §3.2), rather than write a container nobody can open.
    const bad = unsafePathReason(path) ?? (this.kind === 'file' && path.includes('/') ? 'a single-file member path has a /' : undefined);
    if (bad) throw new FormatError('BAD_PATH', `${bad}: '${path}'`, { file: source.name });
    if (new TextEncoder().encode(path).length > MAX_NAME_BYTES) {
      throw new LimitError('LIMIT_EXCEEDED', `member path of more than ${MAX_NAME_BYTES} UTF-8 bytes`, { file: source.name });
    }
    if (this.members.some((m) => m.path === path)) throw new FormatError('BAD_PATH', `member path '${path}' added twice`, { file: source.name });
    if (this.kind === 'file' && this.members.length > 0) throw new RangeError('a single-file container holds exactly one member');
    const plans: SegmentPlan[] = [];
    const byteRange = (begin: number, end: number): SegmentPlan => ({ kind: 'bytes', name: '', dtype: '', shape: [], begin, end });
    if (asSafetensors) {
      const layout = await readSafetensorsLayout(source);
      plans.push(byteRange(0, layout.headerEnd));
      for (const t of layout.tensors) plans.push({ kind: 'tensor', ...t });
    } else if (source.size > 0) {
      plans.push(byteRange(0, source.size));
    }
    const fileHash = createSha256();
    const segments: SegmentRecord[] = [];
    let done = 0;
    for (const plan of plans) {
      segments.push(await this.addSegment(source, plan, fileHash, (n) => {
        done += n;
        this.options.onProgress?.(done, source.size);
      }));
    }
    const member: MemberRecord = { path, originalBytes: source.size, sha256: fileHash.digest(), segments };
    this.members.push(member);
    return member;
  }

  private async addSegment(source: ByteSource, plan: SegmentPlan, fileHash: Sha256, progress: (n: number) => void): Promise<SegmentRecord> {
    const W = (plan.kind === 'tensor' ? dtypeBytes(plan.dtype) : undefined) ?? 1;
    const size = plan.end - plan.begin;
    const values = size / W;
    // Pass one: digests and symbol counts over the whole segment.
    const kernels = await kernelsFor(this.options.engine);
    const stats = this.statsFor(W, kernels);
    const segHash = createSha256();
    for (let at = plan.begin; at < plan.end; at += READ_BLOCK_BYTES) {
      const block = await this.readReusing(source, at, Math.min(READ_BLOCK_BYTES, plan.end - at), 'block');
      stats.add(block);
      segHash.update(block);
      fileHash.update(block);
    }
    const chunkValues = Math.max(1, Math.min(MAX_CHUNK_VALUES, Math.floor(this.chunkBytes / W)));
    const coding: SegmentCoding = values > 0 ? chooseCoding(plan.kind === 'tensor' ? plan.dtype : 'bytes', stats, chunkValues, this.options.fastDecode === true, this.options.lanes) : rawCoding(W);
    // Pass two: code chunk by chunk.
    const maxValues = Math.min(chunkValues, Math.max(values, 1));
    const chunks: ChunkRecord[] = [];
    const pool = values > chunkValues ? await poolFor(this.options) : undefined;
    if (pool) {
      // Chunks code in the workers; results are written in chunk order, so the container is the same for any thread count.
      const key = `${segmentKeys++}`;
      const window = new ChunkWindow<{ bytes: Uint8Array; crc32c: number; values: number }>(pool.maxInFlight, async (coded) => {
        chunks.push({ offset: this.offset, bytes: coded.bytes.length, crc32c: coded.crc32c });
        await this.emit(coded.bytes);
        progress(coded.values * W);
      });
      for (let v = 0; v < values; v += chunkValues) {
        const n = Math.min(chunkValues, values - v);
        const bytes = await readOwned(source, plan.begin + v * W, n * W);
        const job = pool.run({ kind: 'encode', key, coding, maxValues, bytes, n, engine: this.options.engine }, [bytes.buffer as ArrayBuffer]);
        await window.push(job.then((r) => ({ bytes: r.bytes, crc32c: r.kind === 'encode' ? r.crc32c : 0, values: n })));
      }
      await window.drain();
    } else {
      const encoder = createChunkEncoder(coding, maxValues, kernels);
      try {
        for (let v = 0; v < values; v += chunkValues) {
          const n = Math.min(chunkValues, values - v);
          const raw = await this.readReusing(source, plan.begin + v * W, n * W, 'chunk');
          const coded = encoder.encode(raw, n);
          chunks.push({ offset: this.offset, bytes: coded.bytes.length, crc32c: coded.crc32c });
          await this.emit(coded.bytes);
          progress(n * W);
        }
      } finally {
        encoder.dispose();
      }
    }
    if (values === 0) progress(0);
    return {
      kind: plan.kind,
      name: plan.name,
      dtype: plan.dtype,
      shape: plan.shape,
      originalBytes: size,
      sha256: segHash.digest(),
      coding,
      chunkValues,
      chunks,
    };
  }

  /** Buffers reused across reads where the source can read into one (files): each read would otherwise leave
   * garbage (8 MiB per pass-one block) that the collector frees late, which shows in the peak RSS. */
  private readBuffers: Record<'block' | 'chunk', Uint8Array | undefined> = { block: undefined, chunk: undefined };

  /** `length` bytes at `offset`, valid until the next read of the same kind (consumers copy what they keep). */
  private async readReusing(source: ByteSource, offset: number, length: number, kind: 'block' | 'chunk'): Promise<Uint8Array> {
    if (!hasReadInto(source)) return source.read(offset, length);
    let buf = this.readBuffers[kind];
    if (!buf || buf.length < length) buf = this.readBuffers[kind] = new Uint8Array(length);
    const view = buf.subarray(0, length);
    await source.readInto(offset, view);
    return view;
  }

  /** Counting state per value width (and engine), reused across segments: small tensors would otherwise each allocate and zero 2^16 bins. */
  private stats = new Map<string, SegmentStats>();

  private statsFor(W: number, kernels: Kernels | undefined): SegmentStats {
    const key = `${W}:${kernels ? 'wasm' : 'ts'}`;
    let s = this.stats.get(key);
    if (s) s.reset();
    else {
      s = kernels ? new WasmSegmentStats(kernels, W) : new SegmentStats(W);
      this.stats.set(key, s);
    }
    return s;
  }

  /** Writes the index and footer; returns the index and the container's total size. */
  async finish(): Promise<{ index: ContainerIndex; bytes: number }> {
    const index: ContainerIndex = { kind: this.kind, members: this.members };
    const indexBytes = writeIndexBlock(writeIndex(index));
    const indexOffset = this.offset;
    await this.emit(indexBytes);
    await this.emit(writeFooter({ indexOffset, indexBytes: indexBytes.length, indexCrc32c: crc32c(indexBytes) }));
    return { index, bytes: this.offset };
  }
}

