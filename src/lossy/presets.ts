// Lossy presets by name: `q8`, `q4` and `bits=B` (B bits per weight on average over the quantized tensors, codes and
// scales together) mapped to a quantizer of each matrix-shaped tensor: entropy-constrained uniform quantization, or
// GPTQ where a calibration Hessian for the tensor is given; `fp8` and `fp8-e5m2` (FP8 codes, one scale per tensor); each
// optionally followed by `+2:4` or `+N%` (pruning, the zeros kept through GPTQ's error feedback) and, for the integer
// presets, `+mixed` or `+uniform` (bits per tensor from measured sensitivity, which the caller supplies as
// bitsOverride, or one budget for every tensor). Tensors of one dimension are left to lossless coding.

import { SPARSITY_2_4, type QuantizedMatrix } from '../transform/group-quant.js';
import { LEVELS_E4M3, LEVELS_E5M2, type GroupLevels } from '../transform/fp8-levels.js';
import { quantizeUniform } from './quantize-uniform.js';
import { inputEnergyOf, quantizeGptqBits } from './quantize-gptq.js';
import { quantizeFp8 } from './quantize-fp8.js';
import { applyMask, parsePrunePattern, pruneMask, type PrunePattern } from './prune-mask.js';

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

/** The FP8 presets and their levels. */
export const FP8_PRESETS: Readonly<Record<string, GroupLevels>> = { fp8: LEVELS_E4M3, 'fp8-e5m2': LEVELS_E5M2 };

/** A `--lossy` specification, parsed: `BASE[+PRUNE][+mixed]`. */
export interface LossySpec {
  /** The whole text (the label of its segments, with " gptq" added when calibrated). */
  text: string;
  /** The base preset: q8, q4, bits=B, fp8 or fp8-e5m2. */
  base: string;
  /** Bits per weight of an integer base; undefined for FP8. */
  bits?: number;
  /** FP8 levels of an FP8 base; undefined for an integer one. */
  levels?: GroupLevels;
  prune?: PrunePattern;
  /** `+mixed`: bits per tensor from measured sensitivity (integer bases only; needs calibration). */
  mixed: boolean;
  /** `+uniform`: one budget for every tensor, also where calibration would allow `mixed`. */
  uniform: boolean;
  /** The container version its matrices need: 7 with FP8 levels or 2:4 sparsity, else 6. */
  formatVersion: 6 | 7;
}

/**
 * Parses `BASE[+PRUNE][+mixed|+uniform]`: BASE one of q8, q4, bits=B, fp8, fp8-e5m2; PRUNE `2:4` or `N%`; `mixed` and
 * `uniform` only after an integer base, not both.
 * @throws RangeError naming the part that is not understood
 */
export function parseLossySpec(text: string): LossySpec {
  const [base, ...rest] = text.split('+');
  const levels = Object.hasOwn(FP8_PRESETS, base) ? FP8_PRESETS[base] : undefined;
  const bits = levels === undefined ? presetBits(base) : undefined;
  let prune: PrunePattern | undefined;
  let mixed = false;
  let uniform = false;
  for (const part of rest) {
    const allocation = part === 'mixed' || part === 'uniform';
    if (allocation && !mixed && !uniform && levels === undefined) {
      mixed = part === 'mixed';
      uniform = part === 'uniform';
    } else if (!allocation && prune === undefined) prune = parsePrunePattern(part);
    else throw new RangeError(`lossy preset '${text}': '+${part}' is repeated or does not apply (BASE[+2:4|+N%][+mixed|+uniform], mixed and uniform with q8, q4 or bits=B only)`);
  }
  const formatVersion = levels !== undefined || prune?.kind === '2:4' ? 7 : 6;
  return { text, base, bits, levels, prune, mixed, uniform, formatVersion };
}

/**
 * The bits per weight of an integer preset name (q8, q4, bits=B).
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
 * leading dimensions) x cols matrix with one scale per row. Integer presets hold the codes' entropy to codeBudget of
 * the preset's bits (pruned zeros included); FP8 presets have no budget. A pruned preset first picks its mask
 * (pruneMask, saliency weighted by the Hessian's diagonal where one is given) and states 2:4 sparsity for `+2:4`.
 * @param preset a spec parseLossySpec accepts
 * @param options calibration Hessians (GPTQ) and per-tensor bit overrides (for `+mixed`: without them every tensor
 *   gets the preset's bits)
 * @returns a function of (name, dtype, shape, values) giving a QuantizedMatrix, or undefined for 1-D tensors
 * @throws RangeError for an unknown preset (at once); the quantizer throws RangeError for values that are not finite
 *   or a shape that does not match the values
 */
export function quantizerFor(preset: string, options: QuantizerOptions = {}): TensorQuantizer {
  const spec = parseLossySpec(preset);
  return (name, _dtype, shape, values) => {
    if (shape.length < 2) return undefined;
    const cols = shape[shape.length - 1];
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    if (rows * cols !== values.length) throw new RangeError(`tensor '${name}' of shape [${shape.join(', ')}] has ${values.length} values`);
    if (rows === 0 || cols === 0) return undefined;
    const h = options.hessians?.get(name);
    const mask = spec.prune ? pruneMask(values, rows, cols, spec.prune, h ? inputEnergyOf(h, cols) : undefined) : undefined;
    let q: QuantizedMatrix;
    if (spec.levels !== undefined) q = quantizeFp8(values, rows, cols, { levels: spec.levels, mask, hessian: h });
    else {
      const budget = codeBudget(options.bitsOverride?.get(name) ?? spec.bits!, cols);
      q = h ? quantizeGptqBits(values, rows, cols, h, { bitsPerValue: budget, mask }) : quantizeUniform(applyMask(values, mask), rows, cols, { bitsPerValue: budget });
    }
    if (spec.prune?.kind === '2:4') q.sparsity = SPARSITY_2_4;
    return q;
  };
}
