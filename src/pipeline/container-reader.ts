// Container reader (FORMAT.md §2-§7): footer -> index -> chunks. Every chunk's CRC-32C is checked before it is
// decoded, a segment's SHA-256 after it when it is decoded on its own, and a member's SHA-256 when it is decoded whole.

import { ChecksumError, FormatError, LimitError } from '../errors.js';
import { throwIfAborted } from '../io/abort.js';
import type { TensorReference } from '../format/tensor-reference.js';
import { TRANSFORM_DUPLICATE, TRANSFORM_XOR_DELTA, transformByCode } from '../transform/transform-registry.js';
import { xorBytes } from '../transform/xor-delta.js';
import { plainCoding, type ChunkCheck } from '../entropy/chunk-codec.js';
import { chunkBinding } from '../format/chunk-binding.js';
import { createChunkDecoder, type ChunkDecoding } from '../wasm/chunk-engines.js';
import { FOOTER_BYTES, FORMAT_VERSION_DIGESTS, HEADER_BYTES, MAX_GGUF_HEADER_BYTES } from '../format/constants.js';
import { crc32c } from '../format/crc32c.js';
import { readIndexBlock } from './index-block.js';
import { RawDecoders } from './raw-decoders.js';
import { readFooter, readHeader } from '../format/envelope.js';
import { memberPathBytes, readIndex, segmentChunks, unsafeLinkTargetReason, type ChunkRecord, type ContainerIndex, type MemberRecord, type SegmentRecord } from './index-codec.js';
import { createSha256, sameBytes, toHex, type Sha256 } from '../format/sha256.js';
import { BufferSink, type ByteSink, type ByteSource } from '../io/byte-source.js';
import { kernelsFor, type Engine } from '../wasm/kernels.js';
import { headerLabelProblem, isSafetensorsMember, MAX_HEADER_SEGMENT_BYTES } from '../safetensors/header-labels.js';
import { ggufLabelProblem } from '../gguf/header-labels.js';
import { npyLabelProblem, rawArrayLabelProblem } from '../npy/labels.js';
import { MAX_NPY_HEADER_SEGMENT_BYTES } from '../npy/read-header.js';
import { ByteSegmentsView, memberInitializers, onnxDataLabelProblem, onnxLabelProblem, referencesData } from '../onnx/labels.js';
import type { OnnxInitializer } from '../onnx/read-model.js';
import { chunksPerRun, ChunkWindow, RUN_BYTES } from '../workers/chunk-window.js';
import { CallerCoders } from '../workers/caller-coders.js';
import { checkThreads, errorFromWire, poolFor, type ThreadOptions } from '../workers/pool.js';
import type { DecodeCoder, DecodePart } from '../workers/protocol.js';

/** Decoder options. */
export interface DecodeOptions extends ThreadOptions {
  /**
   * Check the recorded SHA-256 digests: a segment's when it is decoded on its own, a member's when it is decoded whole
   * (FORMAT.md §7.3). Default: on for containers of versions 1-3; off for version 4, whose chunk digests cover every
   * decoded byte on every decode. On compares the output with the file's SHA-256 (what `sha256sum` prints) as well.
   * Chunk CRCs (versions 1-3) and chunk digests (version 4) are always checked.
   */
  checkSha256?: boolean;
  /** false: the same as `checkSha256: false`; true: the same as `checkSha256: true`. `checkSha256` wins when both are given. */
  checkDigests?: boolean;
  /**
   * When a whole member is decoded, also check each segment's SHA-256 (default false). The member's digest already
   * covers every byte, so this second hash pass (as costly as the first) only names the damaged tensor; FORMAT.md §7.3.
   */
  checkSegmentDigests?: boolean;
  /** Called after each chunk with the original bytes decoded so far in the current member. */
  onProgress?: (done: number, total: number) => void;
  /** 'wasm' (default): the WebAssembly kernels where they load, else TypeScript; 'ts': the TypeScript reference. Same output. */
  engine?: Engine;
  /**
   * The checkpoint the container's XOR deltas were coded against (`compress --ref`): each delta tensor is looked up by
   * name and checked by its SHA-256. Needed only when the container holds XOR_DELTA segments.
   */
  reference?: TensorReference;
  /** Aborts the decode (ABORTED): checked between chunks, and passed to the source's reads (an HTTP fetch stops). */
  signal?: AbortSignal;
  /**
   * Called after each chunk has decoded and passed its check, with its stored size in bytes (a duplicate's chunks count
   * each time they are decoded).
   */
  onChunk?: (storedBytes: number) => void;
}

/** Reads a container from a random-access source. */
export class ContainerReader {
  private constructor(readonly source: ByteSource, readonly index: ContainerIndex, readonly containerBytes: number, readonly version: number) {}

  /** Whether a decode with `options` checks SHA-256 digests (DecodeOptions.checkSha256: by default only below version 4). */
  checksSha256(options: DecodeOptions): boolean {
    return options.checkSha256 ?? options.checkDigests ?? this.version < FORMAT_VERSION_DIGESTS;
  }

  /**
   * Opens a container: checks header, footer and index (CRC and structure).
   * @throws BAD_MAGIC, TRUNCATED, UNSUPPORTED_VERSION, CORRUPT_HEADER, CORRUPT_INDEX, LIMIT_EXCEEDED, BAD_PATH
   */
  static async open(source: ByteSource): Promise<ContainerReader> {
    const file = source.name;
    if (source.size < HEADER_BYTES + FOOTER_BYTES) {
      const head = await source.read(0, Math.min(source.size, HEADER_BYTES));
      readHeader(head, file); // a wrong magic is the better report when there is one
      throw new FormatError('TRUNCATED', `${source.size} bytes cannot hold header and footer`, { file, offset: source.size });
    }
    const version = readHeader(await source.read(0, HEADER_BYTES), file);
    const footer = readFooter(await source.read(source.size - FOOTER_BYTES, FOOTER_BYTES), source.size, file, version);
    const indexBytes = await source.read(footer.indexOffset, footer.indexBytes);
    if (crc32c(indexBytes) !== footer.indexCrc32c) {
      throw new FormatError('CORRUPT_INDEX', 'index CRC-32C mismatch', { file, offset: footer.indexOffset });
    }
    // A byte-model index (coding 2) decodes with the kernels, several times faster than the reference.
    const kernels = indexBytes.length > 4 && indexBytes[4] === 2 ? await kernelsFor(undefined) : undefined;
    const block = readIndexBlock(indexBytes, footer.indexOffset, file, version, kernels);
    // A decoded block is a new buffer, and so is a raw one read from a source whose reads are its own: no copy needed.
    const owned = block.coded || source.ownedReads === true;
    const index = readIndex(block.index, block.indexAt, footer.indexOffset, file, block.coded ? 'decoded index' : undefined, version, owned);
    return new ContainerReader(source, index, source.size, version);
  }

