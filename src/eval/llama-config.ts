// The Llama model description the evaluator reads from a Hugging Face `config.json` (LlamaForCausalLM): sizes, grouped
// query attention, RMSNorm epsilon, default rotary embedding, tied or untied output, a byte-level vocabulary. Anything
// that would change the forward pass and that it does not implement is refused, never ignored.

import { FormatError } from '../errors.js';

/** The vocabulary of a byte-level model: token t is the byte value t, no other tokens. */
export const BYTE_VOCAB = 256;
/** Largest config.json read; real ones are a few kilobytes. */
export const MAX_CONFIG_BYTES = 1 << 20;
/**
 * Bound on every size of the config (hidden, intermediate, heads × head_dim, layers): a wrong or hostile config
 * must not make the evaluator allocate before the weights' own sizes are compared with it.
 */
export const MAX_MODEL_DIM = 1 << 16;

/** A Llama model as the forward pass needs it. */
export interface LlamaConfig {
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** The output projection is the embedding (no `lm_head.weight`). */
  tieWordEmbeddings: boolean;
  vocabSize: number;
  /** Longest sequence the model was configured for (`max_position_embeddings`), when given. */
  maxPositions: number | undefined;
}

function unsupported(problem: string, file: string): FormatError {
  return new FormatError('UNSUPPORTED_MODEL', problem, { file });
}

/**
 * Reads a config.json's text.
 * @param text the JSON text
 * @param file the config's path or label, for errors
 * @returns the model description
 * @throws UNSUPPORTED_MODEL for text that is not a JSON object, a model_type other than llama, architectures without
 *   LlamaForCausalLM, rope_scaling, a rope_type other than default or another rope parameter than rope_theta, a
 *   partial_rotary_factor other than 1, attention or MLP biases, an activation other
 *   than silu, a vocabulary other than 256 bytes, a quantization_config, or sizes that are missing, not positive
 *   integers, above MAX_MODEL_DIM or inconsistent (heads not a multiple of key-value heads, odd head_dim)
 */
