// Mixed precision for `--lossy bits=B+mixed`: each matrix's sensitivity is the loss increase on windows of the
// calibration text with that matrix alone quantized (uniformly, at SENSITIVITY_BITS), and allocateBits turns the
// sensitivities into bits per tensor within MIXED_SPREAD_BITS of the budget (a narrow band: a loss increase measured on
// a few windows is noisy, and a wide band lets that noise starve a tensor).

import { allocateBits, type TensorSensitivity } from '../lossy/bit-allocation.js';
import { codeBudget } from '../lossy/presets.js';
import { quantizeUniform } from '../lossy/quantize-uniform.js';
import { dequantizeGroups } from '../transform/group-quant.js';
import { llamaTensorShapes } from './llama-config.js';
import type { LlamaWeights } from './load-llama.js';
import { DEFAULT_WINDOW_BYTES, evaluatePerplexity } from './perplexity.js';

/** Bits per weight each matrix is probed at. */
export const SENSITIVITY_BITS = 3;
/** Windows of the calibration text each probe is scored on. */
export const SENSITIVITY_WINDOWS = 4;
/** A tensor's bits stay within budget − 1 … budget + 2 (the allocation's band). */
export const MIXED_SPREAD_BITS = { below: 1, above: 2 };

/**
 * The sensitivity of every 2-D tensor of `weights`: the loss increase (nats per byte) on the first `windows` windows of
 * `text` (512 bytes, or the model's max_position_embeddings if fewer) with that tensor alone quantized uniformly at
 * `bits` bits per weight.
 * @param threads evaluation threads
 * @throws as evaluatePerplexity (a text shorter than one window, say)
 */
export async function measureSensitivities(weights: LlamaWeights, text: Uint8Array, threads = 1, bits = SENSITIVITY_BITS, windows = SENSITIVITY_WINDOWS): Promise<TensorSensitivity[]> {
  const shapes = llamaTensorShapes(weights.config);
  // Windows of the harness's length, shortened to the model's max_position_embeddings where that is smaller.
  const windowBytes = Math.min(DEFAULT_WINDOW_BYTES, weights.config.maxPositions ?? DEFAULT_WINDOW_BYTES);
  const at = async (tensors: Map<string, Float32Array>): Promise<number> => (await evaluatePerplexity({ config: weights.config, tensors }, text, { threads, maxWindows: windows, windowBytes })).natsPerByte;
  const base = await at(weights.tensors);
  const out: TensorSensitivity[] = [];
  for (const [name, values] of weights.tensors) {
    const shape = shapes.get(name);
    if (!shape || shape.length !== 2) continue;
    const [rows, cols] = shape;
    const q = quantizeUniform(values, rows, cols, { bitsPerValue: codeBudget(bits, cols) });
    const tensors = new Map(weights.tensors);
    tensors.set(name, new Float32Array(dequantizeGroups(q, 'F32').buffer));
    out.push({ name, weights: values.length, sensitivity: (await at(tensors)) - base });
  }
  return out;
}

/**
 * Bits per tensor for a budget of `bitsPerWeight` from measured sensitivities: allocateBits within MIXED_SPREAD_BITS of
 * the budget (and within 1 … 16).
 * @throws RangeError as allocateBits
 */
export function mixedBits(sensitivities: readonly TensorSensitivity[], bitsPerWeight: number): Map<string, number> {
  return allocateBits(sensitivities, bitsPerWeight, { minBits: Math.max(1, bitsPerWeight - MIXED_SPREAD_BITS.below), maxBits: Math.min(16, bitsPerWeight + MIXED_SPREAD_BITS.above) });
}