  /**
   * Decodes one segment chunk by chunk, passing each piece of original bytes to `emit` in order.
   * The segment's SHA-256 is checked after the last piece when checksSha256(options), and a tensor's labels
   * against its member's stored safetensors header before the first piece (checkLabels); the caller must treat
   * output as unconfirmed until this resolves.
   * @throws LABEL_MISMATCH, CORRUPT_CHUNK, CHECKSUM_MISMATCH and the transform errors
   */
  async decodeSegment(seg: SegmentRecord, emit: (bytes: Uint8Array) => Promise<void> | void, options: DecodeOptions = {}, extraHash?: Sha256): Promise<void> {
    checkThreads(options);
    if (seg.kind === 'tensor') await this.checkLabels(this.memberOf(seg));
    await this.decodeChunks(seg, emit, options, this.checksSha256(options) ? createSha256() : undefined, extraHash);
  }

  /**
   * Decodes chunk `c` of `seg` from `bytes` with `decode` (which throws on a failed check). When the check fails and the
   * source can fetch again (ByteSource.discard: the bytes may have been damaged on the way, by a proxy or a network),
   * the source drops them, the chunk is read once more and decoded again; a second failure stands. Bytes that failed
   * are never decoded into output that is passed on.
   * @throws the check's error (CORRUPT_CHUNK, CHECKSUM_MISMATCH) when it fails again or cannot be fetched again
   */
  private async decodeOrRefetch(seg: SegmentRecord, c: number, bytes: Uint8Array, decode: (bytes: Uint8Array) => void, signal: AbortSignal | undefined): Promise<void> {
    try {
      decode(bytes);
    } catch (e) {
      if (!(e instanceof ChecksumError) || !this.source.discard) throw e;
      const rec = seg.chunks[c];
      this.source.discard(rec.offset, rec.bytes);
      decode(await this.source.read(rec.offset, rec.bytes, { signal }));
    }
  }

  /** Members by their tensor segments, built on the first per-tensor read. */
  private members: Map<SegmentRecord, MemberRecord> | undefined;
  /** Label checks of members with tensor segments, started at most once each. */
  private labelChecks = new Map<MemberRecord, Promise<void>>();
  /** The eligible initializers of ONNX model members (or why they cannot be read), read at most once each. */
  private onnxModels = new Map<MemberRecord, Promise<OnnxInitializer[] | string>>();

  private memberOf(seg: SegmentRecord): MemberRecord {
    if (!this.members) {
      this.members = new Map();
      for (const m of this.index.members) for (const s of m.segments) if (s.kind === 'tensor') this.members.set(s, m);
    }
    const m = this.members.get(seg);
    if (!m) throw new RangeError(`tensor '${seg.name}' is not a segment of this container's index`);
    return m;
  }

  /**
   * Checks, once per member, that a member's tensor segments carry the labels its stored bytes give them (FORMAT.md
   * §4.4, §4.6, §4.7, §7.3): a safetensors or GGUF member's header segment is decoded and checked, then compared record
   * by record; an ONNX model's byte segments are decoded and its initializers read from them; an ONNX external data
   * file is compared with the initializers of its model member. Members without tensor segments pass at once.
   * @throws LABEL_MISMATCH, and any error of decoding the segments the check reads
   */
  checkLabels(member: MemberRecord): Promise<void> {
    if (!isSafetensorsMember(member.segments)) return Promise.resolve();
    let check = this.labelChecks.get(member);
    if (!check) {
      check = (async () => {
        if (member.layout === 'gguf') await this.checkGgufLabels(member);
        else if (member.layout === 'onnx') await this.checkOnnxLabels(member);
        else if (member.layout === 'onnx-data') await this.checkOnnxDataLabels(member);
        else if (member.layout === 'npy') await this.checkNpyLabels(member);
        else if (member.layout === 'raw-array') this.checkRawArrayLabels(member);
        else {
          const header = member.segments[0];
          this.checkHeaderSegment(member);
          this.compareLabels(member, await this.readSegment(header));
        }
      })();
      this.labelChecks.set(member, check);
      // A failed check is reported to every caller that awaits it, and retried by none.
      check.catch(() => {});
    }
    return check;
  }

  /** @throws LABEL_MISMATCH unless a safetensors member's first segment can be its header (a byte segment of bounded size) */
  private checkHeaderSegment(member: MemberRecord): void {
    const header = member.segments[0];
    if (header.kind !== 'bytes' || header.originalBytes > MAX_HEADER_SEGMENT_BYTES) {
      throw new FormatError('LABEL_MISMATCH', `'${member.path}' holds tensors, and its first segment is not a safetensors header (a byte segment of at most ${MAX_HEADER_SEGMENT_BYTES} bytes)`, { file: this.source.name, offset: segmentAt(header) });
    }
  }

  /** @throws LABEL_MISMATCH unless the first segment of a GGUF member is a byte segment that its stored header labels as the index does */
  private async checkGgufLabels(member: MemberRecord): Promise<void> {
    const header = member.segments[0];
    const at = { file: this.source.name, offset: segmentAt(header) };
    if (header.kind !== 'bytes' || header.originalBytes > MAX_GGUF_HEADER_BYTES) {
      throw new FormatError('LABEL_MISMATCH', `'${member.path}' is a GGUF member, and its first segment is not a GGUF header (a byte segment of at most ${MAX_GGUF_HEADER_BYTES} bytes)`, at);
    }
    const problem = ggufLabelProblem(await this.readSegment(header), member.segments.slice(1));
    if (problem) throw new FormatError('LABEL_MISMATCH', `'${member.path}': the index and the stored GGUF header disagree: ${problem}`, at);
  }

  /** @throws LABEL_MISMATCH unless a NumPy array member is a byte segment, its stored header, and the one tensor that header describes */
  private async checkNpyLabels(member: MemberRecord): Promise<void> {
    const header = member.segments[0];
    const at = { file: this.source.name, offset: segmentAt(header) };
    if (header.kind !== 'bytes' || header.originalBytes > MAX_NPY_HEADER_SEGMENT_BYTES) {
      throw new FormatError('LABEL_MISMATCH', `'${member.path}' is a NumPy array member, and its first segment is not a .npy header (a byte segment of at most ${MAX_NPY_HEADER_SEGMENT_BYTES} bytes)`, at);
    }
    const problem = npyLabelProblem(member.path, await this.readSegment(header), member.segments.slice(1));
    if (problem) throw new FormatError('LABEL_MISMATCH', `'${member.path}': the index and the stored .npy header disagree: ${problem}`, at);
  }

