// How decodeToGPU decodes each tensor (FORMAT.md §3.5): a plain segment and a DUPLICATE (as the segment it repeats)
// with the decode kernel straight into the tensor's place; an XOR_DELTA as its stream, decoded by the kernel, XORed on
// the GPU into the reference tensor's bytes; a ZERO_FLAGS, QUANT_SCALE or INT_PREDICT as its streams, decoded by the
// kernel, put together by the transform's GPU inverse (zero-flags-pass.ts, quant-scale-pass.ts, int-predict-pass.ts);
// the rest on the CPU, uploaded, with the reason. Pure: no GPU calls.

import type { ContainerIndex, SegmentRecord } from '../pipeline/index-codec.js';
import type { TensorReference } from '../format/tensor-reference.js';
import { TRANSFORM_DUPLICATE, TRANSFORM_XOR_DELTA, transformByCode } from '../transform/transform-registry.js';
import { TRANSFORM_ZERO_FLAGS } from '../transform/zero-flags.js';
import { TRANSFORM_QUANT_SCALE } from '../transform/quant-scale.js';
import { TRANSFORM_INT_PREDICT } from '../transform/int-predict.js';
import { dtypeBytes } from '../transform/dtypes.js';
import { cpuOnlyReason } from './decode-plan.js';

/** How one tensor is decoded. `seg` is the segment whose bytes the tensor's are: its own, or a DUPLICATE's target. */
export type GpuRoute =
  /** The kernel decodes `seg`'s chunks into the tensor's place. */
  | { kind: 'plain'; seg: SegmentRecord }
  /** The kernel decodes `stream` (stream 0 of the XOR_DELTA segment `seg`); the XOR pass adds the reference tensor. */
  | { kind: 'xor-delta'; seg: SegmentRecord; stream: SegmentRecord }
  /**
   * The kernel decodes `flags` and `values` (streams 0 and 1 of the ZERO_FLAGS segment `seg`, `n` values of `W` bytes);
   * the GPU inverse writes the tensor from them.
   */
  | { kind: 'zero-flags'; seg: SegmentRecord; flags: SegmentRecord; values: SegmentRecord; n: number; W: number }
  /**
   * The kernel decodes `streams` (codes, scales, exceptions of the QUANT_SCALE segment `seg`: `n` values of `W` bytes
   * of its dtype, `G` values a scale); the GPU inverse recomputes the tensor from them.
   */
  | { kind: 'quant-scale'; seg: SegmentRecord; streams: SegmentRecord[]; n: number; W: number; G: number }
  /**
   * The kernel decodes `streams` (predictors and residuals of the INT_PREDICT segment `seg`, a `rows` × `cols` matrix
   * of `W`-byte integers in tiles of `tileRows` × `tileCols`); the GPU inverse rebuilds the tensor from them.
   */
  | { kind: 'int-predict'; seg: SegmentRecord; streams: SegmentRecord[]; rows: number; cols: number; tileRows: number; tileCols: number; W: 1 | 2 | 4; signed: boolean }
  /** Decoded on the CPU and uploaded (cpu-decoded-upload.ts), for `reason`. */
  | { kind: 'cpu'; reason: string };

/**
 * The record a reader decodes stream `k` of the transformed segment `seg` from, like a segment (FORMAT.md §3.5): its
 * chunks' version 4 digests are bound to the segment's SHA-256 and stream number k + 1 (§7.5), as the CPU reader binds
 * them.
 */
export function streamSegment(seg: SegmentRecord, k: number): SegmentRecord {
  const st = seg.transform!.streams[k];
  return {
    stream: k + 1,
    kind: 'tensor',
    name: `${seg.name} (stream ${k})`,
    dtype: '',
    shape: [],
    originalBytes: st.originalBytes,
    sha256: seg.sha256,
    coding: st.coding,
    chunkValues: st.chunkValues,
    chunks: st.chunks,
  };
}

/**
 * Chooses how the tensor of segment `own` is decoded.
 * @param index the container's index (a DUPLICATE's target is one of its segments)
 * @param reference the reference checkpoint of XOR deltas, when given: an XOR_DELTA decodes on the GPU only when it
 *   holds a tensor of the segment's name, dtype, shape and size; otherwise the CPU reader decodes the stream and then
 *   reports REFERENCE_MISSING or REFERENCE_MISMATCH, as FORMAT.md §3.5.2 orders those checks
 * @param maxBinding the device's largest storage binding, in bytes: a QUANT_SCALE or INT_PREDICT tensor, or a stream
 *   of one, larger than one binding decodes on the CPU (their GPU inverses bind each whole; ZERO_FLAGS' works in
 *   windows)
 */
