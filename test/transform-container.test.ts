// Format version 2 in the container (FORMAT.md §3.5): DUPLICATE and XOR_DELTA segments round-trip SHA-256-identical
// over dtypes and sizes, with one thread and with workers; version 1 stays what it was; bad records and references
// raise their typed errors.

import '../src/io/node-sha256.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { openContainer } from '../src/api/checkpoint.js';
import { referenceFromCheckpoint, referenceFromSafetensors } from '../src/api/reference.js';
import { ContainerReader, type DecodeOptions } from '../src/pipeline/container-reader.js';
import { ContainerWriter, type EncodeOptions } from '../src/pipeline/container-writer.js';
import { writeHeader } from '../src/format/envelope.js';
import { MAX_TRANSFORM_PARAM_BYTES } from '../src/format/constants.js';
import type { TensorReference } from '../src/format/tensor-reference.js';
import { MemorySink, MemorySource } from '../src/io/byte-source.js';
import { WcodecError, errorClassFor, type ErrorCode } from '../src/errors.js';
import { closeSharedPools } from '../src/workers/pool.js';
import { DTYPE_BYTES } from '../src/transform/dtypes.js';
import { xorBytes } from '../src/transform/xor-delta.js';
import { Prng, SPECIAL_BF16, SPECIAL_F32, buildSafetensors, le, type TensorInput } from '../tools/vectors/inputs.js';
import { editIndex, segmentsOf, tensor } from '../tools/vectors/surgery.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const versionOf = (c: Uint8Array): number => c[8] | (c[9] << 8);

async function rejectsWith(p: Promise<unknown>, code: ErrorCode, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof WcodecError, `${what}: ${String(e)}`);
    assert.equal(e.code, code, `${what}: ${e.message}`);
    assert.ok(e instanceof errorClassFor(code), `${what}: class ${e.name}`);
    return true;
  });
}

/** A reference over safetensors bytes held in memory. */
const refOf = (bytes: Uint8Array, label = 'ref.safetensors'): Promise<TensorReference> => referenceFromSafetensors([new MemorySource(bytes, label)], label);

/** `ref` with about a third of the values changed in their lowest byte (a related checkpoint, as fine-tuning makes). */
function perturb(ref: Uint8Array, W: number, rng: Prng): Uint8Array {
  const out = ref.slice();
  for (let i = 0; i < out.length; i += W) if (rng.below(3) === 0) out[i] ^= 1 + rng.below(255);
  return out;
}

function values(dtype: string, n: number, rng: Prng): Uint8Array {
  if (dtype === 'BF16') return le(2, Array.from({ length: n }, (_, i) => (i < SPECIAL_BF16.length ? SPECIAL_BF16[i] : 0x3c00 + rng.below(0x800) + (rng.below(2) << 15))));
  if (dtype === 'F32') return le(4, Array.from({ length: n }, (_, i) => (i < SPECIAL_F32.length ? SPECIAL_F32[i] : (0x3c000000 + rng.below(0x1000000)) >>> 0)));
  return rng.bytes(n * (DTYPE_BYTES[dtype] ?? 1));
}