  /** @throws LABEL_MISMATCH unless a raw array member is one tensor segment of a known dtype named after the member */
  private checkRawArrayLabels(member: MemberRecord): void {
    const problem = rawArrayLabelProblem(member.path, member.segments);
    if (problem) throw new FormatError('LABEL_MISMATCH', `'${member.path}': ${problem}`, { file: this.source.name, offset: segmentAt(member.segments[0]) });
  }

  /** The eligible initializers of ONNX model member `member`, read from its byte segments, or why they cannot be. */
  private modelInitializers(member: MemberRecord): Promise<OnnxInitializer[] | string> {
    let read = this.onnxModels.get(member);
    if (!read) {
      read = (async () => {
        const pieces: { at: number; bytes: Uint8Array }[] = [];
        let at = 0;
        for (const seg of member.segments) {
          if (seg.kind === 'bytes') pieces.push({ at, bytes: await this.readSegment(seg) });
          at += seg.originalBytes;
        }
        return memberInitializers(new ByteSegmentsView(pieces), member.originalBytes);
      })();
      this.onnxModels.set(member, read);
      read.catch(() => {});
    }
    return read;
  }

  /** @throws LABEL_MISMATCH unless each tensor segment of ONNX model `member` is the raw_data of an initializer with its labels */
  private async checkOnnxLabels(member: MemberRecord): Promise<void> {
    const initializers = await this.modelInitializers(member);
    const problem = typeof initializers === 'string' ? initializers : onnxLabelProblem(initializers, member.segments);
    if (problem) throw new FormatError('LABEL_MISMATCH', `'${member.path}': the index and the stored ONNX model disagree: ${problem}`, { file: this.source.name, offset: segmentAt(member.segments[0]) });
  }

  /**
   * @throws LABEL_MISMATCH unless an ONNX model member (the first, in index order, whose initializers name `member` as
   *   their external data) places each tensor segment of `member` with its labels
   */
  private async checkOnnxDataLabels(member: MemberRecord): Promise<void> {
    const at = { file: this.source.name, offset: segmentAt(member.segments[0]) };
    for (const m of this.index.members) {
      if (m.layout !== 'onnx') continue;
      const initializers = await this.modelInitializers(m);
      if (typeof initializers === 'string' || !referencesData(m.path, initializers, member.path)) continue;
      const problem = onnxDataLabelProblem(member.path, m.path, initializers, member.segments);
      if (problem) throw new FormatError('LABEL_MISMATCH', `'${member.path}': the index and the initializers of '${m.path}' disagree: ${problem}`, at);
      return;
    }
    throw new FormatError('LABEL_MISMATCH', `'${member.path}' holds tensors as ONNX external data, and no ONNX model member of the container names it`, at);
  }

  /** @throws LABEL_MISMATCH where `header` (the member's decoded first segment) labels its tensors otherwise than the index */
  private compareLabels(member: MemberRecord, header: Uint8Array): void {
    const problem = headerLabelProblem(header, member.segments.slice(1));
    if (problem) throw new FormatError('LABEL_MISMATCH', `'${member.path}': the index and the stored safetensors header disagree: ${problem}`, { file: this.source.name, offset: segmentAt(member.segments[0]) });
  }

  /**
   * decodeSegment; `target` may give the memory a chunk's output goes to (the in-thread path then decodes in place),
   * `raw` keeps the in-thread decoders of raw-only codings for the next segments of the same member decode, and `first`
   * (a plain segment only) skips the chunks before it (a continued load: their output is in place already).
   */
  private async decodeChunks(
    seg: SegmentRecord,
    emit: (bytes: Uint8Array) => Promise<void> | void,
    options: DecodeOptions,
    hash: Sha256 | undefined,
    extraHash: Sha256 | undefined,
    target?: (length: number) => Uint8Array | undefined,
    raw?: RawDecoders,
    first = 0,
  ): Promise<void> {
    if (seg.transform) {
      // Version 4: a value transform's inverse runs after the chunk digests were checked, so its output is checked by
      // the segment's SHA-256 always (transformed tensors are at most MAX_TRANSFORM_BYTES; a duplicate is the
      // segment it repeats, checked as that one).
      const own = !hash && this.version >= FORMAT_VERSION_DIGESTS && seg.transform.code !== TRANSFORM_DUPLICATE ? createSha256() : undefined;
      await this.decodeTransformed(seg, emit, options, hash ?? own, extraHash, target);
      return;
    }
    const file = this.source.name;
    if (seg.group !== undefined || seg.groupBytes !== undefined) {
      // A segment of a byte-model group (version 11, FORMAT.md §3.4): its bytes are a part of the group's one stream.
      const at = seg.group?.offset ?? 0;
      const out = (await this.groupStream(seg.group?.leader ?? seg, options)).slice(at, at + seg.originalBytes);
      hash?.update(out);
      extraHash?.update(out);
      await emit(out);
      if (hash) checkSegmentDigest(seg, hash, file);
      return;
    }
    const W = seg.coding.layout.valueBytes;
    const values = seg.originalBytes / W;
    const pool = seg.chunks.length > 1 ? await poolFor(options, seg.originalBytes) : undefined;
    const maxValues = Math.min(seg.chunkValues, values);
    if (pool) {
      const window = new ChunkWindow(pool);
      const decoders = new CallerCoders<ChunkDecoding>();
      try {
        await this.submitChunks(seg, window, new ChunkBuffers(target !== undefined), decoders, options, target, undefined, async (out) => {
          hash?.update(out);
          extraHash?.update(out);
          await emit(out);
        }, first);
        await window.drain();
      } finally {
        window.abandon();
        decoders.disposeAll();
      }
    } else if (seg.chunks.length > 0) {
      const kernels = await kernelsFor(options.engine);
      const { decoder, kept } = raw ? raw.decoderFor(seg.coding, maxValues, kernels) : { decoder: createChunkDecoder(seg.coding, maxValues, kernels), kept: false };
      // Chunks are read in spans, the next span while this one decodes, so file reads overlap decoding.
      const reads = new ChunkReads(this.source, seg.chunks, options.signal, first);
      try {
        for (let c = first; c < seg.chunks.length; c++) {
          throwIfAborted(options.signal, file);
          const rec = seg.chunks[c];
          const n = Math.min(seg.chunkValues, values - c * seg.chunkValues);
          const got = reads.take(c);
          const bytes = got instanceof Uint8Array ? got : await got;
          const out = target?.(n * W) ?? new Uint8Array(n * W);
          const decode = (b: Uint8Array): void => {
            if (!decoder.decode(b, n, out, chunkCheck(seg, c), file, rec.offset)) throw checkError(seg, c, file);
          };
          if (this.source.discard) await this.decodeOrRefetch(seg, c, bytes, decode, options.signal);
          else decode(bytes);
          this.source.release?.(rec.offset + rec.bytes);
          hash?.update(out);
          extraHash?.update(out);
          await emit(out);
          options.onChunk?.(rec.bytes);
        }
      } finally {
        if (!kept) decoder.dispose();
      }
    }
    if (hash) checkSegmentDigest(seg, hash, file);
  }

