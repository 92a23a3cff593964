// The lean decode kernel (decode-lean.wgsl, lean-step.wgsl): which segments it takes (leanSpecOf), its packed slot
// entries (leanImage) against the rANS tables they come from, decodes equal to the CPU's and to decode.wgsl's for
// every float dtype, odd sizes, short last chunks, NaN/Inf/-0, both chunk sizes, with the bytes after each tensor
// left as they were (poisoned outputs), and corrupt chunks rejected by their status words. Both lane variants
// compile; the one that runs here is the one the adapter supports.

import '../../src/io/node-sha256.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { compressBuffer, type CompressBufferOptions } from '../../src/api/buffers.js';
import { openContainer, type Checkpoint } from '../../src/api/checkpoint.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { WcodecError } from '../../src/errors.js';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { GpuDecodeJob } from '../../src/gpu/decode-job.js';
import { leanImage, leanSpecOf } from '../../src/gpu/decode-plan.js';
import { decodeKernelSource, type LaneVariant } from '../../src/gpu/kernels.js';
import { chooseLanes } from '../../src/gpu/lanes-dispatch.js';
import { readBuffer } from '../../src/gpu/readback.js';
import { isHuffman } from '../../src/entropy/chunk-codec.js';
import { buildSafetensors, type TensorInput } from '../helpers/safetensors-builder.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { makeValues } from '../helpers/values.js';

let device: GPUDevice | undefined;
let skipReason = '';
const POISON = 0xa5;
const GPU_CHUNKS = { chunkBytes: 16 * 1024, lanes: 32 } as const;

before(async () => {
  const got = await requestDecodeDevice('wcodec lean kernel test');
  if (got.device) device = got.device;
  else skipReason = `no WebGPU device: ${got.reason}`;
});

after(() => device?.destroy());

/** BF16 values with NaN, +-Inf, -0 and subnormals sprinkled in. */
function withSpecials(dtype: 'BF16' | 'F16' | 'F32', n: number, rng: Rng): Uint8Array {
  const data = makeValues(dtype, n, 'gaussian', rng);
  const W = dtype === 'F32' ? 4 : 2;
  const specials = dtype === 'F32' ? [0x7fc00000, 0x7f800000, 0xff800000, 0x80000000, 0x00000001] : dtype === 'BF16' ? [0x7fc0, 0x7f80, 0xff80, 0x8000, 0x0001] : [0x7e00, 0x7c00, 0xfc00, 0x8000, 0x0001];
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let k = 0; k < n; k += 97) {
    const v = specials[k % specials.length];
    if (W === 4) view.setUint32(k * 4, v, true);
    else view.setUint16(k * 2, v, true);
  }
  return data;
}

function tensorsOf(rng: Rng): TensorInput[] {
  return [
    { name: 'bf16', dtype: 'BF16', shape: [40001], data: withSpecials('BF16', 40001, rng) },
    { name: 'bf16-even', dtype: 'BF16', shape: [32768 + 64], data: withSpecials('BF16', 32768 + 64, rng) },
    { name: 'f16', dtype: 'F16', shape: [36003], data: withSpecials('F16', 36003, rng) },
    { name: 'f32', dtype: 'F32', shape: [33001], data: withSpecials('F32', 33001, rng) },
    { name: 'small', dtype: 'BF16', shape: [37], data: withSpecials('BF16', 37, rng) },
  ];
}

async function containerOf(tensors: TensorInput[], options: CompressBufferOptions = {}): Promise<Checkpoint> {
  const bytes = await compressBuffer(buildSafetensors(tensors).bytes, { ...options, transforms: false });
  return openContainer(new MemorySource(bytes, 'lean.wcodec'));
}

function variants(): LaneVariant[] {
  return device && chooseLanes(device) === 'subgroup' ? ['workgroup', 'subgroup'] : ['workgroup'];
}

/** Decodes every tensor of `cp` into poisoned outputs; checks each against the CPU and that nothing else was written. */
async function decodeAndCompare(cp: Checkpoint, lanes: LaneVariant, lean: boolean, what: string): Promise<number> {
  const d = device!;
  const job = await GpuDecodeJob.create(d, cp, cp.tensors, { lanes, lean });
  try {
    for (const b of job.outputs) d.queue.writeBuffer(b, 0, new Uint8Array(b.size).fill(POISON));
    await job.uploadAndDecode('mapped', false);
    await job.checkStatus();
    const leanClasses = job.plan.kernels.filter((k) => k?.lean).length;
    for (let k = 0; k < job.outputs.length; k++) {
      const all = await readBuffer(d, job.outputs[k], job.outputs[k].size, 0, job.outputs[k].size);
      const covered = new Uint8Array(all.length);
      for (const t of job.plan.tensors.filter((x) => x.output === k)) {
        const cpu = (await cp.read(t.name)).bytes;
        assert.ok(Buffer.from(all.subarray(t.offset, t.offset + t.byteLength)).equals(Buffer.from(cpu)), `${what} [${lanes}, lean ${lean}]: tensor '${t.name}' differs from the CPU decode`);
        covered.fill(1, t.offset, t.offset + t.byteLength);
      }
      for (let i = 0; i < all.length; i++) if (!covered[i] && all[i] !== POISON) assert.fail(`${what} [${lanes}, lean ${lean}]: byte ${i} of output ${k} outside every tensor was written`);
    }
    return leanClasses;
  } finally {
    job.releaseInputs();
    for (const b of job.outputs) b.destroy();
  }
}

