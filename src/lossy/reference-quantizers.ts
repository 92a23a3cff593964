// Reference lossy variants of a 2-D weight matrix: round-to-nearest integer quantization (int8 per row, int4 in groups
// of 128), FP8 E4M3 per tensor and magnitude pruning. Each returns the values the model then uses (dequantized and
// rounded to bfloat16), so a perplexity measured with them is the loss a format storing those codes would give. Pure:
// typed arrays in, new typed arrays out; binary32 arithmetic throughout (Math.fround after every operation).

import { bf16FromF32Bits, f32BitsOf, f32FromBits } from '../transform/float-narrow.js';

/** The variants, by the names the perplexity reference of the llama-tiny corpus gives them. */
export const LOSSY_VARIANTS = ['int8_per_row_rtn', 'int4_g128_rtn', 'fp8_e4m3_per_tensor', 'prune30_magnitude'] as const;
/** One of LOSSY_VARIANTS. */
export type LossyVariant = (typeof LOSSY_VARIANTS)[number];

/** Values per int4 group, along a row (the input dimension of a linear layer's weight). */
export const INT4_GROUP_VALUES = 128;
/** Largest finite magnitude of FP8 E4M3 (the "fn" variant: no infinities), 1.75 · 2^8. */
export const E4M3_MAX = 448;
/** Fraction of a tensor's entries that prune30_magnitude sets to zero. */
export const PRUNE_FRACTION = 0.3;

const fr = Math.fround;

/** x rounded to the nearest integer, ties to even (torch.round, IEEE roundTiesToEven). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x); // ties toward +infinity
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The binary32 value `x` rounded to bfloat16 (round to nearest even), as a number. */
export function roundToBf16(x: number): number {
  return f32FromBits(bf16FromF32Bits(f32BitsOf(x)) << 16);
}

/**
 * The binary32 value `x` rounded to FP8 E4M3 (bias 7, 3 mantissa bits, subnormals in steps of 2^-9), ties to even;
 * magnitudes that round past 448 saturate to ±448 (E4M3 has no infinity), NaN stays NaN.
 */
export function roundToE4M3(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const a = Math.abs(x);
  // Binade of a (a normal binary32 at or above 2^-6, the smallest normal E4M3): its spacing is 2^(e - 3).
  const e = a >= 2 ** -6 ? ((f32BitsOf(a) >>> 23) & 0xff) - 127 : -6;
  const step = 2 ** (e - 3);
  const q = Math.min(roundHalfEven(a / step) * step, E4M3_MAX);
  return x < 0 || Object.is(x, -0) ? -q : q;
}

/** Largest |v| of values[from, to). */
function absMax(values: Float32Array, from: number, to: number): number {
  let m = 0;
  for (let i = from; i < to; i++) m = Math.max(m, Math.abs(values[i]));
  return m;
}

/**
 * Round-to-nearest integer quantization of values[from, to) with scale = absmax / qmax (binary32): each value becomes
 * bf16(clamp(round(v / scale), lo, qmax) · scale). A block of zeros (scale 0) stays zero.
 */
function quantizeBlock(values: Float32Array, out: Float32Array, from: number, to: number, qmax: number, lo: number): void {
  const scale = fr(absMax(values, from, to) / qmax);
  for (let i = from; i < to; i++) {
    if (scale === 0) {
      out[i] = 0;
      continue;
    }
    const q = Math.min(qmax, Math.max(lo, roundHalfEven(fr(values[i] / scale))));
    out[i] = roundToBf16(fr(q * scale));
  }
}

function checkMatrix(values: Float32Array, rows: number, cols: number): void {
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 0 || rows * cols !== values.length) {
    throw new RangeError(`a ${rows} x ${cols} matrix needs ${rows * cols} values, not ${values.length}`);
  }
}

/**
 * int8_per_row_rtn: per row, scale = absmax(row) / 127, round to nearest (ties to even), clamp to [-127, 127],
 * dequantize, round to bfloat16.
 * @param values the rows x cols matrix, row-major
 * @returns a new array of the dequantized values
 * @throws RangeError when rows · cols differs from values.length
 */
