// GPU decode of raw head planes of 1 to 8 bits packed LSB-first (format version 4, FORMAT.md §6), from chunks built
// plane by plane (test/helpers/packed-segment.ts): the fast layout (a 10-bit rANS head plane and a 6-bit raw one),
// raw planes after a packed one, segments of raw planes only, a packed plane of three ranges, more planes than the
// kernel hoists; odd chunk sizes at every alignment, poisoned outputs compared byte for byte with the original values,
// a set padding bit rejected, and chunk records without a CRC-32C (version 4) decoded without a CRC pass.

import '../../src/io/node-sha256.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Checkpoint, TensorInfo } from '../../src/api/checkpoint.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { WcodecError } from '../../src/errors.js';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { GpuDecodeJob } from '../../src/gpu/decode-job.js';
import type { GpuDecodeOptions, UploadMethod } from '../../src/gpu/decode-options.js';
import { chooseLanes } from '../../src/gpu/lanes-dispatch.js';
import type { LaneVariant } from '../../src/gpu/kernels.js';
import type { SegmentRecord } from '../../src/pipeline/index-codec.js';
import type { PlaneLayout, PlaneSpec } from '../../src/transform/planes.js';
import { buildPackedSegments, type PackedSegmentSpec } from '../helpers/packed-segment.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { makeValues } from '../helpers/values.js';

const POISON = 0xa5;
let device: GPUDevice | undefined;
let skipReason = '';

before(async () => {
  const got = await requestDecodeDevice('wcodec packed-raw test');
  if (got.device) device = got.device;
  else skipReason = got.reason;
});

after(() => device?.destroy());

const head = (...ranges: [number, number][]): PlaneSpec => ({ kind: 'head', ranges: ranges.map(([lo, width]) => ({ lo, width })) });
const byte = (byteIndex: number): PlaneSpec => ({ kind: 'byte', byteIndex });
const layout = (valueBytes: number, ...planes: PlaneSpec[]): PlaneLayout => ({ valueBytes, planes });

/** The fast layouts of version 4: exponent and top mantissa bits coded (10 bits), sign and low mantissa bits raw (6). */
const FAST_BF16 = layout(2, head([7, 8], [5, 2]), head([15, 1], [0, 5]));
const FAST_F16 = layout(2, head([10, 5], [5, 5]), head([15, 1], [0, 5]));
const FAST_F32 = layout(4, head([7, 8], [5, 2]), head([15, 1], [0, 5]), byte(1), byte(0));

function variants(): LaneVariant[] {
  return device && chooseLanes(device) === 'subgroup' ? ['workgroup', 'subgroup'] : ['workgroup'];
}

/** A checkpoint of just what GpuDecodeJob reads: the segments by tensor and the byte source. */
function checkpointOf(bytes: Uint8Array, segments: SegmentRecord[]): { cp: Checkpoint; infos: TensorInfo[] } {
  const byName = new Map(segments.map((s) => [s.name, s]));
  const source = new MemorySource(bytes, 'packed.wcodec');
  const cp = { segmentOf: (info: TensorInfo) => byName.get(info.name)!, reader: { source } } as unknown as Checkpoint;
  return { cp, infos: segments.map((s) => ({ name: s.name }) as TensorInfo) };
}

/** Decodes every segment on the GPU into poisoned outputs; each tensor must equal `originals`, the rest stay poison. */
async function decodeAndCompare(specs: PackedSegmentSpec[], what: string, lanes: LaneVariant, upload: UploadMethod, options: GpuDecodeOptions = {}, checkCrc: boolean | 'gpu' = 'gpu'): Promise<GpuDecodeJob> {
  const d = device!;
  const { bytes, segments } = buildPackedSegments(specs);
  const { cp, infos } = checkpointOf(bytes, segments);
  const job = await GpuDecodeJob.create(d, cp, infos, { lanes, ...options });
  try {
    for (const b of job.outputs) d.queue.writeBuffer(b, 0, new Uint8Array(b.size).fill(POISON));
    await job.uploadAndDecode(upload, checkCrc);
    await job.checkStatus();
    for (let k = 0; k < job.plan.outputSizes.length; k++) {
      const all = await job.readBack(k, 0, job.plan.outputSizes[k]);
      const covered = new Uint8Array(all.length);
      for (const t of job.plan.tensors) {
        if (t.output !== k) continue;
        const want = specs.find((s) => s.name === t.name)!.bytes;
        const got = all.subarray(t.offset, t.offset + t.byteLength);
        if (Buffer.compare(Buffer.from(want), Buffer.from(got)) !== 0) {
          let at = 0;
          while (want[at] === got[at]) at++;
          assert.fail(`${what} [${lanes}, ${upload}]: tensor '${t.name}' differs at byte ${at}: gpu ${got[at]} original ${want[at]}`);
        }
        covered.fill(1, t.offset, t.offset + t.byteLength);
      }
      for (let i = 0; i < all.length; i++) if (!covered[i] && all[i] !== POISON) assert.fail(`${what}: byte ${i} of output ${k} outside every tensor was written`);
    }
  } finally {
    job.releaseInputs();
    for (const b of job.outputs) b.destroy();
  }
  return job;
}

