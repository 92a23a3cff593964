// Quantized values held in wide floats (FORMAT.md §3.5.3.1, transform QUANT_SCALE): a BF16/F16/F32 tensor whose values
// are integer codes times a scale per group (INT8 per row, INT4 per group of 128, ... dequantized as q x scale in
// binary32, then rounded to the tensor's dtype) is stored as its codes (I8), one binary32 scale per group, and the
// original values of the elements that do not reconstruct bit-exactly (escaped). The inverse recomputes every value.

import { FormatError } from '../errors.js';
import { bf16FromF32Bits, f16FromF32Bits, f32BitsOf, f32FromBits, f32FromF16Bits } from './float-narrow.js';
import type { SegmentTransform, TransformCandidate } from './segment-transform.js';

/** Transform code of QUANT_SCALE (FORMAT.md §3.5.3.1). */
export const TRANSFORM_QUANT_SCALE = 3;
/** The code that marks an escaped element: its original value is the next one of the exceptions stream. */
export const QUANT_ESCAPE = -128;
/** Largest code magnitude: codes are -127..127, so -128 is free for the escape. */
const MAX_CODE = 127;
/** Bytes of the params record: u8 version (0), 3 reserved zero bytes, u32 groupValues. */
const PARAM_BYTES = 8;
/** Hypotheses for the code of a group's smallest non-zero magnitude (1 in almost every real group). */
const MAX_FIRST_CODE = 8;
/** Anchors tried: the smallest distinct magnitudes, in case the smallest ones are outliers (subnormals, noise). */
const MAX_ANCHOR = 3;
/** Codes tried for a group's largest magnitude when no small anchor fits: INT8, INT4, INT5, INT6 absmax. */
const TOP_CODES = [127, 7, 15, 31];
/** Values after which a group size whose sample is mostly escaped is given up. */
const PROBE_VALUES = 128;
/** Spans (rows, or the largest group size) of a tensor on which the group size is chosen before the whole tensor is transformed. */
const SAMPLE_ROWS = 16;
/** Group sizes tried besides the whole row (when they divide it): those of real quantizers, and powers of two for
 *  rows longer than MAX_GROUP_VALUES (a per-tensor scale is found as equal scales of such groups). */
const GROUP_CANDIDATES = [65536, 16384, 4096, 1024, 256, 128, 64, 32];
/** Largest group the encoder uses: bounds its per-group scratch (a 1-D tensor's "row" is the whole tensor). */
const MAX_GROUP_VALUES = 65536;
/** Largest positive finite binary32, as bits: the top of the scale search. */
const MAX_F32_BITS = 0x7f7fffff;

/** How one dtype's values relate to binary32: width, finiteness, narrowing and widening of magnitudes. */
interface WideFloat {
  bytes: 2 | 4;
  signBit: number;
  /** Magnitude bits at and above which a value is infinite or NaN. */
  infBits: number;
  /** The dtype bits of a binary32 value's bits (sign included). */
  narrow: (b32: number) => number;
  /** The value of a (positive) magnitude's bits. */
  widen: (bits: number) => number;
}

/** f32FromF16Bits of every positive binary16 magnitude, built on first use: the scale search widens magnitudes often. */
let f16Values: Float64Array | undefined;
function f16ValueTable(): Float64Array {
  const t = new Float64Array(0x8000);
  for (let h = 0; h < 0x8000; h++) t[h] = f32FromF16Bits(h);
  return t;
}

const WIDE_FLOATS: Readonly<Record<string, WideFloat>> = {
  BF16: { bytes: 2, signBit: 0x8000, infBits: 0x7f80, narrow: bf16FromF32Bits, widen: (h) => f32FromBits(h << 16) },
  F16: { bytes: 2, signBit: 0x8000, infBits: 0x7c00, narrow: f16FromF32Bits, widen: (h) => (f16Values ??= f16ValueTable())[h] },
  F32: { bytes: 4, signBit: 0x80000000, infBits: 0x7f800000, narrow: (b) => b, widen: f32FromBits },
};

/** The dtype magnitude bits of fround(q x scale) for q > 0 and the scale given by its binary32 bits. */
function product(f: WideFloat, q: number, sBits: number): number {
  return f.narrow(f32BitsOf(Math.fround(q * f32FromBits(sBits))));
}

