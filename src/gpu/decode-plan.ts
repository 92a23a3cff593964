// Plans a GPU decode (FORMAT.md §3.4, §5.3, §5.4, §6): where each selected tensor's chunks go in the input slabs and
// each tensor's bytes in the output buffers, the per-chunk jobs and the tables the kernel reads; for segments with
// Huffman-coded planes, the jobs that transcode each chunk into raw planes (huffman.wgsl) and where they go. Pure: no GPU
// calls, so the layout rules are testable anywhere. Every chunk's structure is checked here, as the CPU
// decoder checks it, before any byte is uploaded.

import { makeError, LimitError } from '../errors.js';
import { buildSlotTable } from '../entropy/freq-table.js';
import { headBits, planeBits, type PlaneLayout } from '../transform/planes.js';
import type { SegmentRecord } from '../pipeline/index-codec.js';
import { RANS_LANES } from '../format/constants.js';
import { SPEC_MAX_PLANES, specKey, type KernelSpec } from './kernels.js';
import { leanImage, leanSpecOf } from './lean-plan.js';

export { leanImage, leanSpecOf } from './lean-plan.js';
import { isHuffman } from '../entropy/chunk-codec.js';
import { buildHuffmanDecodeTable, buildHuffmanMultiTable } from '../entropy/huffman.js';
import { planDigestJobs, type DigestDispatch } from './digest-jobs.js';
import { chunkBindingWords, JobTable, JOB_DIGEST, JOB_TRANSCODED, JOB_WORDS } from './job-table.js';

export { JOB_WORDS } from './job-table.js';
/** Header words of a segment descriptor and words per plane (decode.wgsl SEG_WORDS, PLANE_WORDS). */
const SEG_WORDS = 8;
const PLANE_WORDS = 8;
/** Status index of a padding job (decode.wgsl NO_STATUS). */
const NO_STATUS = 0xffffffff;
/** Storage bindings must start at multiples of this (the WebGPU default of minStorageBufferOffsetAlignment). */
export const BINDING_ALIGN = 256;
/** Bytes of slack after the last chunk of an input slab: the kernel's unaligned loads read one word ahead. */
const INPUT_PAD = 8;
/** u32 words per Huffman transcode job (huffman.wgsl HUFFMAN_JOB_WORDS). */
export const HUFFMAN_JOB_WORDS = 8;

/** Bytes of a raw plane of `n` symbols of `bits` bits in a chunk (FORMAT.md §6): ⌈n·bits/8⌉, n for 8-bit planes. */
function rawPlaneBytes(n: number, bits: number): number {
  return Math.ceil((n * bits) / 8);
}

/**
 * The CRC-32C of a chunk's stored bytes where its record carries one (format versions 1 to 3), else undefined: a
 * version 4 record carries a digest of the chunk's decoded bytes instead (FORMAT.md §3.4), checked by the digest
 * pass after the chunk is decoded (the record's digest XOR the chunk's binding, job-table.ts, chunk-digest.wgsl).
 */
export function chunkCrc(rec: { crc32c?: number; digest?: bigint }): number | undefined {
  return rec.digest === undefined && typeof rec.crc32c === 'number' ? rec.crc32c : undefined;
}


/** Buffer and binding sizes the plan must respect (from the device's limits and the caller's options). */
export interface PlanLimits {
  /** Largest storage binding, bytes. */
  maxBinding: number;
  /** Largest buffer, bytes. */
  maxBuffer: number;
  /** Target size of one input slab (the unit of upload/decode overlap), bytes. */
  inputSlabBytes: number;
  /** Target size of one output buffer holding several tensors, bytes. */
  outputSlabBytes: number;
  /** Largest table image (u32 words) a workgroup can hold; 0 keeps every table in global memory. */
  tableWords: number;
  /** Chunks per workgroup: the jobs of one workgroup must share a segment. */
  groups: number;
  /**
   * Dispatch each class of segments with equal KernelSpec through a pipeline specialised for it (default true);
   * false: one generic pipeline for every segment.
   */
  specialize?: boolean;
  /**
   * Decode the segments that fit it with the lean kernel (decode-lean.wgsl; with specialised pipelines only): their
   * tables become one packed entry per slot (leanImage). Default false.
   */
  lean?: boolean;
}

