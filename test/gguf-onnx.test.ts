// GGUF files and ONNX models as containers (FORMAT.md §3.2 `layout`, §3.5.3.4, §4.6, §4.7): round trips bit for bit
// (every supported tensor type, odd sizes, non-zero padding, metadata of every value type, no tensors, inline and
// external ONNX data), tensor-level reads, files that cannot be split (stored as bytes with a warning, refused with
// strict), labels that disagree with the stored header (LABEL_MISMATCH), and determinism.

import '../src/io/node-sha256.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressBuffer, compressBufferWithWarnings, decompressBuffer } from '../src/api/buffers.js';
import { openContainer } from '../src/api/checkpoint.js';
import { compressFile, decompressFile, openCheckpoint } from '../src/node/file-api.js';
import { MemorySource } from '../src/io/byte-source.js';
import { WcodecError } from '../src/errors.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { blockFieldsTransform, TRANSFORM_BLOCK_FIELDS } from '../src/transform/block-fields.js';
import { buildGguf, GGUF, type GgufTensorSpec } from '../tools/gguf-file.js';
import { buildOnnx, ONNX_TYPE, ProtoWriter, tensorProto } from '../tools/onnx-file.js';
import { Rng } from '../tools/seeded-rng.js';
import { f16Bits, bf16Bits } from '../tools/float-bits.js';
import { editIndex } from '../tools/vectors/surgery.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Little-endian bytes of `values` as `bits`-bit floats. */
function floats(values: number[], dtype: 'F32' | 'F16' | 'BF16'): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(new Float32Array(values).buffer);
  const out = new Uint8Array(2 * values.length);
  values.forEach((v, i) => {
    const b = dtype === 'F16' ? f16Bits(v) : bf16Bits(v);
    out[2 * i] = b & 0xff;
    out[2 * i + 1] = b >>> 8;
  });
  return out;
}

/** `blocks` quantized blocks of `blockBytes` with an F16 scale first (`scaleBytes` of scales) and random codes. */
function blocksOf(rng: Rng, blocks: number, blockBytes: number, scaleAt: number, scaleBytes: number): Uint8Array {
  const out = rng.bytes(blocks * blockBytes);
  for (let b = 0; b < blocks; b++) {
    for (let s = 0; s < scaleBytes; s += 2) {
      const bits = f16Bits(0.01 + rng.float() * 0.01);
      out[b * blockBytes + scaleAt + s] = bits & 0xff;
      out[b * blockBytes + scaleAt + s + 1] = bits >>> 8;
    }
  }
  return out;
}

const gauss = (rng: Rng, n: number, scale = 0.02): number[] => Array.from({ length: n }, () => rng.gaussian() * scale);

/** Metadata of every GGUF value type, a nested array among them. */
const EVERY_KV = [
  { key: 'general.architecture', type: GGUF.STRING, value: 'llama' },
  { key: 'u8', type: GGUF.U8, value: 200 },
  { key: 'i8', type: GGUF.I8, value: -3 },
  { key: 'u16', type: GGUF.U16, value: 60000 },
  { key: 'i16', type: GGUF.I16, value: -300 },
  { key: 'u32', type: GGUF.U32, value: 4e9 },
  { key: 'i32', type: GGUF.I32, value: -7 },
  { key: 'f32', type: GGUF.F32, value: 1.5 },
  { key: 'bool', type: GGUF.BOOL, value: true },
  { key: 'u64', type: GGUF.U64, value: 2n ** 60n },
  { key: 'i64', type: GGUF.I64, value: -(2n ** 40n) },
  { key: 'f64', type: GGUF.F64, value: Math.PI },
  { key: 'tokens', type: GGUF.ARRAY, value: { itemType: GGUF.STRING, items: ['<s>', '</s>', 'héllo'] } },
  { key: 'scores', type: GGUF.ARRAY, value: { itemType: GGUF.F32, items: [0.5, -1, 2] } },
  { key: 'nested', type: GGUF.ARRAY, value: { itemType: GGUF.ARRAY, items: [{ itemType: GGUF.I32, items: [1, 2] }, { itemType: GGUF.STRING, items: ['x'] }] } },
];

