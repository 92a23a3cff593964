// decodeToGPU on a format version 2 container (FORMAT.md §3.5): tensors stored transformed (DUPLICATE, XOR_DELTA)
// are decoded on the CPU and uploaded, each reported as such; the others go through the GPU kernel; all equal the
// originals byte for byte. Runs on whatever WebGPU adapter Dawn finds; skipped with a reason when there is none.

import '../../src/io/node-sha256.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { compressBuffer } from '../../src/api/buffers.js';
import { openContainer } from '../../src/api/checkpoint.js';
import { referenceFromSafetensors } from '../../src/api/reference.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { BUFFER_USAGE, MAP_MODE, requestDecodeDevice } from '../../src/gpu/adapter.js';
import { decodeToGPU } from '../../src/gpu/decode.js';
import { GpuDecodeJob } from '../../src/gpu/decode-job.js';
import { Prng, bf16s, buildSafetensors } from '../../tools/vectors/inputs.js';

let device: GPUDevice | undefined;
let skipReason = '';

before(async () => {
  const got = await requestDecodeDevice('wcodec transformed test');
  if (got.device) device = got.device;
  else skipReason = got.reason;
});

after(() => device?.destroy());

async function readBack(d: GPUDevice, buffer: GPUBuffer, offset: number, length: number): Promise<Uint8Array> {
  const size = Math.ceil(length / 4) * 4;
  const staging = d.createBuffer({ size: Math.max(4, size), usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST });
  const enc = d.createCommandEncoder();
  enc.copyBufferToBuffer(buffer, offset, staging, 0, size);
  d.queue.submit([enc.finish()]);
  await staging.mapAsync(MAP_MODE.READ);
  const out = new Uint8Array(staging.getMappedRange()).slice(0, length);
  staging.unmap();
  staging.destroy();
  return out;
}

test('decodeToGPU: transformed tensors decode on the CPU, are uploaded and say so; plain ones on the GPU', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-transformed');
  const embed = bf16s(Array.from({ length: 4099 }, () => rng.gauss() * 0.02));
  const w = Array.from({ length: 3000 }, () => rng.gauss() * 0.02);
  const refFile = buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [3000], data: bf16s(w) }]);
  const tensors = [
    { name: 'embed', dtype: 'BF16', shape: [4099], data: embed },
    { name: 'w', dtype: 'BF16', shape: [3000], data: bf16s(w.map((x, i) => (i % 3 === 0 ? x * 1.001 : x))) },
    { name: 'lm_head', dtype: 'BF16', shape: [4099], data: embed.slice() },
    { name: 'plain', dtype: 'BF16', shape: [77], data: bf16s(Array.from({ length: 77 }, () => rng.gauss())) },
  ];
  const reference = await referenceFromSafetensors([new MemorySource(refFile, 'ref.safetensors')], 'ref.safetensors');
  const cp = await openContainer(new MemorySource(await compressBuffer(buildSafetensors(tensors), { chunkBytes: 1024, reference }), 'v2.wcodec'));
  assert.deepEqual(cp.tensors.map((x) => x.transform), ['', 'xor-delta', 'dup', '']);
  await assert.rejects(GpuDecodeJob.create(device, cp, cp.tensors), RangeError);
  const res = await decodeToGPU(cp, ['embed', 'w', 'lm_head', 'plain'], device, { reference, checkDigests: true });
  assert.equal(res.backend, 'gpu');
  if (res.backend !== 'gpu') return;
  try {
    assert.deepEqual(res.tensors.map((x) => x.info.name), ['embed', 'w', 'lm_head', 'plain']);
    assert.deepEqual(res.tensors.map((x) => x.cpuDecoded !== undefined), [false, true, true, false]);
    for (const [k, g] of res.tensors.entries()) {
      const bytes = await readBack(device, g.buffer, g.offset, g.byteLength);
      assert.ok(Buffer.compare(bytes, tensors[k].data) === 0, `${g.info.name}: GPU buffer differs from the original`);
    }
  } finally {
    for (const b of res.buffers) b.destroy();
  }
  // Only transformed tensors asked for: no GPU job at all.
  const only = await decodeToGPU(cp, ['lm_head'], device, { reference });
  assert.ok(only.backend === 'gpu' && only.tensors[0].cpuDecoded !== undefined);
  if (only.backend === 'gpu') for (const b of only.buffers) b.destroy();
});

test('decodeToGPU: tensors with Huffman-coded planes (the huffman option) decode on the CPU and say so', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-huffman');
  const tensors = [
    { name: 'a', dtype: 'BF16', shape: [5000], data: bf16s(Array.from({ length: 5000 }, () => rng.gauss() * 0.02)) },
    { name: 'b', dtype: 'BF16', shape: [3], data: bf16s([1, -2, 0.5]) },
  ];
  const cp = await openContainer(new MemorySource(await compressBuffer(buildSafetensors(tensors), { huffman: true }), 'huff.wcodec'));
  const res = await decodeToGPU(cp, ['a', 'b'], device, { checkDigests: true });
  assert.equal(res.backend, 'gpu');
  if (res.backend !== 'gpu') return;
  try {
    // 'a' has a Huffman exponent plane (CPU); 'b' is too small to code and is stored raw (GPU kernel).
    assert.match(res.tensors[0].cpuDecoded ?? '', /Huffman-coded planes/);
    assert.equal(res.tensors[1].cpuDecoded, undefined);
    for (const [k, g] of res.tensors.entries()) {
      const bytes = await readBack(device, g.buffer, g.offset, g.byteLength);
      assert.ok(Buffer.compare(bytes, tensors[k].data) === 0, `${g.info.name}: GPU buffer differs from the original`);
    }
  } finally {
    for (const b of res.buffers) b.destroy();
  }
});