  /** The last byte-model group decoded (groupStream): a member's continuations follow their group's first segment. */
  private lastGroup: { leader: SegmentRecord; bytes: Promise<Uint8Array> } | undefined;

  /**
   * The bytes of the byte-model group that `leader` starts (version 11, FORMAT.md §3.4): its one chunk decoded and
   * checked by its chunk digest (refetched once where the source can). The last group is kept for its continuations.
   * @throws CORRUPT_CHUNK, CHECKSUM_MISMATCH
   */
  private groupStream(leader: SegmentRecord, options: DecodeOptions): Promise<Uint8Array> {
    if (this.lastGroup?.leader === leader) return this.lastGroup.bytes;
    const bytes = (async () => {
      const file = this.source.name;
      const rec = leader.chunks[0];
      const n = leader.groupBytes ?? leader.originalBytes;
      const out = new Uint8Array(n);
      const decoder = createChunkDecoder(leader.coding, n, await kernelsFor(options.engine));
      try {
        const decode = (b: Uint8Array): void => {
          if (!decoder.decode(b, n, out, chunkCheck(leader, 0), file, rec.offset)) throw checkError(leader, 0, file);
        };
        const stored = await this.source.read(rec.offset, rec.bytes, { signal: options.signal });
        if (this.source.discard) await this.decodeOrRefetch(leader, 0, stored, decode, options.signal);
        else decode(stored);
      } finally {
        decoder.dispose();
      }
      options.onChunk?.(rec.bytes);
      return out;
    })();
    this.lastGroup = { leader, bytes };
    // A failed decode is not kept: the next read tries again.
    bytes.catch(() => {
      if (this.lastGroup?.bytes === bytes) this.lastGroup = undefined;
    });
    return bytes;
  }

  /**
   * Adds every chunk of a plain segment to `window`, in order, in runs (chunksPerRun): a worker may take a run (its
   * outputs then go `place`, where there is one, or come back and pass through `take`), or this thread decodes it at
   * its turn, into `target` where there is one (in place), and passes each chunk's output to `take`. Each run is taken
   * once every older one (of this or an earlier segment) has been, so a member's chunks stream through the threads
   * without a pause at segment boundaries, and output order and bytes are those of one thread. Returns once the last
   * run is added (not decoded).
   * @param place where a worker can write the output of the `length` bytes at `at` in the segment (shared memory)
   * @throws CORRUPT_CHUNK, CHECKSUM_MISMATCH (a chunk's check, when its turn comes), and any error of a worker's decode
   */
  private async submitChunks(
    seg: SegmentRecord,
    window: ChunkWindow,
    buffers: ChunkBuffers,
    decoders: CallerCoders<ChunkDecoding>,
    options: DecodeOptions,
    target: ((length: number) => Uint8Array | undefined) | undefined,
    place: ((at: number, length: number) => Uint8Array | undefined) | undefined,
    take: (out: Uint8Array) => Promise<void>,
    first = 0,
  ): Promise<void> {
    const file = this.source.name;
    const W = seg.coding.layout.valueBytes;
    const values = seg.originalBytes / W;
    const maxValues = Math.min(seg.chunkValues, values);
    const key = `${segmentKeys++}`;
    const kernels = await kernelsFor(options.engine);
    const valuesOf = (c: number): number => Math.min(seg.chunkValues, values - c * seg.chunkValues);
    let coder: DecodeCoder | undefined;
    let here: ChunkDecoding | undefined;
    let left = seg.chunks.length - first;
    // This thread's decoder for the segment goes once its last chunk is finished (or with the rest, after an error).
    const finished = (count: number): void => {
      left -= count;
      if (left === 0 && here) {
        decoders.dispose(here);
        // A chunk fetched again after its check failed (decodeOrRefetch) is decoded here after the rest: by a new one.
        here = undefined;
      }
    };
    // Each chunk's output is taken once, in order: the count says whose.
    let takes = first;
    const takeChecked = async (out: Uint8Array): Promise<void> => {
      const c = takes++;
      await take(out);
      options.onChunk?.(seg.chunks[c].bytes);
    };
    // Chunks are read in spans, the next span while runs wait for room in the window, so reads overlap decoding.
    const per = chunksPerRun(seg.chunkValues * W);
    const reads = new ChunkReads(this.source, seg.chunks, options.signal, first);
    for (let c0 = first; c0 < seg.chunks.length; c0 += per) {
      throwIfAborted(options.signal, file);
      const c1 = Math.min(seg.chunks.length, c0 + per);
      const run: Uint8Array[] = [];
      for (let c = c0; c < c1; c++) {
        const got = reads.take(c);
        run.push(got instanceof Uint8Array ? got : await got);
      }
      // Where this run's bytes end in the container: once it is finished, no run before it needs its bytes again.
      const runEnd = seg.chunks[c1 - 1].offset + seg.chunks[c1 - 1].bytes;
      // Decodes chunk c of this run in this thread into `out`. @throws its CORRUPT_CHUNK or check failure
      const decodeFrom = (c: number, bytes: Uint8Array, out: Uint8Array): void => {
        here ??= decoders.add(createChunkDecoder(seg.coding, maxValues, kernels));
        if (!here.decode(bytes, valuesOf(c), out, chunkCheck(seg, c), file, seg.chunks[c].offset)) throw checkError(seg, c, file);
      };
      const decodeHere = (c: number, out: Uint8Array): void => decodeFrom(c, run[c - c0], out);
      // Chunks c … c1 - 1 decoded here at their turn, each fetched again once should its check fail (decodeOrRefetch).
      const decodeRestHere = async (from: number): Promise<void> => {
        for (let c = from; c < c1; c++) {
          const n = valuesOf(c);
          const out = target?.(n * W) ?? new Uint8Array(n * W);
          await this.decodeOrRefetch(seg, c, run[c - c0], (b) => decodeFrom(c, b, out), options.signal);
          await takeChecked(out);
        }
      };
      const refetchable = (e: unknown): boolean => this.source.discard !== undefined && e instanceof ChecksumError;
      let parts: DecodePart[] = [];
      await window.push({
        job: () => {
          // The run's bytes as they lie when they are one piece of shared memory; else a buffer of its own,
          // transferred to the worker: never a view of the source's memory (a Node Buffer's slice() is one, and
          // transferring it would detach the caller's whole buffer).
          let data = sharedRun(run);
          if (!data) {
            data = buffers.chunk(run.reduce((a, b) => a + b.length, 0));
            let o = 0;
            for (const b of run) {
              data.set(b, o);
              o += b.length;
            }
          }
          // A worker writes each output where it belongs when that is shared memory; else it comes back.
          parts = run.map((b, k) => {
            const c = c0 + k;
            const n = valuesOf(c);
            return { stored: b.length, n, size: n * W, check: chunkCheck(seg, c), offset: seg.chunks[c].offset, into: place?.(c * seg.chunkValues * W, n * W) };
          });
          const outBuffers = buffers.outputs(parts.filter((p) => !p.into).length);
          coder ??= { coding: plainCoding(seg.coding), maxValues, engine: options.engine };
          const transfer = data.buffer instanceof ArrayBuffer ? [data.buffer, ...outBuffers] : outBuffers;
          return { request: { kind: 'decode' as const, key, coder, data, parts, file, outBuffers }, transfer };
        },
        finish: async (r) => {
          if (r.kind !== 'decode') throw new Error('internal: a decode job got an encode reply');
          buffers.returnChunk(r.dataBuffer);
          finished(c1 - c0);
          for (let k = 0; k < r.done; k++) {
            const out = r.outputs[k];
            await takeChecked(out ?? parts[k].into!);
            if (out) buffers.returnOutput(out.buffer as ArrayBuffer);
          }
          if (r.done < c1 - c0) {
            const failure = r.error ? errorFromWire(r.error) : checkError(seg, c0 + r.done, file);
            if (!refetchable(failure)) throw failure;
            await decodeRestHere(c0 + r.done);
          }
          this.source.release?.(runEnd);
        },
        runHere: async () => {
          try {
            if (this.source.discard) await decodeRestHere(c0);
            else {
              for (let c = c0; c < c1; c++) {
                const n = valuesOf(c);
                const out = target?.(n * W) ?? new Uint8Array(n * W);
                decodeHere(c, out);
                await takeChecked(out);
              }
            }
          } finally {
            finished(c1 - c0);
          }
          this.source.release?.(runEnd);
        },
        runAhead: () => {
          // Ahead of its turn, each output goes where it belongs when that is shared memory, else to a buffer of its own.
          const outs: Uint8Array[] = [];
          let failure: unknown;
          try {
            for (let c = c0; c < c1; c++) {
              const n = valuesOf(c);
              const out = place?.(c * seg.chunkValues * W, n * W) ?? new Uint8Array(n * W);
              decodeHere(c, out);
              outs.push(out);
            }
          } catch (e) {
            failure = e;
          }
          finished(c1 - c0);
          return async () => {
            for (const out of outs) await takeChecked(out);
            if (failure !== undefined) {
              if (!refetchable(failure)) throw failure;
              await decodeRestHere(c0 + outs.length);
            }
            this.source.release?.(runEnd);
          };
        },
      });
    }
  }

