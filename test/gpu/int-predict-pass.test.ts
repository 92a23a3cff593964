// The INT_PREDICT GPU inverse on its own (int-predict-pass.ts, int-predict.wgsl; FORMAT.md §3.5.3.3): streams uploaded
// as the decode kernel leaves them, the output poisoned first, then every byte of the tensor equal to the CPU inverse's
// for the six integer dtypes, every predictor mixed tile by tile (residuals small, as the encoder leaves them, and
// random, which wrap around), matrices (the wavefront, bands of several dispatches) and vectors (prefix sums, carries
// from tile to tile) of odd sizes; the bytes after the
// tensor still poison; and a predictor above 4 reported as the CPU inverse reports it. Runs on whatever WebGPU adapter
// Dawn finds; skipped with a reason when there is none.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { intPredictSteps } from '../../src/gpu/int-predict-pass.js';
import { placed, POISON, runPoisoned } from '../helpers/gpu-compare.js';
import { intPredictTransform } from '../../src/transform/int-predict.js';
import { WcodecError } from '../../src/errors.js';
import { Prng } from '../../tools/vectors/inputs.js';

let device: GPUDevice | undefined;
let skipReason = '';

before(async () => {
  const got = await requestDecodeDevice('wcodec int-predict pass test');
  if (got.device) device = got.device;
  else skipReason = got.reason;
});

after(() => device?.destroy());

const DTYPES: [string, 1 | 2 | 4, boolean][] = [['I8', 1, true], ['U8', 1, false], ['I16', 2, true], ['U16', 2, false], ['I32', 4, true], ['U32', 4, false]];

interface Case {
  rows: number;
  cols: number;
  tileRows: number;
  tileCols: number;
}

/** Runs the inverse into a poisoned place; returns the place's bytes and 256 more, or the error. */
function runInverse(d: GPUDevice, c: Case, W: 1 | 2 | 4, signed: boolean, predictors: Uint8Array, residuals: Uint8Array): Promise<Uint8Array | WcodecError> {
  const [p, r] = [placed(d, predictors), placed(d, residuals)];
  return runPoisoned(d, c.rows * c.cols * W, [p, r], (out) => intPredictSteps(d, [{ name: 't', ...c, W, signed, predictors: p, residuals: r, out, at: 16 }], 'test.wcodec'), 'int-predict test');
}

/** The CPU inverse's bytes or error. */
function cpuInverse(c: Case, dtype: string, W: number, predictors: Uint8Array, residuals: Uint8Array): Uint8Array | WcodecError {
  const params = new Uint8Array(8);
  const dv = new DataView(params.buffer);
  dv.setUint32(0, c.tileRows, true);
  dv.setUint32(4, c.tileCols, true);
  const out = new Uint8Array(c.rows * c.cols * W);
  try {
    intPredictTransform.inverse(params, [predictors, residuals], dtype, c.rows === 1 ? [c.cols] : [c.rows, c.cols], out, { file: 'test.wcodec', offset: 16 });
    return out;
  } catch (e) {
    if (e instanceof WcodecError) return e;
    throw e;
  }
}

/** Residuals of n values: zigzag codes below 8 (smooth data) or random W-byte values (wrapping sums). */
function residualBytes(rng: Prng, n: number, W: number, random: boolean): Uint8Array {
  const out = new Uint8Array(n * W);
  for (let i = 0; i < n; i++) {
    if (random) out.set(rng.bytes(W), i * W);
    else out[i * W] = rng.below(8);
  }
  return out;
}

const CASES: Case[] = [
  { rows: 1, cols: 1, tileRows: 1, tileCols: 4096 },
  { rows: 1, cols: 3, tileRows: 1, tileCols: 2 },
  { rows: 3, cols: 1, tileRows: 2, tileCols: 1 },
  { rows: 1, cols: 65537, tileRows: 1, tileCols: 4096 },
  { rows: 1, cols: 10007, tileRows: 3, tileCols: 97 },
  { rows: 5, cols: 7, tileRows: 2, tileCols: 3 },
  { rows: 33, cols: 17, tileRows: 64, tileCols: 64 },
  { rows: 300, cols: 41, tileRows: 64, tileCols: 5 },
  { rows: 513, cols: 3, tileRows: 7, tileCols: 1 },
];

test('int-predict pass: every byte as the CPU inverse writes it (six dtypes, mixed predictors, odd shapes), the bytes after the tensor untouched', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-int-predict-pass');
  for (const [dtype, W, signed] of DTYPES) {
    for (const c of CASES) {
      for (const random of [false, true]) {
        const n = c.rows * c.cols;
        const tiles = Math.ceil(c.rows / c.tileRows) * Math.ceil(c.cols / c.tileCols);
        const predictors = Uint8Array.from({ length: tiles }, () => rng.below(5));
        const residuals = residualBytes(rng, n, W, random);
        const cpu = cpuInverse(c, dtype, W, predictors, residuals);
        const what = `${dtype} ${c.rows} x ${c.cols}, tiles ${c.tileRows} x ${c.tileCols}, ${random ? 'random' : 'small'} residuals`;
        assert.ok(cpu instanceof Uint8Array, `${what}: CPU ${cpu}`);
        const got = await runInverse(device, c, W, signed, predictors, residuals);
        assert.ok(got instanceof Uint8Array, `${what}: ${got}`);
        const gpu = got.subarray(256, 256 + n * W);
        if (Buffer.compare(gpu, cpu) !== 0) {
          const v = Math.floor(gpu.findIndex((b, k) => b !== cpu[k]) / W);
          assert.fail(`${what}: value ${v} (row ${Math.floor(v / c.cols)}, column ${v % c.cols}) differs: GPU ${Buffer.from(gpu.subarray(v * W, v * W + W)).toString('hex')}, CPU ${Buffer.from(cpu.subarray(v * W, v * W + W)).toString('hex')}`);
        }
        assert.ok(got.subarray(0, 256).every((b) => b === POISON), `${what}: bytes before the place written`);
        assert.ok(got.subarray(256 + n * W).every((b) => b === POISON), `${what}: bytes after the tensor written`);
      }
    }
  }
});

test('int-predict pass: a predictor above 4 is CORRUPT_TRANSFORM naming the first such tile, as on the CPU', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-int-predict-pass-bad');
  const c: Case = { rows: 70, cols: 300, tileRows: 8, tileCols: 16 };
  const tiles = Math.ceil(c.rows / c.tileRows) * Math.ceil(c.cols / c.tileCols);
  for (const [dtype, W, signed] of [DTYPES[0], DTYPES[5]]) {
    for (const bad of [[0], [tiles - 1], [5, 170, 171], [100, 7]] as number[][]) {
      const predictors = Uint8Array.from({ length: tiles }, () => rng.below(5));
      for (const k of bad) predictors[k] = 5 + rng.below(251);
      const residuals = residualBytes(rng, c.rows * c.cols, W, false);
      const cpu = cpuInverse(c, dtype, W, predictors, residuals);
      assert.ok(cpu instanceof WcodecError && cpu.code === 'CORRUPT_TRANSFORM', `CPU, ${dtype}, bad tiles ${bad}`);
      const got = await runInverse(device, c, W, signed, predictors, residuals);
      assert.ok(got instanceof WcodecError, `GPU, ${dtype}, bad tiles ${bad}: no error`);
      assert.equal(got.code, cpu.code);
      assert.equal(got.message, cpu.message, `GPU, ${dtype}, bad tiles ${bad}`);
      assert.equal(got.offset, cpu.offset);
    }
  }
});
