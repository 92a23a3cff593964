// Packed raw head planes (FORMAT.md §6, version 4): a raw plane of b < 8 bits stores its n symbols in ⌈n·b/8⌉
// bytes, symbol i in bits i·b … i·b + b − 1 of the plane's bit string, whose bit j is bit (j mod 8) of byte ⌊j/8⌋.

/** Bytes a raw plane of `n` symbols of `bits` bits (1 to 8) takes in a chunk: ⌈n·bits/8⌉ (n for an 8-bit plane). */
export function packedBytes(n: number, bits: number): number {
  return Math.ceil((n * bits) / 8);
}

/**
 * Writes `n` symbols of `bits` bits (each < 2^bits) LSB-first into packedBytes(n, bits) bytes of `out` from `at`;
 * the unused high bits of the last byte are zero.
 */
export function packBits(symbols: Uint16Array, n: number, bits: number, out: Uint8Array, at: number): void {
  // acc holds fewer than 8 pending bits between symbols, so acc < 2^15 after adding one.
  let acc = 0;
  let have = 0;
  let o = at;
  for (let i = 0; i < n; i++) {
    acc |= symbols[i] << have;
    have += bits;
    if (have >= 8) {
      out[o++] = acc & 0xff;
      acc >>>= 8;
      have -= 8;
    }
  }
  if (have > 0) out[o] = acc;
}

/**
 * Reads `n` symbols of `bits` bits from the packed plane at `bytes[at]` into `out`: the inverse of packBits. The
 * caller checks that packedBytes(n, bits) bytes are there; the padding bits are not looked at (see paddingBits).
 */
export function unpackBits(bytes: Uint8Array, at: number, n: number, bits: number, out: Uint16Array): void {
  const mask = (1 << bits) - 1;
  let acc = 0;
  let have = 0;
  let p = at;
  for (let i = 0; i < n; i++) {
    if (have < bits) {
      acc |= bytes[p++] << have;
      have += 8;
    }
    out[i] = acc & mask;
    acc >>>= bits;
    have -= bits;
  }
}

/** The padding bits of a packed plane (the high bits of its last byte beyond symbol n − 1), which MUST be zero. */
export function paddingBits(bytes: Uint8Array, at: number, n: number, bits: number): number {
  const used = (n * bits) % 8;
  return used === 0 ? 0 : bytes[at + packedBytes(n, bits) - 1] >>> used;
}
