// GPTQ (Frantar et al., 2023) with the entropy-constrained uniform quantizer of quantize-uniform.ts: the columns of a
// linear layer's weight are quantized one at a time, and each column's error is spread over the columns not yet
// quantized through the inverse of H = XᵀX (X: the layer's inputs on calibration text), so the layer's output error
// ‖(W − Ŵ)X‖ rather than the weight error is what is kept small. Float64 arithmetic; the codes and the step form the
// same QuantizedMatrix as quantizeUniform. Any rounding grid fits the same loop (codeGrid: FP8 levels too), and a
// pruning mask makes the pruned weights' codes the zero level, their error spread like any other (as SparseGPT does).

import { groupsPerRow, type QuantizedMatrix } from '../transform/group-quant.js';
import { codeBits } from './code-bits.js';
import { checkMatrixShape, codeOf, searchStep } from './quantize-uniform.js';
import { applyMask } from './prune-mask.js';

const fr = Math.fround;

/** Dampening added to H's diagonal, as a fraction of its mean diagonal: keeps the Cholesky factorization defined. */
export const GPTQ_DAMPENING = 0.01;
/** Rounds of the step search of quantizeGptqBits (each one GPTQ pass), and further nudges when the last misses. */
const GPTQ_SEARCH_ROUNDS = 4;
const GPTQ_NUDGE_ROUNDS = 12;

/**
 * Adds xᵀx to `hessian` (dim x dim, row-major, symmetric): x holds `tokens` rows of `dim` inputs.
 * @throws RangeError when the sizes disagree
 */
export function accumulateHessian(hessian: Float64Array, x: Float32Array, tokens: number, dim: number): void {
  if (hessian.length !== dim * dim || x.length < tokens * dim) throw new RangeError(`a ${dim} x ${dim} Hessian and ${tokens} x ${dim} inputs, given ${hessian.length} and ${x.length} values`);
  const row = new Float64Array(dim);
  for (let t = 0; t < tokens; t++) {
    for (let a = 0; a < dim; a++) row[a] = x[t * dim + a];
    for (let a = 0; a < dim; a++) {
      const xa = row[a];
      if (xa === 0) continue;
      const base = a * dim;
      for (let b = a; b < dim; b++) hessian[base + b] += xa * row[b];
    }
  }
  // Only the upper triangle was summed; mirror it (idempotent, so accumulating more tokens later stays correct).
  for (let a = 0; a < dim; a++) for (let b = a + 1; b < dim; b++) hessian[b * dim + a] = hessian[a * dim + b];
}

/** In place: the lower Cholesky factor L of the symmetric positive definite `a` (n x n), a = LLᵀ. @throws RangeError */
function choleskyLower(a: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
    if (!(d > 0)) throw new RangeError(`matrix not positive definite at column ${j}`);
    const l = Math.sqrt(d);
    a[j * n + j] = l;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = s / l;
    }
    for (let k = j + 1; k < n; k++) a[j * n + k] = 0;
  }
}

/** The upper Cholesky factor U of H⁻¹ (H⁻¹ = UᵀU), which GPTQ's column updates read row by row. */
function inverseUpperFactor(h: Float64Array, n: number): Float64Array {
  const l = Float64Array.from(h);
  choleskyLower(l, n);
  // inv(L) by forward substitution, column by column; then H⁻¹ = inv(L)ᵀ inv(L).
  const li = new Float64Array(n * n);
  for (let c = 0; c < n; c++) {
    li[c * n + c] = 1 / l[c * n + c];
    for (let i = c + 1; i < n; i++) {
      let s = 0;
      for (let k = c; k < i; k++) s += l[i * n + k] * li[k * n + c];
      li[i * n + c] = -s / l[i * n + i];
    }
  }
  const hinv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = j; k < n; k++) s += li[k * n + i] * li[k * n + j];
      hinv[i * n + j] = s;
      hinv[j * n + i] = s;
    }
  }
  choleskyLower(hinv, n);
  // U = Lᵀ of H⁻¹'s factor.
  const u = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) u[i * n + j] = hinv[j * n + i];
  return u;
}