/**
 * The scales (as binary32 bits in [lo, hi]) for which code q reproduces magnitude m: an interval, since the product
 * is monotone in the scale. Sets feasibleLo / feasibleHi (no allocation: this runs thousands of times per tensor).
 * @returns whether the interval is non-empty
 */
function feasible(f: WideFloat, m: number, q: number, lo: number, hi: number): boolean {
  if (product(f, q, lo) > m || product(f, q, hi) < m) return false;
  // Both ends lie near the bits of m / q: brackets grown from there by doubling steps hold them in a few products
  // (the whole [lo, hi] is 2^31 scales wide); the binary searches then find the same scales as over [lo, hi].
  const g = Math.min(hi, Math.max(lo, f32BitsOf(Math.fround(f.widen(m) / q))));
  let a = lo;
  let b = hi; // smallest s with product >= m lies in [a, b]
  if (product(f, q, g) >= m) {
    b = g;
    for (let step = 1; g - step > lo; step *= 2) {
      if (product(f, q, g - step) < m) {
        a = g - step + 1;
        break;
      }
      b = g - step;
    }
  } else {
    a = g + 1;
    for (let step = 1; g + step < hi; step *= 2) {
      if (product(f, q, g + step) >= m) {
        b = g + step;
        break;
      }
      a = g + step + 1;
    }
  }
  while (a < b) {
    const mid = a + Math.floor((b - a) / 2);
    if (product(f, q, mid) >= m) b = mid;
    else a = mid + 1;
  }
  const L = a;
  a = lo;
  b = hi; // largest s with product <= m lies in [a, b]
  if (product(f, q, g) <= m) {
    a = g;
    for (let step = 1; g + step < hi; step *= 2) {
      if (product(f, q, g + step) > m) {
        b = g + step - 1;
        break;
      }
      a = g + step;
    }
  } else {
    b = g - 1;
    for (let step = 1; g - step > lo; step *= 2) {
      if (product(f, q, g - step) <= m) {
        a = g - step;
        break;
      }
      b = g - step - 1;
    }
  }
  while (a < b) {
    const mid = a + Math.ceil((b - a) / 2);
    if (product(f, q, mid) <= m) a = mid;
    else b = mid - 1;
  }
  feasibleLo = L;
  feasibleHi = a;
  return L <= a;
}
/** The interval found by the last successful feasible(). */
let feasibleLo = 0;
let feasibleHi = 0;

/** The binary32 bits in [lo, hi] with the most trailing zero bits (the shortest scale: cheaper to code). */
function shortestIn(lo: number, hi: number): number {
  for (let t = 30; t > 0; t--) {
    const mask = 2 ** t - 1;
    const c = Math.ceil(lo / (mask + 1)) * (mask + 1);
    if (c <= hi) return c;
  }
  return lo;
}

/** Distinct magnitudes past which an anchor's gaps are not looked at (the smallest gaps come first). */
const GAP_WINDOW = 16;

/**
 * Codes to try for the anchor magnitude mags[a]: first its ratio to the smallest gap between the magnitudes just
 * above it (the scale, when two consecutive codes occur), then 1, 2, ... MAX_FIRST_CODE.
 */
function anchorCodes(f: WideFloat, mags: Uint32Array, count: number, a: number): number[] {
  let gap = Infinity;
  for (let j = a + 1; j < Math.min(count, a + GAP_WINDOW); j++) gap = Math.min(gap, f.widen(mags[j]) - f.widen(mags[j - 1]));
  const guess = Math.round(f.widen(mags[a]) / gap);
  const out = guess >= 1 && guess <= MAX_CODE ? [guess] : [];
  for (let h = 1; h <= MAX_FIRST_CODE; h++) if (h !== guess) out.push(h);
  return out;
}

/**
 * A scale for one group, from its sorted distinct non-zero finite magnitudes: an anchor magnitude (the smallest, or
 * the next ones when the smallest is an outlier) is taken as code h, then each larger magnitude narrows the interval
 * of scales that reproduce every magnitude so far. Hypotheses stop at the first that reproduces every magnitude, or
 * when a quarter of the magnitudes are off the grid (the group is then escaped).
 * @returns the scale's binary32 bits (0 when nothing fits)
 */
