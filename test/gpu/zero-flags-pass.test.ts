// The ZERO_FLAGS GPU inverse on its own (zero-flags-pass.ts, zero-flags.wgsl; FORMAT.md §3.5.3.2): streams uploaded
// as the decode kernel leaves them, the output poisoned first, then every byte of the tensor equal to the CPU inverse's
// (zero values written, not left), the bytes after it still poison, and the checks that need the decoded flags
// reporting what the CPU inverse reports. Runs on whatever WebGPU adapter Dawn finds; skipped with a reason when there
// is none.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { zeroFlagsSteps } from '../../src/gpu/zero-flags-pass.js';
import { placed, POISON, runPoisoned } from '../helpers/gpu-compare.js';
import { zeroFlagsTransform } from '../../src/transform/zero-flags.js';
import { WcodecError } from '../../src/errors.js';
import { Prng } from '../../tools/vectors/inputs.js';
import { zeroFlagsStreams } from '../helpers/zero-flags-streams.js';

let device: GPUDevice | undefined;
let skipReason = '';

before(async () => {
  const got = await requestDecodeDevice('wcodec zero-flags pass test');
  if (got.device) device = got.device;
  else skipReason = got.reason;
});

after(() => device?.destroy());

const DTYPES: [string, number][] = [['U8', 1], ['BF16', 2], ['F32', 4], ['F64', 8]];

/** Runs the inverse of `flags` and `values` into a poisoned place; returns the place's bytes and 256 more, or the error. */
function runInverse(d: GPUDevice, n: number, W: number, flags: Uint8Array, values: Uint8Array, maxBinding?: number): Promise<Uint8Array | WcodecError> {
  const f = placed(d, flags);
  const v = placed(d, values);
  return runPoisoned(d, n * W, [f, v], (out) => zeroFlagsSteps(d, [{ name: 't', n, W, flags: f, values: v, out, at: 16 }], 'test.wcodec', maxBinding), 'zero-flags test');
}

test('zero-flags pass: every byte as the CPU inverse writes it, zeros written over poison, the bytes after the tensor untouched', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-zero-flags-pass');
  for (const [dtype, W] of DTYPES) {
    for (const n of [1, 3, 8, 31, 32, 33, 1000, 40001]) {
      for (const zeros of [0, 0.5, 0.97, 1]) {
        const data = new Uint8Array(n * W);
        for (let i = 0; i < n; i++) if (rng.uniform() >= zeros) data.set(rng.bytes(W).map((b, k) => (k === 0 ? b | 1 : b)), i * W);
        const [flags, values] = zeroFlagsStreams(data, W);
        const cpu = new Uint8Array(n * W);
        zeroFlagsTransform.inverse(new Uint8Array(0), [flags, values], dtype, [n], cpu, { offset: 16 });
        assert.ok(Buffer.compare(cpu, data) === 0);
        const got = await runInverse(device, n, W, flags, values);
        const what = `${dtype} x ${n}, zeros ${zeros}`;
        assert.ok(got instanceof Uint8Array, `${what}: ${got}`);
        assert.ok(Buffer.compare(got.subarray(256, 256 + n * W), cpu) === 0, `${what}: bytes differ from the CPU inverse`);
        assert.ok(got.subarray(0, 256).every((b) => b === POISON), `${what}: bytes before the place written`);
        assert.ok(got.subarray(256 + n * W).every((b) => b === POISON), `${what}: bytes after the tensor written`);
      }
    }
  }
});

test('zero-flags pass: a flag past the last value and values streams of the wrong size are CORRUPT_TRANSFORM, as on the CPU', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-zero-flags-pass-bad');
  for (const [dtype, W] of DTYPES) {
    for (const n of [5, 1001]) {
      const data = new Uint8Array(n * W);
      for (let i = 0; i < n; i += 2) data[i * W] = 1 + rng.below(255);
      const [flags, values] = zeroFlagsStreams(data, W);
      const stray = flags.slice();
      stray[stray.length - 1] |= 0x80;
      for (const [what, f, v] of [
        ['a flag past the last value', stray, values],
        ['a value too many', flags, Uint8Array.from([...values, ...new Uint8Array(W).fill(7)])],
        ['a value too few', flags, values.subarray(0, values.length - W)],
        ['no values', flags, new Uint8Array(0)],
      ] as [string, Uint8Array, Uint8Array][]) {
        let cpu: unknown;
        try {
          zeroFlagsTransform.inverse(new Uint8Array(0), [f, v], dtype, [n], new Uint8Array(n * W), { file: 'test.wcodec', offset: 16 });
        } catch (e) {
          cpu = e;
        }
        assert.ok(cpu instanceof WcodecError && cpu.code === 'CORRUPT_TRANSFORM', `CPU, ${dtype} x ${n}, ${what}`);
        const got = await runInverse(device, n, W, f, v);
        assert.ok(got instanceof WcodecError, `GPU, ${dtype} x ${n}, ${what}: no error`);
        assert.equal(got.code, cpu.code);
        assert.equal(got.message, cpu.message, `GPU, ${dtype} x ${n}, ${what}`);
      }
    }
  }
});

test('zero-flags pass: a tensor and values stream larger than a binding, written in windows, as the CPU inverse writes them', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-zero-flags-windows');
  // Bindings of 16 KiB: output windows of 2048 values (W = 8) to 16 384 (W = 1), values windows of 16 KiB.
  const maxBinding = 16384;
  for (const [dtype, W] of DTYPES) {
    for (const n of [16385, 40001]) {
      for (const zeros of [0, 0.3, 0.97]) {
        const data = new Uint8Array(n * W);
        for (let i = 0; i < n; i++) if (rng.uniform() >= zeros) data.set(rng.bytes(W).map((b, k) => (k === 0 ? b | 1 : b)), i * W);
        const [flags, values] = zeroFlagsStreams(data, W);
        const what = `${dtype} x ${n}, zeros ${zeros}, windows`;
        const got = await runInverse(device, n, W, flags, values, maxBinding);
        assert.ok(got instanceof Uint8Array, `${what}: ${got}`);
        assert.ok(Buffer.compare(got.subarray(256, 256 + n * W), data) === 0, `${what}: bytes differ from the tensor`);
        assert.ok(got.subarray(0, 256).every((b) => b === POISON), `${what}: bytes before the place written`);
        assert.ok(got.subarray(256 + n * W).every((b) => b === POISON), `${what}: bytes after the tensor written`);
      }
    }
    // The checks read the same words: a value too few is reported as without windows.
    const data = new Uint8Array(20001 * W).fill(3);
    const [flags, values] = zeroFlagsStreams(data, W);
    const got = await runInverse(device, 20001, W, flags, values.subarray(W), maxBinding);
    assert.ok(got instanceof WcodecError && got.code === 'CORRUPT_TRANSFORM' && /value bytes for 20001 non-zero values/.test(got.message), `${dtype}: ${got}`);
  }
});
