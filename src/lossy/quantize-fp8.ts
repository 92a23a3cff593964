// FP8 quantization of a weight matrix (FORMAT.md §3.5.3.5, FP8 levels, version 7): one binary32 scale for the whole
// tensor, stored in every row (or one per row), scale = absmax / the kind's largest level, and each value the FP8
// pattern nearest to value / scale; with a calibration Hessian the patterns are chosen by GPTQ's column loop instead of
// independently. A pruning mask makes pruned values +0 (pattern 0x00).

import { fp8CodeOf, fp8Levels, fp8MaxLevel, LEVELS_E4M3, type GroupLevels } from '../transform/fp8-levels.js';
import type { QuantizedMatrix } from '../transform/group-quant.js';
import { gptqGridCodes, type CodeGrid } from './quantize-gptq.js';
import { absMaxOf, checkMatrixShape } from './quantize-uniform.js';

const fr = Math.fround;

/** Options of quantizeFp8. */
export interface Fp8Options {
  /** LEVELS_E4M3 (default) or LEVELS_E5M2. */
  levels?: GroupLevels;
  /**
   * One scale for the tensor (default) or one per row. On llama-tiny the tensor's scale gives the lower perplexity and
   * the smaller container (its scales stream is one value repeated), though a slightly larger weight error.
   */
  scale?: 'row' | 'tensor';
  /** rows · cols flags, 1 = pruned (pattern 0x00). */
  mask?: Uint8Array;
  /** XᵀX of the layer's inputs (cols x cols): GPTQ picks the patterns. */
  hessian?: Float64Array;
}

/**
 * Per row, the binary32 scale absmax / max level (of the row, or of the tensor when `scale` is 'tensor'); a row (or
 * tensor) of zeros gets scale 1, so that every value / scale is finite.
 */
function fp8Scales(values: Float32Array, rows: number, cols: number, levels: GroupLevels, scale: 'row' | 'tensor'): Float32Array {
  const top = fp8MaxLevel(levels);
  const scales = new Float32Array(rows);
  const whole = scale === 'tensor' ? absMaxOf(values) : 0;
  for (let r = 0; r < rows; r++) {
    const amax = scale === 'tensor' ? whole : absMaxOf(values.subarray(r * cols, (r + 1) * cols));
    scales[r] = amax > 0 ? fr(amax / top) : 1;
    // A subnormal-range quotient can round the scale to 0 for tiny rows: keep the smallest positive binary32 then.
    if (scales[r] === 0) scales[r] = 2 ** -149;
  }
  return scales;
}

/**
 * The matrix `values` (rows x cols, row-major, finite) as FP8 codes and a scale in every row: code = fp8CodeOf(fround(v /
 * scale)) — or GPTQ's choice with a Hessian — so that dequantizeGroups rebuilds fround(level × scale).
 * @returns a QuantizedMatrix with FP8 levels and groupSize cols (sparsity not stated: the caller states 2:4 when its mask is)
 * @throws RangeError for a bad shape, a non-finite value, a mask or Hessian of the wrong size
 */
export function quantizeFp8(values: Float32Array, rows: number, cols: number, options: Fp8Options = {}): QuantizedMatrix {
  checkMatrixShape(values, rows, cols, cols);
  const levels = options.levels ?? LEVELS_E4M3;
  const mask = options.mask;
  if (mask && mask.length !== values.length) throw new RangeError(`a mask of ${mask.length} flags for ${values.length} values`);
  const scales = fp8Scales(values, rows, cols, levels, options.scale ?? 'tensor');
  const table = fp8Levels(levels);
  const grid: CodeGrid = {
    codeOf: (v, r) => fp8CodeOf(fr(v / scales[r]), levels),
    valueOf: (q, r) => fr(table[q] * scales[r]),
    zeroCode: 0,
  };
  let codes: Int16Array;
  if (options.hessian) codes = gptqGridCodes(values, rows, cols, options.hessian, grid, mask);
  else {
    codes = new Int16Array(values.length);
    for (let r = 0; r < rows; r++) {
      for (let i = r * cols; i < (r + 1) * cols; i++) codes[i] = mask && mask[i] ? 0 : grid.codeOf(values[i], r);
    }
  }
  return { rows, cols, groupSize: cols, codes, scales, levels };
}
