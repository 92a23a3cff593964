// A smoke run of bench/gpu-matvec.ts on a small matrix (2 reps, both chunk sizes, with and without digests): every
// case is timed and checked (same bits fused, decoded and uncompressed; error within tolerance) and the JSON written
// is the report returned. The real benchmark is never run by the tests.

import '../../src/io/node-sha256.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { parseMatvecArgs, runMatvecBench } from '../../bench/gpu-matvec.js';

let device: GPUDevice | undefined;
let skipReason = '';

before(async () => {
  const got = await requestDecodeDevice('wcodec matvec bench test');
  if (got.device) device = got.device;
  else skipReason = `no WebGPU device: ${got.reason}`;
});

after(() => device?.destroy());

test('bench gpu-matvec: a small run times and checks every case and writes its report', async (t) => {
  if (!device) return t.skip(skipReason);
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-matvec-bench-'));
  try {
    const out = join(dir, 'matvec.json');
    const args = parseMatvecArgs(['--shapes', '64x520', '--chunks', 'gpu,default', '--variants', 'auto,auto:nodigest', '--reps', '2', '--warm-ms', '0', '--out', out]);
    const lines: string[] = [];
    const report = await runMatvecBench(args, device, { test: true }, (l) => lines.push(l));
    assert.deepEqual(JSON.parse(await readFile(out, 'utf8')), JSON.parse(JSON.stringify(report)));
    const cases = report.cases as Record<string, unknown>[];
    assert.equal(cases.length, 4);
    for (const c of cases) {
      assert.equal(c.error, undefined, String(c.error));
      assert.equal((c.check as { sameBits: boolean }).sameBits, true);
      // A time, never negative; on a fast GPU a pass this small can round to 0 (Dawn quantizes timestamps by default).
      for (const k of ['fusedMs', 'decodeMs', 'multiplyMs', 'decodeThenMultiplyOneSubmissionMs', 'uncompressedMs']) assert.ok(Number.isFinite(c[k]) && (c[k] as number) >= 0, `${k} ${String(c[k])}`);
    }
    assert.deepEqual(cases.map((c) => c.digests), [true, false, true, false]);
    assert.match(lines.join('\n'), /^\| 64x520 \| gpu /m);
    assert.throws(() => parseMatvecArgs(['--chunks', 'huge']), RangeError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