/** A GGUF file of every tensor type the encoder splits into fields, plain float types and odd sizes. */
function everyTypeGguf(rng: Rng, version: 2 | 3 = 3): { bytes: Uint8Array; tensors: GgufTensorSpec[] } {
  const tensors: GgufTensorSpec[] = [
    { name: 'tok_embd.weight', type: 0, dims: [7, 3], data: floats(gauss(rng, 21), 'F32') },
    { name: 'norm.weight', type: 1, dims: [13], data: floats(gauss(rng, 13, 1), 'F16') },
    { name: 'bf16.weight', type: 30, dims: [5, 1, 2], data: floats(gauss(rng, 10), 'BF16') },
    { name: 'q8.weight', type: 8, dims: [64, 40], data: blocksOf(rng, 80, 34, 0, 2) },
    { name: 'q4.weight', type: 2, dims: [32, 33], data: blocksOf(rng, 33, 18, 0, 2) },
    { name: 'q4k.weight', type: 12, dims: [256, 5], data: blocksOf(rng, 5, 144, 0, 4) },
    { name: 'q6k.weight', type: 14, dims: [256, 3], data: blocksOf(rng, 3, 210, 208, 2) },
    { name: 'i32.tensor', type: 26, dims: [3], data: rng.bytes(12) },
    { name: 'empty', type: 0, dims: [0, 4], data: new Uint8Array(0) },
  ];
  const bytes = buildGguf({ version, kvs: [...EVERY_KV, { key: 'general.alignment', type: GGUF.U32, value: 64 }], alignment: 64, tensors, trailing: new Uint8Array([1, 2, 3]) });
  return { bytes, tensors };
}

async function roundTrip(bytes: Uint8Array, name: string, options = {}): Promise<Uint8Array> {
  const { bytes: c, warnings } = await compressBufferWithWarnings(bytes, { name, ...options });
  assert.deepEqual(warnings, []);
  assert.equal(sha(await decompressBuffer(c)), sha(bytes));
  return c;
}

test('GGUF: every tensor type, metadata of every value type, non-zero padding and trailing bytes round-trip, and each tensor reads back', async () => {
  for (const version of [2, 3] as const) {
    const { bytes, tensors } = everyTypeGguf(new Rng(version), version);
    const c = await roundTrip(bytes, 'model.gguf');
    // Version 11 by default (its metadata is coded with the byte model); version 5 without the byte model.
    assert.equal(c[8], 11, 'a GGUF member with metadata coded with the byte model makes the container version 11');
    assert.equal((await compressBuffer(bytes, { name: 'model.gguf', byteModel: false }))[8], 5, 'a GGUF member makes the container version 5');
    const ckpt = await openContainer(new MemorySource(c, 'm.wcodec'));
    assert.deepEqual(ckpt.tensors.map((t) => t.name), tensors.map((t) => t.name));
    for (const t of tensors) {
      const info = ckpt.tensors.find((i) => i.name === t.name)!;
      assert.deepEqual(info.shape, [...t.dims].reverse(), `${t.name}: shape is the GGUF dimensions reversed`);
      assert.equal(info.file, 'model.gguf');
      assert.deepEqual((await ckpt.read(t.name)).bytes, t.data, `${t.name}: the original block bytes`);
    }
    assert.deepEqual(ckpt.tensors.map((t) => t.dtype), ['F32', 'F16', 'BF16', 'Q8_0', 'Q4_0', 'Q4_K', 'Q6_K', 'I32', 'F32']);
    await ckpt.close();
  }
});

