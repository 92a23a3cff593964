// The XOR_DELTA transform's byte operation (FORMAT.md §3.5.2): out = a XOR b, its own inverse. Pure.

/**
 * Writes `a[i] ^ b[i]` into `out[i]` for every byte of `out` (a and b at least as long). Runs on 32-bit words where
 * all three arrays are 4-byte aligned (the usual case: fresh buffers), byte by byte for the rest.
 * @throws RangeError when `a` or `b` is shorter than `out`
 */
export function xorBytes(out: Uint8Array, a: Uint8Array, b: Uint8Array): void {
  const n = out.length;
  if (a.length < n || b.length < n) throw new RangeError(`XOR of ${a.length} and ${b.length} bytes into ${n}`);
  let i = 0;
  if (((out.byteOffset | a.byteOffset | b.byteOffset) & 3) === 0) {
    const words = n >>> 2;
    const o = new Uint32Array(out.buffer, out.byteOffset, words);
    const x = new Uint32Array(a.buffer, a.byteOffset, words);
    const y = new Uint32Array(b.buffer, b.byteOffset, words);
    for (let k = 0; k < words; k++) o[k] = x[k] ^ y[k];
    i = words << 2;
  }
  for (; i < n; i++) out[i] = a[i] ^ b[i];
}
