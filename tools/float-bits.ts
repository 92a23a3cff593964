// Bit patterns of the float formats from JavaScript numbers (via binary32, round to nearest even), shared by the
// test helpers, the test-vector generator and the synthetic-weights tool. Only exact IEEE operations: every engine
// gives the same bits.

const scratch = new DataView(new ArrayBuffer(4));

/** IEEE binary32 bits of `x` (round to nearest even). */
export function f32Bits(x: number): number {
  scratch.setFloat32(0, x);
  return scratch.getUint32(0);
}

/** bfloat16 bits of `x`: binary32 rounded to nearest even on its top 16 bits; a NaN stays a (quiet) NaN. */
export function bf16Bits(x: number): number {
  const b = f32Bits(x);
  if ((b & 0x7fffffff) > 0x7f800000) return (b >>> 16) | 0x40;
  return ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff;
}

/** IEEE binary16 bits of `x` via binary32, round to nearest even, with subnormals, overflow to infinity and NaN. */
export function f16Bits(x: number): number {
  const b = f32Bits(x);
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal: rounds to zero
    const m = mant | 0x800000; // the implicit bit
    const shift = 14 - e; // 24-bit significand down to a 10-bit subnormal field
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h; // a carry into bit 10 gives the smallest normal, which is correct
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry may reach infinity, which is correct
  return sign | h;
}
