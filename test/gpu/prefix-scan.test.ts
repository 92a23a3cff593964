// The GPU prefix scan (prefix-scan.wgsl, prefix-scan.ts): exclusive sums and their total equal the host's for counts
// of one, two and three levels of blocks, with partial last blocks. Runs on whatever WebGPU adapter Dawn finds; skipped
// with a reason when there is none.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BUFFER_USAGE, requestDecodeDevice } from '../../src/gpu/adapter.js';
import { encodeComputeSteps } from '../../src/gpu/compute-steps.js';
import { planScanLevels, scanSteps } from '../../src/gpu/prefix-scan.js';
import { readBuffer } from '../../src/gpu/readback.js';
import { Prng } from '../../tools/vectors/inputs.js';

let device: GPUDevice | undefined;
let skipReason = '';

before(async () => {
  const got = await requestDecodeDevice('wcodec prefix scan test');
  if (got.device) device = got.device;
  else skipReason = got.reason;
});

after(() => device?.destroy());

test('prefix scan: exclusive sums and total as on the host, over 1 to 3 levels of blocks', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const d = device;
  const rng = Prng.forName('gpu-prefix-scan');
  for (const count of [1, 2, 255, 1023, 1024, 1025, 4097, 1024 * 1024 + 3]) {
    const levels = planScanLevels(count);
    assert.equal(levels.counts.length, count <= 1024 ? 1 : count <= 1024 * 1024 ? 2 : 3, `levels of ${count}`);
    const counts = Uint32Array.from({ length: count }, () => rng.below(33));
    const buffer = d.createBuffer({ size: levels.bytes, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST });
    const total = d.createBuffer({ size: 260, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC });
    d.queue.writeBuffer(buffer, 0, counts);
    const enc = d.createCommandEncoder();
    const params = encodeComputeSteps(d, enc, 'scan test', await scanSteps(d, buffer, levels, { buffer: total, offset: 256 }, 'scan test'));
    d.queue.submit([enc.finish()]);
    const got = await readBuffer(d, buffer, levels.bytes, 0, 4 * count);
    const sums = new Uint32Array(got.buffer, got.byteOffset, count);
    const tot = new DataView((await readBuffer(d, total, 260, 256, 4)).buffer).getUint32(0, true);
    let s = 0;
    let first = -1;
    for (let i = 0; i < count; i++) {
      if (sums[i] !== s && first < 0) first = i;
      s += counts[i];
    }
    assert.equal(first, -1, `count ${count}: first wrong sum at ${first}`);
    assert.equal(tot, s, `count ${count}: total`);
    params.destroy();
    buffer.destroy();
    total.destroy();
  }
});