export function routeOf(own: SegmentRecord, index: ContainerIndex, reference: TensorReference | undefined, maxBinding = Infinity): GpuRoute {
  let seg = own;
  const t0 = own.transform;
  if (t0?.code === TRANSFORM_DUPLICATE) {
    // The index reader checked that the target is an earlier segment, not itself a DUPLICATE, with the same bytes.
    const { member, segment } = t0.target!;
    seg = index.members[member].segments[segment];
  }
  const t = seg.transform;
  const via = seg === own ? '' : `a duplicate of '${seg.name}', `;
  if (!t) {
    const reason = cpuOnlyReason(seg);
    return reason ? { kind: 'cpu', reason: `${via}${reason}` } : { kind: 'plain', seg };
  }
  if (t.code === TRANSFORM_XOR_DELTA) {
    const stream = streamSegment(seg, 0);
    const huffman = cpuOnlyReason(stream);
    if (huffman) return { kind: 'cpu', reason: `${via}an XOR delta whose stream has ${huffman}` };
    const info = reference?.describe(seg.name);
    const same = info !== undefined && info.dtype === seg.dtype && info.originalBytes === seg.originalBytes && info.shape.length === seg.shape.length && info.shape.every((d, k) => d === seg.shape[k]);
    if (!same) return { kind: 'cpu', reason: `${via}an XOR delta without a matching reference tensor` };
    return { kind: 'xor-delta', seg, stream };
  }
  if (t.code === TRANSFORM_ZERO_FLAGS) return zeroFlagsRoute(seg, via, maxBinding);
  if (t.code === TRANSFORM_QUANT_SCALE) return quantScaleRoute(seg, via, maxBinding);
  if (t.code === TRANSFORM_INT_PREDICT) return intPredictRoute(seg, via, maxBinding);
  return { kind: 'cpu', reason: `${via}stored with transform '${transformByCode(t.code)?.name ?? t.code}', which has no GPU inverse` };
}

/**
 * The route of the ZERO_FLAGS segment `seg`: on the GPU when its record is one the inverse accepts as far as the index
 * tells (no params, two streams, whole values, ⌈n / 8⌉ flag bytes, at least one value), its streams are ones the decode
 * kernel decodes, and its flags fit a storage binding; otherwise on the CPU, which reports a record it rejects
 * after decoding the streams, as FORMAT.md §3.5 orders those checks. The checks that need the decoded flags run on the
 * GPU (zero-flags-pass.ts).
 */
function zeroFlagsRoute(seg: SegmentRecord, via: string, maxBinding: number): GpuRoute {
  const t = seg.transform!;
  const W = dtypeBytes(seg.dtype) ?? 1;
  const n = seg.originalBytes / W;
  if (t.params.length !== 0 || !Number.isInteger(n) || n === 0 || t.streams.length !== 2 || t.streams[0].originalBytes !== Math.ceil(n / 8)) {
    return { kind: 'cpu', reason: `${via}an empty zero-flags tensor, or one whose record its inverse rejects` };
  }
  const flags = streamSegment(seg, 0);
  const values = streamSegment(seg, 1);
  const huffman = cpuOnlyReason(flags) ?? cpuOnlyReason(values);
  if (huffman) return { kind: 'cpu', reason: `${via}a zero-flags tensor whose streams have ${huffman}` };
  // The inverse writes a tensor and reads a values stream larger than a binding in windows (zero-flags-pass.ts); the
  // flags (an eighth of the values, at most MAX_TRANSFORM_BYTES / 8) are bound whole.
  if (4 * Math.ceil(flags.originalBytes / 4) > maxBinding) {
    return { kind: 'cpu', reason: `${via}a zero-flags tensor whose flags are larger than the device's largest storage binding (${maxBinding} bytes)` };
  }
  return { kind: 'zero-flags', seg, flags, values, n, W };
}

/**
 * Why the streams of the value-transformed segment `seg` cannot go to its GPU inverse, or undefined: a stream the kernel
 * cannot decode, or the tensor, a stream or the inverse's scratch (`scratchBytes`) larger than one storage binding.
 */
function valueStreamsReason(seg: SegmentRecord, what: string, via: string, maxBinding: number, scratchBytes = 0): string | undefined {
  const streams = seg.transform!.streams.map((_, k) => streamSegment(seg, k));
  for (const st of streams) {
    const reason = cpuOnlyReason(st);
    if (reason) return `${via}${what} whose streams have ${reason}`;
  }
  if (Math.max(seg.originalBytes, scratchBytes, ...streams.map((st) => st.originalBytes)) > maxBinding) {
    return `${via}${what} larger than the device's largest storage binding (${maxBinding} bytes)`;
  }
  return undefined;
}

