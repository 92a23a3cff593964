// Random access to a container's tensors (browser-safe): list them, and decode one tensor by name without
// touching the others. Across a sharded folder, a `*.safetensors.index.json` member's weight_map picks the shard.

import { isHuffman } from '../entropy/chunk-codec.js';
import { FormatError } from '../errors.js';
import { toHex } from '../format/sha256.js';
import { ContainerReader, type DecodeOptions } from '../pipeline/container-reader.js';
import { segmentChunks, type ContainerIndex, type MemberRecord, type SegmentRecord } from '../pipeline/index-codec.js';
import { TRANSFORM_DUPLICATE, TRANSFORM_XOR_DELTA, transformByCode } from '../transform/transform-registry.js';
import type { ByteRange, ByteSource } from '../io/byte-source.js';
import { checkOutputLimit, type OutputLimitOptions } from './output-limit.js';
import { isSafetensorsMember } from '../safetensors/header-labels.js';

/** One tensor as listed by a checkpoint. */
export interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Path of the original file (member) that holds it. */
  file: string;
  originalBytes: number;
  /** Bytes its chunks take in the container (index and tables not counted). */
  compressedBytes: number;
  /** The plane layout and coding, e.g. "e8+m2:rANS12 | s+m5:rANS10" (of each stream, joined by " / ", when transformed). */
  layout: string;
  /** The transform the tensor is stored with (FORMAT.md §3.5): 'dup', 'xor-delta', a value transform's name; '' for none. */
  transform: string;
  /** SHA-256 of the tensor's original bytes as stored in the index (FORMAT.md §3.3), 64 lowercase hex digits. */
  readonly sha256: string;
}

/** One original file of the checkpoint. */
export interface MemberInfo {
  path: string;
  originalBytes: number;
  compressedBytes: number;
  tensorCount: number;
  /**
   * How its tensors are bound to its bytes (FORMAT.md §3.2 `layout`): 'safetensors' (layout 0 with tensors), 'gguf',
   * 'onnx', 'onnx-data', 'npy' (a NumPy array), 'raw-array', or 'bytes' (no tensors).
   */
  format: 'safetensors' | 'gguf' | 'onnx' | 'onnx-data' | 'npy' | 'raw-array' | 'bytes';
  /** SHA-256 of the original file as stored in the index (FORMAT.md §3.2), 64 lowercase hex digits. */
  readonly sha256: string;
}

/** A typed view of a tensor's bytes, where JavaScript has a matching array type. */
export type TensorView =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A decoded tensor: its original bytes and, where one exists, a typed view over them. */
export interface TensorData {
  info: TensorInfo;
  bytes: Uint8Array;
  /** BF16/F16 come as Uint16Array bit patterns, F8 as Uint8Array; undefined on big-endian hosts. */
  view: TensorView | undefined;
}

/** A progress event of a read or load: compressed bytes decoded and checked so far, of all those asked for. */
export interface LoadProgress {
  /** Stored (compressed) bytes of the chunks decoded and checked so far; never decreases, ends at totalBytes. */
  loadedBytes: number;
  /** Stored bytes of every tensor asked for (from the index, known before any is read): one figure across a folder's files. */
  totalBytes: number;
  /** The tensor being decoded. */
  tensor?: string;
  /** Its file (member path). */
  file?: string;
}

/** Options of Checkpoint.read and Checkpoint.load. */
export interface TensorReadOptions extends Omit<DecodeOptions, 'onProgress' | 'onChunk'>, OutputLimitOptions {
  /** Progress after each chunk (LoadProgress); default: the one given when the checkpoint was opened. */
  onProgress?: (progress: LoadProgress) => void;
}