export function parseLlamaConfig(text: string, file: string): LlamaConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new FormatError('UNSUPPORTED_MODEL', `config is not JSON: ${(e as Error).message}`, { file, cause: e });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw unsupported('config is not a JSON object', file);
  const c = json as Record<string, unknown>;
  const has = (key: string): boolean => c[key] !== undefined && c[key] !== null;

  if (c.model_type !== 'llama') throw unsupported(`model_type ${JSON.stringify(c.model_type)} is not "llama"`, file);
  if (has('architectures') && !(Array.isArray(c.architectures) && c.architectures.includes('LlamaForCausalLM'))) {
    throw unsupported(`architectures ${JSON.stringify(c.architectures)} do not include LlamaForCausalLM`, file);
  }
  if (has('rope_scaling')) throw unsupported(`rope_scaling ${JSON.stringify(c.rope_scaling)} is set (only the default rotary embedding is implemented)`, file);
  if (has('quantization_config')) throw unsupported('quantization_config is set (quantized checkpoints are not implemented)', file);
  for (const key of ['attention_bias', 'mlp_bias']) {
    if (has(key) && c[key] !== false) throw unsupported(`${key} is ${JSON.stringify(c[key])} (biases are not implemented)`, file);
  }
  if (has('hidden_act') && c.hidden_act !== 'silu') throw unsupported(`hidden_act ${JSON.stringify(c.hidden_act)} is not "silu"`, file);

  const size = (key: string, fallback?: number): number => {
    const v = has(key) ? c[key] : fallback;
    if (v === undefined) throw unsupported(`${key} is missing`, file);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_MODEL_DIM) {
      throw unsupported(`${key} ${JSON.stringify(v)} is not an integer from 1 to ${MAX_MODEL_DIM}`, file);
    }
    return v;
  };
  const hiddenSize = size('hidden_size');
  const numHeads = size('num_attention_heads');
  const numKvHeads = size('num_key_value_heads', numHeads);
  const headDim = size('head_dim', hiddenSize % numHeads === 0 ? hiddenSize / numHeads : undefined);
  const vocabSize = size('vocab_size');
  if (vocabSize !== BYTE_VOCAB) throw unsupported(`vocab_size ${vocabSize} is not ${BYTE_VOCAB} (only byte-level vocabularies: token = byte value)`, file);
  if (numHeads % numKvHeads !== 0) throw unsupported(`num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}`, file);
  if (headDim % 2 !== 0) throw unsupported(`head_dim ${headDim} is odd (rotary embedding rotates halves)`, file);
  if (numHeads * headDim > MAX_MODEL_DIM) throw unsupported(`num_attention_heads x head_dim = ${numHeads * headDim} is above ${MAX_MODEL_DIM}`, file);

  const rope = has('rope_parameters') ? c.rope_parameters : undefined;
  if (rope !== undefined && (typeof rope !== 'object' || Array.isArray(rope))) throw unsupported('rope_parameters is not an object', file);
  const ropeParams = (rope ?? {}) as Record<string, unknown>;
  // Any other field (partial_rotary_factor, factor, ...) changes the rotation in some rope_type: refused, not ignored.
  const extra = Object.keys(ropeParams).filter((k) => !['rope_theta', 'rope_type', 'type'].includes(k));
  if (extra.length > 0) throw unsupported(`rope_parameters.${extra[0]} is set (only rope_theta and rope_type "default" are implemented)`, file);
  if (has('partial_rotary_factor') && c.partial_rotary_factor !== 1) throw unsupported(`partial_rotary_factor ${JSON.stringify(c.partial_rotary_factor)} is not 1`, file);
  const ropeType = ropeParams.rope_type ?? ropeParams.type ?? 'default';
  if (ropeType !== 'default') throw unsupported(`rope_parameters.rope_type ${JSON.stringify(ropeType)} is not "default"`, file);
  const theta = ropeParams.rope_theta ?? c.rope_theta ?? 10000;
  if (typeof theta !== 'number' || !(theta > 1) || !Number.isFinite(theta)) throw unsupported(`rope_theta ${JSON.stringify(theta)} is not a number above 1`, file);
  const eps = c.rms_norm_eps ?? 1e-6;
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) throw unsupported(`rms_norm_eps ${JSON.stringify(eps)} is not a finite number >= 0`, file);
  const tie = c.tie_word_embeddings ?? false;
  if (typeof tie !== 'boolean') throw unsupported(`tie_word_embeddings ${JSON.stringify(tie)} is not a boolean`, file);

  return {
    hiddenSize,
    intermediateSize: size('intermediate_size'),
    numLayers: size('num_hidden_layers'),
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: eps,
    ropeTheta: theta,
    tieWordEmbeddings: tie,
    vocabSize,
    maxPositions: has('max_position_embeddings') ? size('max_position_embeddings', undefined) : undefined,
  };
}

/** Name and shape of every weight tensor the forward pass reads, in the Hugging Face LlamaForCausalLM naming. */
export function llamaTensorShapes(cfg: LlamaConfig): Map<string, number[]> {
  const H = cfg.hiddenSize;
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const shapes = new Map<string, number[]>([['model.embed_tokens.weight', [cfg.vocabSize, H]]]);
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `model.layers.${l}.`;
    shapes.set(`${p}input_layernorm.weight`, [H]);
    shapes.set(`${p}self_attn.q_proj.weight`, [q, H]);
    shapes.set(`${p}self_attn.k_proj.weight`, [kv, H]);
    shapes.set(`${p}self_attn.v_proj.weight`, [kv, H]);
    shapes.set(`${p}self_attn.o_proj.weight`, [H, q]);
    shapes.set(`${p}post_attention_layernorm.weight`, [H]);
    shapes.set(`${p}mlp.gate_proj.weight`, [cfg.intermediateSize, H]);
    shapes.set(`${p}mlp.up_proj.weight`, [cfg.intermediateSize, H]);
    shapes.set(`${p}mlp.down_proj.weight`, [H, cfg.intermediateSize]);
  }
  shapes.set('model.norm.weight', [H]);
  if (!cfg.tieWordEmbeddings) shapes.set('lm_head.weight', [cfg.vocabSize, H]);
  return shapes;
}