/** Bytes per value of the dtypes QUANT_SCALE applies to (FORMAT.md §3.5.3.1). */
const QUANT_SCALE_WIDTHS: Readonly<Record<string, number>> = { BF16: 2, F16: 2, F32: 4 };

/**
 * The route of the QUANT_SCALE segment `seg`: on the GPU when its record passes every check of the CPU inverse that
 * the index alone decides (dtype, params, group size, stream count, the codes' and scales' sizes) and its streams and
 * tensor fit the kernels; otherwise on the CPU, which reports a record it rejects after decoding the streams, as
 * FORMAT.md §3.5 orders those checks. The checks that need the decoded streams (the exceptions' size against the
 * escaped codes, finite scales) run on the GPU (quant-scale-pass.ts).
 */
function quantScaleRoute(seg: SegmentRecord, via: string, maxBinding: number): GpuRoute {
  const t = seg.transform!;
  const W = QUANT_SCALE_WIDTHS[seg.dtype];
  const p = t.params;
  const G = p.length === 8 ? new DataView(p.buffer, p.byteOffset, 8).getUint32(4, true) : 0;
  const n = W ? seg.originalBytes / W : 0;
  const accepted = W !== undefined && p.length === 8 && p[0] === 0 && p[1] === 0 && p[2] === 0 && p[3] === 0 && Number.isInteger(n) && G > 0 && n % G === 0 && t.streams.length === 3 && t.streams[0].originalBytes === n && t.streams[1].originalBytes === (n / G) * 4;
  if (!accepted) return { kind: 'cpu', reason: `${via}a q-scale tensor whose record its inverse rejects` };
  const reason = valueStreamsReason(seg, 'a q-scale tensor', via, maxBinding);
  if (reason) return { kind: 'cpu', reason };
  return { kind: 'quant-scale', seg, streams: t.streams.map((_, k) => streamSegment(seg, k)), n, W, G };
}

/** Width and signedness of the dtypes INT_PREDICT applies to (FORMAT.md §3.5.3.3). */
const INT_PREDICT_DTYPES: Readonly<Record<string, { W: 1 | 2 | 4; signed: boolean }>> = {
  I8: { W: 1, signed: true },
  U8: { W: 1, signed: false },
  I16: { W: 2, signed: true },
  U16: { W: 2, signed: false },
  I32: { W: 4, signed: true },
  U32: { W: 4, signed: false },
};

/**
 * The route of the INT_PREDICT segment `seg`: on the GPU when its record passes every check of the CPU inverse that the
 * index alone decides (dtype, params, tile size, the matrix's columns, stream count, the predictors' and residuals'
 * sizes), its streams, tensor and the inverse's scratch of a u32 per value fit a binding; otherwise on the CPU, which
 * reports a record it rejects after decoding the streams (§3.5). The check of the predictors' values runs on the GPU
 * (int-predict-pass.ts).
 */
function intPredictRoute(seg: SegmentRecord, via: string, maxBinding: number): GpuRoute {
  const t = seg.transform!;
  const d = INT_PREDICT_DTYPES[seg.dtype];
  const p = t.params;
  const view = p.length === 8 ? new DataView(p.buffer, p.byteOffset, 8) : undefined;
  const tileRows = view?.getUint32(0, true) ?? 0;
  const tileCols = view?.getUint32(4, true) ?? 0;
  const n = d ? seg.originalBytes / d.W : 0;
  const cols = seg.shape.length >= 2 ? seg.shape[seg.shape.length - 1] : n;
  const shaped = Number.isInteger(n) && (n === 0 || (cols > 0 && n % cols === 0));
  const rows = n === 0 ? 0 : n / cols;
  const accepted = d !== undefined && view !== undefined && tileRows > 0 && tileCols > 0 && shaped && t.streams.length === 2 && t.streams[0].originalBytes === Math.ceil(rows / tileRows) * Math.ceil(cols / tileCols) && t.streams[1].originalBytes === seg.originalBytes;
  if (!accepted) return { kind: 'cpu', reason: `${via}an int-predict tensor whose record its inverse rejects` };
  const reason = valueStreamsReason(seg, 'an int-predict tensor', via, maxBinding, 4 * n);
  if (reason) return { kind: 'cpu', reason };
  return { kind: 'int-predict', seg, streams: t.streams.map((_, k) => streamSegment(seg, k)), rows, cols, tileRows, tileCols, W: d.W, signed: d.signed };
}