/** Options of Checkpoint.read. */
export interface ReadTensorOptions extends TensorReadOptions {
  /**
   * Decode into this buffer (exactly the tensor's originalBytes) instead of a new one: chunks decode straight into it,
   * so memory beyond it stays at a few of the source's ranges whatever the tensor's size. Its bytes are unconfirmed
   * until read() resolves.
   */
  into?: Uint8Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** A typed view of `bytes` for `dtype`, or undefined. */
export function typedView(dtype: string, bytes: Uint8Array): TensorView | undefined {
  if (!LITTLE_ENDIAN) return undefined;
  const b = bytes.buffer;
  const o = bytes.byteOffset;
  const n = bytes.byteLength;
  switch (dtype) {
    case 'F32': return new Float32Array(b, o, n / 4);
    case 'F64': return new Float64Array(b, o, n / 8);
    case 'I8': return new Int8Array(b, o, n);
    case 'U8': case 'BOOL': case 'F8_E4M3': case 'F8_E5M2': return new Uint8Array(b, o, n);
    case 'I16': return new Int16Array(b, o, n / 2);
    case 'U16': case 'F16': case 'BF16': return new Uint16Array(b, o, n / 2);
    case 'I32': return new Int32Array(b, o, n / 4);
    case 'U32': return new Uint32Array(b, o, n / 4);
    case 'I64': return new BigInt64Array(b, o, n / 8);
    case 'U64': return new BigUint64Array(b, o, n / 8);
    default: return undefined;
  }
}

/** Exponent bits of each float dtype inside the 16-bit head: [lowest bit, width]; the sign is bit 15 (bit 7 for F8). */
const EXPONENT_IN_HEAD: Record<string, [number, number]> = { BF16: [7, 8], F32: [7, 8], F16: [10, 5], F64: [4, 11], F8_E4M3: [3, 4], F8_E5M2: [2, 5] };

/** Names the bits of one head range: s (sign), e (exponent), m (mantissa), or b (bits of an integer). */
function rangeLabel(dtype: string, headBits: number, lo: number, width: number): string {
  const exp = EXPONENT_IN_HEAD[dtype];
  if (!exp) return `b${width}`;
  const parts: string[] = [];
  const count = (from: number, to: number): number => Math.max(0, Math.min(lo + width, to) - Math.max(lo, from));
  const sign = count(headBits - 1, headBits);
  const e = count(exp[0], exp[0] + exp[1]);
  const m = count(0, exp[0]);
  if (sign) parts.push('s');
  if (e) parts.push(`e${e}`);
  if (m) parts.push(`m${m}`);
  return parts.join('');
}

/**
 * Short text for a segment's planes and coding as `wcodec info` shows it, e.g. "e8m2:rANS13 s m5:rANS10"
 * for BF16 (exponent with the top two mantissa bits; sign with the other five), "m8:raw" for a byte plane; a
 * transformed segment's streams joined by " / ", and for a DUPLICATE "= " and the tensor it repeats (named from
 * `index` when given).
 */
export function describeLayout(seg: SegmentRecord, index?: ContainerIndex): string {
  if (seg.transform) {
    if (seg.transform.code === TRANSFORM_DUPLICATE) {
      // "= name" (with the member's path when it is another member) when the index is at hand.
      const { member, segment } = seg.transform.target!;
      const m = index?.members[member];
      const target = m?.segments[segment];
      if (!m || !target) return `= member ${member} segment ${segment}`;
      return `= ${index!.members.length > 1 ? `${m.path}:` : ''}${target.name}`;
    }
    return seg.transform.streams.map((st) => describeCoding(st.coding, seg.transform!.code === TRANSFORM_XOR_DELTA ? seg.dtype : '')).join(' / ');
  }
  return describeCoding(seg.coding, seg.kind === 'tensor' ? seg.dtype : '');
}

/** The name `wcodec info` shows for a segment's transform: 'dup', 'xor-delta', a value transform's name, or ''. */
export function describeTransform(seg: SegmentRecord): string {
  const t = seg.transform;
  if (!t) return '';
  if (t.code === TRANSFORM_DUPLICATE) return 'dup';
  if (t.code === TRANSFORM_XOR_DELTA) return 'xor-delta';
  return transformByCode(t.code)?.name ?? `transform ${t.code}`;
}

function describeCoding(coding: SegmentRecord['coding'], dtype: string): string {
  const { layout, tables } = coding;
  const headBits = Math.min(layout.valueBytes * 8, 16);
  return layout.planes
    .map((p, k) => {
      const bits =
        p.kind === 'byte'
          ? EXPONENT_IN_HEAD[dtype] ? 'm8' : 'b8'
          : p.ranges.map((r) => rangeLabel(dtype, headBits, r.lo, r.width)).join('');
      const t = tables[k];
      if (coding.byteModel) return `${bits}:model`; // the byte model (version 8, FORMAT.md §5.5)
      if (coding.tensorModel) return `${bits}:cm`; // the tensor model (version 10, FORMAT.md §5.6)
      return `${bits}:${isHuffman(t) ? 'huff' : t ? `rANS${t.probBits}` : 'raw'}`;
    })
    .join(' ');
}

/**
 * Largest shard index read to pick a shard; a larger member is not used as one. Real ones are kilobytes to a few
 * megabytes, and JSON.parse takes ~25x the text in memory (20 MB of '"k":{},' took 490 MB), so a hostile one at the
 * safetensors header cap of 100 MB could exhaust the heap. The shard map only breaks ties between shards.
 */
export const MAX_SHARD_INDEX_BYTES = 16 * 1024 * 1024;

const segmentBytes = (s: SegmentRecord): number => segmentChunks(s).reduce((a, c) => a + c.bytes, 0);

/**
 * The stored bytes shown for a tensor: its chunks' (a transform's streams'); for a tensor of a byte-model group (version
 * 11, FORMAT.md §3.4), its share of the group's stream by original size, since the group's first tensor holds it all.
 */
function tensorStoredBytes(s: SegmentRecord): number {
  if (s.group === undefined && s.groupBytes === undefined) return segmentBytes(s);
  const leader = s.group?.leader ?? s;
  return Math.round((segmentBytes(leader) * s.originalBytes) / (leader.groupBytes ?? leader.originalBytes));
}

/**
 * The byte ranges decoding `seg` reads, in order: its chunks (a transform's streams'), a duplicate's those of the tensor
 * it repeats, a continuation's those of its byte-model group (FORMAT.md §3.4).
 */
export function segmentRanges(seg: SegmentRecord, index: ContainerIndex): ByteRange[] {
  const t = seg.transform;
  // A tensor of a byte-model group (version 11) is read from its group's stream, the chunk of the group's first segment.
  const chunks = t?.code === TRANSFORM_DUPLICATE ? segmentChunks(index.members[t.target!.member].segments[t.target!.segment]) : seg.group ? seg.group.leader.chunks : segmentChunks(seg);
  return chunks.map((c) => ({ offset: c.offset, length: c.bytes }));
}

/**
 * Counts LoadProgress over tensors decoded one after another: within a tensor, the stored bytes of its chunks as they
 * pass their checks, capped at the tensor's compressedBytes (a duplicate decodes another tensor's chunks), and the whole
 * of it once it is done; so the figure only grows and ends at the total.
 */
class ProgressCounter {
  private base: number;
  private within = 0;
  private info: TensorInfo | undefined;
  constructor(readonly totalBytes: number, loadedBytes: number, private readonly report: ((p: LoadProgress) => void) | undefined) {
    this.base = loadedBytes;
  }
  /** @param within stored bytes of the tensor's chunks already checked (a continued load) */
  start(info: TensorInfo, within = 0): void {
    this.info = info;
    this.within = within;
  }
  readonly chunk = (bytes: number): void => {
    const info = this.info!;
    const before = Math.min(this.within, info.compressedBytes);
    this.within += bytes;
    if (Math.min(this.within, info.compressedBytes) !== before) this.emit();
  };
  done(): void {
    const info = this.info!;
    const short = this.within < info.compressedBytes;
    this.base += info.compressedBytes;
    this.within = 0;
    if (short) this.emit();
    else this.report?.({ loadedBytes: this.base, totalBytes: this.totalBytes, tensor: info.name, file: info.file });
  }
  private emit(): void {
    const info = this.info!;
    this.report?.({ loadedBytes: this.base + Math.min(this.within, info.compressedBytes), totalBytes: this.totalBytes, tensor: info.name, file: info.file });
  }
}

/** A container opened for listing and random access. */
export class Checkpoint {
  readonly tensors: TensorInfo[];
  readonly members: MemberInfo[];
  private bySegment = new Map<TensorInfo, { member: MemberRecord; seg: SegmentRecord }>();
  private weightMaps: Promise<Map<string, string>> | undefined;
  private closed = false;
  /** Tensors a load() decoded before it was aborted or failed: the next load() continues after them. */
  private loaded = new Map<TensorInfo, TensorData>();
  /** The tensor a load() was cut off in: its buffer, and how many of its chunks are in it, checked. */
  private partial: { info: TensorInfo; bytes: Uint8Array; chunks: number } | undefined;
  /** Whether a load() is under way: its state above is one load's. */
  private loading = false;

