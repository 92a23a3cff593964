// Small random-weight Llama models for the evaluator's tests: a config.json and safetensors shards written to a
// folder, and a plain forward pass over them (naive loops, float64 throughout) to compare the kernels with.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseLlamaConfig, llamaTensorShapes, type LlamaConfig } from '../../src/eval/llama-config.js';
import type { LlamaWeights } from '../../src/eval/load-llama.js';
import { bf16FromF32Bits, f16FromF32Bits, f32BitsOf } from '../../src/transform/float-narrow.js';
import { toFloat32 } from '../../src/api/to-float32.js';
import { buildSafetensors, type TensorInput } from './safetensors-builder.js';
import { Rng } from './prng.js';

/** A config.json object of a byte-level Llama with the given sizes (override or add any field). */
export function tinyConfig(fields: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architectures: ['LlamaForCausalLM'],
    model_type: 'llama',
    vocab_size: 256,
    hidden_size: 32,
    intermediate_size: 48,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 8,
    hidden_act: 'silu',
    max_position_embeddings: 64,
    rms_norm_eps: 1e-5,
    rope_parameters: { rope_theta: 10000.0, rope_type: 'default' },
    tie_word_embeddings: false,
    attention_bias: false,
    mlp_bias: false,
    ...fields,
  };
}

/** The bytes of `values` stored as `dtype` (BF16 and F16 rounded to nearest even), little-endian. */
function encode(values: Float32Array, dtype: 'F32' | 'BF16' | 'F16'): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer.slice(0));
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = dtype === 'BF16' ? bf16FromF32Bits(f32BitsOf(values[i])) : f16FromF32Bits(f32BitsOf(values[i]));
  return new Uint8Array(out.buffer);
}

/**
 * Writes a random-weight model into `dir`: config.json and one safetensors file, or with `shards` > 1 that many files
 * and model.safetensors.index.json. Linear weights are normal with deviation 1/sqrt(fan-in), norms near 1, the
 * embedding normal with deviation 1.
 * @returns the weights as the stored dtype holds them (what loadLlama must give back)
 */
