// Symmetric round-to-nearest group quantization (the quantizer behind `compress --lossy`, FORMAT.md §3.5.3.5): each
// group of values along a row gets scale = absmax / L in binary32, and each value the code round-half-even(v / scale)
// clamped to ±L. Pure: typed arrays in, a QuantizedMatrix out.

import { groupsPerRow, type QuantizedMatrix } from '../transform/group-quant.js';
import { roundHalfEven } from './reference-quantizers.js';

/** A named round-to-nearest setting: the largest code magnitude L and the values per group along a row. */
export interface RoundToNearestPreset {
  /** The name `--lossy` takes and the label every lossy segment stores. */
  name: string;
  /** Largest code magnitude: 127 for 8-bit codes, 7 for 4-bit codes. */
  maxCode: number;
  /** Values per group along a row (a shorter row is one group). */
  groupSize: number;
}

/** The presets, by name: q8 (8-bit codes, groups of 128), q4 (4-bit codes, groups of 32). */
export const LOSSY_PRESETS: readonly RoundToNearestPreset[] = [
  { name: 'q8', maxCode: 127, groupSize: 128 },
  { name: 'q4', maxCode: 7, groupSize: 32 },
];

/** The preset called `name`, or undefined when there is none (the CLI lists LOSSY_PRESETS then). */
export function lossyPreset(name: string): RoundToNearestPreset | undefined {
  return LOSSY_PRESETS.find((p) => p.name === name);
}

const fr = Math.fround;

/**
 * The matrix `values` (rows × cols, row-major, finite binary32 values) quantized with `preset`: group size
 * min(preset.groupSize, cols); per group, scale = fround(absmax / L) and code = round-half-even(fround(v / scale))
 * clamped to ±L (a group of zeros has scale 0 and codes 0).
 * @throws RangeError when values.length is not rows · cols or cols < 1
 */
export function quantizeRoundToNearest(values: Float32Array, rows: number, cols: number, preset: RoundToNearestPreset): QuantizedMatrix {
  if (!Number.isSafeInteger(cols) || cols < 1 || !Number.isSafeInteger(rows) || rows < 0 || values.length !== rows * cols) {
    throw new RangeError(`${values.length} values for a ${rows} x ${cols} matrix`);
  }
  const L = preset.maxCode;
  const groupSize = Math.min(preset.groupSize, cols);
  const G = groupsPerRow(cols, groupSize);
  const codes = new Int16Array(rows * cols);
  const scales = new Float32Array(rows * G);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < G; g++) {
      const from = r * cols + g * groupSize;
      const to = r * cols + Math.min(cols, (g + 1) * groupSize);
      let absMax = 0;
      for (let i = from; i < to; i++) absMax = Math.max(absMax, Math.abs(values[i]));
      const scale = fr(absMax / L);
      scales[r * G + g] = scale;
      if (scale === 0) continue; // codes stay 0
      for (let i = from; i < to; i++) codes[i] = Math.max(-L, Math.min(L, roundHalfEven(fr(values[i] / scale))));
    }
  }
  return { rows, cols, groupSize, codes, scales };
}

/**
 * The `lossy` encoder option of `preset`: every tensor offered (BF16/F16/F32, rank >= 2) quantized with
 * quantizeRoundToNearest over rows of its last dimension, labelled with the preset's name.
 */
export function roundToNearestQuantizer(preset: RoundToNearestPreset): { label: string; quantize(name: string, dtype: string, shape: number[], values: Float32Array): QuantizedMatrix } {
  return {
    label: preset.name,
    quantize: (_name, _dtype, shape, values) => {
      const cols = shape[shape.length - 1];
      return quantizeRoundToNearest(values, values.length / cols, cols, preset);
    },
  };
}
