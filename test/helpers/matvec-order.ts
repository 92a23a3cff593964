// y = W·x on the CPU for BF16 matrices: in the summation order of src/gpu/matvec-order.wgsl, exactly (f32 additions
// as float64 additions rounded to f32, which is exact for sums of two f32; fma rounded once, as a fused multiply-add
// does, or twice, as a device without one does), and in float64.

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** The f32 next to `r` (an f32) towards +Inf (`up`) or -Inf. */
function nextF32(r: number, up: boolean): number {
  F32[0] = r;
  if (r === 0) U32[0] = up ? 1 : 0x80000001;
  else if (r > 0 === up) U32[0]++;
  else U32[0]--;
  return F32[0];
}

/**
 * fma(a, b, c) in f32, rounded once: a · b is exact in float64 (a BF16 value of 8 significant bits times an f32 of
 * 24), s = a · b + c rounded to float64 misses the exact sum by e (TwoSum), and rounding s to f32 is right unless
 * s lies exactly midway between two f32, where e decides.
 */
export function fmaF32(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const r = Math.fround(s);
  if (!Number.isFinite(s) || r === s) return r;
  const bv = s - p;
  const e = p - (s - bv) + (c - bv);
  if (e === 0) return r;
  const other = nextF32(r, s > r);
  if (s - r !== other - s) return r;
  return e > 0 === other > r ? other : r;
}

/** BF16 bits as a number. */
export function bf16ToNumber(bits: number): number {
  U32[0] = bits << 16;
  return F32[0];
}

/** The BF16 bits of a little-endian byte array, as values. */
export function bf16Values(bytes: Uint8Array): Float64Array {
  const out = new Float64Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = bf16ToNumber(bytes[2 * i] | (bytes[2 * i + 1] << 8));
  return out;
}

/**
 * y = W·x in the order of matvec-order.wgsl for chunks of `chunkValues` values, as f32, with fma rounded once
 * (`fused`) or twice.
 */
export function matvecInOrder(w: Float64Array, rows: number, cols: number, chunkValues: number, x: Float32Array, fused: boolean): Float32Array {
  const fma = fused ? fmaF32 : (a: number, b: number, c: number): number => Math.fround(Math.fround(a * b) + c);
  const values = rows * cols;
  const chunks = Math.ceil(values / chunkValues);
  const partials = new Float64Array(rows + chunks);
  const a = new Float64Array(32);
  for (let k = 0; k < chunks; k++) {
    const c0 = k * chunkValues;
    const end = Math.min(values, c0 + chunkValues);
    for (let r = Math.floor(c0 / cols); r * cols < end; r++) {
      a.fill(0);
      for (let f = Math.max(r * cols, c0); f < Math.min((r + 1) * cols, end); f++) {
        const l = (f - c0) % 32;
        a[l] = fma(w[f], x[f - r * cols], a[l]);
      }
      for (let h = 16; h > 0; h >>= 1) for (let l = 0; l < h; l++) a[l] = Math.fround(a[l] + a[l + h]);
      partials[r + k] = a[0];
    }
  }
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const k0 = Math.floor((r * cols) / chunkValues);
    const k1 = Math.floor((r * cols + cols - 1) / chunkValues);
    let s = partials[r + k0];
    for (let k = k0 + 1; k <= k1; k++) s = Math.fround(s + partials[r + k]);
    y[r] = s;
  }
  return y;
}

/** y = W·x in float64, and per row Σ |w · x| (the scale of its rounding errors). */
export function matvecFloat64(w: Float64Array, rows: number, cols: number, x: Float32Array): { y: Float64Array; scale: Float64Array } {
  const y = new Float64Array(rows);
  const scale = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    let m = 0;
    for (let c = 0; c < cols; c++) {
      const p = w[r * cols + c] * x[c];
      s += p;
      m += Math.abs(p);
    }
    y[r] = s;
    scale[r] = m;
  }
  return { y, scale };
}