function groupScale(f: WideFloat, mags: Uint32Array, count: number): number {
  let best = { sBits: 0, bad: Math.floor(count / 4) + 1 };
  const tryAnchor = (m: number, h: number, from: number, to: number, bad0: number): boolean => {
    if (!feasible(f, m, h, 1, MAX_F32_BITS)) return false;
    const r = narrowScale(f, mags, from, to, feasibleLo, feasibleHi, bad0, best.bad);
    if (r.bad < best.bad) best = { sBits: shortestIn(r.lo, r.hi), bad: r.bad };
    return r.bad === 0;
  };
  for (let a = 0; a < Math.min(MAX_ANCHOR, count) && best.bad > a; a++) {
    for (const h of anchorCodes(f, mags, count, a)) if (tryAnchor(mags[a], h, a + 1, count, a)) return best.sBits;
  }
  // The largest magnitude as the quantizer's largest code (absmax scaling), for groups whose codes are all large.
  for (const h of TOP_CODES) if (count > 1 && tryAnchor(mags[count - 1], h, 0, count - 1, 0)) return best.sBits;
  return best.sBits;
}

/** Codes tried by mayBeOnGrid for a group's largest magnitude: the INT8 and INT4 absmax codes. */
const QUICK_TOP_CODES = [127, 7];

/**
 * Whether a group of G values starting at one of `starts` could be on a grid: it has no non-zero finite magnitude,
 * or one of few hypotheses (each of the MAX_ANCHOR smallest magnitudes as its gap guess or code 1, the largest as
 * code 127 or 7) fits three quarters of its magnitudes. The hypotheses real quantizers leave (code 1 occurs in any
 * group of more than a few weights; absmax scaling) are among them, so this declines float weights at a few percent
 * of groupScale's work.
 */
function mayBeOnGrid(f: WideFloat, data: Uint8Array, starts: number[], G: number): boolean {
  for (const from of starts) {
    const sorted = distinctMagnitudes(f, data, from, G);
    const u = sorted.length;
    if (u === 0) return true;
    const limit = Math.floor(u / 4) + 1;
    const fits = (m: number, h: number, from: number, to: number, bad0: number): boolean => feasible(f, m, h, 1, MAX_F32_BITS) && narrowScale(f, sorted, from, to, feasibleLo, feasibleHi, bad0, limit).bad < limit;
    for (let a = 0; a < Math.min(MAX_ANCHOR, u); a++) {
      const guess = anchorCodes(f, sorted, u, a)[0];
      if (fits(sorted[a], guess, a + 1, u, a) || (guess !== 1 && fits(sorted[a], 1, a + 1, u, a))) return true;
    }
    for (const h of QUICK_TOP_CODES) if (u > 1 && fits(sorted[u - 1], h, 0, u - 1, 0)) return true;
  }
  return false;
}

/**
 * Narrows the scale interval [lo, hi] (binary32 bits) by the magnitudes mags[from..to): each whose code is clear
 * from the interval shrinks it to the scales that reproduce it; those no code reproduces count as bad.
 * Stops once `limit` are bad.
 */
function narrowScale(f: WideFloat, mags: Uint32Array, from: number, to: number, lo: number, hi: number, bad: number, limit: number): { lo: number; hi: number; bad: number } {
  for (let j = from; j < to && bad < limit; j++) {
    const m = mags[j];
    const mv = f.widen(m);
    // Fast path: the code from the interval's middle reproduces m over the whole interval.
    const q0 = Math.round(mv / f32FromBits(lo + Math.floor((hi - lo) / 2)));
    if (q0 >= 1 && q0 <= MAX_CODE && product(f, q0, lo) === m && product(f, q0, hi) === m) continue;
    const qa = Math.max(1, Math.floor(mv / f32FromBits(hi)) - 1);
    const qb = Math.min(MAX_CODE, Math.ceil(mv / f32FromBits(lo)) + 1);
    if (qb - qa > 6) continue; // too wide to tell the code yet: the final check decides
    let found = 0;
    let nextLo = lo;
    let nextHi = hi;
    for (let q = qa; q <= qb; q++) {
      if (feasible(f, m, q, lo, hi)) {
        found++;
        nextLo = feasibleLo;
        nextHi = feasibleHi;
      }
    }
    if (found === 1) {
      lo = nextLo;
      hi = nextHi;
    } else if (found === 0) bad++;
  }
  return { lo, hi, bad };
}