/** One tensor to decode: its name (for reports) and index record. */
export interface PlanTensorInput {
  name: string;
  seg: SegmentRecord;
}

/** Where a tensor's decoded bytes will be. */
export interface PlannedTensor {
  name: string;
  seg: SegmentRecord;
  /** Index into `outputSizes`. */
  output: number;
  /** Byte offset of the tensor in that buffer (a multiple of 256). */
  offset: number;
  byteLength: number;
}

/** A contiguous range of the container copied into an input slab. */
export interface UploadRun {
  slab: number;
  slabOffset: number;
  fileOffset: number;
  bytes: number;
  /** The chunks in this run whose records carry a CRC-32C, with it, for checking on the host. */
  chunks: { fileOffset: number; bytes: number; crc32c: number }[];
}

/** One dispatch: jobs [jobStart, jobStart + jobCount) over one input slab and one window of one output buffer. */
export interface PlannedDispatch {
  slab: number;
  output: number;
  windowOffset: number;
  windowBytes: number;
  jobStart: number;
  jobCount: number;
  /** Index into DecodePlan.kernels: the pipeline that runs this dispatch. */
  kernel: number;
  /**
   * The dispatch's chunks have Huffman-coded planes: it reads the slab's transcoded chunks (huffman.wgsl), whose
   * planes are all raw, instead of the slab.
   */
  transcoded?: boolean;
}

/** Where a chunk came from, for error reports. */
export interface ChunkOrigin {
  tensor: string;
  chunk: number;
  fileOffset: number;
}

/** The complete plan. */
export interface DecodePlan {
  tensors: PlannedTensor[];
  outputSizes: number[];
  slabSizes: number[];
  runs: UploadRun[];
  dispatches: PlannedDispatch[];
  /** JOB_WORDS u32 per job, dispatch by dispatch. */
  jobs: Uint32Array;
  /** Segment descriptors and deposit tables. */
  meta: Uint32Array;
  /** rANS decode entries, 2 u32 per slot: symbol | (slot - cum) << 16, freq. */
  entries: Uint32Array;
  /** Status word index -> chunk. */
  origins: ChunkOrigin[];
  /** CRC jobs (crc32c.wgsl): chunk start in its slab, bytes, CRC-32C, status index; slab by slab (chunks with a CRC only). */
  crcJobs: Uint32Array;
  /** Per slab, its CRC jobs [start, start + count). */
  crcDispatches: { slab: number; jobStart: number; jobCount: number }[];
  /** Digest jobs (chunk-digest.wgsl, digest-jobs.ts): per chunk with a digest, its output in its window and its WD64. */
  digestJobs: Uint32Array;
  /** Per input slab and output window, its digest jobs (chunks with a digest only; none for versions 1 to 3). */
  digestDispatches: DigestDispatch[];
  /** Workgroup table words the kernel needs (the largest image of a planned segment; 0 when none). */
  tableWords: number;
  /** Per input slab, the bytes of its transcoded chunks (0 when it holds no chunk with Huffman-coded planes). */
  transcodedSizes: number[];
  /** Huffman transcode jobs (huffman.wgsl), HUFFMAN_JOB_WORDS u32 per chunk with Huffman-coded planes, slab by slab. */
  huffmanJobs: Uint32Array;
  /** Per slab, its Huffman transcode jobs [start, start + count). */
  huffmanDispatches: { slab: number; jobStart: number; jobCount: number }[];
  /** Huffman plane descriptors (huffman.wgsl descs) and, after them, the decode tables (2 × 2048 u32 per table). */
  huffmanMeta: Uint32Array;
  /** The pipelines the dispatches use: a specialised kernel's constants, or undefined for the generic kernel. */
  kernels: (KernelSpec | undefined)[];
  /** Bytes of compressed input and of decoded output. */
  inputBytes: number;
  outputBytes: number;
}

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;

