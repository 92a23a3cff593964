// The QUANT_SCALE GPU inverse on its own (quant-scale-pass.ts, quant-scale.wgsl; FORMAT.md §3.5.3.1): streams uploaded
// as the decode kernel leaves them, the output poisoned first, then every byte of the tensor equal to the CPU inverse's
// for BF16, F16 and F32 over every code, scales of every exponent (subnormal, huge enough to overflow, negative, ±0),
// escaped NaN/Inf/−0 values and odd sizes; the bytes after the tensor still poison; and the checks that need the
// decoded streams reporting what the CPU inverse reports. Runs on whatever WebGPU adapter Dawn finds; skipped with a
// reason when there is none.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { quantScaleSteps } from '../../src/gpu/quant-scale-pass.js';
import { placed, POISON, runPoisoned } from '../helpers/gpu-compare.js';
import { quantScaleTransform } from '../../src/transform/quant-scale.js';
import { WcodecError } from '../../src/errors.js';
import { Prng, SPECIAL_BF16, SPECIAL_F16, SPECIAL_F32, le } from '../../tools/vectors/inputs.js';

let device: GPUDevice | undefined;
let skipReason = '';

before(async () => {
  const got = await requestDecodeDevice('wcodec q-scale pass test');
  if (got.device) device = got.device;
  else skipReason = got.reason;
});

after(() => device?.destroy());

const DTYPES: [string, 2 | 4][] = [['BF16', 2], ['F16', 2], ['F32', 4]];

/** Runs the inverse into a poisoned place; returns the place's bytes and 256 more, or the error. */
function runInverse(d: GPUDevice, dtype: string, W: number, G: number, codes: Uint8Array, scales: Uint8Array, exceptions: Uint8Array): Promise<Uint8Array | WcodecError> {
  const n = codes.length;
  const [c, s, e] = [placed(d, codes), placed(d, scales), placed(d, exceptions)];
  return runPoisoned(d, n * W, [c, s, e], (out) => quantScaleSteps(d, [{ name: 't', dtype, n, W, G, codes: c, scales: s, exceptions: e, out, at: 16 }], 'test.wcodec'), 'q-scale test');
}

/** The CPU inverse's bytes or error. */
function cpuInverse(dtype: string, W: number, G: number, codes: Uint8Array, scales: Uint8Array, exceptions: Uint8Array): Uint8Array | WcodecError {
  const params = new Uint8Array(8);
  new DataView(params.buffer).setUint32(4, G, true);
  const out = new Uint8Array(codes.length * W);
  try {
    quantScaleTransform.inverse(params, [codes, scales, exceptions], dtype, [codes.length], out, { file: 'test.wcodec', offset: 16 });
    return out;
  } catch (e) {
    if (e instanceof WcodecError) return e;
    throw e;
  }
}

/**
 * Finite binary32 scales of every kind: subnormals, the smallest normals, around 1, large enough that code × scale
 * overflows binary32 (or only the dtype), negative ones, ±0; then random bit patterns of every exponent.
 */
function scaleBits(rng: Prng, count: number): number[] {
  const fixed = [0x00000000, 0x80000000, 0x00000001, 0x80000001, 0x00000003, 0x007fffff, 0x00800000, 0x00c00001, 0x3f800000, 0xbf800000, 0x3c010000, 0x37800000, 0x33800001, 0x387fc000,
    0x477fe000, 0x47800000, 0x7e800000, 0x7f7fffff, 0xff7fffff, 0x7c800001, 0x3b808081, 0x2f000000];
  const out = fixed.slice(0, count);
  while (out.length < count) {
    const exp = rng.below(255);
    out.push(((rng.below(2) << 31) | (exp << 23) | rng.below(1 << 23)) >>> 0);
  }
  return out;
}

/** Escaped values of `dtype`: its special bit patterns (NaN payloads, ±0, ±Inf, subnormals) and random ones. */
function exceptionValue(dtype: string, rng: Prng): number {
  const special = dtype === 'F32' ? SPECIAL_F32 : dtype === 'BF16' ? SPECIAL_BF16 : SPECIAL_F16;
  return rng.below(2) === 0 ? special[rng.below(special.length)] : rng.below(dtype === 'F32' ? 2 ** 32 : 1 << 16);
}

/** Codes (every code −127 … 127 and the escape, in a random order, group after group) and the streams of n values. */
function streams(dtype: string, W: 2 | 4, n: number, G: number, rng: Prng, escapeShare: number): [Uint8Array, Uint8Array, Uint8Array] {
  const codes = new Uint8Array(n);
  const escaped: number[] = [];
  for (let i = 0; i < n; i++) {
    const c = rng.uniform() < escapeShare ? -128 : (i % 255) - 127;
    codes[i] = c & 0xff;
    if (c === -128) escaped.push(exceptionValue(dtype, rng));
  }
  return [codes, le(4, scaleBits(rng, n / G)), le(W, escaped)];
}

