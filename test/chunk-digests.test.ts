// Format version 4 chunk digests (FORMAT.md §3.4, §7.3, §7.5): the writer's default, checked on every decode without
// a SHA-256 pass. Damage to any chunk, index field or digest fails with a typed error under default options; a
// producer who rewrites a chunk and its digest is caught by the SHA-256 only (`checkSha256`), as the spec says.

import '../src/io/node-sha256.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { openContainer } from '../src/api/checkpoint.js';
import { WcodecError, errorClassFor, type ErrorCode } from '../src/errors.js';
import { chunkDigest } from '../src/format/chunk-digest.js';
import { chunkBinding } from '../src/format/chunk-binding.js';
import { MemorySource } from '../src/io/byte-source.js';
import { closeSharedPools } from '../src/workers/pool.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { segmentChunks } from '../src/pipeline/index-codec.js';
import { editIndex, segmentsOf } from '../tools/vectors/surgery.js';
import { buildSafetensors, type TensorInput } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { makeValues } from './helpers/values.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const rng = new Rng(testSeed(0xd16e));
const spec: [string, string, number, Parameters<typeof makeValues>[2]][] = [
  ['w.bf16', 'BF16', 700, 'gaussian'],
  ['w.f32', 'F32', 90, 'special'],
  ['w.f16', 'F16', 333, 'sparse'],
  ['ids.i8', 'I8', 129, 'random'],
  ['d.f64', 'F64', 7, 'gaussian'],
  ['e.i32', 'I32', 0, 'random'],
];
const tensors: TensorInput[] = spec.map(([name, dtype, n, mix]) => ({ name, dtype, shape: [n], data: makeValues(dtype, n, mix, rng) }));
const original = buildSafetensors(tensors, { metadata: { format: 'pt' } }).bytes;
// Without the byte model, which would code the header and 'ids.i8' (version 11, the same chunk digests): version 4.
const container = await compressBuffer(original, { chunkBytes: 256, transforms: false, byteModel: false });

/** Decodes with default options: 'ok' when it gives `original`, else the WcodecError's code; fails on anything else. */
async function outcome(bytes: Uint8Array, what: string): Promise<ErrorCode | 'ok'> {
  let out: Uint8Array;
  try {
    out = await decompressBuffer(bytes, { name: 'c.wcodec' });
  } catch (e) {
    if (!(e instanceof WcodecError)) assert.fail(`${what}: threw ${(e as Error)?.name}: ${(e as Error)?.message}, not a WcodecError`);
    assert.ok(e instanceof errorClassFor(e.code), `${what}: ${e.name} is not the class of ${e.code}`);
    assert.ok(e.offset === undefined || (Number.isSafeInteger(e.offset) && e.offset >= 0 && e.offset <= bytes.length), `${what}: offset ${e.offset}`);
    return e.code;
  }
  assert.equal(sha(out), sha(original), `${what}: decoded to different bytes without an error`);
  return 'ok';
}

