// Narrowing of IEEE binary32 values to bfloat16 and binary16 bits, round to nearest even, for the value transforms of
// FORMAT.md §3.5 whose inverse recomputes a float (quantized scales). Integer arithmetic on the bits only, so every
// engine gives the same result; binary32 values come from Math.fround, which is exact IEEE rounding everywhere.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary32 bits of `x` rounded to binary32 (round to nearest even, as Math.fround). */
export function f32BitsOf(x: number): number {
  f32[0] = x;
  return u32[0];
}

/** The binary32 value whose bits are `bits` (a NaN's payload is not preserved; callers never pass one). */
export function f32FromBits(bits: number): number {
  u32[0] = bits;
  return f32[0];
}

/** bfloat16 bits of the binary32 value with bits `b`: round to nearest even on the top 16 bits; a NaN stays a quiet NaN. */
export function bf16FromF32Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const mag = b & 0x7fffffff;
  if (mag > 0x7f800000) return sign | 0x7fc0 | ((mag >>> 16) & 0x3f);
  // mag + 0x8000 stays below 2^31: no wrap-around; a carry into the exponent (up to infinity) is the correct result.
  return sign | ((mag + 0x7fff + ((mag >>> 16) & 1)) >>> 16);
}

/** binary16 bits of the binary32 value with bits `b`: round to nearest even, subnormals, overflow to infinity; a NaN stays a quiet NaN. */
export function f16FromF32Bits(b: number): number {
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign; // below half the smallest subnormal (exactly half rounds to even: zero)
    const m = mant | 0x800000; // the implicit bit
    const shift = 14 - e; // the 24-bit significand down to the 10-bit subnormal field
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h; // a carry into bit 10 gives the smallest normal: correct
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++; // a carry may reach infinity: correct
  return sign | h;
}

/** The binary32 value of binary16 bits `h` (exact: every binary16 value is a binary32 value). */
export function f32FromF16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (e === 0 ? m * 2 ** -24 : (1024 + m) * 2 ** (e - 25));
}
