// ZERO_FLAGS (FORMAT.md §3.5.3): forward/inverse are exact over every dtype, sizes around the flag bytes' edges and
// value mixes (-0 and NaN are not zeros); forward declines dense data; the inverse rejects inconsistent params and
// streams with CORRUPT_TRANSFORM.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { zeroFlagsTransform as T } from '../src/transform/zero-flags.js';
import { FormatError } from '../src/errors.js';
import { Rng, testSeed } from './helpers/prng.js';
import { ALL_DTYPES, DTYPE_WIDTH, makeValues } from './helpers/values.js';

describe('ZERO_FLAGS forward/inverse', () => {
  const rng = new Rng(testSeed(81));
  for (const dtype of [...ALL_DTYPES, 'X_UNKNOWN']) {
    test(`${dtype}: exact over sizes 1..17, 1000, 65537 and sparse, zero, special mixes`, () => {
      const W = DTYPE_WIDTH[dtype] ?? 1;
      for (const n of [1, 2, 7, 8, 9, 15, 16, 17, 1000, 65537]) {
        for (const mix of ['sparse', 'zero', 'special'] as const) {
          const data = makeValues(dtype, n, mix, rng);
          const c = T.forward(data, dtype, [n]);
          let zeros = 0;
          for (let i = 0; i < n; i++) if (data.subarray(i * W, (i + 1) * W).every((b) => b === 0)) zeros++;
          if (zeros < n / 8) {
            assert.equal(c, undefined, `${dtype} ${mix} n=${n}: dense data declined`);
            continue;
          }
          assert.ok(c, `${dtype} ${mix} n=${n}`);
          assert.equal(c.streams[0].bytes.length, Math.ceil(n / 8));
          assert.equal(c.streams[1].bytes.length, (n - zeros) * W);
          const out = new Uint8Array(data.length).fill(0xa5);
          T.inverse(c.params, c.streams.map((s) => s.bytes), dtype, [n], out, { offset: 0 });
          assert.deepEqual(out, data, `${dtype} ${mix} n=${n}`);
        }
      }
    });
  }

  test('-0 is kept as a value, not a zero; empty and ragged inputs are declined', () => {
    const data = new Uint8Array([0, 0x80, 0, 0, 0, 0, 0, 0]);
    const c = T.forward(data, 'BF16', [4])!;
    assert.deepEqual(c.streams[0].bytes, new Uint8Array([1]));
    assert.deepEqual(c.streams[1].bytes, new Uint8Array([0, 0x80]));
    assert.equal(T.forward(new Uint8Array(0), 'BF16', [0]), undefined);
    assert.equal(T.forward(new Uint8Array(3), 'BF16', [1]), undefined);
    assert.equal(T.forward(makeValues('F32', 4096, 'random', rng), 'F32', [4096]), undefined);
  });

  test('deterministic', () => {
    const data = makeValues('BF16', 5000, 'sparse', rng);
    assert.deepEqual(T.forward(data, 'BF16', [5000]), T.forward(data.slice(), 'BF16', [5000]));
  });
});

describe('ZERO_FLAGS inverse rejects inconsistent params and streams', () => {
  const rng = new Rng(testSeed(82));
  const n = 37;
  const data = makeValues('BF16', n, 'sparse', rng);
  data.set([1, 0], 0); // value 0 non-zero, so the values stream is not empty
  const c = T.forward(data, 'BF16', [n])!;
  const [flags, values] = c.streams.map((s) => s.bytes);
  const expectCorrupt = (params: Uint8Array, s: Uint8Array[], what: string, outBytes = data.length): void => {
    assert.throws(
      () => T.inverse(params, s, 'BF16', [n], new Uint8Array(outBytes), { file: 'z.wcodec', offset: 9 }),
      (e: unknown) => e instanceof FormatError && e.code === 'CORRUPT_TRANSFORM' && e.offset === 9 && e.file === 'z.wcodec',
      what,
    );
  };
  test('each inconsistency', () => {
    expectCorrupt(new Uint8Array(1), [flags, values], 'params not empty');
    expectCorrupt(c.params, [flags], 'one stream');
    expectCorrupt(c.params, [flags, values, values], 'three streams');
    expectCorrupt(c.params, [flags.subarray(1), values], 'flags short');
    expectCorrupt(c.params, [new Uint8Array([...flags, 0]), values], 'flags long');
    const padding = flags.slice();
    padding[padding.length - 1] |= 0x80; // bit 39 > n = 37
    expectCorrupt(c.params, [padding, new Uint8Array([...values, 1, 2])], 'a flag past the end');
    expectCorrupt(c.params, [flags, values.subarray(2)], 'values short');
    expectCorrupt(c.params, [flags, new Uint8Array([...values, 0, 0])], 'values long');
    expectCorrupt(c.params, [flags, values], 'odd output size', data.length + 1);
  });
});
