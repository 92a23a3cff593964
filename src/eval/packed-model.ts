// A Llama model laid out for the evaluator's kernels in one float32 array: norms and the embedding as they are, every
// linear layer's weight packed in panels of 8 output features for gemm's B operand (src/wasm/assembly-eval/gemm.ts),
// with the q, k and v projections fused into one product, and the gate and up projections into another.

import type { LlamaConfig } from './llama-config.js';
import type { LlamaWeights } from './load-llama.js';

/** Offsets (in f32 values) of one layer's weights in PackedModel.data. */
export interface PackedLayer {
  inputNorm: number;
  /** q, k, v projections as one (q + 2·kv) x hidden matrix, packed. */
  qkv: number;
  /** Output projection, hidden x q, packed. */
  o: number;
  postNorm: number;
  /** Gate and up projections as one 2·intermediate x hidden matrix, packed. */
  gateUp: number;
  /** Down projection, hidden x intermediate, packed. */
  down: number;
}

/** The model as the kernels read it; plain data, so it crosses to worker threads as it is (data may be shared memory). */
export interface PackedModel {
  config: LlamaConfig;
  data: Float32Array;
  /** The embedding, vocab x hidden, row-major. */
  embed: number;
  layers: PackedLayer[];
  norm: number;
  /** The output projection, vocab x hidden, packed. */
  lmHead: number;
}

/** Each block starts on a multiple of 16 values (64 bytes). */
const BLOCK_ALIGN = 16;

/** Values a packed N x K matrix takes: whole panels of 8 rows. */
export function packedValues(N: number, K: number): number {
  return Math.ceil(N / 8) * 8 * K;
}

/**
 * Writes the N x K row-major matrix formed by `parts` (stacked by rows, each K columns wide) into dst at `at` in
 * gemm's panel layout: dst[at + (n >> 3)·8K + k·8 + (n & 7)] = row n, column k. Slots past N in the last panel are 0.
 */
export function packPanels(parts: readonly Float32Array[], K: number, dst: Float32Array, at: number): void {
  let n = 0;
  for (const part of parts) {
    for (let r = 0; r < part.length / K; r++, n++) {
      const base = at + (n >> 3) * 8 * K + (n & 7);
      for (let k = 0; k < K; k++) dst[base + k * 8] = part[r * K + k];
    }
  }
}

/**
 * Lays out loaded weights for the kernels.
 * @param weights a model from loadLlama
 * @param shared put the data in a SharedArrayBuffer (for worker threads), where the runtime has one
 */
export function packModel(weights: LlamaWeights, shared = false): PackedModel {
  const cfg = weights.config;
  const H = cfg.hiddenSize;
  const I = cfg.intermediateSize;
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const V = cfg.vocabSize;
  const t = (name: string): Float32Array => weights.tensors.get(name)!;
  let size = 0;
  const take = (n: number): number => {
    const at = size;
    size += Math.ceil(n / BLOCK_ALIGN) * BLOCK_ALIGN;
    return at;
  };
  const embed = take(V * H);
  const layers: PackedLayer[] = [];
  for (let l = 0; l < cfg.numLayers; l++) {
    layers.push({ inputNorm: take(H), qkv: take(packedValues(q + 2 * kv, H)), o: take(packedValues(H, q)), postNorm: take(H), gateUp: take(packedValues(2 * I, H)), down: take(packedValues(H, I)) });
  }
  const norm = take(H);
  const lmHead = take(packedValues(V, H));
  const bytes = size * 4;
  const data = new Float32Array(shared && typeof SharedArrayBuffer !== 'undefined' ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
  data.set(t('model.embed_tokens.weight'), embed);
  for (let l = 0; l < cfg.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const L = layers[l];
    data.set(t(`${p}input_layernorm.weight`), L.inputNorm);
    packPanels([t(`${p}self_attn.q_proj.weight`), t(`${p}self_attn.k_proj.weight`), t(`${p}self_attn.v_proj.weight`)], H, data, L.qkv);
    packPanels([t(`${p}self_attn.o_proj.weight`)], q, data, L.o);
    data.set(t(`${p}post_attention_layernorm.weight`), L.postNorm);
    packPanels([t(`${p}mlp.gate_proj.weight`), t(`${p}mlp.up_proj.weight`)], H, data, L.gateUp);
    packPanels([t(`${p}mlp.down_proj.weight`)], I, data, L.down);
  }
  data.set(t('model.norm.weight'), norm);
  packPanels([t(cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight')], H, data, lmHead);
  return { config: cfg, data, embed, layers, norm, lmHead };
}
