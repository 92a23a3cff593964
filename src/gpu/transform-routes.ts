// How decodeToGPU decodes each tensor (FORMAT.md §3.5): a plain segment and a DUPLICATE (as the segment it repeats)
// with the decode kernel straight into the tensor's place; an XOR_DELTA as its stream, decoded by the kernel, XORed on
// the GPU into the reference tensor's bytes; the rest on the CPU, uploaded, with the reason. Pure: no GPU calls.

import type { ContainerIndex, SegmentRecord } from '../pipeline/index-codec.js';
import type { TensorReference } from '../format/tensor-reference.js';
import { TRANSFORM_DUPLICATE, TRANSFORM_XOR_DELTA, transformByCode } from '../transform/transform-registry.js';
import { cpuOnlyReason } from './decode-plan.js';

/** How one tensor is decoded. `seg` is the segment whose bytes the tensor's are: its own, or a DUPLICATE's target. */
export type GpuRoute =
  /** The kernel decodes `seg`'s chunks into the tensor's place. */
  | { kind: 'plain'; seg: SegmentRecord }
  /** The kernel decodes `stream` (stream 0 of the XOR_DELTA segment `seg`); the XOR pass adds the reference tensor. */
  | { kind: 'xor-delta'; seg: SegmentRecord; stream: SegmentRecord }
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
 */
export function routeOf(own: SegmentRecord, index: ContainerIndex, reference: TensorReference | undefined): GpuRoute {
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
  return { kind: 'cpu', reason: `${via}stored with transform '${transformByCode(t.code)?.name ?? t.code}', which has no GPU inverse` };
}