test('q-scale pass: every byte as the CPU inverse writes it (every code, every kind of scale, escapes), the bytes after the tensor untouched', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-q-scale-pass');
  for (const [dtype, W] of DTYPES) {
    for (const [n, G] of [[1, 1], [3, 1], [3, 3], [33, 11], [255, 1], [1000, 40], [65537, 65537], [65537, 1]] as [number, number][]) {
      for (const escapes of [0, 0.1]) {
        const [codes, scales, exceptions] = streams(dtype, W, n, G, rng, escapes);
        const cpu = cpuInverse(dtype, W, G, codes, scales, exceptions);
        const what = `${dtype} x ${n}, G ${G}, escapes ${escapes}`;
        assert.ok(cpu instanceof Uint8Array, `${what}: CPU ${cpu}`);
        const got = await runInverse(device, dtype, W, G, codes, scales, exceptions);
        assert.ok(got instanceof Uint8Array, `${what}: ${got}`);
        const gpu = got.subarray(256, 256 + n * W);
        if (Buffer.compare(gpu, cpu) !== 0) {
          const i = gpu.findIndex((b, k) => b !== cpu[k]);
          const v = Math.floor(i / W);
          assert.fail(`${what}: value ${v} (code ${(codes[v] << 24) >> 24}, scale 0x${new DataView(scales.buffer).getUint32(4 * Math.floor(v / G), true).toString(16)}) differs: GPU ${Buffer.from(gpu.subarray(v * W, v * W + W)).toString('hex')}, CPU ${Buffer.from(cpu.subarray(v * W, v * W + W)).toString('hex')}`);
        }
        assert.ok(got.subarray(0, 256).every((b) => b === POISON), `${what}: bytes before the place written`);
        assert.ok(got.subarray(256 + n * W).every((b) => b === POISON), `${what}: bytes after the tensor written`);
      }
    }
  }
});

test('q-scale pass: every code times scales of every exponent, as the CPU rounds them to BF16, F16 and F32', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-q-scale-products');
  // One group of 256 values (codes −127 … 127, an escape) per scale: 256 scales, random exponents and the fixed ones.
  const G = 256;
  const codes = new Uint8Array(G * 256);
  for (let i = 0; i < codes.length; i++) codes[i] = ((i % G) - 128) & 0xff;
  const scales = le(4, scaleBits(rng, 256));
  for (const [dtype, W] of DTYPES) {
    const exceptions = le(W, Array.from({ length: 256 }, () => exceptionValue(dtype, rng)));
    const cpu = cpuInverse(dtype, W, G, codes, scales, exceptions);
    assert.ok(cpu instanceof Uint8Array, `${dtype}: CPU ${cpu}`);
    const got = await runInverse(device, dtype, W, G, codes, scales, exceptions);
    assert.ok(got instanceof Uint8Array, `${dtype}: ${got}`);
    assert.ok(Buffer.compare(got.subarray(256, 256 + codes.length * W), cpu) === 0, `${dtype}: products differ from the CPU inverse`);
  }
});

test('q-scale pass: exceptions of the wrong size and non-finite scales are CORRUPT_TRANSFORM, as on the CPU', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-q-scale-pass-bad');
  for (const [dtype, W] of DTYPES) {
    for (const [n, G] of [[5, 1], [1001, 7]] as [number, number][]) {
      const [codes, scales, exceptions] = streams(dtype, W, n, G, rng, 0.2);
      const withScale = (g: number, bits: number): Uint8Array => {
        const s = scales.slice();
        new DataView(s.buffer).setUint32(4 * g, bits, true);
        return s;
      };
      const last = n / G - 1;
      for (const [what, s, e] of [
        ['an exception too many', scales, Uint8Array.from([...exceptions, ...new Uint8Array(W).fill(7)])],
        ['an exception too few', scales, exceptions.subarray(0, exceptions.length - W)],
        ['no exceptions', scales, new Uint8Array(0)],
        ['a NaN scale', withScale(last, 0x7fc00000), exceptions],
        ['an infinite first scale and a NaN last one', withScale(0, 0xff800000).map((b, k) => (k >= 4 * last ? [0x01, 0x00, 0x80, 0x7f][k - 4 * last] : b)), exceptions],
        ['an infinite scale and an exception too few', withScale(0, 0x7f800000), exceptions.subarray(W)],
      ] as [string, Uint8Array, Uint8Array][]) {
        const cpu = cpuInverse(dtype, W, G, codes, s, e);
        assert.ok(cpu instanceof WcodecError && cpu.code === 'CORRUPT_TRANSFORM', `CPU, ${dtype} x ${n}, ${what}`);
        const got = await runInverse(device, dtype, W, G, codes, s, e);
        assert.ok(got instanceof WcodecError, `GPU, ${dtype} x ${n}, ${what}: no error`);
        assert.equal(got.code, cpu.code);
        assert.equal(got.message, cpu.message, `GPU, ${dtype} x ${n}, ${what}`);
        assert.equal(got.offset, cpu.offset);
      }
    }
  }
});
