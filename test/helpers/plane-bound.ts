// The order-0 plane bound of a safetensors file (as the corpus README computes it): the header stored raw, each
// tensor's floats split into exponent, sign+top mantissa and remaining byte planes, each plane at its own entropy.

import { dtypeBytes } from '../../src/transform/dtypes.js';

function entropyBytes(counts: Float64Array, n: number): number {
  let bits = 0;
  for (const c of counts) if (c > 0) bits -= c * Math.log2(c / n);
  return bits / 8;
}

/** Bytes the order-0 plane bound allows for the whole file. */
export function planeBoundBytes(file: Uint8Array): number {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const n = Number(dv.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  let total = 8 + n;
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const W = dtypeBytes(t.dtype) ?? 1;
    const b = file.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]);
    const values = b.length / W;
    if (values === 0) continue;
    const planes = Array.from({ length: W }, () => new Float64Array(256));
    for (let i = 0; i < values; i++) {
      const o = i * W;
      if (W >= 2 && (t.dtype === 'F32' || t.dtype === 'BF16')) {
        const hi = b[o + W - 1];
        const lo = b[o + W - 2];
        planes[0][((hi & 0x7f) << 1) | (lo >> 7)]++; // exponent
        planes[1][(hi & 0x80) | (lo & 0x7f)]++; // sign + top 7 mantissa bits
        for (let k = 0; k < W - 2; k++) planes[2 + k][b[o + k]]++;
      } else for (let k = 0; k < W; k++) planes[k][b[o + k]]++;
    }
    for (const p of planes) total += entropyBytes(p, values);
  }
  return total;
}
