// The forward pass of a Llama model over one window of bytes, in float32 on the evaluator's WebAssembly kernels:
// the window's T tokens go through every product as one T-row matrix (Hugging Face LlamaForCausalLM: RMSNorm, q/k/v
// projections, default rotary embedding, grouped-query causal attention, SiLU-gated MLP, residuals, final norm, output
// projection). One instance per thread: it owns its kernels' memory.

import { instantiateEvalKernels, type EvalKernels } from '../wasm/eval-kernels.js';
import type { PackedModel } from './packed-model.js';

/**
 * cos and sin of the default rotary embedding for positions 0..T-1, T x (headDim / 2) each, computed in binary32 as
 * Hugging Face does: inv_freq[i] = 1 / theta^(2i / headDim), angle = position · inv_freq[i].
 */
export function ropeTables(T: number, headDim: number, theta: number): { cos: Float32Array; sin: Float32Array } {
  const fr = Math.fround;
  const half = headDim / 2;
  const inv = new Float32Array(half);
  for (let i = 0; i < half; i++) inv[i] = fr(1 / fr(Math.pow(theta, fr(fr(2 * i) / headDim))));
  const cos = new Float32Array(T * half);
  const sin = new Float32Array(T * half);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const a = fr(t * inv[i]);
      cos[t * half + i] = Math.cos(a);
      sin[t * half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

/** What one instance may hold: a 32-bit WebAssembly memory ends at 4 GiB (less the kernels' own data, kept below). */
const MAX_KERNEL_BYTES = 2 ** 32 - 2 ** 20;

/** Bytes of kernel memory a WindowForward takes: the model and the activations of one window (upper bound). */
function kernelBytes(model: PackedModel, T: number): number {
  const c = model.config;
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const values = model.data.length + T * (2 * c.hiddenSize + q + 2 * kv + q + 2 * c.intermediateSize + T + c.vocabSize + 2 * c.headDim) + 8 * c.headDim;
  return 4 * values + T + 64 * 16;
}

/** Runs windows of up to `windowBytes` tokens through one model. */
export class WindowForward {
  private readonly T: number;
  private readonly p: { model: number; tokens: number; x: number; h: number; qkv: number; att: number; gateUp: number; scores: number; keys: number; logits: number; cos: number; sin: number };

  private constructor(private readonly kern: EvalKernels, private readonly model: PackedModel, windowBytes: number) {
    const c = model.config;
    const T = (this.T = windowBytes);
    const H = c.hiddenSize;
    const q = c.numHeads * c.headDim;
    const kv = c.numKvHeads * c.headDim;
    const a = (n: number): number => kern.allocF32(n);
    this.p = {
      model: a(model.data.length),
      tokens: kern.alloc(T),
      x: a(T * H),
      h: a(T * H),
      qkv: a(T * (q + 2 * kv)),
      att: a(T * q),
      gateUp: a(T * 2 * c.intermediateSize),
      scores: a(T * T),
      keys: a(Math.ceil(T / 8) * 8 * c.headDim),
      logits: a(T * c.vocabSize),
      cos: a((T * c.headDim) / 2),
      sin: a((T * c.headDim) / 2),
    };
    kern.f32(this.p.model, model.data.length).set(model.data);
    const { cos, sin } = ropeTables(T, c.headDim, c.ropeTheta);
    kern.f32(this.p.cos, cos.length).set(cos);
    kern.f32(this.p.sin, sin.length).set(sin);
  }

  /**
   * A forward pass for windows of at most `windowBytes` tokens (its kernels instantiated and the model copied in).
   * @param kernels a fresh instance to use (a profiler's, say) instead of a new one; it must be used by nothing else
   * @throws RangeError when the model and a window's activations would not fit a WebAssembly memory (4 GiB: the
   *   attention scores alone take 4·T² bytes); Error where WebAssembly SIMD is unavailable
   */
  static async create(model: PackedModel, windowBytes: number, kernels?: EvalKernels): Promise<WindowForward> {
    if (!Number.isSafeInteger(windowBytes) || windowBytes < 1) throw new RangeError(`window of ${windowBytes} bytes`);
    const need = kernelBytes(model, windowBytes);
    if (need > MAX_KERNEL_BYTES) throw new RangeError(`windows of ${windowBytes} bytes need ${need} bytes of kernel memory, above the ${MAX_KERNEL_BYTES} a 32-bit WebAssembly memory can hold`);
    return new WindowForward(kernels ?? (await instantiateEvalKernels()), model, windowBytes);
  }

  /** Runs the model over `tokens` (1 to windowBytes bytes); the logits are left at this.p.logits, T x vocab. */
  private run(tokens: Uint8Array): number {
    const T = tokens.length;
    if (T < 1 || T > this.T) throw new RangeError(`a window of ${T} tokens, not 1 to ${this.T}`);
    const k = this.kern.k;
    const c = this.model.config;
    const p = this.p;
    const m = this.model;
    const H = c.hiddenSize;
    const I = c.intermediateSize;
    const hd = c.headDim;
    const q = c.numHeads * hd;
    const kv = c.numKvHeads * hd;
    const nqkv = q + 2 * kv;
    const rep = c.numHeads / c.numKvHeads;
    const eps = c.rmsNormEps;
    const scale = Math.fround(1 / Math.sqrt(hd));
    const w = (at: number): number => p.model + at * 4;
    this.kern.u8(p.tokens, T).set(tokens);
    k.embed(w(m.embed), H, p.tokens, T, p.x);
    for (const L of m.layers) {
      k.rmsNorm(p.x, H, p.h, H, w(L.inputNorm), T, H, eps);
      k.gemm(p.h, H, w(L.qkv), 8, 8 * H, p.qkv, nqkv, T, nqkv, H, 0, 0);
      k.rope(p.qkv, nqkv, T, c.numHeads, hd, p.cos, p.sin);
      k.rope(p.qkv + q * 4, nqkv, T, c.numKvHeads, hd, p.cos, p.sin);
      for (let g = 0; g < c.numKvHeads; g++) {
        k.packPanels(p.qkv + (q + g * hd) * 4, nqkv, T, hd, p.keys);
        const values = p.qkv + (q + kv + g * hd) * 4;
        // Query heads g·rep .. g·rep + rep − 1 share key-value head g (Hugging Face's repeat_kv).
        for (let h = g * rep; h < (g + 1) * rep; h++) {
          k.gemm(p.qkv + h * hd * 4, nqkv, p.keys, 8, 8 * hd, p.scores, T, T, T, hd, 1, 0);
          k.softmaxCausal(p.scores, T, T, scale);
          k.gemm(p.scores, T, values, nqkv, 8, p.att + h * hd * 4, q, T, hd, T, 2, 0);
        }
      }
      k.gemm(p.att, q, w(L.o), 8, 8 * q, p.x, H, T, H, q, 0, 1);
      k.rmsNorm(p.x, H, p.h, H, w(L.postNorm), T, H, eps);
      k.gemm(p.h, H, w(L.gateUp), 8, 8 * H, p.gateUp, 2 * I, T, 2 * I, H, 0, 0);
      k.siluMul(p.gateUp, 2 * I, T, I);
      k.gemm(p.gateUp, 2 * I, w(L.down), 8, 8 * I, p.x, H, T, H, I, 0, 1);
    }
    k.rmsNorm(p.x, H, p.h, H, w(m.norm), T, H, eps);
    k.gemm(p.h, H, w(m.lmHead), 8, 8 * H, p.logits, c.vocabSize, T, c.vocabSize, H, 0, 0);
    return T;
  }

  /**
   * The summed cross-entropy (nats) of bytes 1..T-1 of the window, each given the bytes before it in the window.
   * @param tokens the window's bytes (1 to windowBytes of them)
   * @throws RangeError for an empty or too long window
   */
  score(tokens: Uint8Array): number {
    const T = this.run(tokens);
    const V = this.model.config.vocabSize;
    return this.kern.k.nextByteLoss(this.p.logits, V, V, this.p.tokens, T);
  }

  /** The logits of every position of the window, T x vocab (a copy). @throws RangeError as score */
  logits(tokens: Uint8Array): Float32Array {
    const T = this.run(tokens);
    return this.kern.f32(this.p.logits, T * this.model.config.vocabSize).slice();
  }
}
