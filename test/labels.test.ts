// Label integrity (FORMAT.md §3.2, §4.4, §7.3, §7.4; docs/SECURITY.md "Labels"): a tensor is returned only under the
// name, dtype and shape its file gives it, and a file only at its own path, on every decode path. Containers are
// crafted as a producer would write them: labels or data changed and every CRC-32C recomputed.

import '../src/io/node-sha256.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { Checkpoint, openContainer } from '../src/api/checkpoint.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { ContainerWriter } from '../src/pipeline/container-writer.js';
import { FORMAT_VERSION_DIGESTS } from '../src/format/constants.js';
import { identityDigest } from '../src/format/identity-digest.js';
import { MemorySink, MemorySource } from '../src/io/byte-source.js';
import { WcodecError } from '../src/errors.js';
import { headerLabelProblem } from '../src/safetensors/header-labels.js';
import { craftLabelCase, LABEL_MUTATIONS } from '../tools/label-mutations.js';
import { makeScratch, originalsOf, runPaths, type Originals } from '../tools/label-oracle.js';
import { editIndex, needTensor } from '../tools/vectors/surgery.js';
import { buildSafetensors, type TensorInput } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { makeValues } from './helpers/values.js';

const rng0 = new Rng(0x1abe1);
const t = (name: string, dtype: string, shape: number[]): TensorInput => ({ name, dtype, shape, data: makeValues(dtype, shape.reduce((a, d) => a * d, 1), 'gaussian', rng0) });
const TENSORS = [
  t('gate_proj', 'BF16', [16, 8]),
  t('up_proj', 'BF16', [16, 8]),
  t('down_proj', 'BF16', [8, 16]),
  t('norm', 'F32', [16]),
  t('scale', 'F16', [4, 4]),
];
const FILE = buildSafetensors(TENSORS, { metadata: { format: 'pt' } }).bytes;
const OTHER = buildSafetensors([t('a', 'BF16', [8, 8]), t('b', 'BF16', [8, 8])]).bytes;
const CONFIG = new TextEncoder().encode('{"hidden_size":16}\n');

const isCode = (code: string) => (e: unknown): boolean => e instanceof WcodecError && e.code === code;

async function folder(formatVersion: 2 | 3): Promise<Uint8Array> {
  const sink = new MemorySink();
  const w = await ContainerWriter.start(sink, 'folder', { chunkBytes: 128, formatVersion });
  await w.addFile('config.json', new MemorySource(CONFIG), false);
  await w.addFile('model-1.safetensors', new MemorySource(FILE), true);
  await w.addFile('model-2.safetensors', new MemorySource(OTHER), true);
  await w.finish();
  return sink.toBytes();
}

const FOLDER_FILES = [
  { path: 'config.json', bytes: CONFIG },
  { path: 'model-1.safetensors', bytes: FILE },
  { path: 'model-2.safetensors', bytes: OTHER },
];

