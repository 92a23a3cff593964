// The GPU decode plan (src/gpu/decode-plan.ts), without a GPU: a tensor of 300 000 chunks in one dispatch (a
// multi-GiB tensor in the 16 KiB GPU profile) is planned, every chunk gets exactly one job and one CRC job, and
// segment classes get their own specialised kernels unless specialisation is off; packed raw planes (version 4)
// are sized ⌈n·b/8⌉ bytes, chunks whose records carry no CRC-32C get no CRC job, and chunks whose records carry a
// digest get one digest job each, in the slab and output window of their decode, with the digest unbound.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planDecode, JOB_WORDS } from '../../src/gpu/decode-plan.js';
import { WcodecError } from '../../src/errors.js';
import { rawCoding } from '../../src/pipeline/choose-layout.js';
import type { SegmentRecord } from '../../src/pipeline/index-codec.js';
import { buildPackedSegments } from '../helpers/packed-segment.js';
import { DIGEST_JOB_WORDS } from '../../src/gpu/digest-jobs.js';
import { chunkBinding } from '../../src/format/chunk-binding.js';
import { chunkBindingWords } from '../../src/gpu/job-table.js';

/** A raw-coded segment of `chunks` chunks of `chunkValues` values of width W, chunks back to back from `at`. */
function rawSegment(name: string, W: number, chunks: number, chunkValues: number, at: number): SegmentRecord {
  const list = Array.from({ length: chunks }, (_, c) => ({ offset: at + c * chunkValues * W, bytes: chunkValues * W, crc32c: (c * 2654435761) >>> 0 }));
  return { kind: 'tensor', name, dtype: W === 2 ? 'BF16' : 'F32', shape: [chunks * chunkValues], originalBytes: chunks * chunkValues * W, sha256: new Uint8Array(32), coding: rawCoding(W), chunkValues, chunks: list };
}

const LIMITS = { maxBinding: 2 ** 40, maxBuffer: 2 ** 40, inputSlabBytes: 2 ** 40, outputSlabBytes: 2 ** 30, tableWords: 4096, groups: 8 };

test('plan: 300 000 chunks of one tensor in one dispatch', () => {
  const n = 300_000;
  const seg = rawSegment('huge', 2, n, 8192, 64);
  const plan = planDecode([{ name: 'huge', seg }], LIMITS, 'plan-test');
  assert.equal(plan.dispatches.length, 1);
  assert.equal(plan.origins.length, n);
  assert.equal(plan.dispatches[0].jobCount, n); // 300 000 is a multiple of 8: no padding jobs
  const seen = new Uint8Array(n);
  for (let k = 0; k < n; k++) seen[plan.jobs[k * JOB_WORDS + 5]]++;
  assert.ok(seen.every((v) => v === 1), 'every status index once');
  assert.equal(plan.crcJobs.length, 4 * n);
  assert.equal(plan.crcJobs[4 * (n - 1) + 2], ((n - 1) * 2654435761) >>> 0);
  assert.equal(plan.inputBytes, n * 16384);
});

test('plan: one specialised kernel per class of segments, one generic kernel when off', () => {
  const a = rawSegment('a', 2, 5, 100, 0);
  const b = rawSegment('b', 4, 3, 100, 1000);
  const c = rawSegment('c', 2, 2, 100, 2200);
  const inputs = [{ name: 'a', seg: a }, { name: 'b', seg: b }, { name: 'c', seg: c }];
  const plan = planDecode(inputs, LIMITS);
  assert.equal(plan.kernels.length, 2);
  assert.deepEqual(plan.kernels.map((k) => k?.W), [2, 4]);
  assert.equal(plan.dispatches.length, 2);
  // Padding: each segment's jobs fill whole workgroups of 8.
  assert.deepEqual(plan.dispatches.map((d) => d.jobCount).sort(), [16, 8]);
  const generic = planDecode(inputs, { ...LIMITS, specialize: false });
  assert.deepEqual(generic.kernels, [undefined]);
  assert.equal(generic.dispatches.length, 1);
  assert.equal(generic.dispatches[0].jobCount, 24);
});