  /** @param defaults.onProgress progress of every read and load that gives none of its own */
  constructor(readonly reader: ContainerReader, private readonly defaults: { onProgress?: (progress: LoadProgress) => void } = {}) {
    this.tensors = [];
    this.members = [];
    for (const m of reader.index.members) {
      let tensorCount = 0;
      for (const seg of m.segments) {
        if (seg.kind !== 'tensor') continue;
        tensorCount++;
        const info: TensorInfo = {
          name: seg.name,
          dtype: seg.dtype,
          shape: seg.shape,
          file: m.path,
          originalBytes: seg.originalBytes,
          compressedBytes: tensorStoredBytes(seg),
          layout: describeLayout(seg, reader.index),
          transform: describeTransform(seg),
          // Hex on first use: a listing of 10^5 tensors does not hold 10^5 strings nobody reads.
          get sha256() {
            return toHex(seg.sha256);
          },
        };
        this.tensors.push(info);
        this.bySegment.set(info, { member: m, seg });
      }
      this.members.push({
        path: m.path,
        originalBytes: m.originalBytes,
        compressedBytes: m.segments.reduce((a, s) => a + segmentBytes(s), 0),
        tensorCount,
        format: m.layout ?? (tensorCount > 0 ? 'safetensors' : 'bytes'),
        get sha256() {
          return toHex(m.sha256);
        },
      });
    }
  }

