// QUANT_SCALE (FORMAT.md §3.5): forward/inverse reproduce every bit of quantized-then-dequantized tensors (INT8 per
// row, INT4 per group, into BF16/F16/F32, with -0, NaN, Inf and off-grid outliers escaped), find the group size, decline
// data that is not on a grid, and the inverse rejects inconsistent params and streams with CORRUPT_TRANSFORM.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { QUANT_ESCAPE, quantScaleTransform as T } from '../src/transform/quant-scale.js';
import { bf16FromF32Bits, f16FromF32Bits, f32BitsOf } from '../src/transform/float-narrow.js';
import { FormatError } from '../src/errors.js';
import { Rng, testSeed } from './helpers/prng.js';
import { bf16Bits, f16Bits, f32Bits, makeValues } from './helpers/values.js';

type Wide = 'BF16' | 'F16' | 'F32';
const WIDTH: Record<Wide, number> = { BF16: 2, F16: 2, F32: 4 };

/** Bits of binary32 value x in `dtype`, through the test helpers (an implementation independent of float-narrow). */
function dtypeBits(dtype: Wide, x: number): number {
  return dtype === 'BF16' ? bf16Bits(x) : dtype === 'F16' ? f16Bits(x) : f32Bits(x);
}

/**
 * Symmetric absmax quantization in groups of `group` values along rows, dequantized as fround(q x scale) into dtype,
 * as real quantizers (and tools/structured-cases.ts) do; JavaScript's Math.round keeps -0 for small negatives.
 */
function quantized(dtype: Wide, rows: number, cols: number, bits: number, group: number, rng: Rng, spread = 0.02): Uint8Array {
  const W = WIDTH[dtype];
  const out = new Uint8Array(rows * cols * W);
  const dv = new DataView(out.buffer);
  const qmax = 2 ** (bits - 1) - 1;
  for (let at = 0; at < rows * cols; at += group) {
    const w = Array.from({ length: group }, () => rng.gaussian() * spread);
    const absmax = w.reduce((a, x) => Math.max(a, Math.abs(x)), 0);
    const scale = Math.fround(absmax / qmax) || 1;
    w.forEach((x, i) => {
      const q = Math.min(qmax, Math.max(-qmax - 1, Math.round(x / scale)));
      const b = dtypeBits(dtype, Math.fround(q * scale));
      if (W === 2) dv.setUint16((at + i) * 2, b, true);
      else dv.setUint32((at + i) * 4, b, true);
    });
  }
  return out;
}

/** Forward then inverse into a poisoned buffer; asserts the bytes are identical. @returns the candidate */
function roundTrip(data: Uint8Array, dtype: string, shape: number[]): ReturnType<typeof T.forward> {
  const c = T.forward(data, dtype, shape);
  if (!c) return c;
  const out = new Uint8Array(data.length).fill(0xa5);
  T.inverse(c.params, c.streams.map((s) => s.bytes), dtype, shape, out, { offset: 0 });
  assert.deepEqual(out, data, `${dtype} ${shape}: inverse differs from the input`);
  return c;
}

const escapes = (codes: Uint8Array): number => codes.reduce((a, c) => a + (c === (QUANT_ESCAPE & 0xff) ? 1 : 0), 0);
const groupOf = (params: Uint8Array): number => new DataView(params.buffer, params.byteOffset).getUint32(4, true);

describe('float narrowing', () => {
  test('bf16FromF32Bits and f16FromF32Bits agree with the test helpers on random, boundary and special binary32 values', () => {
    const rng = new Rng(testSeed(71));
    const cases: number[] = [0, 0x80000000, 0x7f800000, 0xff800000, 0x7f7fffff, 0x00000001, 0x33000000, 0x33000001, 0x387fe000, 0x477fe000, 0x477ff000];
    for (let i = 0; i < 200_000; i++) cases.push(rng.u32());
    for (let e = 0; e < 256; e++) for (const low of [0x7fff, 0x8000, 0x8001, 0x18000, 0xfff, 0x1000, 0x1001, 0x3000]) cases.push(((e << 23) | low) >>> 0);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (const b of cases) {
      u[0] = b;
      if (Number.isNaN(f[0])) continue; // NaN payloads are not carried through a JavaScript number
      assert.equal(bf16FromF32Bits(b), bf16Bits(f[0]), `bf16 of 0x${b.toString(16)}`);
      assert.equal(f16FromF32Bits(b), f16Bits(f[0]), `f16 of 0x${b.toString(16)}`);
      assert.equal(f32BitsOf(f[0]), b);
    }
  });
});

