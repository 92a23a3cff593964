// Fuzz target of the value transforms' inverses (FORMAT.md §3.5.3): params and decoded streams of real forward
// outputs (quantized and sparse tensors of several dtypes), mutated, then inverted. An inverse may only reject them
// with CORRUPT_TRANSFORM or write some output of the right size: never another error, a crash or a hang; unmutated
// inputs give back the original bytes.

import { createHash } from 'node:crypto';
import { FormatError } from '../../src/errors.js';
import { TRANSFORMS, transformByCode } from '../../src/transform/transform-registry.js';
import type { TransformCandidate } from '../../src/transform/segment-transform.js';
import { bf16Bits, f16Bits, f32Bits, makeValues } from '../helpers/values.js';
import { Rng } from '../helpers/prng.js';
import { PropertyFailure } from './check.js';
import { mutate } from './mutate.js';
import type { FuzzTarget } from './targets.js';

/** One forward output and what it came from. */
interface TransformSeed {
  name: string;
  dtype: string;
  shape: number[];
  original: Uint8Array;
  candidate: TransformCandidate;
}

const DTYPES = ['BF16', 'F16', 'F32'] as const;

/** Values quantized per group (codes times a binary32 scale) and rounded to `dtype`, as quantizers produce. */
function quantized(dtype: (typeof DTYPES)[number], rows: number, cols: number, group: number, qmax: number, rng: Rng): Uint8Array {
  const W = dtype === 'F32' ? 4 : 2;
  const out = new Uint8Array(rows * cols * W);
  const dv = new DataView(out.buffer);
  for (let at = 0; at < rows * cols; at += group) {
    const w = Array.from({ length: group }, () => rng.gaussian() * 0.05);
    const scale = Math.fround(Math.max(...w.map(Math.abs)) / qmax);
    w.forEach((x, i) => {
      const v = Math.fround(Math.round(x / scale) * scale);
      if (W === 4) dv.setUint32((at + i) * 4, f32Bits(v), true);
      else dv.setUint16((at + i) * 2, dtype === 'BF16' ? bf16Bits(v) : f16Bits(v), true);
    });
  }
  return out;
}

let seeds: TransformSeed[] | undefined;

/** Forward outputs of every registered value transform over a few inputs each (built once, from a fixed seed). */
function transformSeeds(): TransformSeed[] {
  if (seeds) return seeds;
  const rng = new Rng(0x7f0a);
  const inputs: Omit<TransformSeed, 'candidate'>[] = [];
  for (const dtype of DTYPES) {
    inputs.push({ name: `${dtype} int8/row`, dtype, shape: [6, 40], original: quantized(dtype, 6, 40, 40, 127, rng) });
    inputs.push({ name: `${dtype} int4/g32`, dtype, shape: [4, 64], original: quantized(dtype, 4, 64, 32, 7, rng) });
  }
  for (const dtype of ['BF16', 'I8', 'F64', 'U16']) inputs.push({ name: `${dtype} sparse`, dtype, shape: [301], original: makeValues(dtype, 301, 'sparse', rng) });
  // Integers with neighbour structure (int-predict): a ramp and a noisy 2-D gradient with partial tiles.
  inputs.push({ name: 'I16 ramp', dtype: 'I16', shape: [700], original: new Uint8Array(Int16Array.from({ length: 700 }, (_, i) => 32500 + i).buffer) });
  inputs.push({ name: 'U8 image', dtype: 'U8', shape: [70, 80], original: Uint8Array.from({ length: 5600 }, (_, i) => (Math.floor(i / 80) + (i % 80) + rng.int(2)) & 0xff) });
  inputs.push({ name: 'I32 g_idx', dtype: 'I32', shape: [1, 512], original: new Uint8Array(Int32Array.from({ length: 512 }, (_, i) => i >> 5).buffer) });
  seeds = [];
  for (const input of inputs) {
    for (const t of TRANSFORMS) {
      const candidate = t.forward(input.original, input.dtype, input.shape);
      if (candidate) seeds.push({ ...input, name: `${t.name} of ${input.name}`, candidate });
    }
  }
  return seeds;
}

/** Serialised case: seed index u16, params length u32, params, then per stream a u32 length and its bytes. */
function pack(seed: number, params: Uint8Array, streams: Uint8Array[]): Uint8Array {
  const parts = [new Uint8Array(6), params, ...streams.flatMap((s) => [new Uint8Array(4), s])];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0) + 1);
  const dv = new DataView(out.buffer);
  dv.setUint16(0, seed, true);
  dv.setUint32(2, params.length, true);
  let at = 6;
  out.set(params, at);
  at += params.length;
  out[at++] = streams.length;
  for (const s of streams) {
    dv.setUint32(at, s.length, true);
    out.set(s, at + 4);
    at += 4 + s.length;
  }
  return out;
}

/** Inverse of pack: an unparseable case is the harness's own mistake, so it throws a plain Error. */
function unpack(b: Uint8Array): { seed: number; params: Uint8Array; streams: Uint8Array[] } {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const seed = dv.getUint16(0, true);
  const n = dv.getUint32(2, true);
  let at = 6;
  const params = b.slice(at, at + n);
  at += n;
  const count = b[at++];
  const streams: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const len = dv.getUint32(at, true);
    streams.push(b.slice(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return { seed, params, streams };
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The value transforms' inverses on mutated params and streams. */
export const transformTarget: FuzzTarget = {
  name: 'transform',
  description: 'value transforms (q-scale, zero-flags, int-predict): inverse on mutated params and decoded streams of real forward outputs; CORRUPT_TRANSFORM or output of the right size, unmutated inputs exact',
  codes: ['CORRUPT_TRANSFORM'],
  async make(rng) {
    const all = transformSeeds();
    const k = rng.int(all.length);
    const s = all[k];
    const params = s.candidate.params;
    const streams = s.candidate.streams.map((x) => x.bytes);
    const way = rng.int(8);
    if (way === 0) return { bytes: pack(k, params, streams), what: `${s.name}: unmutated` };
    if (way === 1) {
      const m = mutate(params, rng, [params]);
      return { bytes: pack(k, m.bytes, streams), what: `${s.name}: params ${m.what}` };
    }
    if (way === 2) {
      const drop = rng.int(streams.length);
      return { bytes: pack(k, params, streams.filter((_, j) => j !== drop)), what: `${s.name}: stream ${drop} dropped` };
    }
    const j = rng.int(streams.length);
    const m = mutate(streams[j], rng, streams);
    return { bytes: pack(k, params, streams.map((x, i) => (i === j ? m.bytes : x))), what: `${s.name}: stream ${j} ${m.what}` };
  },
  async run(input) {
    const { seed, params, streams } = unpack(input);
    const s = transformSeeds()[seed];
    const t = transformByCode(s.candidate.code)!;
    const out = new Uint8Array(s.original.length).fill(0xa5);
    try {
      t.inverse(params, streams, s.dtype, s.shape, out, { file: 'fuzz', offset: 0 });
    } catch (e) {
      if (e instanceof FormatError && e.code === 'CORRUPT_TRANSFORM') throw e;
      throw new PropertyFailure(`${t.name} inverse threw ${(e as Error).stack ?? e}`);
    }
    const same = sha(params) === sha(s.candidate.params) && streams.length === s.candidate.streams.length && streams.every((x, i) => sha(x) === sha(s.candidate.streams[i].bytes));
    if (same && sha(out) !== sha(s.original)) throw new PropertyFailure(`${t.name} inverse of an unmutated forward output differs from the original`);
    return out.length;
  },
};