test('DUPLICATE: identical tensors of a file are stored once; round trip, read by name, determinism; formatVersion 2 writes version 1 without them', async () => {
  const rng = Prng.forName('dup-file');
  const a = values('BF16', 3001, rng);
  const tensors: TensorInput[] = [
    { name: 'embed', dtype: 'BF16', shape: [3001], data: a },
    { name: 'other', dtype: 'BF16', shape: [3001], data: values('BF16', 3001, rng) },
    { name: 'lm_head', dtype: 'BF16', shape: [3001], data: a.slice() },
    { name: 'same-bytes-other-shape', dtype: 'BF16', shape: [1, 3001], data: a.slice() },
    { name: 'same-bytes-other-dtype', dtype: 'I16', shape: [3001], data: a.slice() },
    { name: 'empty1', dtype: 'F32', shape: [0], data: new Uint8Array(0) },
    { name: 'empty2', dtype: 'F32', shape: [0], data: new Uint8Array(0) },
    { name: 'one', dtype: 'U8', shape: [1], data: new Uint8Array([7]) },
    { name: 'one-again', dtype: 'U8', shape: [1], data: new Uint8Array([7]) },
  ];
  const file = buildSafetensors(tensors);
  for (const chunkBytes of [1000, undefined]) {
    const c = await compressBuffer(file, { chunkBytes });
    assert.equal(versionOf(c), 11); // version 11: the header is coded with the byte model by default (FORMAT.md §4.4, §5.5)
    assert.equal(versionOf(await compressBuffer(file, { chunkBytes, formatVersion: 2 })), 2);
    assert.equal(sha(await decompressBuffer(c)), sha(file));
    assert.equal(sha(await compressBuffer(file, { chunkBytes })), sha(c), 'deterministic');
    const reader = await ContainerReader.open(new MemorySource(c));
    const segs = reader.index.members[0].segments;
    const at = (name: string): number => segs.findIndex((s) => s.name === name);
    const dups = segs.filter((s) => s.transform).map((s) => [s.name, s.transform!.target!.segment]);
    assert.deepEqual(dups, [['lm_head', at('embed')], ['one-again', at('one')]]);
    const cp = await openContainer(new MemorySource(c));
    for (const t of tensors) assert.equal(sha((await cp.read(t.name)).bytes), sha(t.data), `${t.name} read by name`);
    assert.equal(cp.tensors.find((t) => t.name === 'lm_head')!.transform, 'dup');
    assert.equal(cp.tensors.find((t) => t.name === 'lm_head')!.compressedBytes, 0);
    // Off: no transformed segment, and the duplicate coded again (version 1 with formatVersion 2).
    const v1 = await compressBuffer(file, { chunkBytes, transforms: false });
    assert.equal(versionOf(v1), 11);
    assert.ok((await ContainerReader.open(new MemorySource(v1))).index.members[0].segments.every((s) => !s.transform));
    assert.equal(versionOf(await compressBuffer(file, { chunkBytes, transforms: false, formatVersion: 2 })), 1);
    assert.ok(v1.length > c.length);
    assert.equal(sha(await decompressBuffer(v1)), sha(file));
  }
  // Without duplicates the container is the same bytes as with transforms off (version 1 with formatVersion 2).
  const plain = buildSafetensors(tensors.filter((t) => !['lm_head', 'one-again', 'empty2'].includes(t.name)));
  const on = await compressBuffer(plain);
  assert.equal(versionOf(on), 11);
  assert.equal(sha(on), sha(await compressBuffer(plain, { transforms: false })));
  assert.equal(versionOf(await compressBuffer(plain, { formatVersion: 2 })), 1);
});

test('DUPLICATE across the members of a folder (tied shards), decoded member by member and with workers', async () => {
  const rng = Prng.forName('dup-folder');
  const shared = values('F32', 70000, rng);
  const m1 = buildSafetensors([{ name: 'a', dtype: 'F32', shape: [70000], data: shared }, { name: 'b', dtype: 'BF16', shape: [9], data: values('BF16', 9, rng) }]);
  const m2 = buildSafetensors([{ name: 'c', dtype: 'F32', shape: [70000], data: shared.slice() }]);
  const encode = async (options: EncodeOptions): Promise<Uint8Array> => {
    const sink = new MemorySink();
    const w = await ContainerWriter.start(sink, 'folder', { chunkBytes: 65536, ...options });
    await w.addFile('model-1.safetensors', new MemorySource(m1), true);
    await w.addFile('sub/model-2.safetensors', new MemorySource(m2), true);
    await w.finish();
    return sink.toBytes();
  };
  try {
    const c = await encode({});
    assert.equal(sha(await encode({ threads: 2, minPoolBytes: 0 })), sha(c), 'same bytes for any thread count');
    // Version 4: the byte model would save under 0.5 % of these 280 KB members (their headers), so it is not used.
    assert.equal(versionOf(c), 4);
    const reader = await ContainerReader.open(new MemorySource(c));
    const seg = tensor(reader.index, 'c')!;
    assert.deepEqual(seg.transform?.target, { member: 0, segment: 1 });
    for (const options of [{}, { threads: 2, minPoolBytes: 0 }, { checkSegmentDigests: true }] as DecodeOptions[]) {
      const back = [];
      for (const m of reader.index.members) {
        const sink = new MemorySink();
        await reader.decodeMember(m, sink, options);
        back.push(sha(sink.toBytes()));
      }
      assert.deepEqual(back, [sha(m1), sha(m2)]);
    }
  } finally {
    await closeSharedPools();
  }
});