describe('QUANT_SCALE forward/inverse', () => {
  const rng = new Rng(testSeed(72));
  for (const dtype of ['BF16', 'F16', 'F32'] as const) {
    for (const [bits, group, cols] of [[8, 'row', 256], [8, 'row', 768], [4, 128, 256], [4, 32, 96], [8, 64, 192]] as const) {
      test(`${dtype} INT${bits} per ${group} (${cols} columns): exact, codes only, the quantizer's group size found`, () => {
        const rows = 24;
        const g = group === 'row' ? cols : group;
        // F16 holds less range: smaller weights would make the smallest codes subnormal, which still reconstruct.
        const data = quantized(dtype, rows, cols, bits, g, rng, dtype === 'F16' ? 0.5 : 0.02);
        const c = roundTrip(data, dtype, [rows, cols]);
        assert.ok(c, 'forward declined a quantized tensor');
        assert.equal(c.streams[0].bytes.length, rows * cols);
        // -0 (a small negative weight rounded to code 0) is the only value the codes cannot carry.
        const v = new DataView(data.buffer);
        let negZeros = 0;
        for (let i = 0; i < rows * cols; i++) if ((WIDTH[dtype] === 2 ? v.getUint16(i * 2, true) : v.getUint32(i * 4, true)) === (WIDTH[dtype] === 2 ? 0x8000 : 0x80000000)) negZeros++;
        assert.equal(escapes(c.streams[0].bytes), negZeros);
        assert.equal(c.streams[2].bytes.length, negZeros * WIDTH[dtype]);
        assert.equal(groupOf(c.params), g, 'group size');
        assert.equal(c.streams[1].bytes.length, ((rows * cols) / g) * 4);
      });
    }
  }

  test('specials and off-grid outliers are escaped, the rest still coded', () => {
    for (const dtype of ['BF16', 'F16', 'F32'] as const) {
      const W = WIDTH[dtype];
      const data = quantized(dtype, 16, 256, 8, 256, rng, dtype === 'F16' ? 0.5 : 0.02);
      const specials = makeValues(dtype, 64, 'special', rng);
      for (let k = 0; k < 64; k++) data.set(specials.subarray(k * W, (k + 1) * W), rng.int(16 * 256) * W);
      const c = roundTrip(data, dtype, [16, 256]);
      assert.ok(c);
      const e = escapes(c.streams[0].bytes);
      assert.ok(e > 0 && e < 16 * 256 * 0.1, `${dtype}: ${e} escapes`);
    }
  });

  test('sizes: odd rows, one row, 1-D, rank 3; empty and ragged shapes, and grids of a scale per value, are declined', () => {
    for (const [shape, bits] of [[[3, 7], 8], [[1, 300], 8], [[129], 4], [[2, 3, 64], 4]] as [number[], number][]) {
      const n = shape.reduce((a, b) => a * b, 1);
      const cols = shape[shape.length - 1];
      const data = quantized('BF16', n / cols, cols, bits, cols, rng);
      const c = roundTrip(data, 'BF16', [...shape]);
      assert.ok(c, `${shape}`);
    }
    assert.equal(T.forward(new Uint8Array(0), 'BF16', [0, 4]), undefined);
    // One value, or rows of one value: a 32-bit scale per value costs more than the values themselves.
    assert.equal(T.forward(quantized('BF16', 1, 1, 8, 1, rng), 'BF16', [1]), undefined, 'one value');
    assert.equal(T.forward(quantized('F16', 64, 1, 8, 1, rng), 'F16', [64, 1]), undefined, 'rows of one value');
    assert.ok(roundTrip(new Uint8Array(6), 'BF16', [3]), 'three zeros');
    assert.equal(T.forward(new Uint8Array(3), 'BF16', [1]), undefined, 'not whole values');
    assert.equal(T.forward(new Uint8Array(16), 'I8', [16]), undefined, 'not a wide float');
  });

  test('a long vector with one scale is coded in groups of at most 65536 values (bounded scratch); a length no group divides is declined', () => {
    const n = 3 * 65536;
    const data = quantized('BF16', 1, n, 8, n, rng);
    const c = roundTrip(data, 'BF16', [n]);
    assert.ok(c);
    assert.equal(groupOf(c.params), 65536);
    assert.equal(T.forward(quantized('BF16', 1, 65537 + 2 * 4, 8, 65537 + 2 * 4, rng), 'BF16', [65545]), undefined, '65545 = 5 x 13109: no group divides it');
  });

  test('all-zero tensors code as zeros; unquantized weights and random bits are declined', () => {
    const z = roundTrip(new Uint8Array(2 * 512), 'BF16', [2, 256]);
    assert.ok(z);
    assert.equal(escapes(z.streams[0].bytes), 0);
    for (const dtype of ['BF16', 'F16', 'F32']) {
      assert.equal(T.forward(makeValues(dtype, 64 * 256, 'gaussian', rng), dtype, [64, 256]), undefined, `${dtype} gaussian`);
      assert.equal(T.forward(makeValues(dtype, 64 * 256, 'random', rng), dtype, [64, 256]), undefined, `${dtype} random`);
    }
  });

  test('deterministic: the same input gives the same params and streams', () => {
    const data = quantized('BF16', 32, 256, 4, 128, rng);
    const a = T.forward(data, 'BF16', [32, 256])!;
    const b = T.forward(data.slice(), 'BF16', [32, 256])!;
    assert.deepEqual(a, b);
  });
});

