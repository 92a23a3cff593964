// The element-wise steps of a Llama forward pass for the perplexity evaluator (src/eval/), as Hugging Face's
// LlamaForCausalLM computes them in float32: embedding lookup, RMSNorm, rotary embedding (rotate_half form), causal
// softmax, SiLU-gated product, and the cross-entropy of each next byte. Matrix products are in gemm.ts.

/** x[t] = E[tokens[t]] for t < T: rows of H values of the V x H embedding at `E`; `tokens` holds T bytes. */
export function embed(E: usize, H: i32, tokens: usize, T: i32, x: usize): void {
  const row = <usize>H << 2;
  for (let t = 0; t < T; t++) memory.copy(x + <usize>t * row, E + <usize>load<u8>(tokens + t) * row, row);
}

/**
 * out[t][j] = w[j] · (x[t][j] / sqrt(mean over j of x[t][j]² + eps)) for T rows of H values (row strides ldx, ldo):
 * the mean in float32, as RMSNorm computes it, with the sum of squares held in f64 (one rounding instead of H).
 */
export function rmsNorm(x: usize, ldx: i32, out: usize, ldo: i32, w: usize, T: i32, H: i32, eps: f32): void {
  for (let t = 0; t < T; t++) {
    const px = x + (<usize>t * <usize>ldx << 2);
    const po = out + (<usize>t * <usize>ldo << 2);
    let ss: f64 = 0;
    for (let j = 0; j < H; j++) {
      const v = <f64>load<f32>(px + (<usize>j << 2));
      ss += v * v;
    }
    const r: f32 = <f32>1 / Mathf.sqrt(<f32>(ss / <f64>H) + eps);
    for (let j = 0; j < H; j++) {
      const o = <usize>j << 2;
      store<f32>(po + o, load<f32>(w + o) * (load<f32>(px + o) * r));
    }
  }
}

/**
 * Rotary embedding in place on `heads` heads of `hd` values per row (row t at x + t·ld, head h at + h·hd), rows
 * t < T at positions t: with half = hd / 2 and i < half, (x_i, x_{i+half}) becomes
 * (x_i·cos − x_{i+half}·sin, x_{i+half}·cos + x_i·sin) with cos, sin of table row t, column i (T x half each).
 */
export function rope(x: usize, ld: i32, T: i32, heads: i32, hd: i32, cos: usize, sin: usize): void {
  const half = hd >> 1;
  for (let t = 0; t < T; t++) {
    const pc = cos + (<usize>t * <usize>half << 2);
    const ps = sin + (<usize>t * <usize>half << 2);
    for (let h = 0; h < heads; h++) {
      const p = x + ((<usize>t * <usize>ld + <usize>h * <usize>hd) << 2);
      for (let i = 0; i < half; i++) {
        const o = <usize>i << 2;
        const oh = <usize>(i + half) << 2;
        const x1 = load<f32>(p + o);
        const x2 = load<f32>(p + oh);
        const c = load<f32>(pc + o);
        const s = load<f32>(ps + o);
        store<f32>(p + o, x1 * c - x2 * s);
        store<f32>(p + oh, x2 * c + x1 * s);
      }
    }
  }
}

/**
 * Causal softmax in place over T rows of scores (row stride ld): row t becomes softmax(scale · s[t][0..t]) and its
 * entries t < k ≤ min(t | 3, T − 1) are set to 0, which gemm's causal mode 2 reads as zeros.
 */
export function softmaxCausal(s: usize, ld: i32, T: i32, scale: f32): void {
  for (let t = 0; t < T; t++) {
    const p = s + (<usize>t * <usize>ld << 2);
    let m: f32 = -Infinity;
    for (let k = 0; k <= t; k++) {
      const z = load<f32>(p + (<usize>k << 2)) * scale;
      store<f32>(p + (<usize>k << 2), z);
      m = max(m, z);
    }
    let sum: f32 = 0;
    for (let k = 0; k <= t; k++) {
      const e = Mathf.exp(load<f32>(p + (<usize>k << 2)) - m);
      store<f32>(p + (<usize>k << 2), e);
      sum += e;
    }
    const inv: f32 = <f32>1 / sum;
    for (let k = 0; k <= t; k++) store<f32>(p + (<usize>k << 2), load<f32>(p + (<usize>k << 2)) * inv);
    const end = min(t | 3, T - 1);
    for (let k = t + 1; k <= end; k++) store<f32>(p + (<usize>k << 2), 0);
  }
}

/** g[t][j] = silu(g[t][j]) · u[t][j] for t < T, j < I, where u[t] = g[t] + I (gate and up side by side, row stride ld). */
export function siluMul(g: usize, ld: i32, T: i32, I: i32): void {
  for (let t = 0; t < T; t++) {
    const p = g + (<usize>t * <usize>ld << 2);
    const q = p + (<usize>I << 2);
    for (let j = 0; j < I; j++) {
      const o = <usize>j << 2;
      const x = load<f32>(p + o);
      store<f32>(p + o, (x / (<f32>1 + Mathf.exp(-x))) * load<f32>(q + o));
    }
  }
}

/**
 * Sum over t < T − 1 of the cross-entropy of byte tokens[t + 1] under the logits of row t (V values, row stride ld):
 * log(sum exp(logits)) − logits[tokens[t + 1]], in f64 from the f32 logits.
 */
export function nextByteLoss(logits: usize, ld: i32, V: i32, tokens: usize, T: i32): f64 {
  let total: f64 = 0;
  for (let t = 0; t + 1 < T; t++) {
    const p = logits + (<usize>t * <usize>ld << 2);
    let m: f32 = -Infinity;
    for (let v = 0; v < V; v++) m = max(m, load<f32>(p + (<usize>v << 2)));
    let sum: f64 = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(<f64>(load<f32>(p + (<usize>v << 2)) - m));
    const target = <usize>load<u8>(tokens + t + 1);
    total += Math.log(sum) + <f64>m - <f64>load<f32>(p + (target << 2));
  }
  return total;
}
