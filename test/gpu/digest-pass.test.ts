// The chunk digest check on the GPU (chunk-digest.wgsl, digest-pass.ts; FORMAT.md §7.3 item 3, §7.5): WD64 computed
// on the GPU equals the reference (chunkDigest) on the check values, every short length and long ones at every byte
// offset; every version 4 chunk's digest on the GPU equals the CPU's, in both kernels and lane variants, unaligned
// outputs included, with poisoned outputs left as they were outside the tensors; a decoded byte changed under a
// valid structure, and the invalid version 4 vectors, are rejected by default at the chunk's offset. Runs on
// whatever WebGPU adapter Dawn finds (lavapipe in CI); skipped with a reason when there is none.

import '../../src/io/node-sha256.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compressBuffer, type CompressBufferOptions } from '../../src/api/buffers.js';
import { openContainer, type Checkpoint } from '../../src/api/checkpoint.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { WcodecError } from '../../src/errors.js';
import { chunkDigest } from '../../src/format/chunk-digest.js';
import { BUFFER_USAGE, requestDecodeDevice } from '../../src/gpu/adapter.js';
import { decodeToGPU } from '../../src/gpu/decode.js';
import { GpuDecodeJob } from '../../src/gpu/decode-job.js';
import { cpuOnlyReason } from '../../src/gpu/decode-plan.js';
import { DIGEST_JOB_WORDS, digestJobWords, type DigestDispatch } from '../../src/gpu/digest-jobs.js';
import { DigestPass } from '../../src/gpu/digest-pass.js';
import { STATUS_DIGEST } from '../../src/gpu/chunk-status.js';
import { chooseLanes } from '../../src/gpu/lanes-dispatch.js';
import { readBuffer } from '../../src/gpu/readback.js';
import type { LaneVariant } from '../../src/gpu/kernels.js';
import { planeBits } from '../../src/transform/planes.js';
import type { InvalidManifest } from '../../tools/make-vectors.js';
import { buildSafetensors, type TensorInput } from '../helpers/safetensors-builder.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { makeValues } from '../helpers/values.js';

const POISON = 0xa5;
let device: GPUDevice | undefined;
let skipReason = '';

before(async () => {
  const got = await requestDecodeDevice('wcodec digest test');
  if (got.device) device = got.device;
  else skipReason = `no WebGPU device: ${got.reason}`;
});

after(() => device?.destroy());

function variants(): LaneVariant[] {
  return device && chooseLanes(device) === 'subgroup' ? ['workgroup', 'subgroup'] : ['workgroup'];
}

/** One chunk for the bare pass: `length` bytes at byte `at` of the buffer, and whether its expected digest is right. */
interface Span {
  at: number;
  length: number;
  right: boolean;
}

/**
 * Runs the digest pass alone over `bytes` (uploaded into one buffer) with one job per span, in two dispatches: the
 * spans below `split` over a window at 0, the others over a window at `split` (a multiple of 256).
 * @returns the digests computed and the status words
 */
async function runPass(bytes: Uint8Array, spans: Span[], split: number): Promise<{ digests: BigUint64Array; status: Uint32Array }> {
  const d = device!;
  const U = BUFFER_USAGE;
  const buffer = d.createBuffer({ label: 'digest test bytes', size: bytes.length, usage: U.STORAGE | U.COPY_DST });
  d.queue.writeBuffer(buffer, 0, new Uint8Array(bytes));
  const status = d.createBuffer({ label: 'digest test status', size: spans.length * 4, usage: U.STORAGE | U.COPY_SRC | U.COPY_DST });
  const jobs = new Uint32Array(spans.length * DIGEST_JOB_WORDS);
  const dispatches: DigestDispatch[] = [];
  // Status index k for span k; jobs in two runs: the spans of the low window first.
  const low = spans.map((s, k) => ({ s, k })).filter(({ s }) => s.at < split);
  const high = spans.map((s, k) => ({ s, k })).filter(({ s }) => s.at >= split);
  let n = 0;
  for (const [list, windowOffset] of [[low, 0], [high, split]] as const) {
    if (list.length === 0) continue;
    dispatches.push({ slab: 0, output: 0, windowOffset, windowBytes: bytes.length - windowOffset, jobStart: n, jobCount: list.length });
    for (const { s, k } of list) {
      const want = chunkDigest(bytes.subarray(s.at, s.at + s.length));
      jobs.set(digestJobWords(s.at - windowOffset, s.length, k, s.right ? want : want ^ (1n << BigInt(k % 64))), n * DIGEST_JOB_WORDS);
      n++;
    }
  }
  const pass = await DigestPass.create(d, dispatches, jobs, spans.length);
  try {
    const enc = d.createCommandEncoder();
    enc.clearBuffer(status);
    pass.encode(enc, [buffer], status);
    d.queue.submit([enc.finish()]);
    const words = await readBuffer(d, status, spans.length * 4, 0, spans.length * 4);
    return { digests: await pass.readDigests(), status: new Uint32Array(words.buffer, words.byteOffset, spans.length) };
  } finally {
    pass.destroy();
    buffer.destroy();
    status.destroy();
  }
}

