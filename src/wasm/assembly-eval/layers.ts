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

// exp of four lanes (Cephes expf): x = n·ln2 + r with |r| <= ln2/2, e^r by a degree-7 polynomial, 2^n placed in the
// exponent bits. Relative error about 2 ulp. Inputs are clamped to [-87.3, 88.3], where 2^n stays a normal float:
// below, the result is about 1e-38 instead of smaller (softmax weights and SiLU gates that small change nothing).
// pmin/pmax (one instruction each) rather than min/max, whose NaN and signed-zero rules cost a sequence; n is
// rounded to an integer by adding 1.5·2^23, which leaves it in the low mantissa bits (no float-to-int conversion).
const EXP_HI: f32 = 88.3;
const EXP_LO: f32 = -87.3;
const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const ROUNDER: f32 = 12582912.0; // 1.5 · 2^23: x + ROUNDER rounds x (|x| < 2^22) to an integer, to nearest even

// @ts-ignore: decorator
@inline
function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  const rounded = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUNDER));
  const n = f32x4.sub(rounded, f32x4.splat(ROUNDER));
  const r = f32x4.sub(f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI))), f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  // rounded's bits are those of ROUNDER plus n (two's complement in the low bits): n + 127 into the exponent field.
  const scale = i32x4.shl(i32x4.add(i32x4.sub(rounded, f32x4.splat(ROUNDER)), i32x4.splat(127)), 23);
  return f32x4.mul(y, scale);
}

/** exp of one value by the same steps as exp4 (lane 0), so that tails of rows give what whole blocks give. */
// @ts-ignore: decorator
@inline
function exp1(x: f32): f32 {
  return f32x4.extract_lane(exp4(f32x4.splat(x)), 0);
}

/**
 * Causal softmax in place over T rows of scores (row stride ld): row t becomes softmax(scale · s[t][0..t]) and its
 * entries t < k <= min(t | 3, T − 1) are set to 0, which gemm's causal mode 2 reads as zeros. `scale` > 0.
 */
export function softmaxCausal(s: usize, ld: i32, T: i32, scale: f32): void {
  const vs = f32x4.splat(scale);
  for (let t = 0; t < T; t++) {
    const p = s + (<usize>t * <usize>ld << 2);
    const n = t + 1;
    const n4 = n & ~3;
    let vm = f32x4.splat(-Infinity);
    for (let k = 0; k < n4; k += 4) vm = f32x4.pmax(vm, v128.load(p + (<usize>k << 2)));
    let m = max(max(f32x4.extract_lane(vm, 0), f32x4.extract_lane(vm, 1)), max(f32x4.extract_lane(vm, 2), f32x4.extract_lane(vm, 3)));
    for (let k = n4; k < n; k++) m = max(m, load<f32>(p + (<usize>k << 2)));
    // max(scale · s) = scale · max(s) for scale > 0.
    const ms: f32 = m * scale;
    const vms = f32x4.splat(ms);
    let vsum = f32x4.splat(0);
    for (let k = 0; k < n4; k += 4) {
      const q = p + (<usize>k << 2);
      const e = exp4(f32x4.sub(f32x4.mul(v128.load(q), vs), vms));
      v128.store(q, e);
      vsum = f32x4.add(vsum, e);
    }
    let sum: f32 = f32x4.extract_lane(vsum, 0) + f32x4.extract_lane(vsum, 1) + f32x4.extract_lane(vsum, 2) + f32x4.extract_lane(vsum, 3);
    for (let k = n4; k < n; k++) {
      const q = p + (<usize>k << 2);
      const e = exp1(load<f32>(q) * scale - ms);
      store<f32>(q, e);
      sum += e;
    }
    const inv: f32 = <f32>1 / sum;
    const vinv = f32x4.splat(inv);
    for (let k = 0; k < n4; k += 4) {
      const q = p + (<usize>k << 2);
      v128.store(q, f32x4.mul(v128.load(q), vinv));
    }
    for (let k = n4; k < n; k++) store<f32>(p + (<usize>k << 2), load<f32>(p + (<usize>k << 2)) * inv);
    const end = min(t | 3, T - 1);
    for (let k = n; k <= end; k++) store<f32>(p + (<usize>k << 2), 0);
  }
}

/** g[t][j] = silu(g[t][j]) · u[t][j] for t < T, j < I, where u[t] = g[t] + I (gate and up side by side, row stride ld). */
export function siluMul(g: usize, ld: i32, T: i32, I: i32): void {
  const I4 = I & ~3;
  const one = f32x4.splat(1);
  for (let t = 0; t < T; t++) {
    const p = g + (<usize>t * <usize>ld << 2);
    const q = p + (<usize>I << 2);
    for (let j = 0; j < I4; j += 4) {
      const o = <usize>j << 2;
      const x = v128.load(p + o);
      v128.store(p + o, f32x4.mul(f32x4.div(x, f32x4.add(one, exp4(f32x4.neg(x)))), v128.load(q + o)));
    }
    for (let j = I4; j < I; j++) {
      const o = <usize>j << 2;
      const x = load<f32>(p + o);
      store<f32>(p + o, (x / (<f32>1 + exp1(-x))) * load<f32>(q + o));
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
