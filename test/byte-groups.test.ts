// Format version 11 (FORMAT.md §3.3, §3.4): byte-model groups of 1-byte tensors (one stream, continuations without
// chunks) read whole and tensor by tensor, the version the writer chooses by default (11 only where the byte model is
// used, else exactly the version 4 container), the member of one segment without a second digest, and corrupt groups
// failing with typed errors that name the file and the offset.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { MemorySource } from '../src/io/byte-source.js';
import { WcodecError } from '../src/errors.js';
import type { SegmentRecord } from '../src/pipeline/index-codec.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { editHeader, editFooter, editIndex, needTensor } from '../tools/vectors/surgery.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const version = (c: Uint8Array): number => c[8] | (c[9] << 8);

/** A TF.js-style U8 model: quantized filters around a zero point (a few far out) with F32 biases between them. */
function u8Model(rng: Rng): { bytes: Uint8Array; names: string[] } {
  const u8 = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.max(0, Math.min(255, Math.round(128 + rng.gaussian() * (rng.int(10) === 0 ? 40 : 6)))));
  const f32 = (n: number): Uint8Array => new Uint8Array(Float32Array.from({ length: n }, () => rng.gaussian()).buffer);
  const tensors = [];
  for (let i = 0; i < 6; i++) {
    tensors.push({ name: `block${i}.depthwise`, dtype: 'U8', shape: [3, 3, 8 * (i + 1)], data: u8(72 * (i + 1)) });
    tensors.push({ name: `block${i}.pointwise`, dtype: 'U8', shape: [8 * (i + 1), 64], data: u8(512 * (i + 1)) });
    tensors.push({ name: `block${i}.bias`, dtype: 'F32', shape: [16], data: f32(16) });
  }
  return { bytes: buildSafetensors(tensors).bytes, names: tensors.map((t) => t.name) };
}

/** Each segment's bytes in the member, by the order of the segments. */
function parts(file: Uint8Array, segs: SegmentRecord[]): Uint8Array[] {
  let at = 0;
  return segs.map((s) => file.subarray(at, (at += s.originalBytes)));
}