  /** Whether the container holds a folder (several files) or one file. */
  get kind(): 'file' | 'folder' {
    return this.reader.index.kind;
  }

  /** tensor name -> member path, from every `*.safetensors.index.json` member's weight_map. */
  private shardMap(): Promise<Map<string, string>> {
    this.weightMaps ??= (async () => {
      const map = new Map<string, string>();
      for (const m of this.reader.index.members) {
        // The size comes from the index, unchecked by any digest yet: a hostile one could ask for terabytes here.
        if (!m.path.endsWith('.safetensors.index.json') || m.originalBytes > MAX_SHARD_INDEX_BYTES) continue;
        const dir = m.path.includes('/') ? m.path.slice(0, m.path.lastIndexOf('/') + 1) : '';
        const bytes = new Uint8Array(m.originalBytes);
        let o = 0;
        for (const seg of m.segments) {
          const b = await this.reader.readSegment(seg);
          bytes.set(b, o);
          o += b.length;
        }
        let json: unknown;
        try {
          json = JSON.parse(new TextDecoder().decode(bytes));
        } catch {
          continue; // not a usable index: fall back to searching by name
        }
        const wm = (json as { weight_map?: unknown }).weight_map;
        if (wm && typeof wm === 'object') {
          for (const [name, file] of Object.entries(wm as Record<string, unknown>)) {
            if (typeof file === 'string') map.set(name, dir + file);
          }
        }
      }
      return map;
    })();
    return this.weightMaps;
  }

  /**
   * Finds a tensor by name. In a folder, the shard index decides; otherwise the name must be unique.
   * @throws NOT_FOUND, AMBIGUOUS_NAME; TypeError after close()
   */
  async find(name: string): Promise<TensorInfo> {
    this.checkOpen();
    const all = this.tensors.filter((t) => t.name === name);
    if (all.length === 1) return all[0];
    const file = this.reader.source.name;
    if (all.length === 0) throw new FormatError('NOT_FOUND', `no tensor named '${name}'`, { file });
    const shard = (await this.shardMap()).get(name);
    const pick = all.find((t) => t.file === shard);
    if (pick) return pick;
    throw new FormatError('AMBIGUOUS_NAME', `tensor '${name}' is in ${all.map((t) => t.file).join(', ')} and no shard index picks one`, { file });
  }