/** A growable u32 array (plans hold millions of table words: number[] pushes were the slow part of planning). */
class Words {
  private a = new Uint32Array(1 << 12);
  length = 0;
  /** Appends `count` zero words; returns the index of the first. */
  grow(count: number): number {
    const at = this.length;
    if (at + count > this.a.length) {
      const b = new Uint32Array(Math.max(this.a.length * 2, at + count));
      b.set(this.a.subarray(0, at));
      this.a = b;
    }
    this.length += count;
    return at;
  }
  push(...v: number[]): void {
    const at = this.grow(v.length);
    for (let k = 0; k < v.length; k++) this.a[at + k] = v[k];
  }
  set(i: number, v: number): void {
    this.a[i] = v;
  }
  or(i: number, v: number): void {
    this.a[i] |= v;
  }
  /** The words written, as their own array (at least `min` long). */
  finish(min: number): Uint32Array {
    return this.a.slice(0, Math.max(min, this.length));
  }
  get raw(): Uint32Array {
    return this.a;
  }
}

/**
 * Appends a segment's descriptor and either the image of its tables for workgroup memory (when it fits
 * `tableWords`) or its global decode entries; head planes of more than two ranges get a deposit table.
 * @returns the descriptor's offset in meta and the image size in words (0: tables in global memory)
 */
function describeSegment(seg: SegmentRecord, meta: Words, entries: Words, tableWords: number, lean: boolean): { at: number; image: number; spec: KernelSpec | undefined } {
  const { layout } = seg.coding;
  // Huffman-coded planes reach the kernel transcoded into raw 8-bit planes (huffman.wgsl).
  const tables = seg.coding.tables.map((t) => (isHuffman(t) ? undefined : t));
  const leanSpec = lean ? leanSpecOf(seg, tableWords) : undefined;
  if (leanSpec) {
    // The lean kernel reads only the descriptor's image offset and size (words 4, 5) and the packed slot entries.
    const image = leanImage(tables[0]!, leanSpec);
    const at = meta.length;
    meta.push(layout.valueBytes, layout.planes.length, seg.coding.lanes, 1, 0, image.length, 0, 0);
    meta.grow(layout.planes.length * PLANE_WORDS);
    const imageAt = meta.grow(image.length);
    meta.raw.set(image, imageAt);
    meta.set(at + 4, imageAt);
    const spec: KernelSpec = { W: layout.valueBytes, planes: layout.planes.length, K: seg.coding.lanes, coded: true, flags: [], rawIndex: [], rawBits: [], byteIndex: [], lean: leanSpec };
    return { at, image: image.length, spec };
  }
  const coded = tables.filter((t) => t !== undefined).length;
  // Image: per coded plane, slot -> symbol (two u16 a word), then symbol -> freq | cum << 16.
  let imageWords = 0;
  layout.planes.forEach((plane, p) => {
    const t = tables[p];
    if (t) imageWords += (1 << t.probBits) / 2 + t.freqs.length;
  });
  const shared = coded > 0 && imageWords <= tableWords;
  const at = meta.length;
  meta.push(layout.valueBytes, layout.planes.length, coded > 0 ? seg.coding.lanes : RANS_LANES, coded, 0, shared ? imageWords : 0, 0, 0);
  const planeAt = meta.grow(layout.planes.length * PLANE_WORDS);
  const imageAt = shared ? meta.grow(imageWords) : 0;
  if (shared) meta.set(at + 4, imageAt);
  let raw = 0;
  let w = 0; // next word of the image
  const spec: KernelSpec = { W: layout.valueBytes, planes: layout.planes.length, K: coded > 0 ? seg.coding.lanes : RANS_LANES, coded: coded > 0, flags: [], rawIndex: [], rawBits: [], byteIndex: [] };
  layout.planes.forEach((plane, p) => {
    const pd = planeAt + p * PLANE_WORDS;
    const t = tables[p];
    let flags = 0;
    if (t) {
      flags |= 1;
      const slots = buildSlotTable(t);
      meta.set(pd + 2, t.probBits);
      if (shared) {
        flags |= 4;
        const m = meta.raw;
        meta.set(pd + 4, w);
        for (let k = 0; k < slots.length; k += 2) m[imageAt + w + k / 2] = slots[k] | (slots[k + 1] << 16);
        w += slots.length / 2;
        meta.set(pd + 5, w);
        for (let v = 0; v < t.freqs.length; v++) m[imageAt + w + v] = (t.freqs[v] | (t.cum[v] << 16)) >>> 0;
        w += t.freqs.length;
      } else {
        const e0 = entries.grow(2 * slots.length);
        const e = entries.raw;
        meta.set(pd + 1, e0 / 2);
        for (let slot = 0; slot < slots.length; slot++) {
          const v = slots[slot];
          e[e0 + 2 * slot] = v | ((slot - t.cum[v]) << 16);
          e[e0 + 2 * slot + 1] = t.freqs[v];
        }
      }
    } else {
      // Raw: 8-bit planes, and from version 4 head planes of 1 to 8 bits, packed (the index reader admits no others).
      const bits = planeBits(plane);
      if (bits < 1 || bits > 8) throw new RangeError(`a raw plane of ${bits} bits has no GPU kernel`);
      meta.set(pd + 1, raw++);
      meta.set(pd + 2, bits);
    }
    if (plane.kind === 'head') {
      flags |= 2;
      if (plane.ranges.length <= 2) {
        // Deposit by arithmetic: (lo1, width1, lo2, width2), range 2 (possibly empty) the symbol's low bits.
        flags |= 8;
        const [r1, r2] = plane.ranges;
        meta.set(pd + 6, r1.lo | (r1.width << 8) | ((r2?.lo ?? 0) << 16) | ((r2?.width ?? 0) << 24));
      } else {
        const lut = depositTable(plane.ranges, layout);
        const l0 = meta.grow(lut.length);
        meta.raw.set(lut, l0);
        meta.set(pd + 3, l0);
      }
    } else {
      meta.set(pd + 3, plane.byteIndex);
    }
    meta.or(pd, flags);
    spec.flags.push(meta.raw[pd]);
    spec.rawIndex.push(t ? undefined : meta.raw[pd + 1]);
    spec.rawBits.push(t ? undefined : meta.raw[pd + 2]);
    spec.byteIndex.push(plane.kind === 'head' ? undefined : plane.byteIndex);
  });
  return { at, image: shared ? imageWords : 0, spec: layout.planes.length <= SPEC_MAX_PLANES ? spec : undefined };
}

