// Entropy-constrained uniform quantization of a weight matrix: one step for the whole tensor (mid-tread: code =
// round-half-even(value / step)), stored as the scale of every group, and the step found by a search so that the codes'
// entropy meets a bit budget. Once codes are entropy coded the step alone sets the rate, and at a given rate one step
// for all values gives the least squared error, whatever each group's range.

import { MAX_GROUP_QUANT_CODE, groupsPerRow, type QuantizedMatrix } from '../transform/group-quant.js';
import { roundHalfEven } from './reference-quantizers.js';
import { codeBits } from './code-bits.js';

const fr = Math.fround;

/** Bisection rounds of the step search: the bracket is narrowed to 2^-40 of its log2 width, below binary32's step. */
const STEP_SEARCH_ROUNDS = 40;

/** Checks a rows x cols matrix and a group size 1 … cols. @throws RangeError */
export function checkMatrixShape(values: Float32Array, rows: number, cols: number, groupSize: number): void {
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 1 || cols < 1 || rows * cols !== values.length) {
    throw new RangeError(`a ${rows} x ${cols} matrix needs ${rows * cols} values, not ${values.length}`);
  }
  if (!Number.isSafeInteger(groupSize) || groupSize < 1 || groupSize > cols) throw new RangeError(`group size ${groupSize} outside 1 … ${cols}`);
}

/** The code of `v` under `step` (binary32 quotient, ties to even), clamped to ±MAX_GROUP_QUANT_CODE. */
export function codeOf(v: number, step: number): number {
  const q = roundHalfEven(fr(v / step));
  return q > MAX_GROUP_QUANT_CODE ? MAX_GROUP_QUANT_CODE : q < -MAX_GROUP_QUANT_CODE ? -MAX_GROUP_QUANT_CODE : q;
}

/**
 * Quantizes `values` (rows x cols, row-major) with one step: every code is codeOf(value, step), every scale the step.
 * @param step a positive finite binary32 step (rounded with Math.fround)
 * @param groupSize values per group along a row (default cols: one scale per row)
 * @returns the quantized matrix
 * @throws RangeError for a bad shape, group size or step
 */
export function quantizeWithStep(values: Float32Array, rows: number, cols: number, step: number, groupSize = cols): QuantizedMatrix {
  checkMatrixShape(values, rows, cols, groupSize);
  const s = fr(step);
  if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`step ${step} is not a positive finite binary32`);
  const codes = new Int16Array(values.length);
  for (let i = 0; i < values.length; i++) codes[i] = codeOf(values[i], s);
  const scales = new Float32Array(rows * groupsPerRow(cols, groupSize)).fill(s);
  return { rows, cols, groupSize, codes, scales };
}

/** Largest |v| of `values` (NaN refused). @throws RangeError for a NaN or infinite value */
export function absMaxOf(values: Float32Array): number {
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const a = Math.abs(values[i]);
    if (!Number.isFinite(a)) throw new RangeError(`value ${values[i]} at ${i} is not finite`);
    if (a > m) m = a;
  }
  return m;
}

/** Entropy in bits per value of the codes of `values` under `step`. */
function bitsPerValueAt(values: Float32Array, step: number, codes: Int16Array): number {
  const s = fr(step);
  for (let i = 0; i < values.length; i++) codes[i] = codeOf(values[i], s);
  return codeBits(codes) / values.length;
}

/**
 * The smallest step (binary32) whose codes have an order-0 entropy (codeBits) of at most `bitsPerValue` per value,
 * found by bisection on log2(step) between absmax / MAX_GROUP_QUANT_CODE (the finest step without clamping) and
 * 2·absmax (every code 0). Entropy falls as the step grows (up to small ripples, which the bisection may land beside).
 * @param values the values (any length ≥ 1, finite)
 * @param bitsPerValue the budget, ≥ 0
 * @returns the step; for an all-zero input, 1
 * @throws RangeError for a negative or non-finite budget or a non-finite value
 */
export function searchStep(values: Float32Array, bitsPerValue: number): number {
  if (!(bitsPerValue >= 0) || !Number.isFinite(bitsPerValue)) throw new RangeError(`bit budget ${bitsPerValue} is not a finite number ≥ 0`);
  const amax = absMaxOf(values);
  if (amax === 0) return 1;
  const codes = new Int16Array(values.length);
  let lo = Math.log2(amax / MAX_GROUP_QUANT_CODE);
  let hi = Math.log2(2 * amax);
  if (bitsPerValueAt(values, 2 ** lo, codes) <= bitsPerValue) return fr(2 ** lo);
  // Invariant: the entropy at 2^lo exceeds the budget, the one at 2^hi (every code 0) meets it.
  for (let k = 0; k < STEP_SEARCH_ROUNDS; k++) {
    const mid = (lo + hi) / 2;
    if (bitsPerValueAt(values, 2 ** mid, codes) <= bitsPerValue) hi = mid;
    else lo = mid;
  }
  return fr(2 ** hi);
}

/** Options of quantizeUniform. */
export interface UniformOptions {
  /** Budget of the codes, in bits per value (their order-0 entropy, codeBits). */
  bitsPerValue: number;
  /** Values per group along a row (default cols); every group gets the same step. */
  groupSize?: number;
}

/**
 * Entropy-constrained uniform quantization: the step of searchStep for the budget, then quantizeWithStep.
 * @param values rows x cols, row-major
 * @returns codes and scales that dequantizeGroups rebuilds
 * @throws RangeError for a bad shape, group size, budget or a non-finite value
 */
export function quantizeUniform(values: Float32Array, rows: number, cols: number, options: UniformOptions): QuantizedMatrix {
  const groupSize = options.groupSize ?? cols;
  checkMatrixShape(values, rows, cols, groupSize);
  return quantizeWithStep(values, rows, cols, searchStep(values, options.bitsPerValue), groupSize);
}