export function quantizeInt8PerRow(values: Float32Array, rows: number, cols: number): Float32Array {
  checkMatrix(values, rows, cols);
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) quantizeBlock(values, out, r * cols, (r + 1) * cols, 127, -127);
  return out;
}

/**
 * int4_g128_rtn: each row in groups of 128 consecutive values (the last group of a row may be shorter), scale =
 * absmax(group) / 7, round to nearest (ties to even), clamp to [-8, 7], dequantize, round to bfloat16.
 * @returns a new array of the dequantized values
 * @throws RangeError when rows · cols differs from values.length
 */
export function quantizeInt4Groups(values: Float32Array, rows: number, cols: number): Float32Array {
  checkMatrix(values, rows, cols);
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < cols; g += INT4_GROUP_VALUES) quantizeBlock(values, out, r * cols + g, r * cols + Math.min(cols, g + INT4_GROUP_VALUES), 7, -8);
  }
  return out;
}

/**
 * fp8_e4m3_per_tensor: scale = absmax(tensor) / 448, each value v becomes bf16(e4m3(v / scale) · scale) with e4m3 the
 * round to nearest even of roundToE4M3. A tensor of zeros stays zero.
 * @returns a new array of the dequantized values
 */
export function quantizeFp8E4M3PerTensor(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  const scale = fr(absMax(values, 0, values.length) / E4M3_MAX);
  if (scale === 0) return out;
  for (let i = 0; i < values.length; i++) out[i] = roundToBf16(fr(roundToE4M3(fr(values[i] / scale)) * scale));
  return out;
}

/**
 * prune30_magnitude: with k = floor(0.3 · n), every entry whose magnitude is at most the k-th smallest magnitude
 * becomes +0, the others keep their value. Entries tied with the k-th smallest all go, so a tensor with ties at the
 * threshold loses more than k entries (torch: `w[w.abs() <= w.abs().flatten().kthvalue(k).values] = 0`). NaN entries
 * are never pruned. Linear time: the threshold is found from two 16-bit histograms of the magnitudes' binary32 bits,
 * whose order as unsigned integers is the order of the magnitudes.
 * @param fraction the fraction to prune (default 0.3), from 0 to 1
 * @returns a new array
 * @throws RangeError for a fraction outside [0, 1]
 */
export function pruneByMagnitude(values: Float32Array, fraction = PRUNE_FRACTION): Float32Array {
  if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`prune fraction ${fraction} outside [0, 1]`);
  const n = values.length;
  const k = Math.floor(fraction * n);
  const out = Float32Array.from(values);
  if (k === 0) return out;
  const bits = new Uint32Array(out.buffer.slice(0));
  for (let i = 0; i < n; i++) bits[i] &= 0x7fffffff;
  // The k-th smallest magnitude's bits, high half then low half.
  const hist = new Uint32Array(65536);
  for (let i = 0; i < n; i++) hist[bits[i] >>> 16]++;
  let below = 0;
  let hi = 0;
  while (below + hist[hi] < k) below += hist[hi++];
  hist.fill(0);
  for (let i = 0; i < n; i++) if (bits[i] >>> 16 === hi) hist[bits[i] & 0xffff]++;
  let lo = 0;
  while (below + hist[lo] < k) below += hist[lo++];
  const threshold = ((hi << 16) | lo) >>> 0;
  for (let i = 0; i < n; i++) if (bits[i] <= threshold) out[i] = 0;
  return out;
}

/**
 * Applies `variant` to a weight matrix.
 * @param values the rows x cols matrix, row-major (rows = output features, cols = input features)
 * @returns a new array of the values the model uses under the variant
 * @throws RangeError when rows · cols differs from values.length
 */
export function applyLossyVariant(variant: LossyVariant, values: Float32Array, rows: number, cols: number): Float32Array {
  checkMatrix(values, rows, cols);
  switch (variant) {
    case 'int8_per_row_rtn':
      return quantizeInt8PerRow(values, rows, cols);
    case 'int4_g128_rtn':
      return quantizeInt4Groups(values, rows, cols);
    case 'fp8_e4m3_per_tensor':
      return quantizeFp8E4M3PerTensor(values);
    case 'prune30_magnitude':
      return pruneByMagnitude(values);
  }
}