describe('QUANT_SCALE inverse rejects inconsistent params and streams', () => {
  const rng = new Rng(testSeed(73));
  const data = quantized('BF16', 4, 64, 8, 64, rng);
  data.set([0x00, 0x80], 2); // one -0: one escape
  const c = T.forward(data, 'BF16', [4, 64])!;
  const streams = c.streams.map((s) => s.bytes);
  const expectCorrupt = (params: Uint8Array, s: Uint8Array[], what: string, dtype = 'BF16', outBytes = data.length): void => {
    assert.throws(
      () => T.inverse(params, s, dtype, [4, 64], new Uint8Array(outBytes), { file: 'x.wcodec', offset: 77 }),
      (e: unknown) => e instanceof FormatError && e.code === 'CORRUPT_TRANSFORM' && e.offset === 77 && e.file === 'x.wcodec',
      what,
    );
  };
  const withParam = (k: number, v: number): Uint8Array => {
    const p = c.params.slice();
    p[k] = v;
    return p;
  };
  test('each inconsistency', () => {
    assert.ok(c);
    expectCorrupt(c.params.subarray(0, 7), streams, 'short params');
    expectCorrupt(new Uint8Array([...c.params, 0]), streams, 'long params');
    for (let k = 0; k < 4; k++) expectCorrupt(withParam(k, 1), streams, `reserved byte ${k}`);
    expectCorrupt(new Uint8Array(8), streams, 'group 0');
    expectCorrupt(withParam(4, 65), streams, 'group 65 does not divide 256');
    expectCorrupt(c.params, streams.slice(0, 2), 'two streams');
    expectCorrupt(c.params, [...streams, new Uint8Array(0)], 'four streams');
    expectCorrupt(c.params, [streams[0].subarray(1), streams[1], streams[2]], 'codes short');
    expectCorrupt(c.params, [streams[0], streams[1].subarray(4), streams[2]], 'scales short');
    expectCorrupt(c.params, [streams[0], streams[1], streams[2].subarray(2)], 'exceptions short');
    expectCorrupt(c.params, [streams[0], streams[1], new Uint8Array(4)], 'exceptions long');
    const nan = streams[1].slice();
    nan.set([0, 0, 0xc0, 0x7f], 4);
    expectCorrupt(c.params, [streams[0], nan, streams[2]], 'NaN scale');
    const inf = streams[1].slice();
    inf.set([0, 0, 0x80, 0xff], 0);
    expectCorrupt(c.params, [streams[0], inf, streams[2]], '-Inf scale');
    expectCorrupt(c.params, streams, 'dtype I8', 'I8');
    expectCorrupt(c.params, streams, 'odd output size', 'BF16', data.length + 1);
  });
});
