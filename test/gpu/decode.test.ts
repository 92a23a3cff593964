// GPU decode (src/gpu) against the CPU path, byte for byte: every dtype, sizes 0, 1, odd, 2^k±1 and
// multi-chunk, odd chunk sizes (chunks at unaligned offsets), lane counts 1 to 32, raw and coded planes, the
// corpus; output buffers poisoned first so that unwritten bytes show; corrupt chunks rejected by their status
// word. Runs on whatever WebGPU adapter Dawn finds (lavapipe in CI); skipped with a reason when there is none.

import '../../src/io/node-sha256.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { compressBuffer } from '../../src/api/buffers.js';
import { openContainer, type Checkpoint } from '../../src/api/checkpoint.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { WcodecError } from '../../src/errors.js';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { decodeToGPU } from '../../src/gpu/decode.js';
import { GpuDecodeJob } from '../../src/gpu/decode-job.js';
import { chooseLanes } from '../../src/gpu/lanes-dispatch.js';
import type { GpuDecodeOptions, UploadMethod } from '../../src/gpu/decode-options.js';
import type { LaneVariant } from '../../src/gpu/kernels.js';
import { buildSafetensors, type TensorInput } from '../helpers/safetensors-builder.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { ALL_DTYPES, makeValues, type ValueMix } from '../helpers/values.js';
import { decodeAllPoisoned } from '../helpers/gpu-compare.js';

let device: GPUDevice | undefined;
let skipReason = '';

before(async () => {
  const got = await requestDecodeDevice('wcodec test');
  if (got.device) device = got.device;
  else skipReason = got.reason;
  if (!device) console.log(`# GPU tests skipped: ${skipReason}`);
});

after(() => {
  device?.destroy();
});

/** Lane variants this device can run: the workgroup variant always, the subgroup one when chosen automatically. */
function variants(): LaneVariant[] {
  const v: LaneVariant[] = ['workgroup'];
  if (device && chooseLanes(device) === 'subgroup') v.push('subgroup');
  return v;
}

/**
 * Decodes every tensor of `cp` on the GPU into poisoned output buffers and compares each with Checkpoint.read.
 * Also checks that the bytes between tensors (the alignment padding) are still poison.
 */
async function compareAll(cp: Checkpoint, what: string, lanes: LaneVariant, upload: UploadMethod = 'mapped', inputSlabBytes?: number, workgroupTables = true, more: GpuDecodeOptions = {}): Promise<void> {
  await decodeAllPoisoned(device!, cp, `${what} [${lanes}, ${upload}]`, { lanes, inputSlabBytes, workgroupTables, ...more }, upload, true);
}

async function containerOf(tensors: TensorInput[], chunkBytes?: number, lanes?: number): Promise<Checkpoint> {
  const file = buildSafetensors(tensors).bytes;
  // Without the byte model: the GPU kernel decodes rANS, Huffman and raw planes, and a 1-byte tensor would otherwise be
  // coded with the byte model where smaller (version 11), which decodes on the CPU.
  return openContainer(new MemorySource(await compressBuffer(file, { chunkBytes, lanes, transforms: false, byteModel: false }), 'gpu-test.wcodec'));
}

const SIZES = [0, 1, 3, 7, 1023, 1025, 4097, 65535, 65537];