test('plan: packed raw planes take ⌈n·b/8⌉ bytes a chunk, and their bit width is in the descriptor and the kernel class', () => {
  // 1001 values a chunk, the 6-bit plane packed into 751 bytes; the last chunk of 999 values into 750.
  const values = new Uint8Array(2000 * 2).map((_, i) => (i * 37) & 0xff);
  const planes = { valueBytes: 2, planes: [{ kind: 'head' as const, ranges: [{ lo: 7, width: 8 }, { lo: 5, width: 2 }] }, { kind: 'head' as const, ranges: [{ lo: 15, width: 1 }, { lo: 0, width: 5 }] }] };
  const { segments } = buildPackedSegments([{ name: 'w', dtype: 'BF16', bytes: values, layout: planes, coded: [true, false], lanes: 32, chunkValues: 1001 }]);
  const seg = segments[0];
  const plan = planDecode([{ name: 'w', seg }], LIMITS);
  const streams = seg.chunks.map((rec, c) => rec.bytes - [751, 750][c]);
  const jobs = Array.from({ length: plan.dispatches[0].jobCount }, (_, k) => plan.jobs.subarray(k * JOB_WORDS, (k + 1) * JOB_WORDS)).filter((j) => j[5] !== 0xffffffff);
  assert.deepEqual(jobs.map((j) => j[2]).sort(), streams.sort());
  assert.deepEqual(plan.kernels[0]?.rawBits, [undefined, 6]);
  assert.deepEqual(plan.kernels[0]?.rawIndex, [undefined, 0]);
  // A chunk one byte short of its lane states and packed plane cannot hold its values.
  const short = { ...seg, chunks: seg.chunks.map((rec, c) => (c === 1 ? { ...rec, bytes: 4 * 32 + 750 - 1 } : rec)) };
  assert.throws(() => planDecode([{ name: 'w', seg: short }], LIMITS, 'short.wcodec'), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_CHUNK' && e.offset === seg.chunks[1].offset);
});

test('plan: chunks whose records carry no CRC-32C (version 4) get no CRC job and no host check', () => {
  const a = rawSegment('a', 2, 3, 100, 0);
  const b = { ...rawSegment('b', 2, 2, 100, 600), chunks: rawSegment('b', 2, 2, 100, 600).chunks.map(({ offset, bytes }) => ({ offset, bytes })) } as unknown as SegmentRecord;
  const plan = planDecode([{ name: 'a', seg: a }, { name: 'b', seg: b }], LIMITS);
  assert.equal(plan.origins.length, 5);
  assert.equal(plan.crcJobs.length, 4 * 3);
  assert.deepEqual([...plan.crcJobs.filter((_, k) => k % 4 === 3)], [0, 1, 2]);
  assert.deepEqual(plan.runs.flatMap((r) => r.chunks.map((c) => c.fileOffset)), [0, 200, 400]);
  const none = planDecode([{ name: 'b', seg: b }], LIMITS);
  assert.deepEqual(none.crcDispatches, []);
});

test('plan: every chunk with a digest (version 4) gets one digest job in its slab and window, with its bound digest', () => {
  // 50 chunks of 100 BF16 values (10 000 bytes) in a buffer of its own bound in 4 KiB windows, 1000-byte input slabs;
  // and a segment of 3 chunks whose records carry CRCs, which gets no digest job.
  const sha256 = Uint8Array.from({ length: 32 }, (_, k) => k * 7 + 1);
  const base = rawSegment('v4', 2, 50, 100, 0);
  const v4 = { ...base, sha256, chunks: base.chunks.map(({ offset, bytes }, c) => ({ offset, bytes, digest: BigInt(c) * 0x9e3779b97f4a7c15n & 0xffffffffffffffffn })) } as unknown as SegmentRecord;
  const v3 = rawSegment('v3', 2, 3, 100, 10_000);
  const limits = { ...LIMITS, maxBinding: 4096, inputSlabBytes: 1000, outputSlabBytes: 4096 };
  const plan = planDecode([{ name: 'v3', seg: v3 }, { name: 'v4', seg: v4 }], limits);
  const tensor = plan.tensors[1];
  assert.ok(plan.digestDispatches.length > 2, 'several slabs and windows');
  const seen = new Map<number, number>();
  for (const d of plan.digestDispatches) {
    assert.equal(d.output, tensor.output);
    assert.ok(d.windowOffset % 256 === 0 && d.windowBytes <= 4096);
    for (let k = d.jobStart; k < d.jobStart + d.jobCount; k++) {
      const [at, bytes, status, , lo, hi] = plan.digestJobs.subarray(k * DIGEST_JOB_WORDS, (k + 1) * DIGEST_JOB_WORDS);
      const o = plan.origins[status];
      assert.equal(o.tensor, 'v4');
      assert.equal(bytes, 200);
      assert.equal(d.windowOffset + at, tensor.offset + o.chunk * 200, `chunk ${o.chunk} at its place in the window`);
      assert.ok(at + bytes <= d.windowBytes);
      assert.equal((BigInt(hi) << 32n) | BigInt(lo), v4.chunks[o.chunk].digest! ^ chunkBinding(sha256, 0, o.chunk));
      // The decode dispatch that writes this chunk reads the digest dispatch's slab and window.
      const decode = plan.dispatches.find((x) => {
        for (let j = x.jobStart; j < x.jobStart + x.jobCount; j++) if (plan.jobs[j * JOB_WORDS + 5] === status) return true;
        return false;
      })!;
      assert.deepEqual([decode.slab, decode.windowOffset], [d.slab, d.windowOffset]);
      seen.set(status, (seen.get(status) ?? 0) + 1);
    }
  }
  assert.equal(seen.size, 50);
  assert.ok([...seen.values()].every((v) => v === 1), 'one digest job per chunk');
});

test('plan: chunk bindings in 32-bit halves equal chunkBinding (FORMAT.md §7.5) over streams, chunk numbers and leads', () => {
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let k = 0; k < 2000; k++) {
    const sha = new Uint8Array(32).map(() => next() & 0xff);
    const stream = k % 7 === 0 ? 0 : next() % 300;
    const chunk = k % 5 === 0 ? 0xffffffff - (next() % 3) : k % 3 === 0 ? next() : next() % 100000;
    const lead = new DataView(sha.buffer);
    const [lo, hi] = chunkBindingWords(lead.getUint32(0, true), lead.getUint32(4, true), stream, chunk);
    const want = chunkBinding(sha, stream, chunk);
    assert.equal((BigInt(hi) << 32n) | BigInt(lo), want, `stream ${stream}, chunk ${chunk}`);
  }
});