describe('version 4 chunk digests', () => {
  test('the writer writes version 4 without the byte model, with a digest of each chunk\'s decoded bytes in its record', async () => {
    assert.equal(container[8], 4);
    const reader = await ContainerReader.open(new MemorySource(container));
    let checked = 0;
    for (const seg of segmentsOf(reader.index)) {
      const W = seg.coding.layout.valueBytes;
      const values = seg.originalBytes / W;
      const bytes = await reader.readSegment(seg);
      segmentChunks(seg).forEach((rec, c) => {
        const n = Math.min(seg.chunkValues, values - c * seg.chunkValues);
        const digest = chunkDigest(bytes.subarray(c * seg.chunkValues * W, (c * seg.chunkValues + n) * W));
        assert.equal(rec.digest, digest ^ chunkBinding(seg.sha256, 0, c), `${seg.name} chunk ${c}`);
        assert.equal(rec.crc32c, 0);
        checked++;
      });
    }
    assert.ok(checked >= 10, `${checked} chunks`);
    assert.equal(sha(await decompressBuffer(container)), sha(original));
  });

  test('version 3 writes CRCs: the same chunks, each record 4 bytes shorter in the index', async () => {
    const v3 = await compressBuffer(original, { chunkBytes: 256, transforms: false, formatVersion: 3 });
    assert.equal(v3[8], 3);
    const r3 = await ContainerReader.open(new MemorySource(v3));
    const r4 = await ContainerReader.open(new MemorySource(container));
    const c3 = segmentsOf(r3.index).flatMap((s) => segmentChunks(s));
    const c4 = segmentsOf(r4.index).flatMap((s) => segmentChunks(s));
    assert.deepEqual(c4.map((c) => c.bytes), c3.map((c) => c.bytes));
    assert.ok(c3.every((c) => c.digest === undefined));
    assert.equal(sha(await decompressBuffer(v3)), sha(original));
  });

  test('engines and thread counts write the same version 4 bytes', async () => {
    try {
      const ts = await compressBuffer(original, { chunkBytes: 256, transforms: false, engine: 'ts', byteModel: false });
      const pooled = await compressBuffer(original, { chunkBytes: 256, transforms: false, threads: 2, minPoolBytes: 0, byteModel: false });
      assert.equal(sha(ts), sha(container));
      assert.equal(sha(pooled), sha(container));
      // The default container (version 11: the header and 'ids.i8' coded with the byte model) is the same on every engine and thread count too.
      const byDefault = await compressBuffer(original, { chunkBytes: 256, transforms: false });
      assert.equal(byDefault[8], 11);
      assert.equal(sha(await compressBuffer(original, { chunkBytes: 256, transforms: false, engine: 'ts' })), sha(byDefault));
      assert.equal(sha(await compressBuffer(original, { chunkBytes: 256, transforms: false, threads: 2, minPoolBytes: 0 })), sha(byDefault));
      assert.equal(sha(await decompressBuffer(byDefault, { threads: 2, minPoolBytes: 0 })), sha(original));
      assert.equal(sha(await decompressBuffer(container, { engine: 'ts' })), sha(original));
      assert.equal(sha(await decompressBuffer(container, { threads: 2, minPoolBytes: 0 })), sha(original));
    } finally {
      await closeSharedPools();
    }
  });

  test('every single-bit flip in the data region fails with a typed error under default options (no SHA-256 pass)', async () => {
    const reader = await ContainerReader.open(new MemorySource(container));
    const chunks = segmentsOf(reader.index).flatMap((s) => segmentChunks(s));
    const start = chunks[0].offset;
    const end = chunks[chunks.length - 1].offset + chunks[chunks.length - 1].bytes;
    const codes = new Map<string, number>();
    const flipRng = new Rng(testSeed(0xf11b));
    for (let at = start; at < end; at++) {
      const c = container.slice();
      c[at] ^= 1 << flipRng.int(8);
      const r = await outcome(c, `byte ${at}`);
      assert.notEqual(r, 'ok', `a flip at byte ${at} decoded`);
      codes.set(r, (codes.get(r) ?? 0) + 1);
    }
    // Both paths occur: structural failures while decoding, and digests of wrong output.
    assert.ok((codes.get('CHECKSUM_MISMATCH') ?? 0) > 0 && (codes.get('CORRUPT_CHUNK') ?? 0) > 0, [...codes].join(', '));
  });

  test('a wrong digest in a chunk record is CHECKSUM_MISMATCH at that chunk, on whole decodes and tensor reads', async () => {
    const bad = await editIndex(container, (ix) => {
      const seg = segmentsOf(ix).find((s) => s.name === 'w.bf16')!;
      seg.chunks[1] = { ...seg.chunks[1], digest: seg.chunks[1].digest! ^ (1n << 63n) };
    });
    const reader = await ContainerReader.open(new MemorySource(bad));
    const rec = segmentsOf(reader.index).find((s) => s.name === 'w.bf16')!.chunks[1];
    await assert.rejects(decompressBuffer(bad, { name: 'bad.wcodec' }), (e: WcodecError) => {
      assert.equal(e.code, 'CHECKSUM_MISMATCH');
      assert.equal(e.offset, rec.offset);
      assert.match(e.message, /chunk 1 of tensor 'w\.bf16'.*chunk digest/);
      return true;
    });
    const cp = await openContainer(new MemorySource(bad, 'bad.wcodec'));
    try {
      await assert.rejects(cp.read('w.bf16'), { code: 'CHECKSUM_MISMATCH' });
      assert.equal((await cp.read('w.f32')).bytes.length, 90 * 4, 'other tensors still read');
    } finally {
      await cp.close();
    }
  });

  test('chunk records moved with their digests, to another tensor or another place, fail their check', async () => {
    // Two tensors of one size: their codings and chunk lists exchanged (data relaid in index order by the writer of the
    // index), SHA-256s and labels kept. The digests travel with the chunks but are bound to the segment's SHA-256.
    const twin = buildSafetensors([
      { name: 'a', dtype: 'BF16', shape: [600], data: makeValues('BF16', 600, 'gaussian', rng) },
      { name: 'b', dtype: 'BF16', shape: [600], data: makeValues('BF16', 600, 'gaussian', rng) },
    ]).bytes;
    const c = await compressBuffer(twin, { chunkBytes: 256, transforms: false });
    const swapped = await editIndex(c, (ix, p) => {
      const [a, b] = segmentsOf(ix).filter((s) => s.kind === 'tensor');
      [a.coding, b.coding] = [b.coding, a.coding];
      [a.chunks, b.chunks] = [b.chunks, a.chunks];
      const order = segmentsOf(ix).flatMap((s) => s.chunks);
      p.chunks.sort((x, y) => order.indexOf(x.record) - order.indexOf(y.record));
    }, true);
    await assert.rejects(decompressBuffer(swapped), { code: 'CHECKSUM_MISMATCH' });
    // Two chunks of one tensor trading places (payloads and records).
    const reordered = await editIndex(c, (ix, p) => {
      const a = segmentsOf(ix).find((s) => s.name === 'a')!;
      [a.chunks[0], a.chunks[1]] = [a.chunks[1], a.chunks[0]];
      const order = segmentsOf(ix).flatMap((s) => s.chunks);
      p.chunks.sort((x, y) => order.indexOf(x.record) - order.indexOf(y.record));
    }, true);
    await assert.rejects(decompressBuffer(reordered), { code: 'CHECKSUM_MISMATCH' });
    assert.equal(sha(await decompressBuffer(c)), sha(twin));
  });

  test('a rewritten chunk with its digest recomputed passes the chunk digests and fails the SHA-256 on request', async () => {
    // A raw-stored tensor (I8 random values): its chunk bytes are its values, so a producer can change them and
    // compute the matching digest. Only the SHA-256 recorded in the index notices (FORMAT.md §7.3).
    const reader = await ContainerReader.open(new MemorySource(container));
    const ids = segmentsOf(reader.index).find((s) => s.name === 'ids.i8')!;
    assert.ok(ids.coding.tables.every((t) => t === undefined), 'ids.i8 is stored raw');
    const rec = ids.chunks[0];
    const forged = container.slice();
    forged[rec.offset] ^= 0x40;
    const out = await editIndex(forged, (ix) => {
      const seg = segmentsOf(ix).find((s) => s.name === 'ids.i8')!;
      seg.chunks[0] = { ...seg.chunks[0], digest: chunkDigest(forged.subarray(rec.offset, rec.offset + rec.bytes)) ^ chunkBinding(seg.sha256, 0, 0) };
    });
    const decoded = await decompressBuffer(out);
    assert.notEqual(sha(decoded), sha(original), 'the default decode returns the rewritten bytes');
    await assert.rejects(decompressBuffer(out, { checkSha256: true }), { code: 'CHECKSUM_MISMATCH' });
    await assert.rejects(decompressBuffer(out, { checkDigests: true }), { code: 'CHECKSUM_MISMATCH' });
  });
});