describe('GPU decode equals CPU decode', () => {
  test('every dtype, odd sizes, value mixes', async (t) => {
    if (!device) return t.skip(skipReason);
    const rng = new Rng(testSeed(601));
    const tensors: TensorInput[] = [];
    const mixes: ValueMix[] = ['gaussian', 'random', 'special', 'sparse', 'constant'];
    for (const dtype of [...ALL_DTYPES, 'X_UNKNOWN']) {
      for (const n of SIZES) {
        const mix = mixes[(n + dtype.length) % mixes.length];
        const data = makeValues(dtype === 'X_UNKNOWN' ? 'U8' : dtype, n, mix, rng);
        tensors.push({ name: `${dtype}.${n}.${mix}`, dtype, shape: [n], data });
      }
    }
    const cp = await containerOf(tensors);
    for (const lanes of variants()) await compareAll(cp, 'dtypes', lanes);
  });

  test('multi-chunk tensors, odd chunk sizes, every upload method, several slabs', async (t) => {
    if (!device) return t.skip(skipReason);
    const rng = new Rng(testSeed(602));
    const tensors: TensorInput[] = [
      { name: 'bf16', dtype: 'BF16', shape: [300001], data: makeValues('BF16', 300001, 'gaussian', rng) },
      { name: 'f16', dtype: 'F16', shape: [200003], data: makeValues('F16', 200003, 'gaussian', rng) },
      { name: 'f32', dtype: 'F32', shape: [150001], data: makeValues('F32', 150001, 'gaussian', rng) },
      { name: 'f64', dtype: 'F64', shape: [70001], data: makeValues('F64', 70001, 'special', rng) },
      { name: 'u8', dtype: 'U8', shape: [300007], data: makeValues('U8', 300007, 'sparse', rng) },
    ];
    // 98 307 bytes a chunk: values per chunk odd for W = 1, chunks of every tensor at unaligned file offsets.
    const cp = await containerOf(tensors, 98307);
    for (const lanes of variants()) {
      for (const upload of ['mapped', 'staging', 'write-buffer'] as const) await compareAll(cp, 'multi-chunk', lanes, upload, 256 * 1024);
      await compareAll(cp, 'multi-chunk, tables in global memory', lanes, 'mapped', undefined, false);
    }
  });

  test('GPU profile: 16 KiB chunks with 32 lanes forced', async (t) => {
    if (!device) return t.skip(skipReason);
    const rng = new Rng(testSeed(606));
    const cp = await containerOf([
      { name: 'bf16', dtype: 'BF16', shape: [100003], data: makeValues('BF16', 100003, 'gaussian', rng) },
      { name: 'f32', dtype: 'F32', shape: [20001], data: makeValues('F32', 20001, 'gaussian', rng) },
    ], 16 * 1024, 32);
    const seg = cp.segmentOf(cp.tensors[0]);
    assert.equal(seg.coding.lanes, 32);
    assert.equal(seg.chunkValues, 8192);
    for (const lanes of variants()) await compareAll(cp, 'gpu profile', lanes);
  });

  test('several chunks per group (tables copied once per workgroup), padding jobs, several slabs', async (t) => {
    if (!device) return t.skip(skipReason);
    const rng = new Rng(testSeed(608));
    const tensors: TensorInput[] = [
      { name: 'bf16', dtype: 'BF16', shape: [100003], data: makeValues('BF16', 100003, 'gaussian', rng) },
      { name: 'f16', dtype: 'F16', shape: [50001], data: makeValues('F16', 50001, 'gaussian', rng) },
      { name: 'f32', dtype: 'F32', shape: [30001], data: makeValues('F32', 30001, 'gaussian', rng) },
      { name: 'small', dtype: 'BF16', shape: [7], data: makeValues('BF16', 7, 'gaussian', rng) },
      { name: 'u8', dtype: 'U8', shape: [40001], data: makeValues('U8', 40001, 'sparse', rng) },
    ];
    const cp = await containerOf(tensors, 16 * 1024, 32);
    const fast = await openContainer(new MemorySource(await compressBuffer(buildSafetensors(tensors).bytes, { chunkBytes: 16 * 1024, lanes: 32, fastDecode: true, transforms: false, byteModel: false }), 'fast.wcodec'));
    for (const lanes of variants()) {
      // 3 chunks per group: segments of 13, 4, 2 and 1 chunks leave padding jobs in most workgroups.
      await compareAll(cp, '3 chunks per group', lanes, 'mapped', undefined, true, { chunksPerWorkgroup: 2, chunksPerGroup: 3 });
      await compareAll(cp, '5 chunks per group, 64 KiB slabs', lanes, 'staging', 64 * 1024, true, { chunksPerGroup: 5 });
      await compareAll(cp, '4 chunks per group, global tables', lanes, 'mapped', undefined, false, { chunksPerGroup: 4 });
      await compareAll(fast, 'fastDecode, 4 chunks per group', lanes, 'mapped', undefined, true, { chunksPerWorkgroup: 4, chunksPerGroup: 4 });
      await compareAll(cp, 'generic kernel, 2 chunks per group', lanes, 'mapped', undefined, true, { chunksPerGroup: 2, specialize: false });
    }
    await assert.rejects(GpuDecodeJob.create(device, cp, cp.tensors, { chunksPerGroup: 0 }), RangeError);
    // Specialised pipelines: one per class of segments (2-byte floats, F32, U8), each dispatch naming its own.
    const job = await GpuDecodeJob.create(device, cp, cp.tensors, {});
    const generic = await GpuDecodeJob.create(device, cp, cp.tensors, { specialize: false });
    try {
      assert.ok(job.plan.kernels.length >= 3 && job.plan.kernels.every((k) => k !== undefined), `${job.plan.kernels.length} kernels`);
      assert.ok(job.plan.dispatches.every((d) => d.kernel < job.plan.kernels.length));
      assert.deepEqual(generic.plan.kernels, [undefined]);
      assert.equal(generic.plan.dispatches.length, 1);
    } finally {
      for (const j of [job, generic]) {
        j.releaseInputs();
        for (const b of j.outputs) b.destroy();
      }
    }
  });

  test('the corpus', async (t) => {
    if (!device) return t.skip(skipReason);
    const corpus = fileURLToPath(new URL('../../../../shared/corpus/', import.meta.url));
    if (!existsSync(corpus)) return t.skip(`${corpus} not present`);
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir)) {
        const p = join(dir, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.safetensors') && statSync(p).size <= 64 * 1024 * 1024) files.push(p);
      }
    };
    walk(corpus);
    assert.ok(files.length > 0);
    for (const f of files) {
      const cp = await openContainer(new MemorySource(await compressBuffer(await readFile(f), { transforms: false }), f));
      await compareAll(cp, f, variants().at(-1)!);
    }
  });
});