export async function writeTinyLlama(dir: string, config: Record<string, unknown>, options: { seed: number; dtype?: 'F32' | 'BF16' | 'F16'; shards?: number }): Promise<LlamaWeights> {
  const cfg: LlamaConfig = parseLlamaConfig(JSON.stringify(config), 'config.json');
  const rng = new Rng(options.seed);
  const dtype = options.dtype ?? 'F32';
  const tensors = new Map<string, Float32Array>();
  const inputs: TensorInput[] = [];
  for (const [name, shape] of llamaTensorShapes(cfg)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    const sd = shape.length === 1 ? 0.1 : name.includes('embed') ? 1 : 1 / Math.sqrt(shape[1]);
    for (let i = 0; i < n; i++) v[i] = (shape.length === 1 ? 1 : 0) + sd * rng.gaussian();
    const data = encode(v, dtype);
    tensors.set(name, toFloat32(dtype, data));
    inputs.push({ name, dtype, shape, data });
  }
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'config.json'), JSON.stringify(config, null, 2));
  const shards = options.shards ?? 1;
  if (shards === 1) {
    await writeFile(join(dir, 'model.safetensors'), buildSafetensors(inputs).bytes);
  } else {
    const weightMap: Record<string, string> = {};
    const per = Math.ceil(inputs.length / shards);
    for (let s = 0; s < shards; s++) {
      const file = `model-${String(s + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
      const part = inputs.slice(s * per, (s + 1) * per);
      for (const t of part) weightMap[t.name] = file;
      await writeFile(join(dir, file), buildSafetensors(part).bytes);
    }
    await writeFile(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }));
  }
  return { config: cfg, tensors };
}

/** y = W x for W rows x cols (row-major f32), x and y f64. */
function matvec(W: Float32Array, rows: number, cols: number, x: Float64Array): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += W[r * cols + c] * x[c];
    y[r] = s;
  }
  return y;
}

function rmsNorm(x: Float64Array, w: Float32Array, eps: number): Float64Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const r = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, j) => w[j] * v * r);
}

/** Rotary embedding of one head's vector at `pos` (rotate_half form: pairs i and i + half). */
function rope(v: Float64Array, pos: number, theta: number): Float64Array {
  const d = v.length;
  const half = d / 2;
  const out = new Float64Array(d);
  for (let i = 0; i < half; i++) {
    const a = pos / Math.pow(theta, (2 * i) / d);
    out[i] = v[i] * Math.cos(a) - v[i + half] * Math.sin(a);
    out[i + half] = v[i + half] * Math.cos(a) + v[i] * Math.sin(a);
  }
  return out;
}

/** The logits (T x vocab) of a window, by the plain float64 forward pass of LlamaForCausalLM. */
export function referenceLogits(model: LlamaWeights, tokens: Uint8Array): Float64Array[] {
  const c = model.config;
  const W = (n: string): Float32Array => model.tensors.get(n)!;
  const H = c.hiddenSize;
  const hd = c.headDim;
  const T = tokens.length;
  const E = W('model.embed_tokens.weight');
  let x = Array.from(tokens, (t) => Float64Array.from(E.subarray(t * H, (t + 1) * H)));
  for (let l = 0; l < c.numLayers; l++) {
    const p = `model.layers.${l}.`;
    const h = x.map((r) => rmsNorm(r, W(`${p}input_layernorm.weight`), c.rmsNormEps));
    const q = h.map((r) => matvec(W(`${p}self_attn.q_proj.weight`), c.numHeads * hd, H, r));
    const k = h.map((r) => matvec(W(`${p}self_attn.k_proj.weight`), c.numKvHeads * hd, H, r));
    const v = h.map((r) => matvec(W(`${p}self_attn.v_proj.weight`), c.numKvHeads * hd, H, r));
    const head = (m: Float64Array, i: number): Float64Array => m.subarray(i * hd, (i + 1) * hd);
    const att = Array.from({ length: T }, () => new Float64Array(c.numHeads * hd));
    for (let a = 0; a < c.numHeads; a++) {
      const g = Math.floor(a / (c.numHeads / c.numKvHeads));
      for (let t = 0; t < T; t++) {
        const qa = rope(head(q[t], a), t, c.ropeTheta);
        const s = new Float64Array(t + 1);
        for (let u = 0; u <= t; u++) {
          const ku = rope(head(k[u], g), u, c.ropeTheta);
          let dot = 0;
          for (let i = 0; i < hd; i++) dot += qa[i] * ku[i];
          s[u] = dot / Math.sqrt(hd);
        }
        const m = Math.max(...s);
        let sum = 0;
        for (let u = 0; u <= t; u++) sum += (s[u] = Math.exp(s[u] - m));
        for (let u = 0; u <= t; u++) for (let i = 0; i < hd; i++) att[t][a * hd + i] += (s[u] / sum) * head(v[u], g)[i];
      }
    }
    x = x.map((r, t) => {
      const o = matvec(W(`${p}self_attn.o_proj.weight`), H, c.numHeads * hd, att[t]);
      return r.map((val, j) => val + o[j]);
    });
    const h2 = x.map((r) => rmsNorm(r, W(`${p}post_attention_layernorm.weight`), c.rmsNormEps));
    x = x.map((r, t) => {
      const gate = matvec(W(`${p}mlp.gate_proj.weight`), c.intermediateSize, H, h2[t]);
      const up = matvec(W(`${p}mlp.up_proj.weight`), c.intermediateSize, H, h2[t]);
      const mid = gate.map((gv, j) => (gv / (1 + Math.exp(-gv))) * up[j]);
      const down = matvec(W(`${p}mlp.down_proj.weight`), H, c.intermediateSize, mid);
      return r.map((val, j) => val + down[j]);
    });
  }
  const lm = W(c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight');
  return x.map((r) => matvec(lm, c.vocabSize, H, rmsNorm(r, W('model.norm.weight'), c.rmsNormEps)));
}

/** Summed cross-entropy (nats) of bytes 1..T-1 of a window under referenceLogits. */
export function referenceWindowLoss(model: LlamaWeights, tokens: Uint8Array): number {
  const logits = referenceLogits(model, tokens);
  let total = 0;
  for (let t = 0; t + 1 < tokens.length; t++) {
    const row = logits[t];
    const m = Math.max(...row);
    let s = 0;
    for (const z of row) s += Math.exp(z - m);
    total += Math.log(s) + m - row[tokens[t + 1]];
  }
  return total;
}