describe('byte-model groups (version 11)', () => {
  const seed = testSeed(11);
  const { bytes: model } = u8Model(new Rng(seed));

  test(`a U8 model by default: version 11, its U8 tensors one group, a byte-identical round trip (seed ${seed})`, async () => {
    const c = await compressBuffer(model, { name: 'model.safetensors', threads: 1 });
    assert.equal(version(c), 11);
    const segs = (await ContainerReader.open(new MemorySource(c, 'm.wcodec'))).index.members[0].segments;
    const leader = segs.find((s) => s.groupBytes !== undefined);
    assert.ok(leader, 'a group');
    const grouped = segs.filter((s) => s.group?.leader === leader);
    assert.ok(grouped.length >= 2, `${grouped.length} continuations`);
    assert.equal(leader.groupBytes, leader.originalBytes + grouped.reduce((a, s) => a + s.originalBytes, 0));
    for (const s of grouped) assert.equal(s.chunks.length, 0);
    assert.ok(segs.some((s) => s.dtype === 'F32' && s.coding.byteModel === undefined), 'the F32 biases are coded apart');
    for (const threads of [1, 2]) assert.equal(sha(await decompressBuffer(c, { threads })), sha(model), `threads ${threads}`);
    const apart = await compressBuffer(model, { name: 'model.safetensors', threads: 1, formatVersion: 8 });
    assert.ok(c.length < apart.length, `grouped ${c.length} bytes, each tensor its own stream ${apart.length}`);
  });

  test('every tensor of a group read on its own (continuations before their group), with and without SHA-256 checks', async () => {
    const c = await compressBuffer(model, { name: 'model.safetensors', threads: 1 });
    const segs = (await ContainerReader.open(new MemorySource(c, 'm.wcodec'))).index.members[0].segments;
    const want = parts(model, segs);
    for (const checkSha256 of [false, true]) {
      for (let k = segs.length - 1; k >= 0; k--) {
        const reader = await ContainerReader.open(new MemorySource(c, 'm.wcodec'));
        const seg = reader.index.members[0].segments[k];
        const into = new Uint8Array(seg.originalBytes).fill(0xa5); // poisoned: unwritten bytes show
        assert.equal(sha(await reader.readSegment(seg, { checkSha256 }, into)), sha(want[k]), `segment ${k} '${seg.name}'`);
        const pieces: Uint8Array[] = [];
        await reader.decodeSegment(seg, (b) => void pieces.push(b.slice()), { checkSha256 });
        assert.equal(sha(Buffer.concat(pieces)), sha(want[k]), `segment ${k} decoded`);
      }
    }
  });

  test('a U8 tensor repeating a grouped one is a DUPLICATE of it, left out of the group; both read back on their own', async () => {
    const rng = new Rng(seed + 1);
    // Rows of filters that repeat with a few changes, which the byte model's contexts find and order-0 coding does not.
    const row = Uint8Array.from({ length: 60 }, () => 128 + rng.int(41) - 20);
    const rows = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (rng.int(10) === 0 ? rng.int(256) : row[i % 60]));
    const w = rows(900);
    const tensors = [
      { name: 'a', dtype: 'U8', shape: [900], data: w },
      { name: 'b', dtype: 'U8', shape: [700], data: rows(700) },
      { name: 'a.tied', dtype: 'U8', shape: [900], data: w.slice() },
    ];
    const file = buildSafetensors(tensors).bytes;
    const c = await compressBuffer(file, { name: 'tied.safetensors', threads: 1 });
    assert.equal(version(c), 11);
    const reader = await ContainerReader.open(new MemorySource(c, 't.wcodec'));
    const segs = reader.index.members[0].segments;
    const byName = (n: string): SegmentRecord => segs.find((s) => s.name === n)!;
    assert.equal(byName('a').groupBytes, 1600, "'a' and 'b' are one group");
    assert.equal(byName('a.tied').transform?.code, 1, "'a.tied' is a DUPLICATE");
    assert.deepEqual(byName('a.tied').transform?.target, { member: 0, segment: 1 }, "of 'a'");
    for (const t of [...tensors].reverse()) {
      const r = await ContainerReader.open(new MemorySource(c)); // a fresh reader: no group decoded before
      assert.equal(sha(await r.readSegment(r.index.members[0].segments.find((s) => s.name === t.name)!, { checkSha256: true })), sha(t.data), t.name);
    }
    assert.equal(sha(await decompressBuffer(c)), sha(file));
  });

  test('encoding twice gives the same bytes; formatVersion 11 gives the default container', async () => {
    const a = await compressBuffer(model, { name: 'model.safetensors', threads: 1 });
    const b = await compressBuffer(model, { name: 'model.safetensors', threads: 2 });
    const forced = await compressBuffer(model, { name: 'model.safetensors', threads: 1, formatVersion: 11 });
    assert.equal(sha(a), sha(b));
    assert.equal(sha(a), sha(forced));
  });

  test("a damaged group stream fails every read of the group's tensors with a typed error naming the file and the chunk", async () => {
    const c = await compressBuffer(model, { name: 'model.safetensors', threads: 1 });
    const reader = await ContainerReader.open(new MemorySource(c, 'm.wcodec'));
    const segs = reader.index.members[0].segments;
    const leader = segs.find((s) => s.groupBytes !== undefined)!;
    const rec = leader.chunks[0];
    const bad = c.slice();
    bad[rec.offset + (rec.bytes >> 1)] ^= 0x10;
    const last = segs.filter((s) => s.group?.leader === leader).at(-1)!;
    for (const name of [leader.name, last.name]) {
      const r = await ContainerReader.open(new MemorySource(bad, 'm.wcodec'));
      const seg = r.index.members[0].segments.find((s) => s.name === name)!;
      await assert.rejects(r.readSegment(seg), (e: unknown) => {
        assert.ok(e instanceof WcodecError);
        assert.ok(e.code === 'CHECKSUM_MISMATCH' || e.code === 'CORRUPT_CHUNK', e.code);
        assert.equal(e.file, 'm.wcodec');
        assert.ok(e.offset !== undefined && e.offset >= rec.offset && e.offset <= rec.offset + rec.bytes, `offset ${e.offset} in the chunk at ${rec.offset}`);
        return true;
      }, name);
    }
    await assert.rejects(decompressBuffer(bad, { threads: 1 }), (e: unknown) => e instanceof WcodecError && (e.code === 'CHECKSUM_MISMATCH' || e.code === 'CORRUPT_CHUNK'));
  });

  test('index rules: a version 11 container read as version 8, a continuation with chunks, one with no group before it', async () => {
    const c = await compressBuffer(model, { name: 'model.safetensors', threads: 1 });
    const v8 = editFooter(editHeader(c, (dv) => dv.setUint16(8, 8, true), true), (dv) => dv.setUint16(20, 8, true), true);
    await assert.rejects(ContainerReader.open(new MemorySource(v8, 'm.wcodec')), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_INDEX' && e.file === 'm.wcodec' && e.offset !== undefined);
    const names = (await ContainerReader.open(new MemorySource(c))).index.members[0].segments.filter((s) => s.group).map((s) => s.name);
    const chunked = await editIndex(c, (ix) => {
      needTensor(ix, names[0]).chunkValues = 4;
    });
    await assert.rejects(ContainerReader.open(new MemorySource(chunked, 'm.wcodec')), /continuation with chunkValues 4 and 0 chunks/);
    // The group's first segment made a continuation too: its chunk then belongs to no group (and no continuation has chunks).
    const orphan = await editIndex(c, (ix) => {
      const first = ix.members[0].segments.find((s) => s.groupBytes !== undefined)!;
      first.coding.byteModel!.primer = 2;
    });
    await assert.rejects(ContainerReader.open(new MemorySource(orphan, 'm.wcodec')), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_INDEX');
  });
});

describe('the version the writer chooses', () => {
  const rng = new Rng(testSeed(7));
  const noise = Uint8Array.from({ length: 3000 }, () => rng.int(256));
  const floats = buildSafetensors([{ name: 'w', dtype: 'F32', shape: [64, 16], data: new Uint8Array(Float32Array.from({ length: 1024 }, () => rng.gaussian()).buffer) }]).bytes;

  test('nothing the byte model improves: version 4, byte for byte the container written without it', async () => {
    const d = await compressBuffer(noise, { name: 'noise.bin', threads: 1 });
    assert.equal(version(d), 4);
    assert.equal(sha(d), sha(await compressBuffer(noise, { name: 'noise.bin', threads: 1, byteModel: false })));
    assert.equal(sha(d), sha(await compressBuffer(noise, { name: 'noise.bin', threads: 1, formatVersion: 4 })));
  });

  test('a safetensors file: its header coded with the byte model (version 11), its float chunks as in version 4', async () => {
    const d = await compressBuffer(floats, { name: 'w.safetensors', threads: 1 });
    const old = await compressBuffer(floats, { name: 'w.safetensors', threads: 1, byteModel: false });
    assert.equal(version(d), 11);
    assert.equal(version(old), 4);
    assert.ok(d.length < old.length);
    const seg = async (c: Uint8Array) => (await ContainerReader.open(new MemorySource(c))).index.members[0].segments[1];
    const [a, b] = [await seg(d), await seg(old)];
    assert.equal(sha(d.subarray(a.chunks[0].offset, a.chunks[0].offset + a.chunks[0].bytes)), sha(old.subarray(b.chunks[0].offset, b.chunks[0].offset + b.chunks[0].bytes)), 'the same float chunk');
    assert.equal(sha(await decompressBuffer(d)), sha(floats));
  });

  test('by default the byte model is tried on byte segments of up to 2 MiB and 1-byte tensors of up to 1 MiB; formatVersion 11 tries larger ones', async () => {
    // Text the byte model codes far below order-0, just over the default bound of a byte segment.
    const words = Array.from({ length: 400 }, (_, i) => `"token_${i % 53}_${(i * 7919) % 1000}": ${i}`);
    const text = new Uint8Array(2 * 1024 * 1024 + 100);
    const enc = new TextEncoder().encode(`{${words.join(', ')}}\n`);
    for (let at = 0; at < text.length; at += enc.length) text.set(enc.subarray(0, Math.min(enc.length, text.length - at)), at);
    const byDefault = await compressBuffer(text, { name: 'big.json', threads: 1 });
    assert.equal(version(byDefault), 4, 'not tried above 2 MiB by default');
    assert.equal(sha(byDefault), sha(await compressBuffer(text, { name: 'big.json', threads: 1, byteModel: false })));
    const asked = await compressBuffer(text, { name: 'big.json', threads: 1, formatVersion: 11 });
    assert.ok((await ContainerReader.open(new MemorySource(asked))).index.members[0].segments[0].coding.byteModel, 'tried and kept when asked for');
    assert.ok(asked.length < byDefault.length);
    assert.equal(sha(await decompressBuffer(asked)), sha(text));
    // A U8 tensor just over 1 MiB whose repeats the byte model finds.
    const u8 = new Uint8Array(1024 * 1024 + 64);
    for (let i = 0; i < u8.length; i++) u8[i] = i % 3000 < 1500 ? 120 + rng.int(17) : u8[i - 1500];
    const model = buildSafetensors([{ name: 'q', dtype: 'U8', shape: [u8.length], data: u8 }]).bytes;
    const segOf = async (c: Uint8Array) => (await ContainerReader.open(new MemorySource(c))).index.members[0].segments.find((x) => x.name === 'q')!;
    assert.equal((await segOf(await compressBuffer(model, { name: 'q.safetensors', threads: 1 }))).coding.byteModel, undefined, 'not tried above 1 MiB by default');
    const q11 = await compressBuffer(model, { name: 'q.safetensors', threads: 1, formatVersion: 11 });
    assert.ok((await segOf(q11)).coding.byteModel, 'tried and kept when asked for');
    assert.equal(sha(await decompressBuffer(q11)), sha(model));
  });

  test('explicit versions are kept: 4, 5 (a GGUF name) and 8 never become 11', async () => {
    const text = new TextEncoder().encode(JSON.stringify({ vocab: Array.from({ length: 300 }, (_, i) => `token_${i % 37}_${i}`) }));
    for (const formatVersion of [4, 8] as const) assert.equal(version(await compressBuffer(text, { name: 'v.json', formatVersion })), formatVersion);
    assert.equal(version(await compressBuffer(text, { name: 'v.json' })), 11);
    assert.equal(version(await compressBuffer(text, { name: 'v.json', byteModel: false })), 4);
  });
});

describe('a member of one segment (version 11)', () => {
  const config = new TextEncoder().encode(JSON.stringify({ architectures: ['LlamaForCausalLM'], hidden_size: 64, intermediate_size: 172, num_attention_heads: 8, num_hidden_layers: 2, vocab_size: 512, torch_dtype: 'float32' }, null, 2));

  test('a 203-byte config.json: exact container sizes by version; the segment digest is the member digest, not stored twice', async () => {
    const sizes: Record<string, number> = {};
    for (const [k, o] of [['default', {}], ['v8', { formatVersion: 8 as const }], ['v4', { byteModel: false }]] as const) {
      const c = await compressBuffer(config, { name: 'config.json', threads: 1, ...o });
      assert.equal(sha(await decompressBuffer(c)), sha(config), k);
      sizes[k] = c.length;
    }
    // 56 bytes of header and footer, the index (two 32-byte member digests), the byte-model stream of the JSON.
    assert.deepEqual(sizes, { default: 296, v8: 303, v4: 458 });
    const c = await compressBuffer(config, { name: 'config.json', threads: 1 });
    const m = (await ContainerReader.open(new MemorySource(c))).index.members[0];
    assert.equal(m.segments.length, 1);
    assert.equal(Buffer.from(m.segments[0].sha256).toString('hex'), sha(config));
    assert.equal(Buffer.from(m.sha256).toString('hex'), sha(config));
  });
});