test('XOR_DELTA: every dtype family, sizes 0/1/odd/multi-chunk, NaN/Inf; reference as safetensors or .wcodec; 1 and 2 threads', async () => {
  const rng = Prng.forName('xor');
  try {
    for (const dtype of ['BF16', 'F32', 'F16', 'U8', 'I64', 'F4']) {
      const W = DTYPE_BYTES[dtype] ?? 1;
      const ref: TensorInput[] = [];
      const cur: TensorInput[] = [];
      for (const n of [0, 1, 7, 1001, 40000]) {
        const data = values(dtype, n, rng);
        const shape = [dtype === 'F4' ? 2 * n : n]; // F4 packs two values a byte
        ref.push({ name: `t${n}`, dtype, shape, data });
        cur.push({ name: `t${n}`, dtype, shape, data: perturb(data, W, rng) });
      }
      const per = dtype === 'F4' ? 2 : 1;
      cur.push({ name: 'new-only', dtype, shape: [5 * per], data: values(dtype, 5, rng) });
      ref.push({ name: 'other-shape', dtype, shape: [4 * per], data: values(dtype, 4, rng) });
      cur.push({ name: 'other-shape', dtype, shape: [2, 2 * per], data: values(dtype, 4, rng) });
      const refFile = buildSafetensors(ref);
      const file = buildSafetensors(cur);
      const reference = await refOf(refFile);
      const c = await compressBuffer(file, { chunkBytes: 4096, reference });
      assert.equal(sha(await compressBuffer(file, { chunkBytes: 4096, reference, threads: 2, minPoolBytes: 0 })), sha(c), `${dtype}: thread count changes the bytes`);
      const plain = await compressBuffer(file, { chunkBytes: 4096 });
      assert.ok(c.length < plain.length, `${dtype}: delta ${c.length} not smaller than plain ${plain.length}`);
      const reader = await ContainerReader.open(new MemorySource(c));
      const xor = segmentsOf(reader.index).filter((s) => s.transform?.code === 2).map((s) => s.name);
      assert.ok(xor.includes('t40000') && !xor.includes('new-only') && !xor.includes('other-shape'), `${dtype}: deltas on ${xor}`);
      for (const threads of [1, 2]) assert.equal(sha(await decompressBuffer(c, { reference, threads, minPoolBytes: 0 })), sha(file), `${dtype}: round trip, ${threads} threads`);
      // The reference may itself be a container (version 1 here).
      const refContainer = await compressBuffer(refFile, { name: 'ref.safetensors' });
      const fromContainer = referenceFromCheckpoint(await openContainer(new MemorySource(refContainer, 'ref.wcodec')));
      assert.equal(sha(await decompressBuffer(c, { reference: fromContainer })), sha(file), `${dtype}: reference from a .wcodec`);
      const cp = await openContainer(new MemorySource(c));
      assert.equal(sha((await cp.read('t1001', { reference })).bytes), sha(cur[3].data));
      assert.equal(cp.tensors.find((t) => t.name === 't1001')!.transform, 'xor-delta');
    }
  } finally {
    await closeSharedPools();
  }
});

test('XOR_DELTA: a missing or wrong reference is a typed error naming the tensor', async () => {
  const rng = Prng.forName('xor-errors');
  const data = values('BF16', 5000, rng);
  const refFile = buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [50, 100], data }]);
  const file = buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [50, 100], data: perturb(data, 2, rng) }]);
  const c = await compressBuffer(file, { reference: await refOf(refFile) });
  const named = async (p: Promise<unknown>, code: ErrorCode, what: string): Promise<void> => {
    await rejectsWith(p, code, what);
    await p.catch((e: Error) => assert.match(e.message, /tensor 'w'/, what));
  };
  await named(decompressBuffer(c), 'REFERENCE_MISSING', 'no reference');
  await named(decompressBuffer(c, { reference: await refOf(buildSafetensors([{ name: 'v', dtype: 'BF16', shape: [50, 100], data }])) }), 'REFERENCE_MISSING', 'no such name');
  await named(decompressBuffer(c, { reference: await refOf(buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [100, 50], data }])) }), 'REFERENCE_MISMATCH', 'other shape');
  await named(decompressBuffer(c, { reference: await refOf(buildSafetensors([{ name: 'w', dtype: 'F16', shape: [50, 100], data }])) }), 'REFERENCE_MISMATCH', 'other dtype');
  const changed = data.slice();
  changed[4999] ^= 1;
  await named(decompressBuffer(c, { reference: await refOf(buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [50, 100], data: changed }])) }), 'REFERENCE_MISMATCH', 'other bytes');
  // A container whose tensor is itself a delta offers no such tensor as a reference (no chains of references).
  const chained = referenceFromCheckpoint(await openContainer(new MemorySource(c, 'delta.wcodec')));
  assert.equal(chained.describe('w'), undefined);
  const again = await compressBuffer(file, { reference: chained });
  assert.equal(sha(await decompressBuffer(again)), sha(file), 'coded plainly, decodes without a reference');
});