/** Reads value i's bits (little-endian) of width W. */
function readBits(data: Uint8Array, i: number, W: number): number {
  const p = i * W;
  return W === 2 ? data[p] | (data[p + 1] << 8) : (data[p] | (data[p + 1] << 8) | (data[p + 2] << 16) | (data[p + 3] << 24)) >>> 0;
}

/** Scratch for one group's magnitudes and their codes (grown as needed). */
let magScratch = new Uint32Array(1024);
let codeScratch = new Int8Array(1024);
/** Per 15-bit magnitude, the last group that saw it (2-byte dtypes): distinct magnitudes without sorting them all. */
const seenStamp = new Uint32Array(1 << 15);
/** Per 15-bit magnitude, its code in the current group (2-byte dtypes). */
const codeOfMag = new Int8Array(1 << 15);
let stampNow = 0;

/**
 * The distinct non-zero finite magnitudes of values [from, from + G), ascending: a view of scratch memory, valid until
 * the next call.
 */
function distinctMagnitudes(f: WideFloat, data: Uint8Array, from: number, G: number): Uint32Array {
  if (magScratch.length < G) magScratch = new Uint32Array(G);
  const mags = magScratch;
  let k = 0;
  if (f.bytes === 2) {
    // 15-bit magnitudes: a stamp per magnitude keeps each once, so only the distinct ones (few) are sorted.
    const stamp = ++stampNow;
    for (let i = 0; i < G; i++) {
      const m = readBits(data, from + i, 2) & 0x7fff;
      if (m !== 0 && m < f.infBits && seenStamp[m] !== stamp) {
        seenStamp[m] = stamp;
        mags[k++] = m;
      }
    }
  } else {
    for (let i = 0; i < G; i++) {
      const m = readBits(data, from + i, f.bytes) & ~f.signBit;
      if (m !== 0 && m < f.infBits) mags[k++] = m;
    }
  }
  const sorted = mags.subarray(0, k).sort();
  let u = 0;
  for (let j = 0; j < k; j++) if (j === 0 || sorted[j] !== sorted[u - 1]) sorted[u++] = sorted[j];
  return sorted.subarray(0, u);
}

/**
 * Codes of the values [from, from + G) with one scale: writes codes into `codes` (QUANT_ESCAPE where a value does
 * not reconstruct exactly) and returns the scale's bits and the number of escapes.
 */
function codeGroup(f: WideFloat, data: Uint8Array, from: number, G: number, codes: Int8Array): { sBits: number; escapes: number } {
  const sorted = distinctMagnitudes(f, data, from, G);
  const u = sorted.length;
  const sBits = groupScale(f, sorted, u);
  const s = f32FromBits(sBits);
  // The code of each distinct magnitude (0 where none reproduces it), then each value's by binary search.
  if (codeScratch.length < G) codeScratch = new Int8Array(G);
  const magCodes = codeScratch;
  for (let j = 0; j < u; j++) {
    const m = sorted[j];
    const q = Math.round(f.widen(m) / s);
    // The nearest code almost always; its neighbours where the dtype's rounding moved the value across a half step.
    let c = q;
    if (!(c >= 1 && c <= MAX_CODE && product(f, c, sBits) === m)) c = q - 1;
    if (!(c >= 1 && c <= MAX_CODE && product(f, c, sBits) === m)) c = q + 1;
    magCodes[j] = s > 0 && c >= 1 && c <= MAX_CODE && product(f, c, sBits) === m ? c : 0;
    if (f.bytes === 2) codeOfMag[m] = magCodes[j]; // every magnitude of this group is set here before it is read
  }
  let escapes = 0;
  for (let i = 0; i < G; i++) {
    const v = readBits(data, from + i, f.bytes);
    const m = v & ~f.signBit;
    let code = QUANT_ESCAPE;
    if (m === 0) {
      if (v === 0) code = 0; // +0 = 0 x s for s >= 0; -0 is escaped
    } else if (m < f.infBits && f.bytes === 2) {
      const c = codeOfMag[m];
      if (c !== 0) code = v & f.signBit ? -c : c;
    } else if (m < f.infBits) {
      let a = 0;
      let b = u - 1;
      while (a < b) {
        const mid = (a + b) >>> 1;
        if (sorted[mid] < m) a = mid + 1;
        else b = mid;
      }
      const c = magCodes[a];
      if (c !== 0) code = v & f.signBit ? -c : c;
    }
    if (code === QUANT_ESCAPE) escapes++;
    codes[i] = code;
  }
  return { sBits, escapes };
}