/** Options of quantizeGptq. */
export interface GptqOptions {
  /** The quantizer's step (one for the tensor, as quantizeWithStep). */
  step: number;
  /** Values per group along a row (default cols); every group gets the step. */
  groupSize?: number;
  /** Quantize columns in order of decreasing H diagonal (default true): the most used inputs first. */
  actOrder?: boolean;
}

/** What GPTQ needs of H for one matrix, computed once for any number of steps: column order and U. */
interface GptqFactor {
  order: number[];
  u: Float64Array;
}

function prepareFactor(hessian: Float64Array, cols: number, actOrder: boolean): GptqFactor {
  if (hessian.length !== cols * cols) throw new RangeError(`a Hessian of ${hessian.length} values for ${cols} inputs`);
  const n = cols;
  const order = Array.from({ length: n }, (_, i) => i);
  if (actOrder) order.sort((a, b) => hessian[b * n + b] - hessian[a * n + a] || a - b);
  const h = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j] = hessian[order[i] * n + order[j]];
  let meanDiag = 0;
  for (let j = 0; j < n; j++) meanDiag += h[j * n + j];
  meanDiag /= n;
  for (let j = 0; j < n; j++) {
    // An input never seen in calibration: its weights cannot matter to the layer's output there; they are still
    // quantized (of themselves, without error feedback) so the tensor stays whole.
    if (h[j * n + j] === 0) h[j * n + j] = 1;
    h[j * n + j] += GPTQ_DAMPENING * (meanDiag > 0 ? meanDiag : 1);
  }
  return { order, u: inverseUpperFactor(h, n) };
}

/** How GPTQ rounds one weight of row `row`: its code, and the binary32 value that code is rebuilt as. */
export interface CodeGrid {
  codeOf(v: number, row: number): number;
  valueOf(code: number, row: number): number;
  /** The code of the zero level (a pruned weight's). */
  zeroCode: number;
}

/**
 * GPTQ's column loop under any grid: the codes (rows x cols, row-major) of `values`, each column's rounding error
 * spread over the columns after it; a weight whose `mask` flag is 1 gets grid.zeroCode and its whole value as error.
 */
function gptqCodes(values: Float32Array, rows: number, cols: number, f: GptqFactor, grid: CodeGrid, mask: Uint8Array | undefined): Int16Array {
  const { order, u } = f;
  const n = cols;
  const w = new Float64Array(rows * n);
  for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) w[r * n + j] = values[r * cols + order[j]];
  const codes = new Int16Array(rows * cols);
  for (let i = 0; i < n; i++) {
    const d = u[i * n + i];
    const col = order[i];
    const ur = i * n;
    for (let r = 0; r < rows; r++) {
      const wr = r * n;
      const wi = w[wr + i];
      const q = mask && mask[r * cols + col] ? grid.zeroCode : grid.codeOf(wi, r);
      codes[r * cols + col] = q;
      const err = (wi - grid.valueOf(q, r)) / d;
      if (err === 0) continue;
      for (let j = i + 1; j < n; j++) w[wr + j] -= err * u[ur + j];
    }
  }
  return codes;
}

function gptqWithFactor(values: Float32Array, rows: number, cols: number, f: GptqFactor, step: number, groupSize: number, mask?: Uint8Array): QuantizedMatrix {
  const s = fr(step);
  if (!(s > 0) || !Number.isFinite(s)) throw new RangeError(`step ${step} is not a positive finite binary32`);
  const grid: CodeGrid = { codeOf: (v) => codeOf(v, s), valueOf: (q) => fr(q * s), zeroCode: 0 };
  const codes = gptqCodes(values, rows, cols, f, grid, mask);
  return { rows, cols, groupSize, codes, scales: new Float32Array(rows * groupsPerRow(cols, groupSize)).fill(s) };
}

/**
 * GPTQ's codes of a weight matrix under any grid (FP8 levels, say), with an optional pruning mask.
 * @param hessian cols x cols, XᵀX of the layer's inputs
 * @param mask rows · cols flags, 1 = pruned (code grid.zeroCode)
 * @returns rows · cols codes
 * @throws RangeError for bad shapes or a Hessian that is not positive semi-definite
 */
