// The quantizers of src/lossy on small cases worked out by hand: code entropy per byte plane, the step search and its
// bit budget, rebuilding through dequantizeGroups, GPTQ against round-to-nearest on a tiny layer, llama.cpp's Q8_0,
// Q4_0 and Q4_K blocks, the presets' quantizer and the bit allocation; determinism and odd shapes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dequantizeGroups, groupQuantProblem, type QuantizedMatrix } from '../src/transform/group-quant.js';
import { codeBits } from '../src/lossy/code-bits.js';
import { quantizeUniform, quantizeWithStep, searchStep } from '../src/lossy/quantize-uniform.js';
import { accumulateHessian, quantizeGptq, quantizeGptqBits } from '../src/lossy/quantize-gptq.js';
import { quantizeQ4_0, quantizeQ4_K, quantizeQ8_0, GGML_BITS_PER_WEIGHT } from '../src/lossy/ggml-quants.js';
import { codeBudget, presetBits, quantizerFor } from '../src/lossy/presets.js';
import { allocateBits } from '../src/lossy/bit-allocation.js';

/** Seeded normal deviates (LCG + Box-Muller), so every run sees the same values. */
function gaussian(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const u = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

const rebuilt = (q: QuantizedMatrix): Float32Array => new Float32Array(dequantizeGroups(q, 'F32').buffer);

test('codeBits: order-0 entropy of one byte plane, or of two for codes beyond ±127', () => {
  // p(0) = 1/2, p(1) = p(-1) = 1/4: 1.5 bits per code.
  assert.equal(codeBits(Int16Array.from([0, 0, 1, -1])), 6);
  assert.equal(codeBits(Int16Array.from([5, 5, 5])), 0);
  assert.equal(codeBits(new Int16Array(0)), 0);
  // 200 and 0: low bytes 0xc8 / 0x00 (1 bit each), high bytes both 0x00 (0 bits).
  assert.equal(codeBits(Int16Array.from([200, 0])), 2);
  // -200 = 0xff38 and 0x0000: both planes differ: 2 + 2 bits.
  assert.equal(codeBits(Int16Array.from([-200, 0])), 4);
});

test('quantizeWithStep: codes round half to even, clamp at ±32767, one scale per group, rebuilt exactly', () => {
  const q = quantizeWithStep(Float32Array.from([0.5, 1.5, -2.5, 0.26, 1e6, -1e6]), 2, 3, 1, 2);
  assert.deepEqual([...q.codes], [0, 2, -2, 0, 32767, -32767]);
  assert.deepEqual([...q.scales], [1, 1, 1, 1]);
  assert.equal(groupQuantProblem(q), undefined);
  assert.deepEqual([...rebuilt(q)], [0, 2, -2, 0, 32767, -32767]);
  assert.throws(() => quantizeWithStep(new Float32Array(6), 2, 3, 0), RangeError);
  assert.throws(() => quantizeWithStep(new Float32Array(5), 2, 3, 1), RangeError);
  assert.throws(() => quantizeWithStep(new Float32Array(6), 2, 3, 1, 4), RangeError);
});

test('searchStep meets its bit budget within 0.05 bits, and rebuilt values lie within half a step', () => {
  const v = gaussian(8192, 7);
  for (const target of [1, 2.5, 4, 6.4, 9]) {
    const q = quantizeUniform(v, 64, 128, { bitsPerValue: target });
    const bits = codeBits(q.codes) / v.length;
    assert.ok(bits <= target && bits > target - 0.05, `${bits} bits for a budget of ${target}`);
    const step = q.scales[0];
    const r = rebuilt(q);
    for (let i = 0; i < v.length; i++) assert.ok(Math.abs(r[i] - v[i]) <= step / 2 + 1e-6 * Math.abs(v[i]), `value ${i}`);
  }
  assert.equal(searchStep(new Float32Array(10), 3), 1);
  assert.equal(codeBits(quantizeUniform(v, 64, 128, { bitsPerValue: 0 }).codes), 0);
  assert.throws(() => searchStep(Float32Array.from([1, NaN]), 3), RangeError);
  assert.throws(() => searchStep(v, -1), RangeError);
});

test('accumulateHessian sums xᵀx over rows, symmetric', () => {
  const h = new Float64Array(4);
  accumulateHessian(h, Float32Array.from([1, 2, 3, 4]), 2, 2);
  assert.deepEqual([...h], [10, 14, 14, 20]);
  accumulateHessian(h, Float32Array.from([1, 0]), 1, 2);
  assert.deepEqual([...h], [11, 14, 14, 20]);
});

test('GPTQ lowers the layer output error ‖(W − Ŵ)X‖ against round-to-nearest at the same step, and meets a bit budget', () => {
  const rows = 12;
  const cols = 24;
  const T = 200;
  const w = gaussian(rows * cols, 1);
  // Correlated inputs: each token mixes a few shared factors, so H is far from diagonal.
  const z = gaussian(T * 4, 2);
  const noise = gaussian(T * cols, 3);
  const mix = gaussian(4 * cols, 4);
  const x = new Float32Array(T * cols);
  for (let t = 0; t < T; t++) for (let c = 0; c < cols; c++) {
    let s = 0.1 * noise[t * cols + c];
    for (let k = 0; k < 4; k++) s += z[t * 4 + k] * mix[k * cols + c];
    x[t * cols + c] = s;
  }
  const h = new Float64Array(cols * cols);
  accumulateHessian(h, x, T, cols);
  const outputError = (q: QuantizedMatrix): number => {
    const r = rebuilt(q);
    let e = 0;
    for (let t = 0; t < T; t++) for (let o = 0; o < rows; o++) {
      let s = 0;
      for (let c = 0; c < cols; c++) s += (w[o * cols + c] - r[o * cols + c]) * x[t * cols + c];
      e += s * s;
    }
    return e;
  };
  for (const step of [0.25, 0.5, 1]) {
    const rtn = outputError(quantizeWithStep(w, rows, cols, step));
    const gptq = quantizeGptq(w, rows, cols, h, { step });
    assert.equal(groupQuantProblem(gptq), undefined);
    assert.ok(outputError(gptq) < 0.7 * rtn, `step ${step}: GPTQ ${outputError(gptq)}, RTN ${rtn}`);
    assert.deepEqual(quantizeGptq(w, rows, cols, h, { step }).codes, gptq.codes);
  }
  const q = quantizeGptqBits(w, rows, cols, h, { bitsPerValue: 3 });
  assert.ok(codeBits(q.codes) / w.length <= 3);
  assert.throws(() => quantizeGptq(w, rows, cols, new Float64Array(4), { step: 1 }), RangeError);
});

test('Q8_0: d = absmax / 127, codes rounded half away from zero, 8.5 bits per weight', () => {
  const v = new Float32Array(32);
  v.set([127, -127, 0.5, 1.5, 2.5, -0.5, -2.5, 3.49]);
  const r = quantizeQ8_0(v, 1, 32);
  assert.deepEqual([...r.subarray(0, 8)], [127, -127, 1, 2, 3, -1, -3, 3]);
  assert.deepEqual([...r.subarray(8)], new Array(24).fill(0));
  assert.equal(GGML_BITS_PER_WEIGHT.q8_0, 8.5);
  assert.throws(() => quantizeQ8_0(new Float32Array(48), 1, 48), RangeError);
});

test('Q4_0: d = (signed absmax element) / −8, codes min(15, trunc(x / d + 8.5)), 4.5 bits per weight', () => {
  const v = new Float32Array(64);
  v.set([-8, 7, 7.6, 0.5, -0.5, 3.2]); // block 1: d = 1
  v.set([8, -7, 0.5, 2.6], 32); // block 2: d = −1
  const r = quantizeQ4_0(v, 2, 32);
  assert.deepEqual([...r.subarray(0, 6)], [-8, 7, 7, 1, 0, 3]);
  assert.deepEqual([...r.subarray(32, 36)], [8, -7, -0, 3]); // code 8 times d = −1 is −0, as in C
  assert.equal(GGML_BITS_PER_WEIGHT.q4_0, 4.5);
});

test('Q4_K: blocks of whole steps come back within the F16 rounding of their scales, 4.5 bits per weight', () => {
  const v = new Float32Array(512);
  for (let i = 0; i < 256; i++) v[i] = i % 16; // every sub-block: scale 1, min 0
  for (let i = 256; i < 512; i++) v[i] = (i % 16) - 5; // every sub-block: scale 1, min 5
  const r = quantizeQ4_K(v, 2, 256);
  for (let i = 0; i < 512; i++) assert.ok(Math.abs(r[i] - v[i]) < 2e-3 * (1 + Math.abs(v[i])), `value ${i}: ${r[i]} for ${v[i]}`);
  const g = gaussian(256 * 4, 9);
  const rg = quantizeQ4_K(g, 4, 256);
  let se = 0;
  let ss = 0;
  for (let i = 0; i < g.length; i++) {
    se += (g[i] - rg[i]) ** 2;
    ss += g[i] ** 2;
  }
  assert.ok(se / ss < 0.02, `relative squared error ${se / ss}`); // 4-bit affine codes: about 1 %
  assert.deepEqual(quantizeQ4_K(g, 4, 256), rg);
  assert.equal(GGML_BITS_PER_WEIGHT.q4_k, 4.5);
});

test('quantizerFor: presets, 1-D tensors left lossless, odd shapes, determinism, refusals', () => {
  assert.equal(presetBits('q8'), 6.4);
  assert.equal(presetBits('q4'), 4.4);
  assert.equal(presetBits('bits=3.5'), 3.5);
  for (const bad of ['q9', 'bits=', 'bits=0.5', 'bits=17', 'bits=3,5', 'toString']) assert.throws(() => quantizerFor(bad), RangeError, bad);
  const quantize = quantizerFor('q4');
  assert.equal(quantize('norm', 'F32', [7], gaussian(7, 1)), undefined);
  for (const [rows, cols] of [[1, 1], [3, 5], [17, 33], [2, 257]]) {
    const v = gaussian(rows * cols, rows + cols);
    const q = quantize('w', 'BF16', [rows, cols], v)!;
    assert.equal(groupQuantProblem(q), undefined);
    assert.equal(q.groupSize, cols);
    assert.ok(codeBits(q.codes) / v.length <= codeBudget(4.4, cols) + 1e-12);
    assert.deepEqual(quantize('w', 'BF16', [rows, cols], v), q);
  }
  const q3 = quantize('w', 'F16', [2, 3, 4], gaussian(24, 5))!;
  assert.deepEqual([q3.rows, q3.cols], [6, 4]);
  assert.throws(() => quantize('w', 'F32', [3, 4], new Float32Array(11)), RangeError);
  const h = new Float64Array(16);
  accumulateHessian(h, gaussian(64, 6), 16, 4);
  const g = quantizerFor('bits=3', { hessians: new Map([['w', h]]), bitsOverride: new Map([['w', 5]]) })('w', 'F32', [8, 4], gaussian(32, 8))!;
  assert.ok(codeBits(g.codes) / 32 <= codeBudget(5, 4));
});

test('allocateBits: half a bit more per 2x sensitivity per weight, the budget met, the bounds kept', () => {
  const a = allocateBits([{ name: 'a', weights: 100, sensitivity: 16 }, { name: 'b', weights: 100, sensitivity: 1 }], 4);
  assert.ok(Math.abs(a.get('a')! - 5) < 1e-9 && Math.abs(a.get('b')! - 3) < 1e-9, JSON.stringify([...a]));
  const b = allocateBits([{ name: 'a', weights: 1, sensitivity: 1e6 }, { name: 'b', weights: 1000, sensitivity: -1 }], 3, { minBits: 2, maxBits: 8 });
  assert.equal(b.get('a'), 8);
  assert.ok((b.get('a')! + 1000 * b.get('b')!) / 1001 <= 3 + 1e-12);
  assert.throws(() => allocateBits([], 3), RangeError);
  assert.throws(() => allocateBits([{ name: 'a', weights: 1, sensitivity: 1 }], 9), RangeError);
});