  /**
   * Decodes a transformed segment (FORMAT.md §3.5): a DUPLICATE as the segment it repeats, an XOR_DELTA as a stream
   * (decodeXorDelta); otherwise every stream into a buffer of its own, then the transform's inverse into one buffer of
   * the segment's size (both bounded by MAX_TRANSFORM_BYTES, checked when the index was read), then the SHA-256 check.
   * @throws CORRUPT_CHUNK, CORRUPT_TRANSFORM, REFERENCE_MISSING, REFERENCE_MISMATCH, CHECKSUM_MISMATCH
   */
  private async decodeTransformed(
    seg: SegmentRecord,
    emit: (bytes: Uint8Array) => Promise<void> | void,
    options: DecodeOptions,
    hash: Sha256 | undefined,
    extraHash: Sha256 | undefined,
    target?: (length: number) => Uint8Array | undefined,
  ): Promise<void> {
    const t = seg.transform!;
    const file = this.source.name;
    if (t.code === TRANSFORM_DUPLICATE) {
      // The index reader checked that the target is an earlier, non-duplicate tensor of the same dtype, shape and SHA-256.
      const { member, segment } = t.target!;
      await this.decodeChunks(this.index.members[member].segments[segment], emit, options, hash, extraHash, target);
      return;
    }
    const at = segmentAt(seg);
    const streamSeg = (k: number): SegmentRecord => ({
      stream: k + 1,
      kind: 'tensor',
      name: `${seg.name} (stream ${k})`,
      dtype: '',
      shape: [],
      originalBytes: t.streams[k].originalBytes,
      sha256: seg.sha256,
      coding: t.streams[k].coding,
      chunkValues: t.streams[k].chunkValues,
      chunks: t.streams[k].chunks,
    });
    if (t.code === TRANSFORM_XOR_DELTA) {
      await this.decodeXorDelta(seg, streamSeg(0), emit, options, hash, extraHash, target, at);
      return;
    }
    const streams: Uint8Array[] = [];
    for (let k = 0; k < t.streams.length; k++) {
      const bytes = new Uint8Array(t.streams[k].originalBytes);
      let o = 0;
      await this.decodeChunks(streamSeg(k), (b) => {
        bytes.set(b, o);
        o += b.length;
      }, options, undefined, undefined, (length) => bytes.subarray(o, o + length));
      streams.push(bytes);
    }
    const out = new Uint8Array(seg.originalBytes);
    // The index reader accepted only registered codes.
    transformByCode(t.code)!.inverse(t.params, streams, seg.dtype, seg.shape, out, { file, offset: at });
    hash?.update(out);
    extraHash?.update(out);
    await emit(out);
    if (hash && !sameBytes(hash.digest(), seg.sha256)) {
      throw new ChecksumError('CHECKSUM_MISMATCH', `${describe(seg)} decodes to bytes whose SHA-256 is not the recorded ${toHex(seg.sha256)}`, { file, offset: at });
    }
  }

