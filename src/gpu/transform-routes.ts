// How decodeToGPU decodes each tensor (FORMAT.md §3.5): a plain segment and a DUPLICATE (as the segment it repeats)
// with the decode kernel straight into the tensor's place; an XOR_DELTA as its stream, decoded by the kernel, XORed on
// the GPU into the reference tensor's bytes; a ZERO_FLAGS as its two streams, decoded by the kernel, put together by
// the GPU inverse (zero-flags-pass.ts); the rest on the CPU, uploaded, with the reason. Pure: no GPU calls.

import type { ContainerIndex, SegmentRecord } from '../pipeline/index-codec.js';
import type { TensorReference } from '../format/tensor-reference.js';
import { TRANSFORM_DUPLICATE, TRANSFORM_XOR_DELTA, transformByCode } from '../transform/transform-registry.js';
import { TRANSFORM_ZERO_FLAGS } from '../transform/zero-flags.js';
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
 * @param maxBinding the device's largest storage binding, in bytes: a ZERO_FLAGS tensor or stream larger than one
 *   binding decodes on the CPU (the GPU inverse binds each whole)
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
  return { kind: 'cpu', reason: `${via}stored with transform '${transformByCode(t.code)?.name ?? t.code}', which has no GPU inverse` };
}

/**
 * The route of the ZERO_FLAGS segment `seg`: on the GPU when its record is one the inverse accepts as far as the index
 * tells (no params, two streams, whole values, ⌈n / 8⌉ flag bytes, at least one value), both streams are rANS-coded or
 * raw, and the tensor and streams each fit a storage binding; otherwise on the CPU, which reports a record it rejects
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
  if (Math.max(seg.originalBytes, flags.originalBytes, values.originalBytes) > maxBinding) {
    return { kind: 'cpu', reason: `${via}a zero-flags tensor larger than the device's largest storage binding (${maxBinding} bytes)` };
  }
  return { kind: 'zero-flags', seg, flags, values, n, W };
}
