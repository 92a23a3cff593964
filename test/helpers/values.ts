// Tensor data for round-trip tests: every safetensors dtype, in value mixes that stress the plane transform
// (random bytes, gaussian weights, constant, all-zero, NaN/Inf/-0/denormal specials, 90% sparse).

import type { Rng } from './prng.js';

/** Bytes per value of each dtype wcodec knows (written out here, not imported, so the tests check the codec's table). */
export const DTYPE_WIDTH: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

export const ALL_DTYPES = Object.keys(DTYPE_WIDTH);

export const VALUE_MIXES = ['random', 'gaussian', 'constant', 'zero', 'special', 'sparse'] as const;
export type ValueMix = (typeof VALUE_MIXES)[number];

export { bf16Bits, f16Bits, f32Bits } from '../../tools/float-bits.js';
import { bf16Bits, f16Bits, f32Bits } from '../../tools/float-bits.js';

/** Special bit patterns per dtype: NaNs with several payloads, +/-Inf, -0, the smallest and largest denormals. */
const SPECIALS: Record<string, bigint[]> = {
  F64: [0x7ff8000000000000n, 0x7ff0000000000001n, 0xfff8000000000001n, 0x7fffffffffffffffn, 0x7ff0000000000000n, 0xfff0000000000000n, 0x8000000000000000n, 0x1n, 0x800fffffffffffffn, 0x0010000000000000n],
  F32: [0x7fc00000n, 0x7f800001n, 0xffc00001n, 0x7fffffffn, 0x7f800000n, 0xff800000n, 0x80000000n, 0x1n, 0x807fffffn, 0x00800000n],
  BF16: [0x7fc0n, 0x7f81n, 0xffc1n, 0x7fffn, 0x7f80n, 0xff80n, 0x8000n, 0x1n, 0x807fn, 0x0080n],
  F16: [0x7e00n, 0x7c01n, 0xfe01n, 0x7fffn, 0x7c00n, 0xfc00n, 0x8000n, 0x1n, 0x83ffn, 0x0400n],
  F8_E4M3: [0x7fn, 0xffn, 0x80n, 0x01n, 0x87n, 0x7en],
  F8_E5M2: [0x7dn, 0x7en, 0xffn, 0x7cn, 0xfcn, 0x80n, 0x01n, 0x83n],
  BOOL: [0n, 1n],
  U8: [0n, 0xffn], I8: [0x80n, 0x7fn],
  I16: [0x8000n, 0x7fffn, 0xffffn], U16: [0n, 0xffffn],
  I32: [0x80000000n, 0x7fffffffn, 0xffffffffn], U32: [0n, 0xffffffffn],
  I64: [0x8000000000000000n, 0x7fffffffffffffffn, 0xffffffffffffffffn], U64: [0n, 0xffffffffffffffffn],
};

function putValue(out: Uint8Array, i: number, W: number, v: bigint): void {
  for (let k = 0; k < W; k++) out[i * W + k] = Number((v >> BigInt(8 * k)) & 0xffn);
}

/** Bits of a "typical" value of `dtype` drawn from a gaussian (weights-like data). */
function gaussianValue(dtype: string, W: number, rng: Rng): bigint {
  const g = rng.gaussian() * 0.02;
  switch (dtype) {
    case 'BF16': return BigInt(bf16Bits(g));
    case 'F16': return BigInt(f16Bits(g));
    case 'F32': return BigInt(f32Bits(g));
    case 'F64': {
      const dv = new DataView(new ArrayBuffer(8));
      dv.setFloat64(0, g, true);
      return dv.getBigUint64(0, true);
    }
    case 'F8_E4M3':
    case 'F8_E5M2': // sign, then a narrow spread of exponents around the middle, random mantissa
      return BigInt((g < 0 ? 0x80 : 0) | (Math.min(0x7e, Math.max(0, Math.round(0x30 + rng.gaussian() * 6))) & 0x7f));
    case 'BOOL': return g > 0 ? 1n : 0n;
    default: { // integers: small values around 0 in two's complement (unsigned: around the middle of a byte)
      const v = BigInt(Math.round(rng.gaussian() * 40));
      return BigInt.asUintN(8 * W, dtype.startsWith('U') ? v + 128n : v);
    }
  }
}

/** `n` values of `dtype` (little-endian) in the given mix. Unknown dtypes are 1-byte values. */
export function makeValues(dtype: string, n: number, mix: ValueMix, rng: Rng): Uint8Array {
  const W = DTYPE_WIDTH[dtype] ?? 1;
  const out = new Uint8Array(n * W);
  switch (mix) {
    case 'random':
      out.set(dtype === 'BOOL' ? Uint8Array.from(rng.bytes(n), (b) => b & 1) : rng.bytes(n * W));
      break;
    case 'gaussian':
      for (let i = 0; i < n; i++) putValue(out, i, W, gaussianValue(dtype, W, rng));
      break;
    case 'constant': {
      const v = gaussianValue(dtype, W, rng) | 1n;
      for (let i = 0; i < n; i++) putValue(out, i, W, v);
      break;
    }
    case 'zero':
      break;
    case 'special': {
      // Specials interleaved with ordinary values, so each plane sees both.
      const sp = SPECIALS[dtype] ?? [0n, 0xffn, 0x80n];
      for (let i = 0; i < n; i++) putValue(out, i, W, i % 3 === 2 ? gaussianValue(dtype, W, rng) : sp[rng.int(sp.length)]);
      break;
    }
    case 'sparse':
      for (let i = 0; i < n; i++) if (rng.float() < 0.1) putValue(out, i, W, gaussianValue(dtype, W, rng));
      break;
  }
  return out;
}
