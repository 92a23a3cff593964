// The reference lossy variants (src/lossy/reference-quantizers.ts) on small cases worked out by hand: ties in
// rounding, clamping, zero blocks, E4M3 saturation and subnormals, BF16 rounding of the result, pruning ties.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyLossyVariant,
  pruneByMagnitude,
  quantizeFp8E4M3PerTensor,
  quantizeInt4Groups,
  quantizeInt8PerRow,
  roundHalfEven,
  roundToBf16,
  roundToE4M3,
} from '../src/lossy/reference-quantizers.js';

const f32 = (xs: number[]): Float32Array => Float32Array.from(xs);

test('roundHalfEven rounds ties to the even neighbour, on both sides of zero', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001, -3.5, 7].map(roundHalfEven), [0, 2, 2, -0, -2, -2, 2, 3, -4, 7]);
});

test('roundToBf16: nearest, ties to even', () => {
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7 (bfloat16 keeps 7 fraction bits): to 1 (even). 1 + 3·2^-8: to 1 + 2^-6.
  assert.equal(roundToBf16(1 + 2 ** -8), 1);
  assert.equal(roundToBf16(1 + 3 * 2 ** -8), 1 + 2 ** -6);
  assert.equal(roundToBf16(1 + 2 ** -8 + 2 ** -20), 1 + 2 ** -7);
  assert.equal(roundToBf16(-1.00390625), -1);
});

test('int8 per row: scale absmax/127, ties to even, zero rows stay zero, result in BF16', () => {
  // Row 0: absmax 127, scale 1: 2.5 -> 2, 3.5 -> 4, -0.5 -> -0 (printed as 0), 127 stays.
  // Row 1: all zero. Row 2: absmax 254, scale 2: 3 -> 1.5 -> 2 -> 4; 5 -> 2.5 -> 2 -> 4; -254 -> -127 -> -254.
  const out = quantizeInt8PerRow(f32([2.5, 3.5, -0.5, 127, 0, 0, 0, 0, 3, 5, 1, -254]), 3, 4);
  assert.deepEqual(Array.from(out, (v) => v + 0), [2, 4, 0, 127, 0, 0, 0, 0, 4, 4, 0, -254]);
  // The dequantized value is rounded to BF16: absmax 1 gives scale 1/127, and 0.3·127 = 38.1 -> 38 -> 38/127 = 0.29921...
  const one = quantizeInt8PerRow(f32([1, 0.3]), 1, 2);
  assert.equal(one[0], 1);
  assert.equal(one[1], roundToBf16(Math.fround(38 * Math.fround(1 / 127))));
  assert.notEqual(one[1], Math.fround(38 * Math.fround(1 / 127)));
});

test('int4 in groups of 128 along a row: each group its own scale, clamp to [-8, 7], a short last group', () => {
  const cols = 130;
  const v = new Float32Array(2 * cols);
  v[0] = 7; // group 0 of row 0: scale 1
  v[1] = 3.5; // -> 4 (tie to even)
  v[2] = 2.5; // -> 2
  v[128] = -14; // group 1 of row 0 (2 values): scale 2, -14 -> -7
  v[129] = 5; // 2.5 -> 2 -> 4
  v[cols] = 0.7; // row 1, group 0: scale 0.1 (binary32), 0.7 / 0.1 -> 7
  const out = quantizeInt4Groups(v, 2, cols);
  assert.deepEqual([out[0], out[1], out[2], out[3], out[128], out[129]], [7, 4, 2, 0, -14, 4]);
  assert.equal(out[cols], roundToBf16(Math.fround(7 * Math.fround(0.7 / 7))));
  assert.deepEqual(out.subarray(cols + 1, 2 * cols), new Float32Array(cols - 1));
  // -8 is in range but never reached by absmax/7 scaling: the most negative value maps to -7.
  assert.equal(quantizeInt4Groups(f32([-1, 1]), 1, 2)[0], -1);
});