  /**
   * Decodes one tensor (only its chunks, and once per file its safetensors header, are read) and checks its chunks and
   * its labels against the header (FORMAT.md §7.3). Its chunk ranges are announced to the source first
   * (ByteSource.prefetch): an HTTP source fetches them in one or a few requests.
   * @throws NOT_FOUND, AMBIGUOUS_NAME, LABEL_MISMATCH, CORRUPT_CHUNK, CHECKSUM_MISMATCH; LIMIT_EXCEEDED for a tensor
   *   larger than `maxOutputBytes`; ABORTED; the source's errors (HTTP_ERROR, SOURCE_CHANGED …); RangeError for an
   *   `into` of another size; TypeError after close()
   */
  async read(name: string, options: ReadTensorOptions = {}): Promise<TensorData> {
    const info = await this.find(name);
    this.checkOpen();
    const { seg } = this.bySegment.get(info)!;
    checkOutputLimit(seg.originalBytes, options, this.reader.source.name, `tensor '${name}'`);
    if (options.into && options.into.length !== seg.originalBytes) throw new RangeError(`into has ${options.into.length} bytes, tensor '${name}' ${seg.originalBytes}`);
    this.reader.source.prefetch?.(segmentRanges(seg, this.reader.index), { signal: options.signal });
    const progress = new ProgressCounter(info.compressedBytes, 0, options.onProgress ?? this.defaults.onProgress);
    progress.start(info);
    const bytes = await this.reader.readSegment(seg, this.decodeOptions(options, progress), options.into);
    progress.done();
    return { info, bytes, view: typedView(info.dtype, bytes) };
  }

  /**
   * Decodes every tensor, in the container's order, each checked as read() checks it; all their chunk ranges are
   * announced to the source first, so an HTTP source fetches the model in requests of up to its maxRangeBytes, a few
   * at a time. Progress counts one figure across all files. An aborted or failed load can be continued: the next
   * load() on this checkpoint decodes only what is not yet done: the tensors not yet decoded, and the one cut off from
   * its first chunk not yet checked (in version 4 containers, whose chunk digests cover every byte; in versions 1-3,
   * whose tensors are checked by a SHA-256 over all their bytes, that tensor starts again). An HTTP source fetches only
   * the bytes it does not hold (a request cut off continues where it stopped). Progress goes on from where it stopped.
   * @returns the tensors in the order of `tensors`
   * @throws as read(); LIMIT_EXCEEDED when the tensors together are larger than `maxOutputBytes`; TypeError while
   *   another load() of this checkpoint is under way
   */
  async load(options: TensorReadOptions = {}): Promise<TensorData[]> {
    this.checkOpen();
    if (this.loading) throw new TypeError(`checkpoint ${this.reader.source.name} is already loading: one load() at a time`);
    this.loading = true;
    try {
      return await this.loadRest(options);
    } finally {
      this.loading = false;
    }
  }

  private async loadRest(options: TensorReadOptions): Promise<TensorData[]> {
    checkOutputLimit(this.tensors.reduce((a, t) => a + t.originalBytes, 0), options, this.reader.source.name, 'the checkpoint\'s tensors');
    const todo = this.tensors.filter((t) => !this.loaded.has(t));
    const total = this.tensors.reduce((a, t) => a + t.compressedBytes, 0);
    const done = total - todo.reduce((a, t) => a + t.compressedBytes, 0);
    // The tensor cut off, if it continues, needs only its chunks not yet checked.
    const skip = (t: TensorInfo): number => (this.partial?.info === t ? this.partial.chunks : 0);
    this.reader.source.prefetch?.(todo.flatMap((t) => segmentRanges(this.bySegment.get(t)!.seg, this.reader.index).slice(skip(t))), { signal: options.signal });
    const progress = new ProgressCounter(total, done, options.onProgress ?? this.defaults.onProgress);
    for (const info of todo) {
      this.checkOpen();
      const { seg } = this.bySegment.get(info)!;
      const decode = this.decodeOptions(options, progress);
      // A tensor cut off mid-way continues at its first chunk not yet checked when its chunks' checks cover all of it
      // (version 4 chunk digests); otherwise (a SHA-256 over the whole tensor) it starts again.
      const canContinue = this.reader.canContinue(seg, decode);
      let part = this.partial;
      if (part?.info !== info || !canContinue) part = { info, bytes: this.reader.newSegmentBuffer(seg), chunks: 0 };
      this.partial = part;
      const first = part.chunks;
      progress.start(info, seg.chunks.slice(0, first).reduce((a, c) => a + c.bytes, 0));
      const chunk = decode.onChunk!;
      const bytes = await this.reader.readSegment(seg, { ...decode, onChunk: (b) => {
        part.chunks++;
        chunk(b);
      } }, part.bytes, first);
      this.partial = undefined;
      this.loaded.set(info, { info, bytes, view: typedView(info.dtype, bytes) });
      progress.done();
    }
    const out = this.tensors.map((t) => this.loaded.get(t)!);
    // Once returned, the tensors are the caller's: the checkpoint keeps no reference to them.
    this.loaded = new Map();
    return out;
  }

