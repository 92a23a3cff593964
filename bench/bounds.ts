// The entropy bounds the benchmark compares wcodec against: order-0 and order-1 entropy of each segment's planes.
// A "plane coder" (wcodec, ZipNN, DFloat11) cannot beat the order-0 figure without modelling context; the order-1
// figure shows what conditioning each symbol on the previous one in its plane would reach.
//
// Planes (per segment, as wcodec splits a file into segments; FORMAT.md §4.4):
//   floats   the exponent field; then sign and mantissa joined (sign on top) and cut into bytes from the top, so
//            BF16 -> e8 | s+m7; F32 -> e8 | s+m7 | m8 | m8; F16 -> e5 | s+m7 | m3; F64 -> e11 | s+m7 | m8 x5 | m5;
//            F8_E4M3 -> e4 | s+m3; F8_E5M2 -> e5 | s+m2
//   integers and BOOL: byte planes (least significant first)
//   byte ranges (safetensors headers, non-safetensors files) and unknown dtypes: one byte plane
// Frequency tables, chunk framing, checksums and the index are not counted: a bound is a floor for the coded
// symbols alone.

import { readSafetensorsLayout } from '../src/safetensors/read-layout.js';
import { MemorySource } from '../src/io/byte-source.js';
import { dtypeBytes } from '../src/transform/dtypes.js';
import type { Member } from './codecs.js';

/** Entropy bounds of an input, in bytes. */
export interface EntropyBounds {
  /** Σ over planes of n·H0/8. */
  order0Bytes: number;
  /** Σ over planes of n·H(x_i | x_(i-1))/8, the first symbol of a plane conditioned on 0. */
  order1Bytes: number;
}

/** Exponent and mantissa widths of the float dtypes. */
const FLOAT_FIELDS: Readonly<Record<string, { e: number; m: number }>> = {
  BF16: { e: 8, m: 7 },
  F16: { e: 5, m: 10 },
  F32: { e: 8, m: 23 },
  F64: { e: 11, m: 52 },
  F8_E4M3: { e: 4, m: 3 },
  F8_E5M2: { e: 5, m: 2 },
};

/** Accumulates order-0 and order-1 counts of one plane of `bits`-bit symbols. */
class PlaneStats {
  private readonly c0: Float64Array;
  private readonly c1: Uint32Array;
  private prev = 0;
  n = 0;

  constructor(private readonly bits: number) {
    this.c0 = new Float64Array(1 << bits);
    this.c1 = new Uint32Array(1 << (2 * bits));
  }

  add(s: number): void {
    this.c0[s]++;
    this.c1[(this.prev << this.bits) | s]++;
    this.prev = s;
    this.n++;
  }

  /** [order-0 bits, order-1 bits] of everything added. */
  bits01(): [number, number] {
    let h0 = 0;
    for (const c of this.c0) if (c > 0) h0 -= c * Math.log2(c / this.n);
    // H(X_i | X_(i-1)) summed over symbols: Σ_ctx Σ_s c(ctx,s)·log2(c(ctx)/c(ctx,s)).
    let h1 = 0;
    const A = 1 << this.bits;
    for (let ctx = 0; ctx < A; ctx++) {
      let total = 0;
      for (let s = 0; s < A; s++) total += this.c1[ctx * A + s];
      if (total === 0) continue;
      for (let s = 0; s < A; s++) {
        const c = this.c1[ctx * A + s];
        if (c > 0) h1 -= c * Math.log2(c / total);
      }
    }
    return [h0, h1];
  }
}

/** Order-0 and order-1 bits of a byte range as one byte plane. */
function byteRangeBits(b: Uint8Array): [number, number] {
  const p = new PlaneStats(8);
  for (let i = 0; i < b.length; i++) p.add(b[i]);
  return p.bits01();
}

/** Order-0 and order-1 bits of one tensor's planes. */
function tensorBits(dtype: string, b: Uint8Array): [number, number] {
  const W = dtypeBytes(dtype);
  if (W === undefined || b.length % W !== 0) return byteRangeBits(b);
  const n = b.length / W;
  const f = FLOAT_FIELDS[dtype];
  let planes: PlaneStats[];
  if (!f) {
    planes = Array.from({ length: W }, () => new PlaneStats(8));
    for (let i = 0; i < n; i++) for (let k = 0; k < W; k++) planes[k].add(b[i * W + k]);
  } else {
    // Sign + mantissa as one (1 + m)-bit number, cut into planes of 8 bits from the top (the last one shorter).
    const smBits = 1 + f.m;
    const widths: number[] = [];
    for (let left = smBits; left > 0; left -= 8) widths.push(Math.min(8, left));
    planes = [new PlaneStats(f.e), ...widths.map((w) => new PlaneStats(w))];
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const eMask = (1 << f.e) - 1;
    // Start bit (from the bottom of sign+mantissa) of each plane, top plane first.
    const starts: number[] = [];
    for (let p = 0, pos = smBits; p < widths.length; p++) starts.push((pos -= widths[p]));
    for (let i = 0; i < n; i++) {
      // smHi:smLo is sign·2^m + mantissa; for W ≤ 4 it fits smLo (m ≤ 23), for F64 smHi holds its bits 32 … 52.
      let smHi = 0;
      let smLo: number;
      if (W === 8) {
        const lo = dv.getUint32(i * 8, true);
        const hi = dv.getUint32(i * 8 + 4, true);
        planes[0].add((hi >>> 20) & eMask);
        smHi = ((hi >>> 31) << 20) | (hi & 0xfffff);
        smLo = lo;
      } else {
        const v = W === 4 ? dv.getUint32(i * 4, true) : W === 2 ? dv.getUint16(i * 2, true) : b[i];
        planes[0].add((v >>> f.m) & eMask);
        smLo = ((v >>> (f.m + f.e)) << f.m) | (v & ((1 << f.m) - 1));
      }
      for (let p = 0; p < widths.length; p++) {
        const pos = starts[p];
        const mask = (1 << widths[p]) - 1;
        const s = pos >= 32 ? smHi >>> (pos - 32) : pos === 0 ? smLo : (smHi << (32 - pos)) | (smLo >>> pos);
        planes[1 + p].add(s & mask);
      }
    }
  }
  let h0 = 0;
  let h1 = 0;
  for (const p of planes) {
    const [a, c] = p.bits01();
    h0 += a;
    h1 += c;
  }
  return [h0, h1];
}

/**
 * The entropy bounds of `members`: each `.safetensors` member split as wcodec splits it (header bytes, then each
 * tensor), every other member (and a `.safetensors` member that is not valid safetensors) one byte range.
 */
export async function entropyBounds(members: readonly Member[]): Promise<EntropyBounds> {
  let bits0 = 0;
  let bits1 = 0;
  for (const m of members) {
    const parts: [number, number][] = [];
    const layout = m.path.endsWith('.safetensors') ? await readSafetensorsLayout(new MemorySource(m.bytes, m.path)).catch(() => undefined) : undefined;
    if (layout) {
      parts.push(byteRangeBits(m.bytes.subarray(0, layout.headerEnd)));
      for (const t of layout.tensors) parts.push(tensorBits(t.dtype, m.bytes.subarray(t.begin, t.end)));
    } else parts.push(byteRangeBits(m.bytes)); // not safetensors, or not valid safetensors (wcodec will refuse it)
    for (const [a, c] of parts) {
      bits0 += a;
      bits1 += c;
    }
  }
  return { order0Bytes: bits0 / 8, order1Bytes: bits1 / 8 };
}