test('roundToE4M3: 3 mantissa bits, ties to even, subnormals in steps of 2^-9, saturation at 448', () => {
  assert.equal(roundToE4M3(1.0625), 1); // halfway between 1 and 1.125: to 1 (even)
  assert.equal(roundToE4M3(1.1875), 1.25); // halfway between 1.125 and 1.25: to 1.25 (even)
  assert.equal(roundToE4M3(1.07), 1.125);
  assert.equal(roundToE4M3(-3.3), -3.25);
  assert.equal(roundToE4M3(15.5), 16); // 15 = 1.875·2^3, next 16: tie to even rounds up into the next binade
  assert.equal(roundToE4M3(448), 448);
  assert.equal(roundToE4M3(460), 448); // below the midpoint 464
  assert.equal(roundToE4M3(464), 448); // the midpoint: to even (448 = 1.75·2^8, mantissa 110)
  assert.equal(roundToE4M3(1000), 448); // saturates (E4M3 has no infinity)
  assert.equal(roundToE4M3(-1e9), -448);
  assert.equal(roundToE4M3(2 ** -6), 2 ** -6); // smallest normal
  assert.equal(roundToE4M3(3 * 2 ** -10), 2 ** -8); // subnormal tie 1.5·2^-9: to 2·2^-9
  assert.equal(roundToE4M3(5 * 2 ** -10), 2 * 2 ** -9); // 2.5·2^-9: to 2·2^-9
  assert.equal(roundToE4M3(2 ** -10), 0); // half the smallest subnormal: to 0 (even)
  assert.equal(roundToE4M3(1.01 * 2 ** -10), 2 ** -9);
  assert.ok(Object.is(roundToE4M3(-(2 ** -12)), -0));
  assert.ok(Number.isNaN(roundToE4M3(NaN)));
});

test('fp8 e4m3 per tensor: one scale absmax/448 for the whole tensor, result in BF16', () => {
  // absmax 896: scale 2; 896 -> 448 -> 896; 3 -> 1.5 -> 1.5; 2.25 -> 1.125 -> 2.25; 2.125 -> 1.0625 -> 1 (tie) -> 2.
  assert.deepEqual(Array.from(quantizeFp8E4M3PerTensor(f32([896, 3, 2.25, 2.125, -896]))), [896, 3, 2.25, 2, -896]);
  assert.deepEqual(quantizeFp8E4M3PerTensor(f32([0, 0])), f32([0, 0]));
  // A scale that is not a power of two: the product is rounded to BF16.
  const v = quantizeFp8E4M3PerTensor(f32([1, 0.3]));
  const scale = Math.fround(1 / 448);
  assert.equal(v[1], roundToBf16(Math.fround(roundToE4M3(Math.fround(0.3 / scale)) * scale)));
});

test('pruning: floor(0.3 n) smallest magnitudes, and every entry tied with the k-th smallest', () => {
  // n = 10, k = 3; magnitudes sorted: 0.1, 0.2, 0.2, 0.2, ...: the 3rd smallest is 0.2, so all three 0.2s go (4 zeros).
  const out = pruneByMagnitude(f32([0.5, -0.2, 0.1, 0.9, 0.2, -0.7, 0.3, -0.2, 0.8, 0.6]));
  assert.deepEqual(Array.from(out, (v) => v + 0), [0.5, 0, 0, 0.9, 0, -0.7, 0.3, 0, 0.8, 0.6].map(Math.fround));
  // No ties: exactly k. -0 and +0 have the same magnitude. Results are +0.
  const noTies = pruneByMagnitude(f32([4, -3, 2, -1, 0, 5, 6, 7, 8, 9]));
  assert.deepEqual(Array.from(noTies), [4, -3, 0, 0, 0, 5, 6, 7, 8, 9]);
  assert.ok(Object.is(pruneByMagnitude(f32([-1, 5, 6, 7]), 0.25)[0], 0));
  // n = 3: floor(0.9) = 0, nothing pruned; NaN is never pruned.
  assert.deepEqual(pruneByMagnitude(f32([1, 2, 3])), f32([1, 2, 3]));
  assert.ok(Number.isNaN(pruneByMagnitude(f32([NaN, 1, 2, 3]), 0.5)[0]));
  // Magnitudes that agree in their top 16 bits and differ below (the second histogram decides).
  const close = f32([1 + 2 ** -20, 1 + 2 ** -22, 1 + 2 ** -21, 1]);
  assert.deepEqual(pruneByMagnitude(close, 0.5), f32([1 + 2 ** -20, 0, 1 + 2 ** -21, 0]));
  assert.throws(() => pruneByMagnitude(f32([1]), 1.5), RangeError);
});

test('applyLossyVariant checks the matrix shape and dispatches by name', () => {
  const v = f32([1, 2, 3, 4, 5, 6]);
  assert.throws(() => applyLossyVariant('int8_per_row_rtn', v, 4, 2), RangeError);
  assert.deepEqual(applyLossyVariant('int8_per_row_rtn', v, 2, 3), quantizeInt8PerRow(v, 2, 3));
  assert.deepEqual(applyLossyVariant('int4_g128_rtn', v, 3, 2), quantizeInt4Groups(v, 3, 2));
  assert.deepEqual(applyLossyVariant('fp8_e4m3_per_tensor', v, 2, 3), quantizeFp8E4M3PerTensor(v));
  assert.deepEqual(applyLossyVariant('prune30_magnitude', v, 2, 3), pruneByMagnitude(v));
  assert.notStrictEqual(applyLossyVariant('prune30_magnitude', v, 2, 3), v);
});
