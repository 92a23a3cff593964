// Which segments the lean decode kernel takes (decode-lean.wgsl, lean-step.wgsl; FORMAT.md §4.2, §5.3, §6) and its
// table: one packed 32-bit entry per slot. Pure: no GPU calls.

import { isHuffman } from '../entropy/chunk-codec.js';
import { RANS_LANES } from '../format/constants.js';
import type { SegmentRecord } from '../pipeline/index-codec.js';
import { planeBits } from '../transform/planes.js';
import type { LeanSpec } from './kernels.js';

/**
 * The lean kernel's constants for `seg`, or undefined where it does not fit that kernel: values of 2 or 4 bytes in
 * 32 lanes; plane 0 a coded head plane of at most two ranges whose packed slot entries fit 32 bits and whose table
 * fits the workgroup; plane 1 a raw head plane of 1 to 8 bits in at most two ranges; then W - 2 raw byte planes;
 * every chunk but the last a whole number of output words (so no two chunks share an output word).
 */
export function leanSpecOf(seg: SegmentRecord, tableWords: number): LeanSpec | undefined {
  const { layout, tables, lanes } = seg.coding;
  const W = layout.valueBytes;
  const [coded, raw, ...bytePlanes] = layout.planes;
  const t = tables[0];
  if ((W !== 2 && W !== 4) || lanes !== RANS_LANES || layout.planes.length !== W) return undefined;
  if (!t || isHuffman(t) || coded.kind !== 'head' || coded.ranges.length > 2) return undefined;
  if (tables.slice(1).some((x) => x !== undefined) || raw.kind !== 'head' || raw.ranges.length > 2) return undefined;
  if (bytePlanes.some((p) => p.kind !== 'byte')) return undefined;
  if ((seg.chunkValues * W) % 4 !== 0) return undefined;
  const pb = t.probBits;
  const sb = planeBits(coded);
  const rb = planeBits(raw);
  if ((1 << pb) > tableWords || rb < 1 || rb > 8 || sb < 1 || sb > 12) return undefined;
  const fb = Math.min(pb, (32 - sb) >> 1);
  const limit = 2 ** fb;
  const freqs = t.freqs;
  for (let v = 0; v < freqs.length; v++) if (freqs[v] > limit) return undefined;
  const ranges = (p: typeof coded): [number, number, number, number] => {
    const [r1, r2] = (p as { ranges: { lo: number; width: number }[] }).ranges;
    return [r1.lo, r1.width, r2?.lo ?? 0, r2?.width ?? 0];
  };
  return { pb, sb, fb, coded: ranges(coded), rawBits: rb, raw: ranges(raw), bytes: bytePlanes.map((p) => (p as { byteIndex: number }).byteIndex) };
}

/** The lean kernel's table: per slot, symbol | (freq - 1) << sb | (slot - cum) << (sb + fb) (FORMAT.md §5.3). */
export function leanImage(t: { probBits: number; freqs: ArrayLike<number>; cum: ArrayLike<number> }, spec: LeanSpec): Uint32Array {
  const out = new Uint32Array(1 << t.probBits);
  const { freqs, cum } = t;
  const biasShift = spec.sb + spec.fb;
  // Symbol v owns slots cum[v] .. cum[v] + freqs[v] - 1 (FORMAT.md §5.3), the slots of the symbols in order.
  for (let v = 0; v < freqs.length; v++) {
    const f = freqs[v];
    if (f === 0) continue;
    const base = v | ((f - 1) << spec.sb);
    const c = cum[v];
    for (let k = 0; k < f; k++) out[c + k] = (base | (k << biasShift)) >>> 0;
  }
  return out;
}