  private decodeOptions(options: TensorReadOptions, progress: ProgressCounter): DecodeOptions {
    const { onProgress: _, ...rest } = options;
    return { ...rest, onChunk: progress.chunk };
  }

  /**
   * The index record of a tensor this checkpoint lists (for decoders that read chunks themselves, as the GPU
   * decoder does).
   * @throws NOT_FOUND when `info` is not one of `tensors`
   */
  segmentOf(info: TensorInfo): SegmentRecord {
    const entry = this.bySegment.get(info);
    if (!entry) throw new FormatError('NOT_FOUND', `tensor '${info.name}' is not listed by this checkpoint`, { file: this.reader.source.name });
    return entry.seg;
  }

  /**
   * Checks that a listed tensor's labels are those its member's stored safetensors header gives it (FORMAT.md §7.3);
   * `read` does this itself, decoders that read chunks themselves (the GPU decoder) call it.
   * @throws NOT_FOUND when `info` is not one of `tensors`; LABEL_MISMATCH
   */
  async checkLabels(info: TensorInfo): Promise<void> {
    const entry = this.bySegment.get(info);
    if (!entry) throw new FormatError('NOT_FOUND', `tensor '${info.name}' is not listed by this checkpoint`, { file: this.reader.source.name });
    await this.reader.checkLabels(entry.member);
  }

  /** Closes the underlying source; later reads throw a TypeError. Closing twice is harmless. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reader.close();
  }

  /** Reading a closed checkpoint is a mistake of the caller, not of the data or the system: a TypeError. */
  private checkOpen(): void {
    if (this.closed) throw new TypeError(`checkpoint ${this.reader.source.name} is closed`);
  }
}

/**
 * A checkpoint over an open reader whose listing can be trusted: every safetensors member's tensor labels are checked
 * against its stored header first (FORMAT.md §4.4 "Labels"; one header segment decoded per member), so `tensors`
 * never lists a name, dtype or shape its file does not give. The reader is closed when the check fails.
 * @throws LABEL_MISMATCH, and any error of decoding a header segment
 */
export async function checkedCheckpoint(reader: ContainerReader, defaults: { onProgress?: (progress: LoadProgress) => void } = {}): Promise<Checkpoint> {
  try {
    // The header segments are announced together: an HTTP source fetches them in parallel (the first lies in the bytes
    // read when it was opened).
    const headers = reader.index.members.filter((m) => isSafetensorsMember(m.segments)).map((m) => m.segments[0]);
    reader.source.prefetch?.(headers.flatMap((h) => segmentRanges(h, reader.index)));
    for (const m of reader.index.members) await reader.checkLabels(m);
  } catch (e) {
    // A refused container closes its source (a service checking uploads must not run out of descriptors).
    await reader.close();
    throw e;
  }
  return new Checkpoint(reader, defaults);
}

/**
 * Opens a container from any byte source (memory, file, Blob, HTTP ranges), its listing checked (checkedCheckpoint).
 * @param options.onProgress progress of every read and load that gives none of its own
 * @throws the errors of ContainerReader.open; LABEL_MISMATCH
 */
export async function openContainer(source: ByteSource, options: { onProgress?: (progress: LoadProgress) => void } = {}): Promise<Checkpoint> {
  return checkedCheckpoint(await ContainerReader.open(source), options);
}