describe('labels bound to bytes', () => {
  test('version 4 without the byte model; the identity digest in the index is that of the member labels, and writing is deterministic', async () => {
    // Without the byte model: by default the header is coded with it (version 11), primed from the labels, so that a
    // relabelled tensor fails the header's chunk digest (CHECKSUM_MISMATCH) before its labels are compared.
    const c = await compressBuffer(FILE, { chunkBytes: 128, byteModel: false });
    assert.equal(c[8] | (c[9] << 8), FORMAT_VERSION_DIGESTS);
    assert.deepEqual(await compressBuffer(FILE, { chunkBytes: 128, byteModel: false }), c);
    assert.deepEqual(await compressBuffer(FILE, { chunkBytes: 128, threads: 2, minPoolBytes: 0, byteModel: false }), c, 'same bytes with a pool');
    const m = (await ContainerReader.open(new MemorySource(c))).index.members[0];
    assert.deepEqual(m.identitySha256, identityDigest(m));
    // Any label changes the digest.
    const renamed = { ...m, segments: m.segments.map((s, k) => (k === 1 ? { ...s, name: `${s.name}x` } : s)) };
    assert.notDeepEqual(identityDigest(renamed), m.identitySha256);
    assert.notDeepEqual(identityDigest({ ...m, path: 'other.safetensors' }), m.identitySha256);
    await assert.rejects(compressBuffer(FILE, { formatVersion: 1, huffman: true }), (e) => e instanceof RangeError);
    await assert.rejects(compressBuffer(FILE, { formatVersion: 6 as 4 }), (e) => e instanceof RangeError);
  });

  test('two tensor names swapped, index CRC recomputed: every path refuses (version 2: against the stored header; version 3: at open)', async () => {
    for (const formatVersion of [2, 3] as const) {
      const c = await compressBuffer(FILE, { chunkBytes: 128, formatVersion });
      const swapped = await editIndex(c, (ix) => {
        const a = needTensor(ix, 'gate_proj');
        const b = needTensor(ix, 'up_proj');
        [a.name, b.name] = [b.name, a.name];
      });
      await assert.rejects(decompressBuffer(swapped), isCode('LABEL_MISMATCH'), `decompressBuffer, version ${formatVersion}`);
      await assert.rejects(openContainer(new MemorySource(swapped)), isCode('LABEL_MISMATCH'), `openContainer, version ${formatVersion}`);
      if (formatVersion === 3) continue;
      // A Checkpoint made without the listing check still refuses to read under a label the header does not give.
      const cp = new Checkpoint(await ContainerReader.open(new MemorySource(swapped)));
      await assert.rejects(cp.read('up_proj'), isCode('LABEL_MISMATCH'));
      await assert.rejects(cp.read('norm'), isCode('LABEL_MISMATCH'), 'the whole file is refused, not only the swapped tensors');
      const reader = await ContainerReader.open(new MemorySource(swapped));
      await assert.rejects(reader.decodeMember(reader.index.members[0], new MemorySink(), { checkSegmentDigests: true }), isCode('LABEL_MISMATCH'), 'verify');
    }
  });

  test('dtype and shape relabels (same sizes): refused on read, verify and whole decode, for every version', async () => {
    for (const formatVersion of [2, 3] as const) {
      const c = await compressBuffer(FILE, { chunkBytes: 128, formatVersion });
      const relabels = [
        await editIndex(c, (ix) => void (needTensor(ix, 'scale').dtype = 'I16')),
        await editIndex(c, (ix) => void (needTensor(ix, 'gate_proj').shape = [8, 16])),
        await editIndex(c, (ix) => void (needTensor(ix, 'norm').shape = [1, 16])),
      ];
      for (const [k, bad] of relabels.entries()) {
        await assert.rejects(decompressBuffer(bad), isCode('LABEL_MISMATCH'), `relabel ${k}, version ${formatVersion}`);
        await assert.rejects(openContainer(new MemorySource(bad)), isCode('LABEL_MISMATCH'));
        if (formatVersion === 2) await assert.rejects(new Checkpoint(await ContainerReader.open(new MemorySource(bad))).read('up_proj'), isCode('LABEL_MISMATCH'));
      }
    }
  });

  test('a producer that hashes its wrong labels into the identity digest is still refused by the stored header', async () => {
    // Version 4: a header coded with the byte model (version 11) is primed from the labels, and a relabel fails its chunk digest first.
    const c = await compressBuffer(FILE, { chunkBytes: 128, byteModel: false });
    const bad = await editIndex(c, (ix) => {
      needTensor(ix, 'down_proj').name = 'up_proj.weight';
      delete ix.members[0].identitySha256;
    });
    await assert.rejects(openContainer(new MemorySource(bad)), (e) => isCode('LABEL_MISMATCH')(e) && /index and the stored safetensors header disagree/.test((e as Error).message));
    const cp = new Checkpoint(await ContainerReader.open(new MemorySource(bad)));
    await assert.rejects(cp.read('norm'), isCode('LABEL_MISMATCH'));
    await assert.rejects(decompressBuffer(bad), isCode('LABEL_MISMATCH'));
  });

  test('member paths swapped in a version 3 folder: refused at open, with the offset of the identity digest', async () => {
    const c = await folder(3);
    const bad = await editIndex(c, (ix) => {
      const [a, b] = [ix.members[1], ix.members[2]];
      [a.path, b.path] = [b.path, a.path];
    });
    await assert.rejects(openContainer(new MemorySource(bad, 'swapped.wcodec')), (e) => {
      assert.ok(e instanceof WcodecError && e.code === 'LABEL_MISMATCH', String(e));
      assert.equal(e.file, 'swapped.wcodec');
      assert.ok(e.offset !== undefined && e.offset > 0);
      return true;
    });
  });

  test('the identity digest itself damaged (CRC recomputed): LABEL_MISMATCH', async () => {
    const c = await compressBuffer(FILE, { chunkBytes: 128 });
    const bad = await editIndex(c, (ix) => {
      const d = ix.members[0].identitySha256!.slice();
      d[5] ^= 0x10;
      ix.members[0].identitySha256 = d;
    });
    await assert.rejects(openContainer(new MemorySource(bad)), isCode('LABEL_MISMATCH'));
  });
});

