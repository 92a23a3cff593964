// Widening of a tensor's float values to binary32 (browser-safe): BF16, F16, F8_E4M3 (the "FN" variant: no
// infinities, S.1111.111 is NaN), F8_E5M2 and F32. Every value of those dtypes is a binary32 value, so the result is
// exact: signed zeros, subnormals, infinities and NaN (with its payload where binary32 can hold it) are kept.

/** Bytes per value of each dtype toFloat32 widens. */
const FLOAT_BYTES: Readonly<Record<string, number>> = { BF16: 2, F16: 2, F8_E4M3: 1, F8_E5M2: 1, F32: 4 };

/** binary32 bits of an F16 value's bits (exact; subnormals are normalised, NaN payloads moved up 13 bits). */
function f32BitsFromF16(h: number): number {
  const sign = (h & 0x8000) << 16;
  const e = (h >>> 10) & 0x1f;
  let m = h & 0x3ff;
  if (e === 0x1f) return (sign | 0x7f800000 | (m << 13)) >>> 0;
  if (e === 0) {
    if (m === 0) return sign >>> 0;
    // m x 2^-24: shift until the implicit bit (0x400) appears, lowering the exponent once per shift.
    let e32 = 127 - 15 + 1;
    while ((m & 0x400) === 0) {
      m <<= 1;
      e32--;
    }
    return (sign | (e32 << 23) | ((m & 0x3ff) << 13)) >>> 0;
  }
  return (sign | ((e + 127 - 15) << 23) | (m << 13)) >>> 0;
}

/** binary32 bits of an F8_E4M3 (FN) value's bits: bias 7, subnormals m x 2^-9, S.1111.111 NaN, no infinities. */
function f32BitsFromE4M3(b: number): number {
  const sign = (b & 0x80) << 24;
  const e = (b >>> 3) & 0xf;
  let m = b & 7;
  if (e === 0xf && m === 7) return (sign | 0x7fc00000) >>> 0;
  if (e === 0) {
    if (m === 0) return sign >>> 0;
    let e32 = 127 - 7 + 1;
    while ((m & 8) === 0) {
      m <<= 1;
      e32--;
    }
    return (sign | (e32 << 23) | ((m & 7) << 20)) >>> 0;
  }
  return (sign | ((e + 127 - 7) << 23) | (m << 20)) >>> 0;
}

/**
 * The values of a tensor of `dtype` as a Float32Array (a new array; the input is read as little-endian bytes, as
 * safetensors stores them, on any host).
 * @param dtype 'BF16', 'F16', 'F8_E4M3', 'F8_E5M2' or 'F32'
 * @param bytes the tensor's bytes (e.g. `TensorData.bytes`)
 * @returns one binary32 value per element, each exactly the element's value
 * @throws TypeError for another dtype; RangeError when `bytes` is not a whole number of values
 */
export function toFloat32(dtype: string, bytes: Uint8Array): Float32Array {
  const W = FLOAT_BYTES[dtype];
  if (W === undefined) throw new TypeError(`toFloat32: dtype ${dtype} is not one of ${Object.keys(FLOAT_BYTES).join(', ')}`);
  if (bytes.length % W !== 0) throw new RangeError(`toFloat32: ${bytes.length} bytes are not a whole number of ${dtype} values (${W} bytes each)`);
  const n = bytes.length / W;
  const out = new Float32Array(n);
  // Bits are written through a Uint32Array view: it shares the host's byte order with `out`, so no byte order applies.
  const bits = new Uint32Array(out.buffer);
  const b = bytes;
  switch (dtype) {
    case 'BF16':
      for (let i = 0; i < n; i++) bits[i] = ((b[2 * i] | (b[2 * i + 1] << 8)) << 16) >>> 0;
      break;
    case 'F16':
      for (let i = 0; i < n; i++) bits[i] = f32BitsFromF16(b[2 * i] | (b[2 * i + 1] << 8));
      break;
    case 'F8_E5M2': // the top byte of an F16
      for (let i = 0; i < n; i++) bits[i] = f32BitsFromF16(b[i] << 8);
      break;
    case 'F8_E4M3':
      for (let i = 0; i < n; i++) bits[i] = f32BitsFromE4M3(b[i]);
      break;
    default: // F32
      for (let i = 0; i < n; i++) bits[i] = (b[4 * i] | (b[4 * i + 1] << 8) | (b[4 * i + 2] << 16) | (b[4 * i + 3] << 24)) >>> 0;
  }
  return out;
}