/** Order-0 entropy in bits of a histogram. */
function entropyBits(counts: Float64Array): number {
  let n = 0;
  for (const c of counts) n += c;
  let h = 0;
  for (const c of counts) if (c > 0) h -= c * Math.log2(c / n);
  return h;
}

/**
 * The group size that stores a tensor's sampled rows in the fewest estimated bits (codes at their entropy, 32 bits a
 * scale, escapes at their full width), or undefined when the values are not on a grid: more than a quarter of the
 * non-zero values escaped, or when no group size's estimate is below the values' own bits. The smallest group is tried first: any grid of a larger group is also one of its parts,
 * so data that fails there is declined without trying the others (the search costs most where nothing fits).
 */
function chooseGroup(f: WideFloat, data: Uint8Array, n: number, rowLen: number): number | undefined {
  // Group sizes: the row (up to MAX_GROUP_VALUES) and the candidates that divide it, largest first. Each divides the
  // largest, the span that the sample is drawn in.
  const sizes = [...(rowLen <= MAX_GROUP_VALUES ? [rowLen] : []), ...GROUP_CANDIDATES.filter((g) => g < rowLen && rowLen % g === 0)];
  if (sizes.length === 0) return undefined;
  const span = sizes[0];
  const spans = n / span;
  const picks = Array.from({ length: Math.min(spans, SAMPLE_ROWS) }, (_, k) => Math.floor((k * spans) / Math.min(spans, SAMPLE_ROWS)));
  const codes = new Int8Array(span);
  const offGrid = (escapes: number, coded: number): boolean => escapes * 4 > escapes + coded;
  sizes.reverse();
  // Most tensors are not on a grid: a few likely hypotheses on two groups decline them before the full search.
  if (!mayBeOnGrid(f, data, [picks[0] * span, picks[picks.length >> 1] * span], sizes[0])) return undefined;
  let best: { G: number; bits: number } | undefined;
  for (const G of sizes) {
    const hist = new Float64Array(256);
    let escapes = 0;
    let groups = 0;
    let values = 0;
    sample: for (const r of picks) {
      for (let at = 0; at < span; at += G) {
        const part = codes.subarray(at, at + G);
        escapes += codeGroup(f, data, r * span + at, G, part).escapes;
        for (const c of part) hist[c + 128]++;
        groups++;
        values += G;
        // Off-grid data is given up on after a few groups.
        if (values >= PROBE_VALUES && offGrid(escapes, values - escapes - hist[128])) break sample;
      }
    }
    if (offGrid(escapes, values - escapes - hist[128])) {
      if (G === sizes[0]) return undefined;
      continue;
    }
    const bits = entropyBits(hist) + groups * 32 + escapes * 8 * f.bytes;
    // A grid that costs as many bits as the values themselves is no structure (a scale per one or two values): the
    // full transform would only re-encode the values, at the price of coding every group.
    if (bits >= values * 8 * f.bytes) continue;
    if (!best || bits < best.bits) best = { G, bits };
  }
  return best?.G;
}

/** Writes `value`'s bytes (little-endian, width W) at value index i. */
function writeBits(out: Uint8Array, i: number, W: number, value: number): void {
  const p = i * W;
  out[p] = value & 0xff;
  out[p + 1] = (value >>> 8) & 0xff;
  if (W === 4) {
    out[p + 2] = (value >>> 16) & 0xff;
    out[p + 3] = value >>> 24;
  }
}

/**
 * QUANT_SCALE: forward finds the group size and each group's scale, then the codes; inverse recomputes each value as
 * the dtype's rounding of fround(code x scale) (FORMAT.md §3.5.3.1).
 */