describe('every mutation, every path (no GPU here: test/gpu/labels.test.ts)', () => {
  let scratch: string;
  before(async () => {
    scratch = await makeScratch();
  });
  after(async () => {
    await rm(scratch, { recursive: true, force: true });
  });

  test('version 3 file and folder containers: 150 crafted cases, each path errors or gives the originals under their labels', async () => {
    const rng = new Rng(testSeed(0x1ab3));
    const bases: { bytes: Uint8Array; o: Originals }[] = [
      { bytes: await compressBuffer(FILE, { chunkBytes: 128 }), o: await originalsOf([{ path: 'model.safetensors', bytes: FILE }]) },
      { bytes: await folder(3), o: await originalsOf(FOLDER_FILES) },
    ];
    const seen = new Set<string>();
    for (let k = 0; k < 150; k++) {
      const base = bases[k % 2];
      const c = await craftLabelCase(base.bytes, rng);
      seen.add(c.mutation);
      const results = await runPaths(c.bytes, base.o, { scratch }, ['whole', 'verify', 'file-api', 'tensor']);
      for (const [path, r] of Object.entries(results)) {
        assert.notEqual(r.outcome, 'wrong', `case ${k} (${c.what}), ${path}: ${r.outcome === 'wrong' ? r.detail : ''} (seed ${rng.seed})`);
      }
    }
    assert.deepEqual([...seen].sort(), Object.keys(LABEL_MUTATIONS).sort(), 'every mutation was tried');
  });

  test('unchanged containers pass every path exactly (the oracle accepts the originals)', async () => {
    for (const [bytes, files] of [[await compressBuffer(FILE, { name: 'model.safetensors' }), [{ path: 'model.safetensors', bytes: FILE }]], [await folder(2), FOLDER_FILES], [await folder(3), FOLDER_FILES]] as const) {
      const results = await runPaths(bytes, await originalsOf([...files]), { scratch }, ['whole', 'verify', 'file-api', 'tensor']);
      for (const [path, r] of Object.entries(results)) assert.equal(r.outcome, 'ok', `${path}`);
    }
  });
});

describe('headerLabelProblem', () => {
  const seg = (name: string, dtype: string, shape: number[], originalBytes: number) => ({ kind: 'tensor' as const, name, dtype, shape, originalBytes });
  const header = (json: string): Uint8Array => {
    const text = new TextEncoder().encode(json);
    const out = new Uint8Array(8 + text.length);
    new DataView(out.buffer).setUint32(0, text.length, true);
    out.set(text, 8);
    return out;
  };
  const H = '{"__metadata__":{"a":"b"},"y":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}';

  test('the header order does not matter; data order does', () => {
    assert.equal(headerLabelProblem(header(H), [seg('x', 'U8', [4], 4), seg('y', 'F32', [2], 8)]), undefined);
    assert.match(headerLabelProblem(header(H), [seg('y', 'F32', [2], 8), seg('x', 'U8', [4], 4)])!, /the header has tensor "x" there/);
  });

  test('each disagreement is named', () => {
    assert.match(headerLabelProblem(header(H), [seg('x', 'I8', [4], 4), seg('y', 'F32', [2], 8)])!, /dtype I8 in the index, "U8" in the header/);
    assert.match(headerLabelProblem(header(H), [seg('x', 'U8', [2, 2], 4), seg('y', 'F32', [2], 8)])!, /shape \[2,2\] in the index/);
    assert.match(headerLabelProblem(header(H), [seg('x', 'U8', [4], 4)])!, /lists 2 tensors, the index 1/);
    assert.match(headerLabelProblem(header(H), [seg('x', 'U8', [4], 4), { ...seg('', '', [], 8), kind: 'bytes' }])!, /byte segment after its header/);
    assert.match(headerLabelProblem(header(H).subarray(0, 20), [])!, /header length field says/);
    assert.match(headerLabelProblem(header('{"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"x":{}}'), [seg('x', 'U8', [4], 4)])!, /does not parse/);
    assert.match(headerLabelProblem(header('[1]'), [])!, /not a JSON object/);
    assert.match(headerLabelProblem(new Uint8Array(3), [])!, /cannot hold/);
  });

  test('texts JSON.parse accepts and the strict parse refuses are refused, with the strict parse\'s words', () => {
    const x = '"x":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}';
    const one = [seg('x', 'U8', [4], 4)];
    const deep = '['.repeat(70) + ']'.repeat(70);
    const cases: [string, RegExp][] = [
      [`{${x},"__metadata__":{"a":"b","a":"c"}}`, /duplicate key "a"/],
      [`{${x},"__metadata__":{"a":"b:","a":"c"}}`, /duplicate key "a"/],
      [`{${x.replace('"shape"', '"shape":[1],"shape"')}}`, /duplicate key "shape"/],
      [`{${x},"__metadata__":{"a":"\\uD800"}}`, /unpaired surrogate/],
      [`{${x},"__metadata__":{"a":${deep}}}`, /nesting deeper than/],
      [`{${x.replace('[4]', `[${'1,'.repeat(40)}4]`)}}`, /array with more than/],
      [`{${x},"y":3}`, /tensor "y" is not an object/],
    ];
    for (const [json, problem] of cases) assert.match(headerLabelProblem(header(json), one)!, problem, json.slice(0, 80));
    // Keys that look like array indices keep their text order (the tie of two empty tensors at one offset is broken by it).
    const tie = '{"1":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},"0":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}';
    assert.equal(headerLabelProblem(header(tie), [seg('1', 'U8', [0], 0), seg('0', 'U8', [0], 0)]), undefined);
    assert.match(headerLabelProblem(header(tie), [seg('0', 'U8', [0], 0), seg('1', 'U8', [0], 0)])!, /the header has tensor "1" there/);
    // Escapes other than \u, and a ':' inside strings, do not disturb the key count.
    const odd = '{"a\\"b:":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"__metadata__":{"k":"v\\\\","s":"\\":"}}';
    assert.equal(headerLabelProblem(header(odd), [seg('a"b:', 'U8', [4], 4)]), undefined);
  });
});