  /**
   * Decodes an XOR_DELTA segment as a stream (FORMAT.md §3.5.2): each decoded piece of its stream is XORed in place
   * with the same range of the reference tensor, so memory stays at a chunk and a reference range whatever the
   * tensor's size. The reference tensor's SHA-256 is checked after the last piece, before the segment's own.
   * @throws REFERENCE_MISSING, REFERENCE_MISMATCH, CORRUPT_CHUNK, CHECKSUM_MISMATCH
   */
  private async decodeXorDelta(
    seg: SegmentRecord,
    stream: SegmentRecord,
    emit: (bytes: Uint8Array) => Promise<void> | void,
    options: DecodeOptions,
    hash: Sha256 | undefined,
    extraHash: Sha256 | undefined,
    target: ((length: number) => Uint8Array | undefined) | undefined,
    at: number,
  ): Promise<void> {
    const file = this.source.name;
    let reference: TensorReference;
    try {
      reference = this.referenceFor(seg, options.reference, at);
    } catch (e) {
      // The stream's own checks come first (FORMAT.md §9, order of checks): decode it, output discarded, then report.
      await this.decodeChunks(stream, () => undefined, options, undefined, undefined);
      throw e;
    }
    const refHash = createSha256();
    let o = 0;
    await this.decodeChunks(stream, async (b) => {
      const ref = await reference.readRange(seg.name, o, b.length);
      refHash.update(ref);
      xorBytes(b, b, ref);
      o += b.length;
      hash?.update(b);
      extraHash?.update(b);
      await emit(b);
    }, options, undefined, undefined, target);
    const digest = seg.transform!.params;
    if (!sameBytes(refHash.digest(), digest)) {
      throw new FormatError(
        'REFERENCE_MISMATCH',
        `${describe(seg)} is an XOR delta against a tensor whose SHA-256 is ${toHex(digest)}; the reference ${reference.label} holds another`,
        { file, offset: at },
      );
    }
    if (hash && !sameBytes(hash.digest(), seg.sha256)) {
      throw new ChecksumError('CHECKSUM_MISMATCH', `${describe(seg)} decodes to bytes whose SHA-256 is not the recorded ${toHex(seg.sha256)}`, { file, offset: at });
    }
  }

  /**
   * The reference an XOR_DELTA segment needs, once it is known to hold a tensor of the segment's name, dtype, shape and
   * size. @throws REFERENCE_MISSING (no reference, or no such tensor in it), REFERENCE_MISMATCH
   */
  private referenceFor(seg: SegmentRecord, reference: TensorReference | undefined, at: number): TensorReference {
    const file = this.source.name;
    if (!reference) {
      throw new FormatError('REFERENCE_MISSING', `${describe(seg)} is stored as an XOR delta against a reference checkpoint, and none was given`, { file, offset: at });
    }
    const info = reference.describe(seg.name);
    if (!info) {
      throw new FormatError('REFERENCE_MISSING', `${describe(seg)} is stored as an XOR delta, and the reference ${reference.label} holds no tensor of that name`, { file, offset: at });
    }
    const sameShape = info.shape.length === seg.shape.length && info.shape.every((d, k) => d === seg.shape[k]);
    if (info.dtype !== seg.dtype || !sameShape || info.originalBytes !== seg.originalBytes) {
      throw new FormatError(
        'REFERENCE_MISMATCH',
        `${describe(seg)} (${seg.dtype} [${seg.shape}]) is an XOR delta, and the reference ${reference.label} holds it as ${info.dtype} [${info.shape}]`,
        { file, offset: at },
      );
    }
    return reference;
  }

  /**
   * Decodes one segment into `into` (exactly the segment's size; chunks decode straight into it, no buffer per chunk) or
   * a new buffer (newSegmentBuffer); checked before it is returned. Bytes in `into` are unconfirmed until this resolves.
   * @param first continues a decode cut off after `first` chunks, whose output `into` holds already (their checks
   *   passed): only a plain segment (canContinue), whose chunks' own checks cover every byte
   * @throws RangeError for an `into` of another size or a `first` that cannot be continued from; LIMIT_EXCEEDED where a
   *   new buffer that large cannot be had; the errors of decodeSegment
   */
  async readSegment(seg: SegmentRecord, options: DecodeOptions = {}, into?: Uint8Array, first = 0): Promise<Uint8Array> {
    if (into && into.length !== seg.originalBytes) throw new RangeError(`a buffer of ${into.length} bytes for ${describe(seg)} of ${seg.originalBytes} bytes`);
    if (first !== 0 && (!into || !this.canContinue(seg, options) || first > seg.chunks.length)) throw new RangeError(`${describe(seg)} cannot be continued at chunk ${first}`);
    const out = into ?? this.newSegmentBuffer(seg);
    let o = first * seg.chunkValues * (seg.coding?.layout.valueBytes ?? 1);
    checkThreads(options);
    if (seg.kind === 'tensor') await this.checkLabels(this.memberOf(seg));
    await this.decodeChunks(seg, (b) => {
      // Output decoded in place (the view `target` gave) is already where it belongs.
      if (b.buffer !== out.buffer || b.byteOffset !== out.byteOffset + o) out.set(b, o);
      o += b.length;
    }, options, this.checksSha256(options) ? createSha256() : undefined, undefined, (length) => (o + length <= out.length ? out.subarray(o, o + length) : undefined), undefined, first);
    return out;
  }

  /**
   * Whether a decode of `seg` cut off after some chunks can continue from there (readSegment's `first`): a plain segment
   * (no transform, whose output is checked as a whole) decoded without a SHA-256 check, whose state would be lost.
   */
  canContinue(seg: SegmentRecord, options: DecodeOptions): boolean {
    return !seg.transform && seg.group === undefined && seg.groupBytes === undefined && !this.checksSha256(options);
  }

  /** A new buffer of `seg`'s size. @throws LIMIT_EXCEEDED where one that large cannot be had */
  newSegmentBuffer(seg: SegmentRecord): Uint8Array {
    try {
      return new Uint8Array(seg.originalBytes);
    } catch (e) {
      throw new LimitError('LIMIT_EXCEEDED', `${describe(seg)} of ${seg.originalBytes} bytes cannot be held in one buffer here`, { file: this.source.name, cause: e });
    }
  }

  /**
   * Decodes a whole member (original file) to `sink`; checks the member's SHA-256 at the end (and each segment's
   * with checkSegmentDigests). A symbolic link member's target (at most MAX_NAME_BYTES) is checked against the rules
   * of FORMAT.md §3.2 before any of it reaches `sink`.
   * @throws BAD_PATH for a link target that is absolute, holds NUL or leads outside the output folder; every chunk,
   *   checksum and label error
   */
  async decodeMember(member: MemberRecord, sink: ByteSink, options: DecodeOptions = {}): Promise<void> {
    if (member.type !== 'link') return this.decodeMemberBytes(member, sink, options);
    const target = new BufferSink(member.originalBytes); // at most MAX_NAME_BYTES (readIndex)
    await this.decodeMemberBytes(member, target, options);
    const bytes = target.bytes;
    const bad = unsafeLinkTargetReason(memberPathBytes(member), bytes);
    if (bad) throw new FormatError('BAD_PATH', `symbolic link '${member.path}': ${bad}`, { file: this.source.name, offset: segmentChunks(member.segments[0])[0]?.offset });
    await sink.write(bytes);
  }

