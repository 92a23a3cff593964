// Lossy presets by name: `q8`, `q4` and `bits=B` (B bits per weight on average over the quantized tensors, codes and
// scales together) mapped to a quantizer of each matrix-shaped tensor: entropy-constrained uniform quantization, or
// GPTQ where a calibration Hessian for the tensor is given. Tensors of one dimension are left to lossless coding.

import type { QuantizedMatrix } from '../transform/group-quant.js';
import { quantizeUniform } from './quantize-uniform.js';
import { quantizeGptqBits } from './quantize-gptq.js';

/** Bits of one stored scale (binary32). */
export const SCALE_BITS = 32;
/** Share of container framing (chunk tables, frequency tables, index) expected above the codes' entropy. */
export const CODING_OVERHEAD = 0.005;
/** Bits per weight of the named presets. */
export const PRESET_BITS: Readonly<Record<string, number>> = { q8: 6.4, q4: 4.4 };
/** Range of B in `bits=B`: below 1 bit the codes are mostly zero; above 16 the clamp at ±32767 would bind. */
export const MIN_PRESET_BITS = 1;
export const MAX_PRESET_BITS = 16;

/** A quantizer as the container writer calls it: undefined leaves the tensor lossless. */
export type TensorQuantizer = (name: string, dtype: string, shape: readonly number[], values: Float32Array) => QuantizedMatrix | undefined;

/** Options of quantizerFor. */
export interface QuantizerOptions {
  /** Per tensor name, XᵀX of its inputs on calibration text (cols x cols): those tensors get GPTQ. */
  hessians?: ReadonlyMap<string, Float64Array>;
  /** Per tensor name, bits per weight that replace the preset's for it (mixed precision). */
  bitsOverride?: ReadonlyMap<string, number>;
}

/**
 * The bits per weight of a preset name.
 * @throws RangeError for an unknown preset or B outside MIN_PRESET_BITS … MAX_PRESET_BITS
 */
export function presetBits(preset: string): number {
  const named = PRESET_BITS[preset];
  if (named !== undefined && Object.hasOwn(PRESET_BITS, preset)) return named;
  const m = /^bits=(\d+(?:\.\d+)?)$/.exec(preset);
  if (!m) throw new RangeError(`lossy preset '${preset}' is not q8, q4 or bits=B`);
  const b = Number(m[1]);
  if (!(b >= MIN_PRESET_BITS && b <= MAX_PRESET_BITS)) throw new RangeError(`lossy preset '${preset}': ${b} bits per weight outside ${MIN_PRESET_BITS} … ${MAX_PRESET_BITS}`);
  return b;
}

/**
 * The code budget (bits per value) that gives `bitsPerWeight` once each row's scale and the coding overhead are added.
 * @param cols values per row (one scale per row)
 */
export function codeBudget(bitsPerWeight: number, cols: number): number {
  return Math.max(0, bitsPerWeight / (1 + CODING_OVERHEAD) - SCALE_BITS / cols);
}

/**
 * The quantizer of a preset. A tensor of shape [..., cols] with at least two dimensions becomes a (product of the
 * leading dimensions) x cols matrix with one scale per row, its codes' entropy held to codeBudget of the preset's bits.
 * @param preset `q8`, `q4` or `bits=B`
 * @param options calibration Hessians (GPTQ) and per-tensor bit overrides
 * @returns a function of (name, dtype, shape, values) giving a QuantizedMatrix, or undefined for 1-D tensors
 * @throws RangeError for an unknown preset (at once); the quantizer throws RangeError for values that are not finite
 *   or a shape that does not match the values
 */
export function quantizerFor(preset: string, options: QuantizerOptions = {}): TensorQuantizer {
  const bits = presetBits(preset);
  return (name, _dtype, shape, values) => {
    if (shape.length < 2) return undefined;
    const cols = shape[shape.length - 1];
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (rows * cols !== values.length) throw new RangeError(`tensor '${name}' of shape [${shape.join(', ')}] has ${values.length} values`);
    if (rows === 0 || cols === 0) return undefined;
    const budget = codeBudget(options.bitsOverride?.get(name) ?? bits, cols);
    const h = options.hessians?.get(name);
    return h ? quantizeGptqBits(values, rows, cols, h, { bitsPerValue: budget }) : quantizeUniform(values, rows, cols, { bitsPerValue: budget });
  };
}