test('transformed records: bad params, streams, codes and versions raise their typed errors', async () => {
  const rng = Prng.forName('bad-records');
  const a = values('BF16', 2000, rng);
  const b = values('BF16', 2000, rng);
  const file = buildSafetensors([
    { name: 'a', dtype: 'BF16', shape: [2000], data: a },
    { name: 'b', dtype: 'BF16', shape: [2000], data: b },
    { name: 'a2', dtype: 'BF16', shape: [2000], data: a.slice() },
  ]);
  const c = await compressBuffer(file, { chunkBytes: 1000 });
  const refFile = buildSafetensors([{ name: 'b', dtype: 'BF16', shape: [2000], data: perturb(b, 2, rng) }]);
  const reference = await refOf(refFile);
  const d = await compressBuffer(file, { chunkBytes: 1000, reference });
  const dup = (ix: Parameters<Parameters<typeof editIndex>[1]>[0]) => tensor(ix, 'a2')!.transform!;
  const xor = (ix: Parameters<Parameters<typeof editIndex>[1]>[0]) => tensor(ix, 'b')!.transform!;
  const cases: [string, Promise<Uint8Array>, ErrorCode][] = [
    ['DUPLICATE of a later segment', editIndex(c, (ix) => void new DataView(dup(ix).params.buffer, dup(ix).params.byteOffset).setUint32(4, 4, true)), 'CORRUPT_TRANSFORM'],
    ['DUPLICATE of itself', editIndex(c, (ix) => void new DataView(dup(ix).params.buffer, dup(ix).params.byteOffset).setUint32(4, 3, true)), 'CORRUPT_TRANSFORM'],
    ['DUPLICATE of a tensor with other bytes', editIndex(c, (ix) => void new DataView(dup(ix).params.buffer, dup(ix).params.byteOffset).setUint32(4, 2, true)), 'CORRUPT_TRANSFORM'],
    ['DUPLICATE of the byte segment', editIndex(c, (ix) => void new DataView(dup(ix).params.buffer, dup(ix).params.byteOffset).setUint32(4, 0, true)), 'CORRUPT_TRANSFORM'],
    ['DUPLICATE of a missing member', editIndex(c, (ix) => void new DataView(dup(ix).params.buffer, dup(ix).params.byteOffset).setUint32(0, 1, true)), 'CORRUPT_TRANSFORM'],
    ['DUPLICATE params of 7 bytes', editIndex(c, (ix) => void (dup(ix).params = dup(ix).params.slice(0, 7))), 'CORRUPT_TRANSFORM'],
    ['DUPLICATE with a stream', editIndex(d, (ix) => void (dup(ix).streams = xor(ix).streams)), 'CORRUPT_TRANSFORM'],
    ['unknown transform code', editIndex(c, (ix) => void (dup(ix).code = 200)), 'CORRUPT_INDEX'],
    ['params over the limit', editIndex(c, (ix) => void (dup(ix).params = new Uint8Array(MAX_TRANSFORM_PARAM_BYTES + 1))), 'LIMIT_EXCEEDED'],
    ['17 streams', editIndex(d, (ix) => void (xor(ix).streams = Array.from({ length: 17 }, () => xor(ix).streams[0]))), 'LIMIT_EXCEEDED'],
    ['XOR_DELTA params of 31 bytes', editIndex(d, (ix) => void (xor(ix).params = xor(ix).params.slice(0, 31))), 'CORRUPT_TRANSFORM'],
    ['XOR_DELTA with no stream', editIndex(d, (ix) => void (xor(ix).streams = []), true), 'CORRUPT_TRANSFORM'],
    ['XOR_DELTA stream of another size', editIndex(d, (ix) => void (xor(ix).streams[0].originalBytes -= 2)), 'CORRUPT_TRANSFORM'],
    ['XOR_DELTA stream of 1-byte values', editIndex(d, (ix) => {
      const st = xor(ix).streams[0];
      st.coding = { layout: { valueBytes: 1, planes: [{ kind: 'head', ranges: [{ lo: 0, width: 8 }] }] }, tables: [undefined], lanes: 1 };
    }), 'CORRUPT_INDEX'],
    ['a transformed segment in a version 1 container', editIndex(c, (_ix, p) => void (p.header = writeHeader(1))), 'CORRUPT_INDEX'],
    ['a damaged XOR stream chunk', editIndex(d, (ix, p) => {
      const first = xor(ix).streams[0].chunks[0];
      const chunk = p.chunks.find((x) => x.record === first)!;
      chunk.payload[chunk.payload.length - 1] ^= 0x40;
    }), 'CORRUPT_CHUNK'],
    ['a wrong reference digest in params', editIndex(d, (ix) => void (xor(ix).params[0] ^= 1)), 'REFERENCE_MISMATCH'],
  ];
  for (const [what, made, code] of cases) {
    const bad = await made;
    await rejectsWith(decompressBuffer(bad, { reference, checkSegmentDigests: true }), code, what);
  }
  // Header and footer must name the same version.
  const v2 = d.slice();
  v2.set(writeHeader(1), 0);
  await rejectsWith(decompressBuffer(v2, { reference }), 'UNSUPPORTED_VERSION', 'header 1, footer 2');
});