  private async decodeMemberBytes(member: MemberRecord, sink: ByteSink, options: DecodeOptions): Promise<void> {
    const fileHash = this.checksSha256(options) ? createSha256() : undefined;
    let done = 0;
    checkThreads(options);
    // A sink with next() (a BufferSink, a file's write blocks) takes each chunk's output in place: one copy fewer,
    // and no buffer per chunk.
    const next = sink.next?.bind(sink);
    const target = next ? (length: number) => next(length) : undefined;
    // Bytes passed to the sink, counted before its write() runs: where outputs ahead go counts from there (sharedAhead).
    let given = 0;
    const write = async (b: Uint8Array): Promise<void> => {
      given += b.length;
      await sink.write(b);
      done += b.length;
      options.onProgress?.(done, member.originalBytes);
    };
    const wantSegmentHash = options.checkSegmentDigests === true && options.checkSha256 !== false && options.checkDigests !== false;
    // With workers, one window spans the member: chunks of the next segments are decoding while earlier ones are
    // hashed and written (a window per segment would drain at every tensor, and most tensors are a chunk or two).
    const pool = member.segments.some((seg) => !seg.transform && seg.chunks.length > 0) ? await poolFor(options, member.originalBytes) : undefined;
    const window = pool ? new ChunkWindow(pool) : undefined;
    const buffers = new ChunkBuffers(target !== undefined);
    const decoders = new CallerCoders<ChunkDecoding>();
    const raw = new RawDecoders();
    let header: Uint8Array | undefined;
    // Where a chunk's output goes when a worker can write it in place: `at` bytes into the member.
    const ahead = sink.sharedAhead?.bind(sink);
    const place = ahead ? (at: number, length: number) => ahead(at - given, length) : undefined;
    try {
      header = await this.decodeMemberSegments(member, write, options, fileHash, wantSegmentHash, window, buffers, decoders, raw, target, place);
    } finally {
      window?.abandon();
      decoders.disposeAll();
      raw.disposeAll();
    }
    if (fileHash && !sameBytes(fileHash.digest(), member.sha256)) {
      // Name the damaged tensor: decode again, checking each segment's digest (only on this failure path).
      if (options.checkSegmentDigests !== true) {
        for (const seg of member.segments) await this.decodeSegment(seg, () => undefined, { threads: options.threads, minPoolBytes: options.minPoolBytes, engine: options.engine, reference: options.reference, checkSha256: true });
      }
      throw new ChecksumError('CHECKSUM_MISMATCH', `'${member.path}' decodes to bytes whose SHA-256 is not the recorded ${toHex(member.sha256)}`, { file: this.source.name });
    }
    if (header) this.compareLabels(member, header);
    else if (member.layout !== undefined) await this.checkLabels(member);
  }

  /**
   * decodeMemberBytes's segments, in order: the chunks of plain segments through `window` when there is one, the
   * rest (and every segment without one) in this thread once the window has drained.
   * @returns a safetensors member's header segment, whose labels the caller checks once the member's digest has
   *   vouched for it (FORMAT.md §7.3); undefined for other members
   */
  private async decodeMemberSegments(
    member: MemberRecord,
    write: (b: Uint8Array) => Promise<void>,
    options: DecodeOptions,
    fileHash: Sha256 | undefined,
    wantSegmentHash: boolean,
    window: ChunkWindow | undefined,
    buffers: ChunkBuffers,
    decoders: CallerCoders<ChunkDecoding>,
    raw: RawDecoders,
    target: ((length: number) => Uint8Array | undefined) | undefined,
    place: ((at: number, length: number) => Uint8Array | undefined) | undefined,
  ): Promise<Uint8Array | undefined> {
    let first = 0;
    /** Where the current segment starts in the member's output. */
    let start = 0;
    let kept: Uint8Array | undefined;
    if (member.layout === undefined && isSafetensorsMember(member.segments)) {
      // The header segment goes first, on this thread, and its bytes are kept to check the tensors' labels once the
      // member's digest has vouched for them (FORMAT.md §7.3).
      const header = member.segments[0];
      this.checkHeaderSegment(member);
      const bytes = new Uint8Array(header.originalBytes);
      let o = 0;
      const segHash = wantSegmentHash ? createSha256() : undefined;
      await this.decodeChunks(header, async (b) => {
        bytes.set(b, o);
        o += b.length;
        await write(b);
      }, options, segHash, fileHash, undefined, raw);
      kept = bytes;
      first = 1;
      start = header.originalBytes;
    }
    for (const seg of member.segments.slice(first)) {
      const segHash = wantSegmentHash ? createSha256() : undefined;
      const segStart = start;
      start += seg.originalBytes;
      if (!window || seg.transform || seg.group !== undefined || seg.groupBytes !== undefined) {
        await window?.drain();
        await this.decodeChunks(seg, write, options, segHash, fileHash, target, raw);
        continue;
      }
      let left = seg.chunks.length;
      const take = async (out: Uint8Array): Promise<void> => {
        segHash?.update(out);
        fileHash?.update(out);
        await write(out);
        if (--left === 0 && segHash) checkSegmentDigest(seg, segHash, this.source.name);
      };
      if (left === 0 && segHash) await window.push({ runHere: () => checkSegmentDigest(seg, segHash, this.source.name) });
      const at = place ? (offset: number, length: number) => place(segStart + offset, length) : undefined;
      await this.submitChunks(seg, window, buffers, decoders, options, target, at, take);
    }
    await window?.drain();
    return kept;
  }

  /** Closes the source. */
  async close(): Promise<void> {
    await this.source.close();
  }
}

/** Numbers segments, so that worker-side caches of prepared decoders never confuse two. */
let segmentKeys = 0;

/** Where a segment's data starts in the container (its first chunk; the data region's start when it has none). */
function segmentAt(seg: SegmentRecord): number {
  return segmentChunks(seg)[0]?.offset ?? HEADER_BYTES;
}

