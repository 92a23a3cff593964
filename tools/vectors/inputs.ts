// Deterministic inputs for the test vectors (tools/make-vectors.ts): a seeded PRNG, float encoders that use only
// exact IEEE operations (no Math.log/sin, so every engine produces the same bytes) and a safetensors builder.

/** mulberry32: a 32-bit PRNG with integer arithmetic only. One instance per vector, seeded from its name. */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** A PRNG seeded with the FNV-1a hash of `name`: adding a vector never changes another vector's data. */
  static forName(name: string): Prng {
    let h = 0x811c9dc5;
    for (const ch of new TextEncoder().encode(name)) h = Math.imul(h ^ ch, 0x01000193) >>> 0;
    return new Prng(h);
  }
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  uniform(): number {
    return this.u32() / 2 ** 32;
  }
  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor(this.uniform() * n);
  }
  /** Gaussian-ish: Irwin-Hall sum of 4 uniforms, centred, unit variance (only + and *: exact everywhere). */
  gauss(): number {
    return (this.uniform() + this.uniform() + this.uniform() + this.uniform() - 2) * 1.7320508075688772;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() >>> 24;
    return out;
  }
}

export { bf16Bits, f16Bits, f32Bits } from '../float-bits.js';
import { bf16Bits, f16Bits, f32Bits } from '../float-bits.js';

/** Bytes per value of an integer array written by `le`. */
export type Width = 1 | 2 | 4 | 8;

/** Little-endian bytes of unsigned integers of `width` bytes (bigint for 8-byte values). */
export function le(width: Width, values: ArrayLike<number | bigint>): Uint8Array {
  const out = new Uint8Array(values.length * width);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (width === 8) dv.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(v)), true);
    else if (width === 4) dv.setUint32(i * 4, Number(v) >>> 0, true);
    else if (width === 2) dv.setUint16(i * 2, Number(v) & 0xffff, true);
    else dv.setUint8(i, Number(v) & 0xff);
  }
  return out;
}

/** Little-endian F32, BF16, F16 and F64 bytes of `xs`. */
export const f32s = (xs: number[]): Uint8Array => le(4, xs.map(f32Bits));
export const bf16s = (xs: number[]): Uint8Array => le(2, xs.map(bf16Bits));
export const f16s = (xs: number[]): Uint8Array => le(2, xs.map(f16Bits));
export const f64s = (xs: number[]): Uint8Array => {
  const out = new Uint8Array(xs.length * 8);
  const dv = new DataView(out.buffer);
  xs.forEach((x, i) => dv.setFloat64(i * 8, x, true));
  return out;
};
/** [f(0), ..., f(n-1)]. */
export const times = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

/** One tensor of a safetensors file to build. */
export interface TensorInput {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/**
 * Builds a safetensors file: tensors' data in the given order, header keys in `headerOrder` (default: data order),
 * header padded with spaces to an 8-byte boundary as the safetensors library does.
 */
export function buildSafetensors(tensors: TensorInput[], metadata?: Record<string, string>, headerOrder?: string[]): Uint8Array {
  const entries: Record<string, unknown> = {};
  const offsets = new Map<string, [number, number]>();
  let at = 0;
  for (const t of tensors) {
    offsets.set(t.name, [at, at + t.data.length]);
    at += t.data.length;
  }
  if (metadata) entries.__metadata__ = metadata;
  for (const name of headerOrder ?? tensors.map((t) => t.name)) {
    const t = tensors.find((x) => x.name === name)!;
    entries[name] = { dtype: t.dtype, shape: t.shape, data_offsets: offsets.get(name) };
  }
  let json = JSON.stringify(entries);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let o = 8 + head.length;
  for (const t of tensors) {
    out.set(t.data, o);
    o += t.data.length;
  }
  return out;
}

/** A Hugging Face-style config.json, the non-tensor file of the byte and folder vectors. */
export const CONFIG_JSON = `${JSON.stringify(
  {
    architectures: ['LlamaForCausalLM'],
    hidden_size: 64,
    intermediate_size: 172,
    num_attention_heads: 8,
    num_hidden_layers: 5,
    num_key_value_heads: 4,
    rms_norm_eps: 1e-5,
    torch_dtype: 'bfloat16',
    vocab_size: 512,
  },
  null,
  2,
)}\n`;

/** The specials of each float format, as bit patterns: zeros, infinities, NaNs (quiet, signalling, payload, negative), subnormals, extremes, ±1. */
export const SPECIAL_F32 = [0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001, 0x7fa5a5a5, 0x00000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0xff7fffff, 0x3f800000, 0xbf800000];
export const SPECIAL_BF16 = [0x0000, 0x8000, 0x7f80, 0xff80, 0x7fc0, 0xffc0, 0x7f81, 0x7fa5, 0x0001, 0x007f, 0x0080, 0x7f7f, 0xff7f, 0x3f80, 0xbf80];
export const SPECIAL_F16 = [0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0xfe00, 0x7c01, 0x7d55, 0x0001, 0x03ff, 0x0400, 0x7bff, 0xfbff, 0x3c00, 0xbc00];
export const SPECIAL_F64 = [
  0x0000000000000000n, 0x8000000000000000n, 0x7ff0000000000000n, 0xfff0000000000000n, 0x7ff8000000000000n, 0xfff8000000000000n,
  0x7ff0000000000001n, 0x7ff5a5a5a5a5a5a5n, 0x0000000000000001n, 0x000fffffffffffffn, 0x0010000000000000n, 0x7fefffffffffffffn,
  0xffefffffffffffffn, 0x3ff0000000000000n, 0xbff0000000000000n,
];

/** Values on a grid: round(gauss * q) / 128, the shape of weights quantised to a few levels and stored as floats. */
export const gridValues = (rng: Prng, n: number, q: number): number[] => times(n, () => Math.round(rng.gauss() * q) / 128);

/** Sparse values: `rate` of them nonzero (drawn from a small set), the rest +0. */
export const sparseBf16 = (rng: Prng, n: number, rate: number): Uint8Array =>
  le(2, times(n, () => (rng.uniform() < rate ? bf16Bits((rng.below(7) - 3) / 16 || 0.5) : 0)));
