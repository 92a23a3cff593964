// Calibration statistics for GPTQ: a plain float32 TypeScript forward pass of a byte-level Llama (the same layers as
// src/eval/window-forward.ts, without its kernels) over windows of a calibration text, summing XᵀX of every linear
// layer's input. q, k and v share one input, as do gate and up.

import type { LlamaWeights } from './load-llama.js';
import { ropeTables } from './window-forward.js';
import { accumulateHessian } from '../lossy/quantize-gptq.js';

/** out (T x O) = x (T x I) · wᵀ (w: O x I). */
function linear(x: Float32Array, T: number, I: number, w: Float32Array, O: number): Float32Array {
  const out = new Float32Array(T * O);
  for (let t = 0; t < T; t++) {
    const xo = t * I;
    for (let o = 0; o < O; o++) {
      const wo = o * I;
      let s = 0;
      for (let i = 0; i < I; i++) s += x[xo + i] * w[wo + i];
      out[t * O + o] = s;
    }
  }
  return out;
}

function rmsNorm(x: Float32Array, T: number, H: number, g: Float32Array, eps: number): Float32Array {
  const out = new Float32Array(T * H);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let i = 0; i < H; i++) ss += x[t * H + i] * x[t * H + i];
    const r = 1 / Math.sqrt(ss / H + eps);
    for (let i = 0; i < H; i++) out[t * H + i] = g[i] * (x[t * H + i] * r);
  }
  return out;
}

/** Rotary embedding in place on `heads` heads of `hd` values at column offset `at` of rows of width `width`. */
function rope(x: Float32Array, T: number, width: number, at: number, heads: number, hd: number, cos: Float32Array, sin: Float32Array): void {
  const half = hd / 2;
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < heads; h++) {
      const b = t * width + at + h * hd;
      for (let i = 0; i < half; i++) {
        const c = cos[t * half + i];
        const s = sin[t * half + i];
        const a1 = x[b + i];
        const a2 = x[b + half + i];
        x[b + i] = a1 * c - a2 * s;
        x[b + half + i] = a2 * c + a1 * s;
      }
    }
  }
}

/**
 * Sums XᵀX of each linear layer's inputs over `windows` windows of `windowBytes` bytes of `text`.
 * @returns per 2-D weight name (lm_head and every projection; not the embedding), its cols x cols Hessian
 */
export function calibrationHessians(weights: LlamaWeights, text: Uint8Array, windows: number, windowBytes: number): Map<string, Float64Array> {
  const c = weights.config;
  const W = (n: string): Float32Array => weights.tensors.get(n)!;
  const H = c.hiddenSize;
  const I = c.intermediateSize;
  const hd = c.headDim;
  const q = c.numHeads * hd;
  const kv = c.numKvHeads * hd;
  const rep = c.numHeads / c.numKvHeads;
  const out = new Map<string, Float64Array>();
  const hess = (names: string[], dim: number): Float64Array => {
    const h = new Float64Array(dim * dim);
    for (const n of names) out.set(n, h);
    return h;
  };
  const layers = Array.from({ length: c.numLayers }, (_, l) => {
    const p = `model.layers.${l}.`;
    return {
      p,
      attnIn: hess([`${p}self_attn.q_proj.weight`, `${p}self_attn.k_proj.weight`, `${p}self_attn.v_proj.weight`], H),
      oIn: hess([`${p}self_attn.o_proj.weight`], q),
      mlpIn: hess([`${p}mlp.gate_proj.weight`, `${p}mlp.up_proj.weight`], H),
      downIn: hess([`${p}mlp.down_proj.weight`], I),
    };
  });
  const headIn = hess([c.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight'], H);
  const { cos, sin } = ropeTables(windowBytes, hd, c.ropeTheta);
  const scale = 1 / Math.sqrt(hd);
  const embed = W('model.embed_tokens.weight');
  const n = Math.min(windows, Math.floor(text.length / windowBytes));
  for (let w = 0; w < n; w++) {
    const tok = text.subarray(w * windowBytes, (w + 1) * windowBytes);
    const T = tok.length;
    const x = new Float32Array(T * H);
    for (let t = 0; t < T; t++) x.set(embed.subarray(tok[t] * H, (tok[t] + 1) * H), t * H);
    for (const L of layers) {
      const h = rmsNorm(x, T, H, W(`${L.p}input_layernorm.weight`), c.rmsNormEps);
      accumulateHessian(L.attnIn, h, T, H);
      const qs = linear(h, T, H, W(`${L.p}self_attn.q_proj.weight`), q);
      const ks = linear(h, T, H, W(`${L.p}self_attn.k_proj.weight`), kv);
      const vs = linear(h, T, H, W(`${L.p}self_attn.v_proj.weight`), kv);
      rope(qs, T, q, 0, c.numHeads, hd, cos, sin);
      rope(ks, T, kv, 0, c.numKvHeads, hd, cos, sin);
      const att = new Float32Array(T * q);
      const p = new Float64Array(T);
      for (let head = 0; head < c.numHeads; head++) {
        const g = Math.floor(head / rep);
        for (let t = 0; t < T; t++) {
          let m = -Infinity;
          for (let u = 0; u <= t; u++) {
            let s = 0;
            for (let i = 0; i < hd; i++) s += qs[t * q + head * hd + i] * ks[u * kv + g * hd + i];
            p[u] = s * scale;
            if (p[u] > m) m = p[u];
          }
          let z = 0;
          for (let u = 0; u <= t; u++) z += p[u] = Math.exp(p[u] - m);
          for (let u = 0; u <= t; u++) {
            const a = p[u] / z;
            for (let i = 0; i < hd; i++) att[t * q + head * hd + i] += a * vs[u * kv + g * hd + i];
          }
        }
      }
      accumulateHessian(L.oIn, att, T, q);
      const o = linear(att, T, q, W(`${L.p}self_attn.o_proj.weight`), H);
      for (let i = 0; i < x.length; i++) x[i] += o[i];
      const h2 = rmsNorm(x, T, H, W(`${L.p}post_attention_layernorm.weight`), c.rmsNormEps);
      accumulateHessian(L.mlpIn, h2, T, H);
      const gate = linear(h2, T, H, W(`${L.p}mlp.gate_proj.weight`), I);
      const up = linear(h2, T, H, W(`${L.p}mlp.up_proj.weight`), I);
      for (let i = 0; i < gate.length; i++) gate[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
      accumulateHessian(L.downIn, gate, T, I);
      const d = linear(gate, T, I, W(`${L.p}mlp.down_proj.weight`), H);
      for (let i = 0; i < x.length; i++) x[i] += d[i];
    }
    accumulateHessian(headIn, rmsNorm(x, T, H, W('model.norm.weight'), c.rmsNormEps), T, H);
  }
  return out;
}