/** @throws CHECKSUM_MISMATCH unless `hash` (over the segment's decoded bytes) gives the segment's recorded SHA-256 */
function checkSegmentDigest(seg: SegmentRecord, hash: Sha256, file: string | undefined): void {
  if (sameBytes(hash.digest(), seg.sha256)) return;
  throw new ChecksumError('CHECKSUM_MISMATCH', `${describe(seg)} decodes to bytes whose SHA-256 is not the recorded ${toHex(seg.sha256)}`, { file, offset: segmentAt(seg) });
}

/** What checks chunk `c` of `seg`: its CRC-32C, or (version 4) the chunk digest its output must have, its record's digest unbound from its place. */
function chunkCheck(seg: SegmentRecord, c: number): ChunkCheck {
  const rec = seg.chunks[c];
  return rec.digest === undefined ? { crc32c: rec.crc32c } : { crc32c: 0, digest: rec.digest ^ chunkBinding(seg.sha256, seg.stream ?? 0, c) };
}

/** The error for a chunk whose check failed: CORRUPT_CHUNK for a CRC-32C of its stored bytes, CHECKSUM_MISMATCH for a digest of its decoded bytes (version 4). */
function checkError(seg: SegmentRecord, c: number, file: string | undefined): Error {
  const rec = seg.chunks[c];
  if (rec.digest !== undefined) {
    return new ChecksumError('CHECKSUM_MISMATCH', `chunk ${c} of ${describe(seg)} decodes to bytes whose chunk digest is not the one its record gives`, { file, offset: rec.offset });
  }
  return new ChecksumError('CORRUPT_CHUNK', `chunk ${c} of ${describe(seg)} fails its CRC-32C`, { file, offset: rec.offset });
}

/**
 * Bytes read from the source at once for consecutive chunks of a segment. Chunks tile the data region in index order,
 * so a segment's chunks are adjacent: reading them in spans costs one read (one promise, one buffer) per span instead
 * of per chunk, which is what 1-value chunks otherwise pay for on a file. A chunk larger than a span is read alone.
 */
const READ_SPAN_BYTES = 1024 * 1024;

/**
 * The chunks of one segment, read in spans of up to READ_SPAN_BYTES, the next span as soon as the current one is in.
 * A failed read is rethrown where its span is first needed; one never needed (decoding stopped earlier) is not
 * reported as unhandled.
 */
class ChunkReads {
  private span: Uint8Array | undefined;
  /** Chunk indices [first, end) held by `span`. */
  private first = 0;
  private end = 0;
  private pending: { first: number; end: number; bytes: Promise<Uint8Array> } | undefined;

  constructor(private readonly source: ByteSource, private readonly chunks: ChunkRecord[], private readonly signal?: AbortSignal, first = 0) {
    this.pending = this.start(first);
  }

  /** Chunk c's bytes (a view of its span), c = 0, 1, 2 … in turn: at once when its span is in, else a promise. */
  take(c: number): Uint8Array | Promise<Uint8Array> {
    if (this.span !== undefined && c >= this.first && c < this.end) return this.slice(c);
    return this.advance(c);
  }

  private async advance(c: number): Promise<Uint8Array> {
    const next = this.pending;
    if (!next || c !== next.first) throw new Error(`internal: chunk ${c} taken out of turn`);
    this.span = undefined;
    const bytes = await next.bytes;
    this.span = bytes;
    this.first = next.first;
    this.end = next.end;
    this.pending = this.start(next.end);
    return this.slice(c);
  }

  /** Starts reading the span that begins at chunk `first` (undefined past the last chunk). */
  private start(first: number): { first: number; end: number; bytes: Promise<Uint8Array> } | undefined {
    if (first >= this.chunks.length) return undefined;
    const at = this.chunks[first].offset;
    let length = this.chunks[first].bytes;
    let end = first + 1;
    while (end < this.chunks.length && this.chunks[end].offset === at + length && length + this.chunks[end].bytes <= READ_SPAN_BYTES) {
      length += this.chunks[end].bytes;
      end++;
    }
    const bytes = this.source.read(at, length, this.signal ? { signal: this.signal } : undefined);
    bytes.catch(() => {});
    return { first, end, bytes };
  }

  private slice(c: number): Uint8Array {
    const from = this.chunks[c].offset - this.chunks[this.first].offset;
    return this.span!.subarray(from, from + this.chunks[c].bytes);
  }
}

/** The run of chunk bytes `run` as one view when its pieces lie back to back in one piece of shared memory, else undefined. */
function sharedRun(run: Uint8Array[]): Uint8Array | undefined {
  const first = run[0];
  if (!first || typeof SharedArrayBuffer !== 'function' || !(first.buffer instanceof SharedArrayBuffer)) return undefined;
  let end = first.byteOffset + first.length;
  for (let k = 1; k < run.length; k++) {
    if (run[k].buffer !== first.buffer || run[k].byteOffset !== end) return undefined;
    end += run[k].length;
  }
  return new Uint8Array(first.buffer, first.byteOffset, end - first.byteOffset);
}

/**
 * Buffers that go round between the main thread and the workers: each reply hands back its job's data buffer, and
 * outputs the sink has copied (only when `reuseOutputs`: a sink that keeps the bytes it is given must not see them
 * reused) go back with later jobs, so a run costs no allocation once the window is full.
 */
class ChunkBuffers {
  private chunks: ArrayBuffer[] = [];
  private spareOutputs: ArrayBuffer[] = [];

  constructor(private readonly reuseOutputs: boolean) {}

  /**
   * A view of `bytes` bytes for a job's stored chunks: of a spare buffer when one is large enough, else of a new one
   * of at least 2 * RUN_BYTES (runs differ in size; a fresh buffer costs its allocation and the first touch of its pages).
   */
  chunk(bytes: number): Uint8Array {
    const k = this.chunks.findIndex((b) => b.byteLength >= bytes);
    const buffer = k >= 0 ? this.chunks.splice(k, 1)[0] : new ArrayBuffer(Math.max(bytes, 2 * RUN_BYTES));
    return new Uint8Array(buffer, 0, bytes);
  }

  /** Up to `count` spare output buffers for a job to decode into (the worker allocates where they are too few or too small). */
  outputs(count: number): ArrayBuffer[] {
    return this.spareOutputs.splice(Math.max(0, this.spareOutputs.length - count));
  }

  returnChunk(b: ArrayBufferLike): void {
    if (b instanceof ArrayBuffer) this.chunks.push(b);
  }

  returnOutput(b: ArrayBuffer): void {
    if (this.reuseOutputs) this.spareOutputs.push(b);
  }
}

function describe(seg: SegmentRecord): string {
  return seg.kind === 'tensor' ? `tensor '${seg.name}'` : 'byte segment';
}