describe('WD64 on the GPU', () => {
  test('the check values of FORMAT.md §7.5', async (t) => {
    if (!device) return t.skip(skipReason);
    // Each input at an offset of its own, surrounded by bytes that are not zero.
    const bytes = new Uint8Array(4096).fill(0xee);
    const abc = 101;
    bytes.set([0x61, 0x62, 0x63], abc);
    const zeros = 1027;
    bytes.fill(0, zeros, zeros + 64);
    const counting = 2050;
    for (let i = 0; i < 1000; i++) bytes[counting + i] = i % 256;
    const spans: Span[] = [
      { at: 7, length: 0, right: true },
      { at: abc, length: 3, right: true },
      { at: zeros, length: 64, right: true },
      { at: counting, length: 1000, right: true },
    ];
    const { digests, status } = await runPass(bytes, spans, 4096);
    assert.deepEqual([...digests], [0xb43667e249fc5325n, 0xf7f7842b01af8eacn, 0x8bd2140e8bdc1c32n, 0x89a3866cc81aec95n]);
    assert.deepEqual([...status], [0, 0, 0, 0]);
  });

  test('every length 0 to 200 and lengths about whole rounds and stripes, at every byte offset, in two windows', async (t) => {
    if (!device) return t.skip(skipReason);
    const rng = new Rng(testSeed(0x6d1));
    const lengths = [...Array.from({ length: 201 }, (_, k) => k), 2047, 2048, 2049, 4095, 4160, 65536 + 13, 200_003];
    const spans: Span[] = [];
    let at = 0;
    // Spans overlap their neighbours' words (and bytes: each starts 1 to 3 bytes before the previous one ends), so a
    // byte read past a span's end would change its digest.
    for (const length of lengths) {
      for (let shift = 0; shift < 4; shift++) {
        at = Math.max(0, at - rng.int(3)) + shift;
        spans.push({ at, length, right: spans.length % 3 !== 2 });
        at += length;
      }
    }
    const split = Math.ceil(at / 2 / 256) * 256;
    // The last span ends 1 byte before the buffer's end, so the reads of its last word run past the window.
    const size = Math.ceil((at + 1) / 4) * 4;
    spans.push({ at: size - 1 - 13, length: 13, right: true });
    const bytes = rng.bytes(size);
    const { digests, status } = await runPass(bytes, spans, split);
    spans.forEach((s, k) => {
      const want = chunkDigest(bytes.subarray(s.at, s.at + s.length));
      assert.equal(digests[k], want, `span ${k}: ${s.length} bytes at ${s.at}`);
      assert.equal(status[k], s.right ? 0 : STATUS_DIGEST, `span ${k}: ${s.length} bytes at ${s.at}, expected digest ${s.right ? 'right' : 'wrong'}`);
    });
  });
});

/** Compress options that write version 4 (a cast: the option's type names the versions the writer writes). */
const V4 = { formatVersion: 4 } as unknown as CompressBufferOptions;

async function v4Checkpoint(tensors: TensorInput[], options: CompressBufferOptions, name: string): Promise<Checkpoint> {
  const container = await compressBuffer(buildSafetensors(tensors).bytes, { ...options, ...V4, transforms: false });
  return openContainer(new MemorySource(container, name));
}

/**
 * Decodes every tensor of `cp` that the kernels decode with GpuDecodeJob into poisoned outputs, and checks: every status word is DONE; every
 * chunk has one digest job and its GPU digest equals chunkDigest of the CPU decode's bytes; the tensors equal the CPU
 * decode; the bytes outside every tensor are still poison.
 * @returns the digest jobs' output offsets within their windows, for the caller to check their alignment
 */