export function gptqGridCodes(values: Float32Array, rows: number, cols: number, hessian: Float64Array, grid: CodeGrid, mask?: Uint8Array, actOrder = true): Int16Array {
  checkMatrixShape(values, rows, cols, cols);
  if (mask && mask.length !== values.length) throw new RangeError(`a mask of ${mask.length} flags for ${values.length} values`);
  return gptqCodes(values, rows, cols, prepareFactor(hessian, cols, actOrder), grid, mask);
}

/** The diagonal of a cols x cols Hessian: per input, the sum of its squares over the calibration text. */
export function inputEnergyOf(hessian: Float64Array, cols: number): Float64Array {
  if (hessian.length !== cols * cols) throw new RangeError(`a Hessian of ${hessian.length} values for ${cols} inputs`);
  const d = new Float64Array(cols);
  for (let j = 0; j < cols; j++) d[j] = hessian[j * cols + j];
  return d;
}

/**
 * GPTQ of a weight matrix under one step.
 * @param values rows x cols (rows = output features, cols = input features), row-major
 * @param hessian cols x cols, XᵀX of the layer's inputs (any positive multiple), symmetric
 * @returns the quantized matrix (codes within ±32767, every scale the step)
 * @throws RangeError for bad shapes, a bad step or a Hessian that is not positive semi-definite
 */
export function quantizeGptq(values: Float32Array, rows: number, cols: number, hessian: Float64Array, options: GptqOptions): QuantizedMatrix {
  const groupSize = options.groupSize ?? cols;
  checkMatrixShape(values, rows, cols, groupSize);
  return gptqWithFactor(values, rows, cols, prepareFactor(hessian, cols, options.actOrder ?? true), options.step, groupSize);
}

/** Options of quantizeGptqBits. */
export interface GptqBitsOptions {
  /** Budget of the codes in bits per value (their order-0 entropy, codeBits). */
  bitsPerValue: number;
  groupSize?: number;
  actOrder?: boolean;
  /** rows · cols flags, 1 = pruned: those codes are 0, their error spread over the later columns. */
  mask?: Uint8Array;
}

/**
 * GPTQ whose codes meet a bit budget: starting from the step of searchStep for the weights themselves, a few secant
 * steps on log2(step) (the codes' entropy falls by about one bit per doubling of the step), then small increases of
 * the step until the budget holds.
 * @returns the quantized matrix whose codes have at most `bitsPerValue` bits per value
 * @throws RangeError as quantizeGptq, or for a bad budget
 */
export function quantizeGptqBits(values: Float32Array, rows: number, cols: number, hessian: Float64Array, options: GptqBitsOptions): QuantizedMatrix {
  const target = options.bitsPerValue;
  const groupSize = options.groupSize ?? cols;
  checkMatrixShape(values, rows, cols, groupSize);
  const factor = prepareFactor(hessian, cols, options.actOrder ?? true);
  const mask = options.mask;
  if (mask && mask.length !== values.length) throw new RangeError(`a mask of ${mask.length} flags for ${values.length} values`);
  let log = Math.log2(searchStep(applyMask(values, mask), target));
  let best: QuantizedMatrix | undefined;
  let bestLog = Infinity;
  const tryAt = (lg: number): number => {
    const q = gptqWithFactor(values, rows, cols, factor, 2 ** lg, groupSize, mask);
    const bits = codeBits(q.codes) / values.length;
    if (bits <= target && lg < bestLog) {
      best = q;
      bestLog = lg;
    }
    return bits;
  };
  for (let k = 0; k < GPTQ_SEARCH_ROUNDS; k++) {
    const bits = tryAt(log);
    if (Math.abs(bits - target) < 0.002) break;
    log += bits - target;
  }
  for (let k = 0; k < GPTQ_NUDGE_ROUNDS && best === undefined; k++) {
    log += 0.02 * (k + 1);
    tryAt(log);
  }
  if (best === undefined) throw new RangeError(`no step found whose GPTQ codes meet ${target} bits per value`);
  return best;
}
