// decodeToGPU on format version 4 containers (FORMAT.md §3.4, §6, §7.5): raw head planes of 1 to 8 bits packed
// LSB-first, and chunk records that carry a digest of the decoded bytes instead of a CRC-32C of the stored ones, so no
// CRC pass runs and the chunk digest pass checks every chunk on the GPU. Compared byte for byte with the CPU decode.
// Skipped with a reason while the writer does not write version 4.

import '../../src/io/node-sha256.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { compressBuffer, type CompressBufferOptions } from '../../src/api/buffers.js';
import { openContainer, type Checkpoint } from '../../src/api/checkpoint.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { WcodecError } from '../../src/errors.js';
import { FORMAT_VERSIONS } from '../../src/format/constants.js';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { decodeToGPU } from '../../src/gpu/decode.js';
import { GpuDecodeJob } from '../../src/gpu/decode-job.js';
import { chooseLanes } from '../../src/gpu/lanes-dispatch.js';
import { readBuffer } from '../../src/gpu/readback.js';
import type { LaneVariant } from '../../src/gpu/kernels.js';
import type { SegmentRecord } from '../../src/pipeline/index-codec.js';
import { planeBits } from '../../src/transform/planes.js';
import { buildSafetensors, type TensorInput } from '../helpers/safetensors-builder.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { makeValues } from '../helpers/values.js';

let device: GPUDevice | undefined;
let skipReason = '';
/** Compress options that write version 4 (a cast: the option's type names the versions the writer writes). */
const V4 = { formatVersion: 4 } as unknown as CompressBufferOptions;

before(async () => {
  const got = await requestDecodeDevice('wcodec version 4 test');
  if (got.device) device = got.device;
  else skipReason = `no WebGPU device: ${got.reason}`;
});

after(() => device?.destroy());

/** The version 4 container of `tensors`, or why none can be written yet. */
async function v4Container(tensors: TensorInput[], options: CompressBufferOptions = {}): Promise<{ container: Uint8Array } | { skip: string }> {
  if (!FORMAT_VERSIONS.includes(4)) return { skip: `this decoder reads versions ${FORMAT_VERSIONS.join(', ')}, not 4` };
  try {
    return { container: await compressBuffer(buildSafetensors(tensors).bytes, { ...options, ...V4, transforms: false }) };
  } catch (e) {
    if (e instanceof RangeError && /formatVersion/.test(e.message)) return { skip: `the writer does not write version 4: ${e.message}` };
    throw e;
  }
}

function variants(): LaneVariant[] {
  return device && chooseLanes(device) === 'subgroup' ? ['workgroup', 'subgroup'] : ['workgroup'];
}

/** Bytes of each raw plane of `seg` in a chunk of `n` values, in plane order, with the plane's index and bits. */
function rawPlanes(seg: SegmentRecord, n: number): { plane: number; bits: number; bytes: number }[] {
  return seg.coding.layout.planes
    .map((p, plane) => ({ plane, bits: planeBits(p), coded: seg.coding.tables[plane] !== undefined }))
    .filter((p) => !p.coded)
    .map(({ plane, bits }) => ({ plane, bits, bytes: Math.ceil((n * bits) / 8) }));
}

const isPacked = (seg: SegmentRecord): boolean => rawPlanes(seg, 1).some((p) => p.bits < 8);

/** 8192 + 4099 values: at 16 KiB chunks of BF16, a last chunk whose 6-bit plane ends in 2 used bits of its last byte. */
const N = 12291;

function tensorsOf(rng: Rng): TensorInput[] {
  return [
    { name: 'bf16', dtype: 'BF16', shape: [N], data: makeValues('BF16', N, 'gaussian', rng) },
    { name: 'f16', dtype: 'F16', shape: [50001], data: makeValues('F16', 50001, 'gaussian', rng) },
    { name: 'f32', dtype: 'F32', shape: [30001], data: makeValues('F32', 30001, 'gaussian', rng) },
    { name: 'one', dtype: 'BF16', shape: [1], data: makeValues('BF16', 1, 'gaussian', rng) },
    { name: 'seven', dtype: 'F16', shape: [7], data: makeValues('F16', 7, 'gaussian', rng) },
    { name: 'u8', dtype: 'U8', shape: [4097], data: makeValues('U8', 4097, 'sparse', rng) },
  ];
}