/** The segments every test decodes: each layout at odd sizes and odd chunkings. */
function specsFor(rng: Rng, withCrc: boolean): PackedSegmentSpec[] {
  const specs: PackedSegmentSpec[] = [];
  const add = (name: string, dtype: string, n: number, l: PlaneLayout, coded: boolean[], lanes: number, chunkValues: number): void => {
    specs.push({ name, dtype, bytes: makeValues(dtype, n, 'gaussian', rng), layout: l, coded, lanes, chunkValues, withCrc });
  };
  for (const [n, chunkValues] of [[1, 4099], [7, 4099], [10007, 4099], [4096, 1024], [65537, 16384]]) {
    add(`bf16.${n}`, 'BF16', n, FAST_BF16, [true, false], 32, chunkValues);
    add(`f16.${n}`, 'F16', n, FAST_F16, [true, false], n < 100 ? 1 : 8, chunkValues);
    add(`f32.${n}`, 'F32', n, FAST_F32, [true, false, false, true], 32, chunkValues);
  }
  // Raw planes only (no rANS stream): 6, 8 and 2 bits.
  add('raw-only', 'BF16', 3001, layout(2, head([15, 1], [0, 5]), head([7, 8]), head([5, 2])), [false, false, false], 1, 1001);
  // A packed plane of three ranges (the kernel deposits it by table) and a 1-bit plane.
  add('three-ranges', 'BF16', 2053, layout(2, head([7, 8]), head([15, 1], [6, 1], [0, 5]), head([5, 1])), [true, false, false], 16, 999);
  // Eight planes, more than the kernel hoists: the raw planes' offsets are summed plane by plane.
  add('f64', 'F64', 3003, layout(8, head([7, 8], [5, 2]), head([15, 1], [0, 5]), byte(5), byte(4), byte(3), byte(2), byte(1), byte(0)), [true, false, false, false, false, false, false, true], 32, 1000);
  return specs;
}

test('packed raw planes: the GPU decodes every layout, size and chunking to the original bytes', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = new Rng(testSeed(611));
  const specs = specsFor(rng, true);
  for (const lanes of variants()) {
    await decodeAndCompare(specs, 'packed', lanes, 'mapped');
    await decodeAndCompare(specs, 'packed, staging, host CRC, 64 KiB slabs', lanes, 'staging', { inputSlabBytes: 64 * 1024 }, true);
    await decodeAndCompare(specs, 'packed, generic kernel, tables in global memory', lanes, 'mapped', { specialize: false, workgroupTables: false });
    await decodeAndCompare(specs, 'packed, 3 chunks per group', lanes, 'write-buffer', { chunksPerWorkgroup: 2, chunksPerGroup: 3 });
  }
});

test('packed raw planes: chunk records without a CRC-32C (version 4) get no CRC pass and decode', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = new Rng(testSeed(612));
  const specs = specsFor(rng, false);
  const job = await decodeAndCompare(specs, 'no CRC', variants().at(-1)!, 'staging');
  assert.equal(job.plan.crcDispatches.length, 0);
  assert.ok(job.plan.runs.every((r) => r.chunks.length === 0), 'no chunk for the host to CRC-check');
  await decodeAndCompare(specs, 'no CRC, host check asked', 'workgroup', 'mapped', {}, true);
});

test('packed raw planes: a set padding bit in a packed plane is CORRUPT_CHUNK', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = new Rng(testSeed(613));
  // 4099 values of 6 bits: 24 594 bits, so the last byte of the packed plane has 6 padding bits.
  const spec: PackedSegmentSpec = { name: 'w', dtype: 'BF16', bytes: makeValues('BF16', 8198, 'gaussian', rng), layout: FAST_BF16, coded: [true, false], lanes: 32, chunkValues: 4099, withCrc: false };
  const { bytes, segments } = buildPackedSegments([spec]);
  const rec = segments[0].chunks[1];
  const bad = bytes.slice();
  bad[rec.offset + rec.bytes - 1] |= 0x80;
  for (const lanes of variants()) {
    const { cp, infos } = checkpointOf(bad, segments);
    const job = await GpuDecodeJob.create(device, cp, infos, { lanes });
    try {
      await job.uploadAndDecode('mapped', 'gpu');
      await assert.rejects(job.checkStatus(), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_CHUNK' && e.offset === rec.offset && /chunk 1 of tensor 'w'.*packed raw plane/.test(e.message));
    } finally {
      job.releaseInputs();
      for (const b of job.outputs) b.destroy();
    }
  }
});
