// INT_PREDICT (FORMAT.md §3.5.3.3): forward/inverse are exact for every integer dtype on ramps, index tensors, smooth
// matrices with noise and wrap-around extremes, at odd sizes and partial tiles; the predictor that fits is picked;
// weights-like and random integers are declined; the inverse rejects inconsistent params and streams.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PREDICT_LEFT, PREDICT_TOP, intPredictTransform as T } from '../src/transform/int-predict.js';
import { FormatError } from '../src/errors.js';
import { Rng, testSeed } from './helpers/prng.js';
import { makeValues } from './helpers/values.js';

const INTS = { I8: [1, true], U8: [1, false], I16: [2, true], U16: [2, false], I32: [4, true], U32: [4, false] } as const;
type Int = keyof typeof INTS;

/** Little-endian bytes of integer values, wrapped into the dtype's range. */
function encode(dtype: Int, values: number[]): Uint8Array {
  const [W] = INTS[dtype];
  const out = new Uint8Array(values.length * W);
  values.forEach((v, i) => {
    let u = v % 2 ** (8 * W);
    if (u < 0) u += 2 ** (8 * W);
    for (let k = 0; k < W; k++) out[i * W + k] = Math.floor(u / 2 ** (8 * k)) & 0xff;
  });
  return out;
}

function roundTrip(data: Uint8Array, dtype: string, shape: number[]): ReturnType<typeof T.forward> {
  const c = T.forward(data, dtype, shape);
  if (!c) return c;
  const out = new Uint8Array(data.length).fill(0xa5);
  T.inverse(c.params, c.streams.map((s) => s.bytes), dtype, shape, out, { offset: 0 });
  assert.deepEqual(out, data, `${dtype} ${shape}`);
  return c;
}

describe('INT_PREDICT forward/inverse', () => {
  const rng = new Rng(testSeed(91));
  for (const dtype of Object.keys(INTS) as Int[]) {
    test(`${dtype}: ramps, index tensors, smooth matrices and wrap-around, exact at odd sizes and partial tiles`, () => {
      const [W, signed] = INTS[dtype];
      const top = 2 ** (8 * W - (signed ? 1 : 0)) - 1;
      // A ramp along rows (left predicts), wrapping past the dtype's maximum.
      const ramp = Array.from({ length: 5000 }, (_, i) => top - 2500 + i);
      const c1 = roundTrip(encode(dtype, ramp), dtype, [5000]);
      assert.ok(c1, 'ramp declined');
      assert.ok(c1.streams[0].bytes.every((p) => p === PREDICT_LEFT), 'a ramp is predicted from the left');
      // Index tensor (GPTQ g_idx: i / 128).
      const gidx = Array.from({ length: 1000 }, (_, i) => Math.floor(i / 128));
      assert.ok(roundTrip(encode(dtype, gidx), dtype, [1000]), 'g_idx declined');
      // Columns constant down the rows with small noise (top predicts), 70 x 131: partial tiles both ways.
      const colBase = Array.from({ length: 131 }, () => rng.int(100));
      const cols = Array.from({ length: 70 * 131 }, (_, i) => colBase[i % 131] + (rng.int(3) - 1));
      const c2 = roundTrip(encode(dtype, cols), dtype, [70, 131]);
      assert.ok(c2, 'column structure declined');
      assert.ok(c2.streams[0].bytes.includes(PREDICT_TOP), 'columns are predicted from the top');
      // A smooth 2-D field (planar/average) with extremes mixed in.
      const field = Array.from({ length: 65 * 65 }, (_, i) => Math.floor(i / 65) * 3 + (i % 65) * 2 + (i % 97 === 0 ? top : 0));
      assert.ok(roundTrip(encode(dtype, field), dtype, [5, 13, 65]), 'field declined');
      for (const n of [1, 2, 3, 63, 64, 65, 4097]) roundTrip(encode(dtype, Array.from({ length: n }, (_, i) => i * 7)), dtype, [n]);
    });
  }

  test('weights-like and random integers, empty and ragged inputs, other dtypes are declined', () => {
    for (const dtype of Object.keys(INTS)) {
      assert.equal(T.forward(makeValues(dtype, 256 * 64, 'random', rng), dtype, [256, 64]), undefined, `${dtype} random`);
      assert.equal(T.forward(makeValues(dtype, 256 * 64, 'gaussian', rng), dtype, [256, 64]), undefined, `${dtype} gaussian`);
    }
    assert.equal(T.forward(new Uint8Array(0), 'I8', [0]), undefined);
    assert.equal(T.forward(new Uint8Array(3), 'I16', [1]), undefined);
    assert.equal(T.forward(encode('I32', [1, 2, 3, 4]), 'F32', [4]), undefined);
    assert.equal(T.forward(encode('I8', Array.from({ length: 10 }, (_, i) => i)), 'I8', [3, 4]), undefined, 'shape disagrees with size');
  });

  test('deterministic', () => {
    const data = encode('I16', Array.from({ length: 9000 }, (_, i) => (i * 13) % 1000));
    assert.deepEqual(T.forward(data, 'I16', [90, 100]), T.forward(data.slice(), 'I16', [90, 100]));
  });
});

describe('INT_PREDICT inverse rejects inconsistent params and streams', () => {
  const data = encode('I16', Array.from({ length: 300 }, (_, i) => i));
  const c = T.forward(data, 'I16', [300])!;
  const [pred, res] = c.streams.map((s) => s.bytes);
  const expectCorrupt = (params: Uint8Array, s: Uint8Array[], what: string, dtype = 'I16', shape = [300], outBytes = data.length): void => {
    assert.throws(
      () => T.inverse(params, s, dtype, shape, new Uint8Array(outBytes), { file: 'p.wcodec', offset: 5 }),
      (e: unknown) => e instanceof FormatError && e.code === 'CORRUPT_TRANSFORM' && e.offset === 5 && e.file === 'p.wcodec',
      what,
    );
  };
  test('each inconsistency', () => {
    assert.ok(c);
    expectCorrupt(c.params.subarray(0, 7), [pred, res], 'short params');
    expectCorrupt(new Uint8Array(8), [pred, res], 'zero tile');
    const tall = c.params.slice();
    tall[4] = 1; // tileCols 1 (+ 4096 * 256 carried away): 300 tiles, not 1
    tall[5] = 0;
    expectCorrupt(tall, [pred, res], 'tile count');
    expectCorrupt(c.params, [pred], 'one stream');
    expectCorrupt(c.params, [pred, res, res], 'three streams');
    expectCorrupt(c.params, [new Uint8Array([5]), res], 'predictor 5');
    expectCorrupt(c.params, [pred, res.subarray(2)], 'residuals short');
    expectCorrupt(c.params, [pred, res], 'dtype F16', 'F16');
    expectCorrupt(c.params, [pred, res], 'odd size', 'I16', [300], data.length + 1);
    expectCorrupt(c.params, [pred, res], 'last dimension does not divide', 'I16', [7, 7]);
  });
});