/** symbol -> head bits of a head plane (FORMAT.md §4.2, mergePlanes). */
function depositTable(ranges: { lo: number; width: number }[], layout: PlaneLayout): Uint32Array {
  const bits = ranges.reduce((a, r) => a + r.width, 0);
  if (headBits(layout.valueBytes) < bits) throw new RangeError('head plane wider than the head');
  const out = new Uint32Array(1 << bits);
  for (let s = 0; s < out.length; s++) {
    let h = 0;
    let v = s;
    for (let k = ranges.length - 1; k >= 0; k--) {
      const r = ranges[k];
      h |= (v & ((1 << r.width) - 1)) << r.lo;
      v >>>= r.width;
    }
    out[s] = h;
  }
  return out;
}

/**
 * Appends the Huffman descriptor of a segment with Huffman-coded planes (huffman.wgsl descs): plane count | Huffman
 * planes << 16, then per plane 1 for a Huffman plane | symbol bits << 8 and the offset of its decode tables in `tables`
 * (2048 single-symbol entries, symbol | length << 8, then 2048 multi-symbol entries, buildHuffmanMultiTable).
 * @returns the descriptor's offset
 */
function describeHuffman(seg: SegmentRecord, descs: Words, tables: Words): number {
  const { layout } = seg.coding;
  const huffman = seg.coding.tables.filter(isHuffman).length;
  const at = descs.length;
  descs.push(layout.planes.length | (huffman << 16));
  layout.planes.forEach((plane, p) => {
    const t = seg.coding.tables[p];
    if (!isHuffman(t)) {
      descs.push(planeBits(plane) << 8, 0);
      return;
    }
    const single = buildHuffmanDecodeTable(t);
    const multi = buildHuffmanMultiTable(t);
    const e0 = tables.grow(single.length + multi.length);
    tables.raw.set(single, e0);
    tables.raw.set(multi, e0 + single.length);
    descs.push(1 | (8 << 8), e0);
  });
  return at;
}

/**
 * Lays out the decode of `inputs`.
 * @throws CORRUPT_CHUNK when a chunk's size cannot hold its values in its layout (as the CPU decoder would);
 *   LIMIT_EXCEEDED when a tensor or the tables do not fit the device's buffers
 */