describe('decodeToGPU', () => {
  test('returns tensors at aligned offsets with the original bytes, digests checked', async (t) => {
    if (!device) return t.skip(skipReason);
    const rng = new Rng(testSeed(603));
    const cp = await containerOf([
      { name: 'a', dtype: 'BF16', shape: [5, 7], data: makeValues('BF16', 35, 'gaussian', rng) },
      { name: 'b', dtype: 'F32', shape: [1001], data: makeValues('F32', 1001, 'gaussian', rng) },
    ]);
    const res = await decodeToGPU(cp, ['b', 'a'], device, { checkDigests: true });
    assert.equal(res.backend, 'gpu');
    if (res.backend !== 'gpu') return;
    assert.deepEqual(res.tensors.map((x) => x.info.name), ['b', 'a']);
    for (const x of res.tensors) assert.equal(x.offset % 256, 0);
    for (const b of res.buffers) b.destroy();
  });

  test('a corrupt chunk is an error, never silent garbage', async (t) => {
    if (!device) return t.skip(skipReason);
    const rng = new Rng(testSeed(604));
    const file = buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [70000], data: makeValues('BF16', 70000, 'gaussian', rng) }]).bytes;
    // Version 3: chunk CRC-32Cs (version 4 chunks carry digests of decoded bytes, test/gpu/version4.test.ts).
    const container = await compressBuffer(file, { formatVersion: 3 });
    const cp0 = await openContainer(new MemorySource(container));
    const seg = cp0.segmentOf(cp0.tensors[0]);
    // Flip a bit inside the rANS words of the first chunk; with the CRC check off only the GPU's end
    // conditions can catch it.
    const bad = container.slice();
    bad[seg.chunks[0].offset + 4 * seg.coding.lanes + 101] ^= 0x10;
    const cp = await openContainer(new MemorySource(bad, 'bad.wcodec'));
    for (const lanes of variants()) {
      await assert.rejects(decodeToGPU(cp, ['w'], device, { checkCrc: false, lanes }), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_CHUNK');
      await assert.rejects(decodeToGPU(cp, ['w'], device, { lanes }), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_CHUNK' && /CRC/.test(e.message));
    }
  });

  test('CRC-32C on the GPU: intact chunks pass, a flipped raw byte (invisible to rANS) is rejected', async (t) => {
    if (!device) return t.skip(skipReason);
    const rng = new Rng(testSeed(607));
    // Odd sizes and a 98 307-byte chunking: chunks of every length class, at unaligned slab offsets.
    const file = buildSafetensors([
      { name: 'w', dtype: 'F32', shape: [70001], data: makeValues('F32', 70001, 'gaussian', rng) },
      { name: 'b', dtype: 'BF16', shape: [1025], data: makeValues('BF16', 1025, 'gaussian', rng) },
    ]).bytes;
    const container = await compressBuffer(file, { chunkBytes: 98307, formatVersion: 3 });
    const cp = await openContainer(new MemorySource(container, 'crc.wcodec'));
    for (const lanes of variants()) {
      const ok = await decodeToGPU(cp, ['w', 'b'], device, { checkCrc: 'gpu', checkDigests: true, lanes });
      assert.equal(ok.backend, 'gpu');
      if (ok.backend === 'gpu') for (const b of ok.buffers) b.destroy();
    }
    const seg = cp.segmentOf(cp.tensors[0]);
    assert.ok(seg.coding.tables.some((x) => x === undefined), 'the F32 tensor has a raw plane');
    const bad = container.slice();
    const c0 = seg.chunks[0];
    bad[c0.offset + c0.bytes - 5] ^= 0x01; // in the last raw plane of chunk 0
    const cpBad = await openContainer(new MemorySource(bad, 'crc-bad.wcodec'));
    const silent = await decodeToGPU(cpBad, ['w'], device, { checkCrc: false, checkDigests: false });
    if (silent.backend === 'gpu') for (const b of silent.buffers) b.destroy(); // rANS alone cannot see it
    // Without the CRC, the tensor's SHA-256 (checked by default) still refuses it.
    await assert.rejects(decodeToGPU(cpBad, ['w'], device, { checkCrc: false }), (e: unknown) => e instanceof WcodecError && e.code === 'CHECKSUM_MISMATCH');
    await assert.rejects(decodeToGPU(cpBad, ['w'], device, { checkCrc: 'gpu' }), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_CHUNK' && /CRC-32C \(checked on the GPU\)/.test(e.message));
  });

  test('without a device and without fallback: GPU_UNAVAILABLE; with fallback: CPU, reported', async () => {
    const rng = new Rng(testSeed(605));
    const cp = await containerOf([{ name: 'a', dtype: 'F16', shape: [9], data: makeValues('F16', 9, 'gaussian', rng) }]);
    const res = await decodeToGPU(cp, ['a'], undefined, { gpu: null });
    assert.equal(res.backend, 'cpu');
    if (res.backend === 'cpu') {
      assert.match(res.reason, /no WebGPU/);
      assert.deepEqual(res.tensors[0].bytes, (await cp.read('a')).bytes);
    }
    await assert.rejects(decodeToGPU(cp, ['a'], undefined, { gpu: null, allowCpuFallback: false }), (e: unknown) => e instanceof WcodecError && e.code === 'GPU_UNAVAILABLE');
  });
});
