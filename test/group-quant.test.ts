// Group-wise quantized matrices (src/transform/group-quant.ts): the rebuild rule (binary32 product, one rounding to
// the dtype, ties to even), group boundaries with a short last group, and the refusals of groupQuantProblem.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dequantizeGroups, groupQuantProblem, MAX_GROUP_QUANT_CODE, type QuantizedMatrix } from '../src/transform/group-quant.js';

const q = (rows: number, cols: number, groupSize: number, codes: number[], scales: number[]): QuantizedMatrix => ({
  rows, cols, groupSize, codes: Int16Array.from(codes), scales: Float32Array.from(scales),
});

test('group quant: each value is its code times its group\'s scale; the last group of a row is shorter', () => {
  // 2 rows x 5 columns in groups of 2: groups [0,1] [2,3] [4] per row.
  const m = q(2, 5, 2, [1, -2, 3, 4, 5, -1, 0, 7, -8, 9], [0.5, 0.25, 2, 1, -0.125, 3]);
  const f32 = new Float32Array(dequantizeGroups(m, 'F32').buffer);
  assert.deepEqual([...f32], [0.5, -1, 0.75, 1, 10, -1, 0, -0.875, 1, 27]);
});

test('group quant: the product is rounded once to binary32, then to BF16 / F16 with ties to even', () => {
  // 3 x (1 + 2^-23) is 3 + 3·2^-23: binary32 keeps 3 + 2^-22 (ties to even of the two nearest).
  const s = Math.fround(1 + 2 ** -23);
  const f32 = new Float32Array(dequantizeGroups(q(1, 1, 1, [3], [s]), 'F32').buffer);
  assert.equal(f32[0], Math.fround(3 * s));
  // BF16: 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties to even give 1 (0x3F80); 1 + 3·2^-8 gives 1 + 2^-6.
  const bf = new Uint16Array(dequantizeGroups(q(1, 2, 1, [1, 1], [1 + 2 ** -8, 1 + 3 * 2 ** -8]), 'BF16').buffer);
  assert.deepEqual([...bf], [0x3f80, 0x3f82]);
  // F16: 65520 (halfway past the largest finite 65504) rounds to infinity; -0 stays negative zero.
  const f16 = new Uint16Array(dequantizeGroups(q(1, 3, 1, [1, 0, 2], [65520, -1, 0.25]), 'F16').buffer);
  assert.deepEqual([...f16], [0x7c00, 0x8000, 0x3800]);
});

test('group quant: refused shapes, group sizes, codes and scales', () => {
  assert.equal(groupQuantProblem(q(1, 4, 2, [0, 0, 0, 0], [1, 1])), undefined);
  assert.match(groupQuantProblem(q(1, 4, 5, [0, 0, 0, 0], [1]))!, /group size/);
  assert.match(groupQuantProblem(q(1, 4, 2, [0, 0, 0], [1, 1]))!, /codes/);
  assert.match(groupQuantProblem(q(1, 4, 2, [0, 0, 0, 0], [1]))!, /scales/);
  assert.match(groupQuantProblem(q(1, 2, 1, [0, -MAX_GROUP_QUANT_CODE - 1], [1, 1]))!, /code/);
  assert.match(groupQuantProblem(q(1, 2, 1, [0, 0], [1, Infinity]))!, /scale/);
  assert.throws(() => dequantizeGroups(q(1, 2, 1, [0, 0], [1, NaN]), 'BF16'), RangeError);
  assert.throws(() => dequantizeGroups(q(1, 1, 1, [0], [1]), 'F64'), RangeError);
});