export const quantScaleTransform: SegmentTransform = {
  code: TRANSFORM_QUANT_SCALE,
  name: 'q-scale',

  forward(data: Uint8Array, dtype: string, shape: readonly number[]): TransformCandidate | undefined {
    const f = WIDE_FLOATS[dtype];
    if (!f || data.length % f.bytes !== 0) return undefined;
    const n = data.length / f.bytes;
    const rowLen = shape.length >= 2 ? shape[shape.length - 1] : n;
    if (n === 0 || rowLen === 0 || n % rowLen !== 0) return undefined;
    const G = chooseGroup(f, data, n, rowLen);
    if (G === undefined) return undefined;
    const groups = n / G;
    const codes = new Int8Array(n);
    const scales = new Uint8Array(groups * 4);
    const sv = new DataView(scales.buffer);
    let escapes = 0;
    for (let g = 0; g < groups; g++) {
      const r = codeGroup(f, data, g * G, G, codes.subarray(g * G, (g + 1) * G));
      sv.setUint32(g * 4, r.sBits, true);
      escapes += r.escapes;
    }
    const exceptions = new Uint8Array(escapes * f.bytes);
    for (let i = 0, e = 0; i < n; i++) {
      if (codes[i] === QUANT_ESCAPE) exceptions.set(data.subarray(i * f.bytes, (i + 1) * f.bytes), f.bytes * e++);
    }
    const params = new Uint8Array(PARAM_BYTES);
    new DataView(params.buffer).setUint32(4, G, true);
    return {
      code: TRANSFORM_QUANT_SCALE,
      params,
      streams: [
        { bytes: new Uint8Array(codes.buffer), dtype: 'I8', valueBytes: 1 },
        { bytes: scales, dtype: 'F32', valueBytes: 4 },
        { bytes: exceptions, dtype, valueBytes: f.bytes },
      ],
    };
  },

  inverse(params, streams, dtype, _shape, out, where): void {
    const bad = (problem: string): FormatError => new FormatError('CORRUPT_TRANSFORM', `q-scale: ${problem}`, { file: where.file, offset: where.offset });
    const f = WIDE_FLOATS[dtype];
    if (!f) throw bad(`dtype ${dtype} is not BF16, F16 or F32`);
    if (params.length !== PARAM_BYTES) throw bad(`params are ${params.length} bytes, not ${PARAM_BYTES}`);
    if (params[0] !== 0 || params[1] !== 0 || params[2] !== 0 || params[3] !== 0) throw bad('params version or reserved bytes are not zero');
    const G = new DataView(params.buffer, params.byteOffset, params.byteLength).getUint32(4, true);
    if (out.length % f.bytes !== 0) throw bad(`${out.length} bytes are not whole ${dtype} values`);
    const n = out.length / f.bytes;
    if (G === 0 || n % G !== 0) throw bad(`group of ${G} values does not divide ${n} values`);
    if (streams.length !== 3) throw bad(`${streams.length} streams, not 3`);
    const [codeBytes, scales, exceptions] = streams;
    if (codeBytes.length !== n) throw bad(`${codeBytes.length} codes for ${n} values`);
    if (scales.length !== (n / G) * 4) throw bad(`${scales.length} scale bytes for ${n / G} groups`);
    const codes = new Int8Array(codeBytes.buffer, codeBytes.byteOffset, codeBytes.length);
    let escapes = 0;
    for (let i = 0; i < n; i++) if (codes[i] === QUANT_ESCAPE) escapes++;
    if (exceptions.length !== escapes * f.bytes) throw bad(`${exceptions.length} exception bytes for ${escapes} escaped values`);
    const sv = new DataView(scales.buffer, scales.byteOffset, scales.length);
    const W = f.bytes;
    // Each code's value is computed once per group (codes repeat: at most 255 distinct, INT4 16).
    const valueOf = new Float64Array(256);
    const stampOf = new Float64Array(256);
    let e = 0;
    for (let g = 0, i = 0; g < n / G; g++) {
      const sBits = sv.getUint32(g * 4, true);
      if ((sBits & 0x7fffffff) >= 0x7f800000) throw bad(`scale ${g} is not finite`);
      const s = f32FromBits(sBits);
      const stamp = g + 1;
      for (const end = i + G; i < end; i++) {
        const c = codes[i];
        if (c === QUANT_ESCAPE) {
          for (let k = 0; k < W; k++) out[i * W + k] = exceptions[e * W + k];
          e++;
          continue;
        }
        if (stampOf[c + 128] !== stamp) {
          stampOf[c + 128] = stamp;
          valueOf[c + 128] = f.narrow(f32BitsOf(Math.fround(c * s)));
        }
        writeBits(out, i, W, valueOf[c + 128]);
      }
    }
  },
};
