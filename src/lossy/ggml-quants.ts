// llama.cpp's block quantizations Q8_0, Q4_0 and Q4_K as their reference quantizers (ggml-quants.c,
// quantize_row_*_ref) define them, as lossy variants of a weight matrix: each returns the values a GGUF reader would
// rebuild (binary32), for comparison with wcodec's quantizers at the block layouts' nominal bits per weight.
// Blocks run along a row; a row's length must be a multiple of the block.

import { f16FromF32Bits, f32BitsOf, f32FromF16Bits } from '../transform/float-narrow.js';
import { roundHalfEven } from './reference-quantizers.js';

const fr = Math.fround;

/** Values per Q8_0 / Q4_0 block. */
export const QK8_0 = 32;
export const QK4_0 = 32;
/** Values per Q4_K super-block (8 sub-blocks of 32). */
export const QK_K = 256;
/** Storage of each layout in bits per weight: codes plus the block's F16 scales (Q4_K: 12 bytes of 6-bit scales and mins). */
export const GGML_BITS_PER_WEIGHT = { q8_0: (2 + 32) * 8 / 32, q4_0: (2 + 16) * 8 / 32, q4_k: (2 + 2 + 12 + 128) * 8 / 256 } as const;

/** `x` rounded to binary16 and back (round to nearest even), as ggml stores a block's scale. */
export function roundToF16(x: number): number {
  return f32FromF16Bits(f16FromF32Bits(f32BitsOf(x)));
}

/** C's roundf: to nearest, ties away from zero. */
function roundAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function checkBlocks(values: Float32Array, rows: number, cols: number, block: number): void {
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0 || rows * cols !== values.length) {
    throw new RangeError(`a ${rows} x ${cols} matrix needs ${rows * cols} values, not ${values.length}`);
  }
  if (cols % block !== 0) throw new RangeError(`rows of ${cols} values are not a multiple of the ${block}-value block`);
}

/**
 * Q8_0: per block of 32, d = absmax / 127 (F16), code = roundf(x / d') with d' the unrounded d, value = code · F16(d).
 * @param values rows x cols, row-major, cols a multiple of 32
 * @returns a new array of the rebuilt values
 * @throws RangeError for a bad shape
 */
export function quantizeQ8_0(values: Float32Array, rows: number, cols: number): Float32Array {
  checkBlocks(values, rows, cols, QK8_0);
  const out = new Float32Array(values.length);
  for (let b = 0; b < values.length; b += QK8_0) {
    let amax = 0;
    for (let i = b; i < b + QK8_0; i++) amax = Math.max(amax, Math.abs(values[i]));
    const d = fr(amax / 127);
    const id = d ? fr(1 / d) : 0;
    const dh = roundToF16(d);
    for (let i = b; i < b + QK8_0; i++) out[i] = fr(roundAway(fr(values[i] * id)) * dh);
  }
  return out;
}

/**
 * Q4_0: per block of 32, m = the value of largest magnitude (sign kept), d = m / −8 (F16), code = min(15,
 * trunc(x / d' + 8.5)) in 0 … 15, value = (code − 8) · F16(d).
 * @throws RangeError for a bad shape (cols a multiple of 32)
 */
export function quantizeQ4_0(values: Float32Array, rows: number, cols: number): Float32Array {
  checkBlocks(values, rows, cols, QK4_0);
  const out = new Float32Array(values.length);
  for (let b = 0; b < values.length; b += QK4_0) {
    let amax = 0;
    let max = 0;
    for (let i = b; i < b + QK4_0; i++) {
      if (Math.abs(values[i]) > amax) {
        amax = Math.abs(values[i]);
        max = values[i];
      }
    }
    const d = fr(max / -8);
    const id = d ? fr(1 / d) : 0;
    const dh = roundToF16(d);
    for (let i = b; i < b + QK4_0; i++) {
      const q = Math.min(15, Math.trunc(fr(fr(values[i] * id) + 8.5)));
      out[i] = fr((q - 8) * dh);
    }
  }
  return out;
}

/**
 * make_qkx2_quants of ggml: codes 0 … nmax for x ≈ scale · L − min, with min ≥ 0, minimizing the weighted squared
 * error over 21 trial inverse scales (nmax − 1 … nmax + 1 over the range) refined by weighted least squares.
 * @returns scale and min (the offset subtracted, ≥ 0)
 */