async function checkDigestsAgainstCpu(cp: Checkpoint, what: string, lanes: LaneVariant, lean: boolean): Promise<number[]> {
  const d = device!;
  const job = await GpuDecodeJob.create(d, cp, cp.tensors.filter((t) => !cpuOnlyReason(cp.segmentOf(t))), { lanes, lean });
  try {
    assert.ok(job.checksDigests, `${what}: a version 4 decode checks chunk digests`);
    const jobs = job.plan.digestDispatches.reduce((a, x) => a + x.jobCount, 0);
    assert.equal(jobs, job.plan.origins.length, `${what}: one digest job per chunk`);
    for (const b of job.outputs) d.queue.writeBuffer(b, 0, new Uint8Array(b.size).fill(POISON));
    await job.uploadAndDecode('mapped', 'gpu');
    await job.checkStatus();
    const digests = await job.readChunkDigests();
    const cpu = new Map<string, Uint8Array>();
    for (const t of job.plan.tensors) cpu.set(t.name, (await cp.read(t.name)).bytes);
    job.plan.origins.forEach((o, k) => {
      const seg = job.plan.tensors.find((t) => t.name === o.tensor)!.seg;
      const W = seg.coding.layout.valueBytes;
      const start = o.chunk * seg.chunkValues * W;
      const bytes = cpu.get(o.tensor)!.subarray(start, Math.min(start + seg.chunkValues * W, seg.originalBytes));
      assert.equal(digests[k], chunkDigest(bytes), `${what} [${lanes}${lean ? '' : ', generic'}]: chunk ${o.chunk} of '${o.tensor}'`);
    });
    for (let k = 0; k < job.plan.outputSizes.length; k++) {
      const all = await job.readBack(k, 0, job.plan.outputSizes[k]);
      const covered = new Uint8Array(all.length);
      for (const t of job.plan.tensors) {
        if (t.output !== k) continue;
        assert.ok(Buffer.compare(Buffer.from(all.subarray(t.offset, t.offset + t.byteLength)), Buffer.from(cpu.get(t.name)!)) === 0, `${what}: tensor '${t.name}' differs from the CPU decode`);
        covered.fill(1, t.offset, t.offset + t.byteLength);
      }
      for (let i = 0; i < all.length; i++) if (!covered[i] && all[i] !== POISON) assert.fail(`${what}: byte ${i} of output ${k} outside every tensor was written`);
    }
    const offsets: number[] = [];
    for (let k = 0; k < job.plan.digestJobs.length; k += DIGEST_JOB_WORDS) offsets.push(job.plan.digestJobs[k]);
    return offsets;
  } finally {
    job.releaseInputs();
    for (const b of job.outputs) b.destroy();
  }
}

describe('version 4 chunk digests on the GPU', () => {
  test('every chunk digest on the GPU equals the CPU\'s: both kernels and lane variants, odd sizes, unaligned outputs', async (t) => {
    if (!device) return t.skip(skipReason);
    const rng = new Rng(testSeed(0x6d2));
    const tensors: TensorInput[] = [
      { name: 'bf16', dtype: 'BF16', shape: [12291], data: makeValues('BF16', 12291, 'gaussian', rng) },
      { name: 'f16', dtype: 'F16', shape: [5001], data: makeValues('F16', 5001, 'gaussian', rng) },
      { name: 'f32', dtype: 'F32', shape: [3001], data: makeValues('F32', 3001, 'gaussian', rng) },
      { name: 'f64', dtype: 'F64', shape: [1001], data: makeValues('F64', 1001, 'special', rng) },
      { name: 'u8', dtype: 'U8', shape: [4097], data: makeValues('U8', 4097, 'sparse', rng) },
      { name: 'i16', dtype: 'I16', shape: [2003], data: makeValues('I16', 2003, 'random', rng) },
      { name: 'one', dtype: 'BF16', shape: [1], data: makeValues('BF16', 1, 'gaussian', rng) },
      { name: 'three', dtype: 'U8', shape: [3], data: makeValues('U8', 3, 'random', rng) },
      { name: 'none', dtype: 'F32', shape: [0], data: new Uint8Array(0) },
    ];
    // 1001-byte chunks: 1001 U8 values (outputs at every offset mod 4), 500 BF16 values; 2002-byte chunks: 1001
    // 16-bit values (outputs at 2 mod 4); 16 KiB chunks with 32 lanes and fastDecode: the lean kernel's layouts.
    for (const [what, options] of [
      ['1001-byte chunks', { chunkBytes: 1001 }],
      ['2002-byte chunks', { chunkBytes: 2002 }],
      ['16 KiB chunks, 32 lanes, fastDecode', { chunkBytes: 16 * 1024, lanes: 32, fastDecode: true }],
    ] as const) {
      const cp = await v4Checkpoint(tensors, options, `${what}.wcodec`);
      const offsets: number[] = [];
      for (const lanes of variants()) {
        for (const lean of [true, false]) offsets.push(...(await checkDigestsAgainstCpu(cp, what, lanes, lean)));
      }
      if (what !== '16 KiB chunks, 32 lanes, fastDecode') assert.ok(offsets.some((o) => o % 4 !== 0), `${what}: some chunk outputs start off a word boundary`);
    }
  });

  test('a raw byte-plane byte flipped (its rANS structure intact): CHECKSUM_MISMATCH at that chunk by default, without SHA-256', async (t) => {
    if (!device) return t.skip(skipReason);
    const rng = new Rng(testSeed(0x6d3));
    const tensors: TensorInput[] = [
      { name: 'w', dtype: 'BF16', shape: [40000], data: makeValues('BF16', 40000, 'gaussian', rng) },
      { name: 'f', dtype: 'F32', shape: [9000], data: makeValues('F32', 9000, 'gaussian', rng) },
    ];
    const cp = await v4Checkpoint(tensors, { chunkBytes: 16 * 1024, lanes: 32 }, 'v4-flip.wcodec');
    const seg = cp.segmentOf(cp.tensors.find((x) => x.name === 'f')!);
    const c = 1;
    const rec = seg.chunks[c];
    const n = Math.min(seg.chunkValues, seg.originalBytes / 4 - c * seg.chunkValues);
    // The raw planes fill the chunk's end; the last is a byte plane (one byte per value), stored as is.
    const raw = seg.coding.layout.planes.filter((_, p) => seg.coding.tables[p] === undefined).map(planeBits);
    assert.equal(raw[raw.length - 1], 8, 'the F32 tensor ends in a raw byte plane');
    const bytes = new Uint8Array(await cp.reader.source.read(0, cp.reader.source.size));
    const flipped = bytes.slice();
    flipped[rec.offset + rec.bytes - n + 17] ^= 0x10; // value 17's byte of the last raw plane
    const bad = await openContainer(new MemorySource(flipped, 'v4-flip.wcodec'));
    for (const lanes of variants()) {
      for (const lean of [true, false]) {
        await assert.rejects(decodeToGPU(bad, ['w', 'f'], device, { lanes, lean }), (e: unknown) => e instanceof WcodecError && e.code === 'CHECKSUM_MISMATCH' && e.offset === rec.offset && /chunk 1 of tensor 'f' .*chunk digest/.test(e.message) && e.message.includes('v4-flip.wcodec'));
      }
    }
    // The untouched container decodes, with no SHA-256 pass by default (digestMs 0: nothing was read back and hashed).
    const res = await decodeToGPU(cp, ['w', 'f'], device);
    assert.equal(res.backend, 'gpu');
    if (res.backend === 'gpu') {
      for (const b of res.buffers) b.destroy();
      assert.equal(res.timings.digestMs, 0);
    }
  });
});