test('xorBytes: word and byte paths agree with a bytewise XOR at every alignment and length, in place too', () => {
  const rng = Prng.forName('xor-bytes');
  const a = rng.bytes(64);
  const b = rng.bytes(64);
  for (const [oa, ob, oo] of [[0, 0, 0], [1, 0, 0], [0, 3, 0], [2, 2, 2], [0, 0, 1]]) {
    for (const n of [0, 1, 3, 4, 5, 8, 31, 33]) {
      const out = new Uint8Array(64 + oo).subarray(oo, oo + n);
      xorBytes(out, a.subarray(oa, oa + n), b.subarray(ob, ob + n));
      for (let i = 0; i < n; i++) assert.equal(out[i], a[oa + i] ^ b[ob + i], `offsets ${oa}/${ob}/${oo}, length ${n}, byte ${i}`);
    }
  }
  const inPlace = a.slice(0, 40);
  xorBytes(inPlace, inPlace, b);
  xorBytes(inPlace, inPlace, b);
  assert.deepEqual(inPlace, a.slice(0, 40), 'its own inverse');
  assert.throws(() => xorBytes(new Uint8Array(5), new Uint8Array(4), new Uint8Array(5)), RangeError);
});

test('XOR_DELTA streamed: a tensor over 4 MiB is coded and decoded range by range, against safetensors or .wcodec references, 1 and 2 threads', async () => {
  const rng = Prng.forName('xor-streamed');
  const n = 2_200_001; // BF16: 4.4 MB, odd
  const base = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) {
    base[2 * i] = rng.below(256);
    base[2 * i + 1] = 0x3c + rng.below(2) + (rng.below(2) << 7);
  }
  const cur = perturb(base, 2, rng);
  const refFile = buildSafetensors([{ name: 'big', dtype: 'BF16', shape: [n], data: base }, { name: 'small', dtype: 'BF16', shape: [3], data: base.subarray(0, 6) }]);
  const file = buildSafetensors([{ name: 'big', dtype: 'BF16', shape: [n], data: cur }, { name: 'small', dtype: 'BF16', shape: [3], data: cur.subarray(0, 6) }]);
  try {
    const reference = await refOf(refFile);
    const c = await compressBuffer(file, { reference });
    assert.equal(sha(await compressBuffer(file, { reference, threads: 2, minPoolBytes: 0 })), sha(c), 'same bytes with workers');
    const reader = await ContainerReader.open(new MemorySource(c));
    assert.equal(tensor(reader.index, 'big')?.transform?.code, 2);
    assert.ok(c.length < (await compressBuffer(file)).length);
    const fromContainer = referenceFromCheckpoint(await openContainer(new MemorySource(await compressBuffer(refFile), 'ref.wcodec')));
    for (const options of [{ reference }, { reference, threads: 2, minPoolBytes: 0 }, { reference: fromContainer }] as DecodeOptions[]) {
      assert.equal(sha(await decompressBuffer(c, options)), sha(file));
    }
    const cp = await openContainer(new MemorySource(c));
    assert.equal(sha((await cp.read('big', { reference })).bytes), sha(cur));
    const other = cur.slice();
    other[12345] ^= 4;
    await rejectsWith(decompressBuffer(c, { reference: await refOf(buildSafetensors([{ name: 'big', dtype: 'BF16', shape: [n], data: other }, { name: 'small', dtype: 'BF16', shape: [3], data: base.subarray(0, 6) }])) }), 'REFERENCE_MISMATCH', 'streamed, other reference bytes');
  } finally {
    await closeSharedPools();
  }
});