test('GGUF: quantized blocks large enough are stored as BLOCK_FIELDS streams (scales as F16, codes as bytes)', async () => {
  const rng = new Rng(7);
  const q8 = blocksOf(rng, 4096, 34, 0, 2);
  // Codes of a narrow distribution: the field split lets the scale and code planes be coded apart.
  for (let b = 0; b < 4096; b++) for (let j = 0; j < 32; j++) q8[b * 34 + 2 + j] = Math.round(rng.gaussian() * 20) & 0xff;
  const bytes = buildGguf({ tensors: [{ name: 'w', type: 8, dims: [32 * 64, 64], data: q8 }] });
  const c = await roundTrip(bytes, 'q8.gguf');
  const reader = await ContainerReader.open(new MemorySource(c));
  const seg = reader.index.members[0].segments.find((s) => s.kind === 'tensor')!;
  assert.equal(seg.transform?.code, TRANSFORM_BLOCK_FIELDS);
  assert.equal(seg.transform?.streams.length, 2);
  assert.ok(c.length < bytes.length * 0.9, `${c.length} of ${bytes.length}`);
});

test('BLOCK_FIELDS: inverse rebuilds forward exactly and refuses inconsistent params and streams', () => {
  const data = new Rng(3).bytes(34 * 5);
  const cand = blockFieldsTransform.forward(data, 'Q8_0', [160])!;
  const out = new Uint8Array(data.length);
  blockFieldsTransform.inverse(cand.params, cand.streams.map((s) => s.bytes), 'Q8_0', [160], out, { offset: 0 });
  assert.deepEqual(out, data);
  const bad = (params: Uint8Array, streams: Uint8Array[], n = data.length): void =>
    assert.throws(() => blockFieldsTransform.inverse(params, streams, 'Q8_0', [], new Uint8Array(n), { offset: 9 }), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_TRANSFORM' && e.offset === 9);
  const s = cand.streams.map((x) => x.bytes);
  bad(new Uint8Array([1, 2, 2, 0, 32, 0]), s);
  bad(new Uint8Array([0, 2, 2, 0, 0, 0]), s);
  bad(new Uint8Array([0, 2, 2, 0, 32]), s);
  bad(cand.params, s, data.length - 1);
  bad(cand.params, [s[0]]);
  bad(cand.params, [s[0], s[1].subarray(1)]);
  assert.equal(blockFieldsTransform.forward(data.subarray(1), 'Q8_0', []), undefined);
  assert.equal(blockFieldsTransform.forward(data, 'F16', []), undefined);
});

test('GGUF: no tensors, and metadata only, round-trip as a header segment', async () => {
  const bytes = buildGguf({ kvs: EVERY_KV, tensors: [] });
  const c = await roundTrip(bytes, 'vocab.gguf');
  const reader = await ContainerReader.open(new MemorySource(c));
  assert.equal(reader.index.members[0].layout, 'gguf');
  assert.deepEqual(reader.index.members[0].segments.map((s) => s.kind), ['bytes']);
});

/** The member's warning and its strict error, for a file that cannot be split. */
async function refused(bytes: Uint8Array, name: string, code: string, offset?: number): Promise<void> {
  const { bytes: c, warnings } = await compressBufferWithWarnings(bytes, { name });
  assert.equal(warnings.length, 1, `${name}: one warning`);
  assert.equal(warnings[0].error.code, code, warnings[0].message);
  assert.equal(warnings[0].error.file, name);
  if (offset !== undefined) assert.equal(warnings[0].error.offset, offset, warnings[0].message);
  assert.match(warnings[0].message, /stored as plain bytes/);
  assert.equal(sha(await decompressBuffer(c)), sha(bytes));
  const reader = await ContainerReader.open(new MemorySource(c));
  assert.deepEqual(reader.index.members[0].segments.map((s) => s.kind), bytes.length ? ['bytes'] : []);
  await assert.rejects(compressBuffer(bytes, { name, strict: true }), (e: unknown) => e instanceof WcodecError && e.code === code && e.file === name && (offset === undefined || e.offset === offset));
}

test('GGUF files that cannot be split are stored as bytes with a warning, refused with strict, never a crash', async () => {
  const { bytes } = everyTypeGguf(new Rng(1));
  await refused(bytes.subarray(0, 100), 'cut.gguf', 'BAD_GGUF');
  await refused(bytes.subarray(0, bytes.length - 10), 'short.gguf', 'BAD_GGUF');
  const wrongMagic = bytes.slice();
  wrongMagic[0] = 0x67;
  await refused(wrongMagic, 'magic.gguf', 'BAD_GGUF', 0);
  const v1 = bytes.slice();
  v1[4] = 1;
  await refused(v1, 'v1.gguf', 'BAD_GGUF', 4);
  // A string length past the end of the file (the first key's).
  const longKey = bytes.slice();
  new DataView(longKey.buffer).setUint32(24, 0xfffffff0, true);
  await refused(longKey, 'long-key.gguf', 'BAD_GGUF');
  const f32 = floats([1, 2, 3, 4], 'F32');
  await refused(buildGguf({ tensors: [{ name: 'a', type: 0, dims: [4], data: f32, offset: 0 }, { name: 'b', type: 0, dims: [4], data: f32, offset: 0 }] }), 'overlap.gguf', 'BAD_GGUF');
  await refused(buildGguf({ tensors: [{ name: 'a', type: 0, dims: [4], data: f32 }, { name: 'a', type: 0, dims: [4], data: f32 }] }), 'dup.gguf', 'BAD_GGUF');
  await refused(buildGguf({ tensors: [{ name: 'a', type: 99, dims: [4], data: f32 }] }), 'type.gguf', 'BAD_GGUF');
  await refused(buildGguf({ tensors: [{ name: 'a', type: 8, dims: [31], data: new Uint8Array(34) }] }), 'partial-block.gguf', 'BAD_GGUF');
  await refused(buildGguf({ tensors: [{ name: 'a', type: 0, dims: [4], data: f32, offset: 4 }] }), 'unaligned.gguf', 'BAD_GGUF');
  let deep: { itemType: number; items: never[] } | { itemType: number; items: unknown[] } = { itemType: GGUF.I32, items: [] };
  for (let d = 0; d < 10; d++) deep = { itemType: GGUF.ARRAY, items: [deep] };
  await refused(buildGguf({ kvs: [{ key: 'deep', type: GGUF.ARRAY, value: deep as never }], tensors: [] }), 'deep.gguf', 'BAD_GGUF');
  await refused(buildGguf({ kvs: [{ key: 'general.alignment', type: GGUF.U32, value: 48 }], tensors: [] }), 'align.gguf', 'BAD_GGUF');
  await refused(new Uint8Array(0), 'empty.gguf', 'BAD_GGUF');
});

/** An ONNX model with float, float16, bfloat16, int64 (packed dims) and float_data initializers, and a Constant node's tensor. */
function everyTypeOnnx(rng: Rng): Uint8Array {
  return buildOnnx({
    initializers: [
      { name: 'w.f32', dataType: ONNX_TYPE.FLOAT, dims: [16, 9], raw: floats(gauss(rng, 144), 'F32') },
      { name: 'w.f16', dataType: ONNX_TYPE.FLOAT16, dims: [33], raw: floats(gauss(rng, 33), 'F16') },
      { name: 'w.bf16', dataType: ONNX_TYPE.BFLOAT16, dims: [2, 17], raw: floats(gauss(rng, 34), 'BF16') },
      { name: 'ids', dataType: ONNX_TYPE.INT64, dims: [9], raw: rng.bytes(72), packedDims: true },
      { name: 'scalar', dataType: ONNX_TYPE.FLOAT, dims: [], raw: floats([1], 'F32') },
      { name: 'listed', dataType: ONNX_TYPE.FLOAT, dims: [20], floatData: gauss(rng, 20) },
      { name: 'strings', dataType: ONNX_TYPE.STRING, dims: [1], raw: new TextEncoder().encode('not a number') },
    ],
  });
}

test('ONNX: float, float16, bfloat16 and int64 initializers round-trip and read back; float_data and strings stay bytes', async () => {
  const bytes = everyTypeOnnx(new Rng(11));
  const c = await roundTrip(bytes, 'model.onnx');
  // Version 11 by default (its graph bytes are coded with the byte model); version 5 without the byte model.
  assert.equal(c[8], 11);
  assert.equal((await compressBuffer(bytes, { name: 'model.onnx', byteModel: false }))[8], 5);
  const ckpt = await openContainer(new MemorySource(c, 'm.wcodec'));
  assert.deepEqual(ckpt.tensors.map((t) => `${t.name}:${t.dtype}:[${t.shape}]`), ['w.f32:F32:[16,9]', 'w.f16:F16:[33]', 'w.bf16:BF16:[2,17]', 'ids:I64:[9]']);
  for (const t of ckpt.tensors) {
    const got = (await ckpt.read(t.name)).bytes;
    assert.equal(got.length, t.originalBytes);
    assert.ok(Buffer.from(bytes).includes(Buffer.from(got)), `${t.name}: its raw_data`);
  }
  await ckpt.close();
});

test('ONNX: tensors of Constant nodes and of subgraphs are split; subgraphs nested too deep leave the model as bytes', async () => {
  const rng = new Rng(5);
  const weight = floats(gauss(rng, 64), 'F32');
  const constant = (inner: ProtoWriter, depth: number): ProtoWriter => {
    // A node with a tensor attribute `value`, and (below the top) a subgraph attribute holding the next level.
    const node = new ProtoWriter().string(4, 'Constant');
    node.message(5, new ProtoWriter().string(1, 'value').message(5, tensorProto({ name: `c${depth}`, dataType: ONNX_TYPE.FLOAT, dims: [64], raw: weight })).int(20, 4));
    node.message(5, new ProtoWriter().string(1, 'then_branch').message(6, inner).int(20, 5));
    return new ProtoWriter().message(1, node);
  };
  // `levels` levels of graphs: the main graph and its nested subgraphs, the last one empty.
  const model = (levels: number): Uint8Array => {
    let g = new ProtoWriter().string(2, 'leaf');
    for (let d = levels - 1; d >= 2; d--) g = constant(g, d);
    return new ProtoWriter().int(1, 8).message(7, constant(g, 1)).finish();
  };
  const c = await roundTrip(model(8), 'nested.onnx');
  const ckpt = await openContainer(new MemorySource(c));
  assert.equal(ckpt.tensors.length, 7);
  await refused(model(9), 'too-deep.onnx', 'BAD_ONNX');
});

test('ONNX: a model with external data in a folder: the data file is split at its initializers, read per tensor, restored bit for bit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wcodec-onnx-'));
  try {
    const rng = new Rng(21);
    const a = floats(gauss(rng, 300), 'F32');
    const b = floats(gauss(rng, 77), 'F16');
    const data = new Uint8Array(4096 + b.length + 5);
    data.set(a, 0);
    data.fill(0x5a, a.length, 4096);
    data.set(b, 4096);
    data.set([9, 8, 7, 6, 5], 4096 + b.length);
    const model = buildOnnx({
      initializers: [
        { name: 'ext.a', dataType: ONNX_TYPE.FLOAT, dims: [300], external: { location: 'model.onnx_data', offset: 0, length: a.length } },
        { name: 'ext.b', dataType: ONNX_TYPE.FLOAT16, dims: [7, 11], external: { location: 'model.onnx_data', offset: 4096 } },
        { name: 'inline', dataType: ONNX_TYPE.FLOAT, dims: [30], raw: floats(gauss(rng, 30), 'F32') },
      ],
    });
    const input = join(dir, 'in');
    mkdirSync(join(input, 'onnx'), { recursive: true });
    writeFileSync(join(input, 'onnx', 'model.onnx'), model);
    writeFileSync(join(input, 'onnx', 'model.onnx_data'), data);
    writeFileSync(join(input, 'config.json'), '{}');
    const out = join(dir, 'c.wcodec');
    const result = await compressFile(input, out);
    assert.deepEqual(result.warnings, []);
    const layouts = result.index.members.map((m) => `${m.path}:${m.layout ?? '-'}`);
    assert.deepEqual(layouts, ['config.json:-', 'onnx/model.onnx:onnx', 'onnx/model.onnx_data:onnx-data']);
    const ckpt = await openCheckpoint(out);
    assert.deepEqual(ckpt.tensors.map((t) => `${t.file}:${t.name}`), ['onnx/model.onnx:inline', 'onnx/model.onnx_data:ext.a', 'onnx/model.onnx_data:ext.b']);
    assert.deepEqual((await ckpt.read('ext.b')).bytes, b);
    assert.deepEqual((await ckpt.read('ext.a')).bytes, a);
    await ckpt.close();
    await decompressFile(out, join(dir, 'back'));
    assert.equal(sha(readFileSync(join(dir, 'back', 'onnx', 'model.onnx_data'))), sha(data));
    assert.equal(sha(readFileSync(join(dir, 'back', 'onnx', 'model.onnx'))), sha(model));
    // The data file relabelled (identity digest recomputed to match): its model's initializers refuse it.
    const container = new Uint8Array(readFileSync(out));
    const relabelled = await editIndex(container, (ix) => {
      const m = ix.members[2];
      m.segments.find((s) => s.name === 'ext.b')!.shape = [11, 7];
      delete m.identitySha256;
    });
    const reader = await ContainerReader.open(new MemorySource(relabelled, 'relabelled'));
    await assert.rejects(reader.readSegment(reader.index.members[2].segments.find((s) => s.name === 'ext.b')!), (e: unknown) => e instanceof WcodecError && e.code === 'LABEL_MISMATCH' && /initializers of 'onnx\/model.onnx' disagree/.test(e.message));
    await assert.rejects(openContainer(new MemorySource(relabelled, 'relabelled')), (e: unknown) => e instanceof WcodecError && e.code === 'LABEL_MISMATCH');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ONNX models that cannot be split are stored as bytes with a warning, refused with strict', async () => {
  const good = everyTypeOnnx(new Rng(2));
  await refused(good.subarray(0, good.length - 3), 'cut.onnx', 'BAD_ONNX');
  // A length varint that claims more than the message holds.
  await refused(new ProtoWriter().tag(7, 2).varint(1000).finish(), 'long.onnx', 'BAD_ONNX', 0);
  await refused(new Uint8Array([0x3b, 0x00]), 'group.onnx', 'BAD_ONNX', 0);
  await refused(new Uint8Array([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 'varint.onnx', 'BAD_ONNX');
  const twoGraphs = new ProtoWriter().message(7, new ProtoWriter().string(2, 'a')).message(7, new ProtoWriter().string(2, 'b')).finish();
  await refused(twoGraphs, 'two-graphs.onnx', 'BAD_ONNX');
  // Deep nesting outside the path the reader descends costs nothing: a model whose doc string is a deep message parses.
  let deep = new ProtoWriter().string(1, 'x');
  for (let d = 0; d < 2000; d++) deep = new ProtoWriter().message(1, deep);
  const c = await roundTrip(buildOnnx({ initializers: [{ name: 'w', dataType: ONNX_TYPE.FLOAT, dims: [16], raw: floats(gauss(new Rng(1), 16), 'F32') }], extra: deep.finish() }), 'deep.onnx');
  assert.equal((await openContainer(new MemorySource(c))).tensors.length, 1);
});

test('GGUF and ONNX labels that disagree with the stored header are refused (LABEL_MISMATCH), identity digest recomputed', async () => {
  const gguf = await compressBuffer(everyTypeGguf(new Rng(4)).bytes, { name: 'model.gguf' });
  const onnx = await compressBuffer(everyTypeOnnx(new Rng(4)), { name: 'model.onnx' });
  const cases: [string, Uint8Array, (ix: import('../src/pipeline/index-codec.js').ContainerIndex) => void, RegExp][] = [
    ['gguf name', gguf, (ix) => void (ix.members[0].segments.find((s) => s.name === 'norm.weight')!.name = 'other'), /stored GGUF header disagree: .*has tensor 'norm.weight' there/],
    ['gguf dtype', gguf, (ix) => void (ix.members[0].segments.find((s) => s.name === 'q8.weight')!.dtype = 'Q8_1'), /dtype Q8_1 in the index, Q8_0 in the header/],
    ['gguf shape', gguf, (ix) => void (ix.members[0].segments.find((s) => s.name === 'tok_embd.weight')!.shape = [7, 3]), /shape \[7,3\] in the index, \[3,7\]/],
    ['gguf layout dropped', gguf, (ix) => void delete ix.members[0].layout, /safetensors/],
    ['onnx name', onnx, (ix) => void (ix.members[0].segments.find((s) => s.name === 'w.f16')!.name = 'w.f32'), /the model names it 'w.f16'/],
    ['onnx layout data', onnx, (ix) => void (ix.members[0].layout = 'onnx-data'), /no ONNX model member of the container names it/],
  ];
  for (const [what, base, edit, reason] of cases) {
    const bad = await editIndex(base, (ix) => {
      edit(ix);
      delete ix.members[0].identitySha256;
    });
    await assert.rejects(decompressBuffer(bad), (e: unknown) => e instanceof WcodecError && e.code === 'LABEL_MISMATCH' && reason.test(e.message), what);
    await assert.rejects(openContainer(new MemorySource(bad)), (e: unknown) => e instanceof WcodecError && e.code === 'LABEL_MISMATCH', what);
  }
});

test('GGUF and ONNX containers are deterministic, and other inputs keep format version 4', async () => {
  const gguf = everyTypeGguf(new Rng(9)).bytes;
  assert.deepEqual(await compressBuffer(gguf, { name: 'a.gguf' }), await compressBuffer(gguf, { name: 'a.gguf' }));
  const onnx = everyTypeOnnx(new Rng(9));
  assert.deepEqual(await compressBuffer(onnx, { name: 'a.onnx' }), await compressBuffer(onnx, { name: 'a.onnx' }));
  // Not split as GGUF: version 4 without the byte model, and by default version 11 (never 5: no member layout).
  assert.equal((await compressBuffer(gguf, { name: 'a.bin', byteModel: false }))[8], 4);
  assert.equal((await compressBuffer(gguf, { name: 'a.bin' }))[8], 11);
  // Below version 5 a GGUF member is plain bytes.
  const v4 = await compressBuffer(gguf, { name: 'a.gguf', formatVersion: 4 });
  assert.equal(v4[8], 4);
  assert.deepEqual((await ContainerReader.open(new MemorySource(v4))).index.members[0].segments.map((s) => s.kind), ['bytes']);
});

test('mutated GGUF and ONNX files (seeded) are split or stored as bytes, always restored bit for bit, never a crash', async () => {
  const seed = 20261205;
  const rng = new Rng(seed);
  const bases: [string, Uint8Array][] = [
    ['m.gguf', everyTypeGguf(new Rng(31)).bytes],
    ['m.onnx', everyTypeOnnx(new Rng(31))],
  ];
  for (let i = 0; i < 150; i++) {
    for (const [name, base] of bases) {
      const bytes = base.slice();
      // Within the structure (the first 400 bytes) most of the time, where parsers read.
      for (let k = 1 + rng.int(3); k > 0; k--) {
        const at = rng.int(rng.float() < 0.8 ? Math.min(400, bytes.length) : bytes.length);
        bytes[at] = rng.float() < 0.5 ? rng.int(256) : bytes[at] ^ (1 << rng.int(8));
      }
      const cut = rng.float() < 0.1 ? bytes.subarray(0, rng.int(bytes.length)) : bytes;
      const { bytes: c } = await compressBufferWithWarnings(cut, { name });
      assert.equal(sha(await decompressBuffer(c)), sha(cut), `seed ${seed}, round ${i}, ${name}`);
      await (await openContainer(new MemorySource(c))).close();
    }
  }
});