function makeQkx2Quants(x: Float32Array, w: Float64Array, nmax: number, L: Uint8Array): { scale: number; min: number } {
  const n = x.length;
  const Laux = new Uint8Array(n);
  let min = x[0];
  let max = x[0];
  let sumW = 0;
  let sumX = 0;
  for (let i = 0; i < n; i++) {
    min = Math.min(min, x[i]);
    max = Math.max(max, x[i]);
    sumW = fr(sumW + w[i]);
    sumX = fr(sumX + fr(w[i] * x[i]));
  }
  if (min > 0) min = 0;
  if (max === min) {
    L.fill(0);
    return { scale: 0, min: -min };
  }
  let iscale = fr(nmax / fr(max - min));
  let scale = fr(1 / iscale);
  let best = 0;
  for (let i = 0; i < n; i++) {
    const l = Math.max(0, Math.min(nmax, roundHalfEven(fr(iscale * fr(x[i] - min)))));
    L[i] = l;
    const diff = fr(fr(fr(scale * l) + min) - x[i]);
    best = fr(best + fr(w[i] * fr(diff * diff)));
  }
  const rmin = -1;
  const rdelta = 0.1;
  const nstep = 20;
  for (let is = 0; is <= nstep; is++) {
    iscale = fr(fr(fr(rmin + fr(rdelta * is)) + nmax) / fr(max - min));
    let sumL = 0;
    let sumL2 = 0;
    let sumXL = 0;
    for (let i = 0; i < n; i++) {
      const l = Math.max(0, Math.min(nmax, roundHalfEven(fr(iscale * fr(x[i] - min)))));
      Laux[i] = l;
      sumL = fr(sumL + fr(w[i] * l));
      sumL2 = fr(sumL2 + fr(fr(w[i] * l) * l));
      sumXL = fr(sumXL + fr(fr(w[i] * l) * x[i]));
    }
    const D = fr(fr(sumW * sumL2) - fr(sumL * sumL));
    if (D > 0) {
      let thisScale = fr(fr(fr(sumW * sumXL) - fr(sumX * sumL)) / D);
      let thisMin = fr(fr(fr(sumL2 * sumX) - fr(sumL * sumXL)) / D);
      if (thisMin > 0) {
        thisMin = 0;
        thisScale = fr(sumXL / sumL2);
      }
      let mad = 0;
      for (let i = 0; i < n; i++) {
        const diff = fr(fr(fr(thisScale * Laux[i]) + thisMin) - x[i]);
        mad = fr(mad + fr(w[i] * fr(diff * diff)));
      }
      if (mad < best) {
        L.set(Laux);
        best = mad;
        scale = thisScale;
        min = thisMin;
      }
    }
  }
  return { scale, min: -min };
}

/**
 * Q4_K: per super-block of 256, eight sub-blocks of 32 each get a scale and a min (makeQkx2Quants, weights av + |x|),
 * quantized to 6 bits against F16 super-block factors d = max scale / 63 and dmin = max min / 63; codes 0 … 15
 * recomputed under the rounded scales; value = d · sc · code − dmin · m.
 * @throws RangeError for a bad shape (cols a multiple of 256)
 */
export function quantizeQ4_K(values: Float32Array, rows: number, cols: number): Float32Array {
  checkBlocks(values, rows, cols, QK_K);
  const out = new Float32Array(values.length);
  const L = new Uint8Array(32);
  const w = new Float64Array(32);
  const scales = new Float32Array(8);
  const mins = new Float32Array(8);
  for (let b = 0; b < values.length; b += QK_K) {
    let maxScale = 0;
    let maxMin = 0;
    for (let j = 0; j < 8; j++) {
      const x = values.subarray(b + 32 * j, b + 32 * j + 32);
      let sumX2 = 0;
      for (let l = 0; l < 32; l++) sumX2 = fr(sumX2 + fr(x[l] * x[l]));
      const av = fr(Math.sqrt(fr(sumX2 / 32)));
      for (let l = 0; l < 32; l++) w[l] = fr(av + Math.abs(x[l]));
      const r = makeQkx2Quants(x, w, 15, L);
      scales[j] = r.scale;
      mins[j] = r.min;
      maxScale = Math.max(maxScale, scales[j]);
      maxMin = Math.max(maxMin, mins[j]);
    }
    const invScale = maxScale > 0 ? fr(63 / maxScale) : 0;
    const invMin = maxMin > 0 ? fr(63 / maxMin) : 0;
    const d = roundToF16(fr(maxScale / 63));
    const dmin = roundToF16(fr(maxMin / 63));
    for (let j = 0; j < 8; j++) {
      const ls = Math.min(63, roundHalfEven(fr(invScale * scales[j])));
      const lm = Math.min(63, roundHalfEven(fr(invMin * mins[j])));
      const dj = fr(d * ls);
      const dm = fr(dmin * lm);
      for (let l = 0; l < 32; l++) {
        const i = b + 32 * j + l;
        const q = dj ? Math.max(0, Math.min(15, roundHalfEven(fr(fr(values[i] + dm) / dj)))) : 0;
        out[i] = fr(fr(dj * q) - dm);
      }
    }
  }
  return out;
}