describe('invalid version 4 vectors on the GPU', () => {
  /** The committed vectors in the source tree (this file runs from dist/test/gpu/). */
  const VECTORS = new URL('../../../test/vectors/', import.meta.url);
  const cases = ['v4-chunk-digest.wcodec', 'v4-raw-bit.wcodec', 'v4-chunks-swapped.wcodec', 'v4-padding-bit.wcodec'];

  // The GPU names a chunk by its start; the CPU reader names a packed plane's padding by the plane's last byte, inside
  // the chunk (FORMAT.md §6), so that vector's offset is matched by the chunk that holds it.
  test('rejected by decodeToGPU with their error code at their chunk, by default, in every lane variant and kernel', async (t) => {
    if (!device) return t.skip(skipReason);
    const manifest = JSON.parse(await readFile(fileURLToPath(new URL('invalid/manifest.json', VECTORS)), 'utf8')) as InvalidManifest;
    for (const file of cases) {
      const want = manifest.vectors.find((v) => v.file === file);
      assert.ok(want, `${file} is in the manifest`);
      const bytes = new Uint8Array(await readFile(fileURLToPath(new URL(`invalid/${file}`, VECTORS))));
      const cp = await openContainer(new MemorySource(bytes, file));
      const chunk = cp.tensors.flatMap((x) => cp.segmentOf(x).chunks).find((c) => c.offset <= want.offset! && want.offset! < c.offset + c.bytes);
      assert.ok(chunk, `${file}: offset ${want.offset} lies in a chunk`);
      for (const lanes of variants()) {
        for (const lean of [true, false]) {
          await assert.rejects(decodeToGPU(cp, cp.tensors.map((x) => x.name), device, { lanes, lean }), (e: unknown) => e instanceof WcodecError && e.code === want.code && e.offset === chunk.offset, `${file} [${lanes}${lean ? '' : ', generic'}]`);
        }
      }
    }
  });

  test('the valid version 4 vectors decode on the GPU to the CPU\'s bytes', async (t) => {
    if (!device) return t.skip(skipReason);
    for (const file of ['v4-file.wcodec', 'v4-folder.wcodec']) {
      const bytes = new Uint8Array(await readFile(fileURLToPath(new URL(`valid/${file}`, VECTORS))));
      const cp = await openContainer(new MemorySource(bytes, file));
      for (const lanes of variants()) await checkDigestsAgainstCpu(cp, file, lanes, true);
    }
  });
});