export function planDecode(inputs: PlanTensorInput[], limits: PlanLimits, file?: string): DecodePlan {
  const maxBinding = Math.floor(Math.min(limits.maxBinding, limits.maxBuffer) / BINDING_ALIGN) * BINDING_ALIGN;
  const outSlab = Math.min(maxBinding, Math.max(BINDING_ALIGN, limits.outputSlabBytes));
  const tensors: PlannedTensor[] = [];
  const outputSizes: number[] = [];
  const meta = new Words();
  const entries = new Words();
  const origins: ChunkOrigin[] = [];
  const table = new JobTable();
  const runs: UploadRun[] = [];
  const slabSizes: number[] = [];
  let largestChunk = 0;
  for (const t of inputs) for (const c of t.seg.chunks) largestChunk = Math.max(largestChunk, c.bytes);
  const inSlab = Math.min(maxBinding, Math.max(limits.inputSlabBytes, alignUp(largestChunk + INPUT_PAD, 4)));
  if (largestChunk + INPUT_PAD > inSlab) {
    throw new LimitError('LIMIT_EXCEEDED', `a chunk of ${largestChunk} bytes exceeds the device's largest storage binding (${maxBinding} bytes)`, { file });
  }
  let slabUsed = 0;
  let run: UploadRun | undefined;
  let outUsed = outSlab; // forces a first output buffer
  let inputBytes = 0;
  let outputBytes = 0;
  const descOf = new Map<SegmentRecord, { at: number; kernel: number }>();
  const kernels: (KernelSpec | undefined)[] = [];
  const kernelOf = new Map<string, number>();
  // Dispatches of transcoded chunks read another buffer: their kernel entries are their own (the pipelines are shared).
  const transcodedKernels = new Set<number>();
  const kernelFor = (spec: KernelSpec | undefined, transcoded = false): number => {
    const key = `${transcoded ? 'transcoded ' : ''}${spec && limits.specialize !== false ? specKey(spec) : 'generic'}`;
    let k = kernelOf.get(key);
    if (k === undefined) {
      k = kernels.length;
      kernels.push(spec && limits.specialize !== false ? spec : undefined);
      kernelOf.set(key, k);
      if (transcoded) transcodedKernels.add(k);
    }
    return k;
  };
  let tableWords = 0;
  const crcBySlab: number[][] = [];
  const huffmanDescs = new Words();
  const huffmanTables = new Words();
  const huffmanOf = new Map<SegmentRecord, number>();
  const huffmanBySlab: number[][] = [];
  const transcodedSizes: number[] = [];
  let transcodedUsed = 0;

  for (const t of inputs) {
    const seg = t.seg;
    const W = seg.coding.layout.valueBytes;
    const bytes = seg.originalBytes;
    // Output placement: share a slab when the tensor fits one, else a buffer of its own (bound in windows).
    let output: number;
    let offset: number;
    if (bytes <= outSlab) {
      if (alignUp(outUsed, BINDING_ALIGN) + bytes > outSlab) {
        outputSizes.push(0);
        outUsed = 0;
      }
      output = outputSizes.length - 1;
      offset = alignUp(outUsed, BINDING_ALIGN);
      outUsed = offset + bytes;
      outputSizes[output] = alignUp(Math.max(outUsed, 4), 4);
    } else {
      if (alignUp(bytes, 4) > limits.maxBuffer) {
        throw new LimitError('LIMIT_EXCEEDED', `tensor '${t.name}' of ${bytes} bytes exceeds the device's largest buffer (${limits.maxBuffer} bytes)`, { file });
      }
      outputSizes.push(alignUp(bytes, 4));
      output = outputSizes.length - 1;
      offset = 0;
      outUsed = outSlab; // nothing else goes into it
    }
    tensors.push({ name: t.name, seg, output, offset, byteLength: bytes });
    outputBytes += bytes;
    if (seg.chunks.length === 0) continue;

    const { tables, lanes, layout } = seg.coding;
    const huffman = tables.some(isHuffman);
    let described = descOf.get(seg);
    if (described === undefined) {
      const d = describeSegment(seg, meta, entries, limits.tableWords, limits.lean === true && limits.specialize !== false);
      described = { at: d.at, kernel: kernelFor(d.spec, huffman) };
      tableWords = Math.max(tableWords, d.image);
      descOf.set(seg, described);
    }
    const desc = described.at;
    const kernel = described.kernel;
    const rawBits = layout.planes.filter((_, p) => tables[p] === undefined).map(planeBits);
    let hdesc = huffmanOf.get(seg);
    if (huffman && hdesc === undefined) {
      hdesc = describeHuffman(seg, huffmanDescs, huffmanTables);
      huffmanOf.set(seg, hdesc);
    }
    const coded = rawBits.length < tables.length && !huffman;
    const K = coded ? lanes : RANS_LANES;
    const values = bytes / W;
    // The binding of the segment's chunk digests (version 4): its SHA-256's first 8 bytes, little-endian.
    const sha = seg.sha256;
    const leadLo = (sha[0] | (sha[1] << 8) | (sha[2] << 16) | (sha[3] << 24)) >>> 0;
    const leadHi = (sha[4] | (sha[5] << 8) | (sha[6] << 16) | (sha[7] << 24)) >>> 0;
    seg.chunks.forEach((rec, c) => {
      const n = Math.min(seg.chunkValues, values - c * seg.chunkValues);
      const streamBytes = rec.bytes - rawBits.reduce((a, b) => a + rawPlaneBytes(n, b), 0);
      // With Huffman-coded planes, `streamBytes` is their blocks' (FORMAT.md §6); their sizes are checked on the GPU.
      if (streamBytes < 0 || (!coded && !huffman && streamBytes !== 0) || (coded && (streamBytes < 4 * lanes || (streamBytes - 4 * lanes) % 2 !== 0))) {
        throw makeError('CORRUPT_CHUNK', `chunk ${c} of tensor '${t.name}' (${rec.bytes} bytes) cannot hold ${n} values in its layout`, { file, offset: rec.offset });
      }
      // The chunk transcoded into raw planes: a Huffman-coded plane as n bytes, the raw planes as they are.
      const transcodedBytes = huffman ? layout.planes.reduce((a, plane) => a + rawPlaneBytes(n, planeBits(plane)), 0) : 0;
      if (transcodedBytes + INPUT_PAD > maxBinding) {
        throw new LimitError('LIMIT_EXCEEDED', `chunk ${c} of tensor '${t.name}' transcodes to ${transcodedBytes} bytes, more than the device's largest storage binding (${maxBinding} bytes)`, { file });
      }
      // Input placement: extend the current run when the chunk follows it in the file and fits the slab.
      const contiguous = run !== undefined && run.fileOffset + run.bytes === rec.offset && run.slab === slabSizes.length - 1;
      let at = contiguous ? slabUsed : alignUp(slabUsed, 4);
      if (slabSizes.length === 0 || at + rec.bytes + INPUT_PAD > inSlab || (huffman && alignUp(transcodedUsed, 4) + transcodedBytes + INPUT_PAD > maxBinding)) {
        slabSizes.push(0);
        transcodedSizes.push(0);
        transcodedUsed = 0;
        at = 0;
        run = undefined;
      } else if (!contiguous) {
        run = undefined;
      }
      const slab = slabSizes.length - 1;
      if (!run) {
        run = { slab, slabOffset: at, fileOffset: rec.offset, bytes: 0, chunks: [] };
        runs.push(run);
      }
      run.bytes += rec.bytes;
      const crc = chunkCrc(rec);
      if (crc !== undefined) run.chunks.push({ fileOffset: rec.offset, bytes: rec.bytes, crc32c: crc });
      slabUsed = at + rec.bytes;
      slabSizes[slab] = alignUp(slabUsed + INPUT_PAD, 4);
      inputBytes += rec.bytes;

      const outAt = offset + c * seg.chunkValues * W;
      const status = origins.length;
      if (crc !== undefined) (crcBySlab[slab] ??= []).push(at, rec.bytes, crc, status);
      origins.push({ tensor: t.name, chunk: c, fileOffset: rec.offset });
      let input = at;
      if (huffman) {
        input = alignUp(transcodedUsed, 4);
        transcodedUsed = input + transcodedBytes;
        transcodedSizes[slab] = alignUp(transcodedUsed + INPUT_PAD, 4);
        (huffmanBySlab[slab] ??= []).push(hdesc!, at, at + streamBytes, n, input, status, 0, 0);
      }
      let flags = huffman ? JOB_TRANSCODED : 0;
      let digestLo = 0;
      let digestHi = 0;
      if (rec.digest !== undefined) {
        // The WD64 the chunk must decode to: its record's digest XOR its binding (FORMAT.md §7.5), as the CPU reader
        // checks it.
        flags |= JOB_DIGEST;
        const [bLo, bHi] = chunkBindingWords(leadLo, leadHi, seg.stream ?? 0, c);
        digestLo = (Number(rec.digest & 0xffffffffn) ^ bLo) >>> 0;
        digestHi = (Number(rec.digest >> 32n) ^ bHi) >>> 0;
      }
      table.add(desc, input, coded ? streamBytes : 0, n, outAt, status, { steps: Math.ceil(n / K), slab, output, outAt, outEnd: outAt + n * W, kernel, flags, digestBytes: n * W, digestLo, digestHi });
    });
  }

  // Dispatches: consecutive jobs on one slab and one output window, one dispatch per kernel among them; the
  // window of a buffer that is larger than a binding starts at a 256-byte boundary at or below its first chunk.
  const dispatches: PlannedDispatch[] = [];
  const ordered = new Words();
  let open: { d: PlannedDispatch; first: number } | undefined;
  const G = limits.groups;
  const close = (end: number): void => {
    if (!open) return;
    // Jobs by segment, each segment padded to whole workgroups (they share its tables); longest chunks
    // first, so that they start first and the short ones fill in behind them.
    const bySeg = new Map<number, number[]>();
    for (let j = open.first; j < end; j++) {
      table.words[j * JOB_WORDS + 4] -= open.d.windowOffset;
      const desc = table.words[j * JOB_WORDS];
      const list = bySeg.get(desc);
      if (list) list.push(j);
      else bySeg.set(desc, [j]);
    }
    const steps = table.steps;
    const groupsOfJobs = [...bySeg.values()].map((list) => {
      list.sort((a, b) => steps[b] - steps[a]);
      const j0 = list[0];
      while (list.length % G !== 0) {
        list.push(table.add(table.words[j0 * JOB_WORDS], 0, 0, 0, 0, NO_STATUS, { steps: 0, slab: table.slab[j0], output: table.output[j0], outAt: 0, outEnd: 0, kernel: table.kernel[j0], flags: table.flags[j0] & JOB_TRANSCODED, digestBytes: 0, digestLo: 0, digestHi: 0 }));
      }
      return list;
    });
    groupsOfJobs.sort((a, b) => table.steps[b[0]] - table.steps[a[0]]);
    const byKernel = new Map<number, number[][]>();
    for (const list of groupsOfJobs) {
      const k = table.kernel[list[0]];
      const lists = byKernel.get(k);
      if (lists) lists.push(list);
      else byKernel.set(k, [list]);
    }
    for (const [kernel, lists] of [...byKernel].sort((a, b) => a[0] - b[0])) {
      const d: PlannedDispatch = { ...open.d, jobStart: ordered.length, kernel };
      if (transcodedKernels.has(kernel)) d.transcoded = true;
      for (const list of lists) {
        const at = ordered.grow(list.length);
        ordered.raw.set(list, at);
      }
      d.jobCount = ordered.length - d.jobStart;
      dispatches.push(d);
    }
    open = undefined;
  };
  const chunkJobs = table.count;
  for (let j = 0; j < chunkJobs; j++) {
    const output = table.output[j];
    const slab = table.slab[j];
    const outAt = table.outAt[j];
    const size = outputSizes[output];
    const fits = open && open.d.slab === slab && open.d.output === output && outAt >= open.d.windowOffset && table.outEnd[j] <= open.d.windowOffset + open.d.windowBytes;
    if (!fits) {
      close(j);
      const windowOffset = size <= maxBinding ? 0 : Math.floor(outAt / BINDING_ALIGN) * BINDING_ALIGN;
      const windowBytes = Math.min(maxBinding, size - windowOffset);
      open = { d: { slab, output, windowOffset, windowBytes, jobStart: ordered.length, jobCount: 0, kernel: 0 }, first: j };
    }
  }
  close(chunkJobs);

  const order = ordered.raw;
  const jobs = new Uint32Array(Math.max(1, ordered.length) * JOB_WORDS);
  for (let k = 0; k < ordered.length; k++) {
    const src = order[k] * JOB_WORDS;
    for (let i = 0; i < JOB_WORDS; i++) jobs[k * JOB_WORDS + i] = table.words[src + i];
  }
  const metaArr = meta.finish(1);
  const entriesArr = entries.finish(2);
  const { digestJobs, digestDispatches } = planDigestJobs(dispatches, order, table);
  for (const [what, arr] of [['decode tables', entriesArr], ['segment descriptors', metaArr], ['job list', jobs], ['digest job list', digestJobs]] as const) {
    if (arr.byteLength > maxBinding) {
      throw new LimitError('LIMIT_EXCEEDED', `the ${what} of this decode (${arr.byteLength} bytes) exceed the device's largest storage binding; decode fewer tensors at once`, { file });
    }
  }
  const crcDispatches: { slab: number; jobStart: number; jobCount: number }[] = [];
  // Straight into a typed array (pushing the words one by one into a number[] took ~8 us per chunk).
  let crcTotal = 0;
  crcBySlab.forEach((words) => {
    crcTotal += words.length;
  });
  const crcJobs = new Uint32Array(Math.max(4, crcTotal));
  let crcAt = 0;
  crcBySlab.forEach((words, slab) => {
    crcDispatches.push({ slab, jobStart: crcAt / 4, jobCount: words.length / 4 });
    crcJobs.set(words, crcAt);
    crcAt += words.length;
  });
  const huffmanDispatches: { slab: number; jobStart: number; jobCount: number }[] = [];
  let huffmanTotal = 0;
  huffmanBySlab.forEach((words) => {
    huffmanTotal += words.length;
  });
  const huffmanJobs = new Uint32Array(Math.max(HUFFMAN_JOB_WORDS, huffmanTotal));
  let huffmanAt = 0;
  huffmanBySlab.forEach((words, slab) => {
    huffmanDispatches.push({ slab, jobStart: huffmanAt / HUFFMAN_JOB_WORDS, jobCount: words.length / HUFFMAN_JOB_WORDS });
    huffmanJobs.set(words, huffmanAt);
    huffmanAt += words.length;
  });
  // Descriptors first, then the tables (their offsets in the descriptors move by the descriptors' length).
  const huffmanMeta = new Uint32Array(Math.max(1, huffmanDescs.length + huffmanTables.length));
  huffmanMeta.set(huffmanDescs.raw.subarray(0, huffmanDescs.length));
  huffmanMeta.set(huffmanTables.raw.subarray(0, huffmanTables.length), huffmanDescs.length);
  for (const at of huffmanOf.values()) {
    const planes = huffmanMeta[at] & 0xffff;
    for (let p = 0; p < planes; p++) if (huffmanMeta[at + 1 + 2 * p] & 1) huffmanMeta[at + 2 + 2 * p] += huffmanDescs.length;
  }
  if (huffmanMeta.byteLength > maxBinding || huffmanJobs.byteLength > maxBinding) {
    throw new LimitError('LIMIT_EXCEEDED', `the Huffman tables or jobs of this decode (${Math.max(huffmanMeta.byteLength, huffmanJobs.byteLength)} bytes) exceed the device's largest storage binding; decode fewer tensors at once`, { file });
  }
  return { tensors, outputSizes, slabSizes, runs, dispatches, jobs, meta: metaArr, entries: entriesArr, origins, crcJobs, crcDispatches, digestJobs, digestDispatches, tableWords, kernels, inputBytes, outputBytes, transcodedSizes, huffmanJobs, huffmanDispatches, huffmanMeta };
}

/**
 * Why a segment cannot be decoded by the GPU kernel as it stands, or undefined when it can: a transformed segment
 * (FORMAT.md §3.5; decodeToGPU decodes each transform from its target or streams, transform-routes.ts). Huffman-coded
 * planes (§5.4) decode on the GPU, transcoded into raw planes first (huffman.wgsl).
 */
export function cpuOnlyReason(seg: SegmentRecord): string | undefined {
  if (seg.transform) return `stored with transform ${seg.transform.code}`;
  if (seg.coding.byteModel) return 'coded with the byte model';
  if (seg.coding.tensorModel) return 'coded with the tensor model';
  return undefined;
}