test('lean kernel: BF16, F16 and F32 segments qualify, decode as the CPU and decode.wgsl do, and leave padding alone', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(testSeed(731));
  for (const [what, options] of [['default chunks', {}], ['16 KiB chunks', GPU_CHUNKS]] as const) {
    const cp = await containerOf(tensorsOf(rng), options);
    const qualified = cp.tensors.filter((info) => leanSpecOf(cp.segmentOf(info), 4096) !== undefined).map((i) => i.name);
    // 37 values are stored as raw planes (no coded plane): decode.wgsl's.
    assert.deepEqual(qualified, ['bf16', 'bf16-even', 'f16', 'f32'], what);
    for (const lanes of variants()) {
      assert.equal(await decodeAndCompare(cp, lanes, true, what), 3, `${what}: one lean class per dtype`);
      assert.equal(await decodeAndCompare(cp, lanes, false, what), 0, `${what}: lean off`);
    }
  }
});

test('lean kernel: each packed slot entry holds its symbol, frequency and offset in the symbol\'s range', async () => {
  const rng = new Rng(testSeed(732));
  const cp = await containerOf(tensorsOf(rng));
  for (const info of cp.tensors) {
    const seg = cp.segmentOf(info);
    const spec = leanSpecOf(seg, 4096);
    if (!spec) continue;
    const table = seg.coding.tables[0];
    if (!table || isHuffman(table)) return assert.fail(`${info.name}: a lean segment codes plane 0 with rANS`);
    const image = leanImage(table, spec);
    assert.equal(image.length, 1 << spec.pb);
    for (let slot = 0; slot < image.length; slot++) {
      const e: number = image[slot];
      const sym: number = e & ((1 << spec.sb) - 1);
      const freq: number = ((e >>> spec.sb) & ((1 << spec.fb) - 1)) + 1;
      const bias: number = e >>> (spec.sb + spec.fb);
      assert.equal(freq, table.freqs[sym], `${info.name} slot ${slot}`);
      assert.equal(bias, slot - table.cum[sym], `${info.name} slot ${slot}`);
    }
  }
});

test('lean kernel: a table whose largest frequency does not fit its entry, and tables larger than the workgroup, go to decode.wgsl', async (t) => {
  const rng = new Rng(testSeed(733));
  // Three quarters zeros: one symbol takes more than half the 4096 slots, more than an 11-bit freq field holds.
  const n = 40000;
  const data = makeValues('BF16', n, 'gaussian', rng);
  for (let k = 0; k < n; k++) if (k % 4 !== 0) data[2 * k] = data[2 * k + 1] = 0;
  const cp = await containerOf([{ name: 'sparse', dtype: 'BF16', shape: [n], data }]);
  const seg = cp.segmentOf(cp.tensors[0]);
  const table = seg.coding.tables[0];
  assert.ok(table && !isHuffman(table) && Math.max(...table.freqs) > 2048, 'a dominant symbol');
  assert.equal(leanSpecOf(seg, 4096), undefined);
  const dense = await containerOf([{ name: 'dense', dtype: 'BF16', shape: [n], data: makeValues('BF16', n, 'gaussian', rng) }]);
  assert.ok(leanSpecOf(dense.segmentOf(dense.tensors[0]), 4096));
  assert.equal(leanSpecOf(dense.segmentOf(dense.tensors[0]), 2048), undefined, 'a 4096-slot table does not fit 2048 words');
  if (!device) return t.skip(skipReason);
  for (const lanes of variants()) assert.equal(await decodeAndCompare(cp, lanes, true, 'sparse'), 0);
});

test('lean kernel: a corrupt rANS stream or start state is rejected by its status word', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(testSeed(734));
  const cp = await containerOf([{ name: 'bf16', dtype: 'BF16', shape: [20000], data: makeValues('BF16', 20000, 'gaussian', rng) }], GPU_CHUNKS);
  const seg = cp.segmentOf(cp.tensors[0]);
  assert.ok(leanSpecOf(seg, 4096));
  const container = new Uint8Array(await cp.reader.source.read(0, cp.reader.source.size));
  const rec = seg.chunks[1];
  for (const [what, at, bits] of [['a start state', rec.offset + 3, 0xff], ['a stream word', rec.offset + 128 + 40, 0x10]] as const) {
    const bad = container.slice();
    bad[at] ^= bits;
    const cpBad = await openContainer(new MemorySource(bad, 'lean-bad.wcodec'));
    for (const lanes of variants()) {
      const job = await GpuDecodeJob.create(device, cpBad, cpBad.tensors, { lanes });
      try {
        assert.ok(job.plan.kernels.some((k) => k?.lean), 'decoded by the lean kernel');
        await job.uploadAndDecode('mapped', false);
        await assert.rejects(job.checkStatus(), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_CHUNK' && e.offset === rec.offset, `${what} [${lanes}]`);
      } finally {
        job.releaseInputs();
        for (const b of job.outputs) b.destroy();
      }
    }
  }
});

test('lean kernel: both lane variants compile for every lean class', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(testSeed(735));
  const cp = await containerOf(tensorsOf(rng), GPU_CHUNKS);
  const specs = cp.tensors.map((info) => leanSpecOf(cp.segmentOf(info), 4096)).filter((s) => s !== undefined);
  const lanes: LaneVariant[] = device.features.has('subgroups') ? ['workgroup', 'subgroup'] : ['workgroup'];
  for (const lean of specs) {
    for (const v of lanes) {
      const W = lean.bytes.length + 2;
      const module = device.createShaderModule({ code: decodeKernelSource(v, v === 'subgroup' ? 8 : 1, 4096, {}, 1, { W, planes: W, K: 32, coded: true, flags: [], rawIndex: [], rawBits: [], byteIndex: [], lean }) });
      const info = await module.getCompilationInfo();
      assert.deepEqual(info.messages.filter((m) => m.type === 'error').map((m) => m.message), [], `${v} ${JSON.stringify(lean)}`);
    }
  }
});