/** decodeToGPU of every tensor of `cp`, each read back and compared with the CPU decode. */
async function compareWithCpu(cp: Checkpoint, lanes: LaneVariant, what: string): Promise<void> {
  const names = cp.tensors.map((t) => t.name);
  const res = await decodeToGPU(cp, names, device, { lanes });
  assert.equal(res.backend, 'gpu');
  if (res.backend !== 'gpu') return;
  try {
    for (const t of res.tensors) {
      const gpu = await readBuffer(res.device, t.buffer, t.buffer.size, t.offset, t.byteLength);
      const cpu = (await cp.read(t.info.name)).bytes;
      assert.ok(Buffer.compare(Buffer.from(gpu), Buffer.from(cpu)) === 0, `${what} [${lanes}]: tensor '${t.info.name}' differs from the CPU decode`);
    }
  } finally {
    for (const b of res.buffers) b.destroy();
  }
}

test('version 4: decodeToGPU equals the CPU decode, packed raw planes included, without a CRC pass', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(testSeed(621));
  const tensors = tensorsOf(rng);
  for (const [what, options] of [['fastDecode, 16 KiB chunks', { fastDecode: true, chunkBytes: 16 * 1024, lanes: 32 }], ['default', {}]] as const) {
    const made = await v4Container(tensors, options);
    if ('skip' in made) return t.skip(made.skip);
    const cp = await openContainer(new MemorySource(made.container, 'v4.wcodec'));
    if (what !== 'default') assert.ok(isPacked(cp.segmentOf(cp.tensors[0])), 'the BF16 tensor has a packed raw plane with fastDecode');
    for (const lanes of variants()) await compareWithCpu(cp, lanes, what);
    const job = await GpuDecodeJob.create(device, cp, cp.tensors);
    try {
      assert.deepEqual(job.plan.crcDispatches, [], 'version 4 chunks have no CRC-32C to check');
    } finally {
      job.releaseInputs();
      for (const b of job.outputs) b.destroy();
    }
  }
});

test('version 4: a flipped bit of a packed plane fails the chunk digest on the GPU, a set padding bit is CORRUPT_CHUNK', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(testSeed(622));
  const made = await v4Container(tensorsOf(rng), { fastDecode: true, chunkBytes: 16 * 1024, lanes: 32 });
  if ('skip' in made) return t.skip(made.skip);
  const cp = await openContainer(new MemorySource(made.container, 'v4.wcodec'));
  const seg = cp.segmentOf(cp.tensors[0]);
  const last = seg.chunks.length - 1;
  const rec = seg.chunks[last];
  const n = N - last * seg.chunkValues;
  // Where the packed plane lies: the raw planes fill the chunk's end, in plane order.
  const raws = rawPlanes(seg, n);
  const k = raws.findIndex((p) => p.bits < 8 && (n * p.bits) % 8 !== 0);
  assert.ok(k >= 0, `a packed plane with padding bits in the last chunk (${n} values)`);
  const planeAt = rec.offset + rec.bytes - raws.slice(k).reduce((a, p) => a + p.bytes, 0);
  const planeEnd = planeAt + raws[k].bytes;

  const flipped = made.container.slice();
  flipped[planeAt] ^= 0x01; // symbol 0's lowest bit
  const cpFlipped = await openContainer(new MemorySource(flipped, 'v4-flipped.wcodec'));
  // The chunk digest covers the raw bits whether or not the SHA-256 is checked too.
  for (const lanes of variants()) {
    for (const checkSha256 of [undefined, false, true]) {
      await assert.rejects(decodeToGPU(cpFlipped, ['bf16'], device, { lanes, checkSha256 }), (e: unknown) => e instanceof WcodecError && e.code === 'CHECKSUM_MISMATCH' && e.offset === rec.offset && e.message.includes('v4-flipped.wcodec'));
    }
  }

  const padded = made.container.slice();
  padded[planeEnd - 1] |= 0x80;
  const cpPadded = await openContainer(new MemorySource(padded, 'v4-padding.wcodec'));
  for (const lanes of variants()) {
    await assert.rejects(decodeToGPU(cpPadded, ['bf16'], device, { lanes, checkDigests: false }), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_CHUNK' && e.offset === rec.offset && /packed raw plane/.test(e.message));
  }
});
