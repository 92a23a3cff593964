// The rate of integer codes as an entropy coder that codes them per byte plane with order-0 statistics would reach:
// codes within ±127 form one plane (their int8 bytes), wider codes two (low and high byte of their int16 form). Used
// to steer quantizers to a bit budget before the codes are coded for real.

/** Largest code magnitude that fits one byte plane (int8, −128 left unused so the range is symmetric). */
export const ONE_PLANE_MAX_CODE = 127;

/** Order-0 entropy in bits of a histogram of `n` symbols. */
function histogramBits(hist: Uint32Array, n: number): number {
  let bits = 0;
  for (let s = 0; s < hist.length; s++) {
    const c = hist[s];
    if (c > 0) bits -= c * Math.log2(c / n);
  }
  return bits;
}

/**
 * Order-0 entropy in bits of `codes` coded per byte plane: one plane when every code is within ±127, else the sum
 * over the low and the high byte plane of the codes' 16-bit two's complement.
 * @param codes integer codes within ±32767
 * @returns total bits (0 for an empty array or a constant one)
 */
export function codeBits(codes: Int16Array): number {
  const n = codes.length;
  if (n === 0) return 0;
  let wide = false;
  for (let i = 0; i < n; i++) {
    if (codes[i] > ONE_PLANE_MAX_CODE || codes[i] < -ONE_PLANE_MAX_CODE) {
      wide = true;
      break;
    }
  }
  const lo = new Uint32Array(256);
  if (!wide) {
    for (let i = 0; i < n; i++) lo[codes[i] & 0xff]++;
    return histogramBits(lo, n);
  }
  const hi = new Uint32Array(256);
  for (let i = 0; i < n; i++) {
    lo[codes[i] & 0xff]++;
    hi[(codes[i] >>> 8) & 0xff]++;
  }
  return histogramBits(lo, n) + histogramBits(hi, n);
}
