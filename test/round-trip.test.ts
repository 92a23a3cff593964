// Round trips through compressBuffer/decompressBuffer: every dtype (and unknown ones), sizes 0, 1, odd, 2^k-1,
// 2^k, 2^k+1 and multi-chunk, every value mix, header variants, non-safetensors files; determinism; and
// reading single tensors through ContainerReader.

import '../src/io/node-sha256.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { compressBuffer, decompressBuffer, type CompressBufferOptions } from '../src/api/buffers.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { MemorySource } from '../src/io/byte-source.js';
import { WcodecError } from '../src/errors.js';
import type { SegmentRecord } from '../src/pipeline/index-codec.js';
import { TRANSFORM_DUPLICATE, transformByCode } from '../src/transform/transform-registry.js';
import { buildSafetensors, type TensorInput } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { ALL_DTYPES, DTYPE_WIDTH, VALUE_MIXES, makeValues, type ValueMix } from './helpers/values.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Compresses and decompresses `bytes`; asserts the output is byte-identical (length and SHA-256). */
async function roundTrip(bytes: Uint8Array, options: CompressBufferOptions, what: string): Promise<Uint8Array> {
  const container = await compressBuffer(bytes, options);
  const out = await decompressBuffer(container);
  assert.equal(out.length, bytes.length, `${what}: decoded length`);
  assert.equal(sha(out), sha(bytes), `${what}: decoded bytes differ`);
  return container;
}

/** The tensor segments of a single-file container, by name. */
async function tensorSegments(container: Uint8Array): Promise<{ reader: ContainerReader; byName: Map<string, SegmentRecord> }> {
  const reader = await ContainerReader.open(new MemorySource(container, 'rt.wcodec'));
  assert.equal(reader.index.kind, 'file');
  assert.equal(reader.index.members.length, 1);
  const byName = new Map<string, SegmentRecord>();
  for (const s of reader.index.members[0].segments) if (s.kind === 'tensor') byName.set(s.name, s);
  return { reader, byName };
}

/** Element counts: 0, 1, odd, 2^10 +- 1 (2^16 +- 1 for the large set). */
const SMALL_SIZES = [0, 1, 7, 1001, 1023, 1024, 1025];
const LARGE_SIZES = [65535, 65536, 65537];

function dtypeTensors(dtype: string, rng: Rng): TensorInput[] {
  const tensors: TensorInput[] = [];
  const add = (name: string, n: number, mix: ValueMix, shape: number[]): void => {
    tensors.push({ name, dtype, shape, data: makeValues(dtype, n, mix, rng) });
  };
  for (const mix of VALUE_MIXES) {
    for (const n of SMALL_SIZES) add(`${mix}.${n}`, n, mix, n === 1001 ? [7, 11, 13] : n === 1024 ? [2, 16, 32] : [n]);
    add(`${mix}.scalar`, 1, mix, []); // 0-d tensor: shape [], one value
  }
  for (const n of LARGE_SIZES) add(`gaussian.${n}`, n, 'gaussian', [n]);
  add('random.65537', 65537, 'random', [65537]); // random data is the slowest to encode: one large case
  add('zero-size.2d', 0, 'random', [0, 5]);
  return tensors;
}

describe('round trip: every dtype, size and value mix', () => {
  for (const dtype of ALL_DTYPES) {
    test(`${dtype}: sizes 0..2^16+1, 0-d, six value mixes, 1000-byte chunks and default chunks`, async (t) => {
      const rng = new Rng(testSeed(0x7000 + ALL_DTYPES.indexOf(dtype)));
      t.diagnostic(`seed ${rng.seed}`);
      const W = DTYPE_WIDTH[dtype];
      const tensors = dtypeTensors(dtype, rng);
      const file = buildSafetensors(tensors, { metadata: { format: 'pt', dtype } });
      const chunkBytes = 1000;
      // The chunk layout is checked without the byte model, which codes 1-byte tensors in chunks (or groups) of its own;
      // the default container (version 11 where the byte model is used) round-trips with default chunks.
      const container = await roundTrip(file.bytes, { chunkBytes, byteModel: false }, `${dtype}, seed ${rng.seed}`);
      await roundTrip(file.bytes, {}, `${dtype}, default chunks, seed ${rng.seed}`);
      // The index describes each tensor as the header does, and chunks split it as asked.
      const { reader, byName } = await tensorSegments(container);
      assert.equal(byName.size, tensors.length);
      const chunkValues = Math.floor(chunkBytes / W);
      let multiChunk = 0;
      for (const tt of tensors) {
        const seg = byName.get(tt.name);
        assert.ok(seg, `${dtype} ${tt.name}: no segment`);
        assert.equal(seg.dtype, dtype);
        assert.deepEqual(seg.shape, tt.shape, `${dtype} ${tt.name}: shape`);
        assert.equal(seg.originalBytes, tt.data.length);
        if (seg.transform) {
          // Format version 2: stored once (an identical tensor came earlier) or by a value transform (sparse mixes).
          assert.ok(seg.transform.code === TRANSFORM_DUPLICATE || transformByCode(seg.transform.code), `${dtype} ${tt.name}: transform ${seg.transform.code}`);
          assert.ok(Buffer.compare(await reader.readSegment(seg), tt.data) === 0, `${dtype} ${tt.name}: readSegment of a transformed tensor differs`);
          continue;
        }
        if (seg.coding.byteModel) {
          // Version 11: a 1-byte tensor coded with the byte model, on its own (chunks of 4 Mi values) or in a group
          // (FORMAT.md §3.4), whatever chunkBytes says.
          assert.equal(W, 1, `${dtype} ${tt.name}: the byte model codes 1-byte values only`);
          assert.ok(Buffer.compare(await reader.readSegment(seg), tt.data) === 0, `${dtype} ${tt.name}: readSegment of a byte-model tensor differs`);
          continue;
        }
        assert.equal(seg.chunkValues, chunkValues, `${dtype} ${tt.name}: values per chunk`);
        assert.equal(seg.chunks.length, Math.ceil(tt.data.length / W / chunkValues), `${dtype} ${tt.name}: chunk count`);
        if (seg.chunks.length > 1) multiChunk++;
        // Single-tensor read gives exactly the tensor's bytes.
        const back = await reader.readSegment(seg);
        assert.ok(Buffer.compare(back, tt.data) === 0, `${dtype} ${tt.name}: readSegment differs from the original`);
      }
      assert.ok(multiChunk >= 6, `${dtype}: only ${multiChunk} tensors span several chunks`);
    });
  }

  test('dtypes wcodec does not transform (F4, C64, F8_E8M0) are kept as 1-byte values', async () => {
    const rng = new Rng(testSeed(0x7100));
    const tensors: TensorInput[] = [];
    for (const n of [0, 1, 7, 1023, 1024, 1025, 65537]) {
      tensors.push({ name: `f4.${n}`, dtype: 'F4', shape: [2 * n], data: makeValues('F4', n, 'random', rng) });
      tensors.push({ name: `c64.${n}`, dtype: 'C64', shape: [n], data: rng.bytes(8 * n) });
    }
    tensors.push({ name: 'f4.sparse', dtype: 'F4', shape: [2, 5000], data: makeValues('F4', 5000, 'sparse', rng) });
    tensors.push({ name: 'e8m0', dtype: 'F8_E8M0', shape: [13], data: rng.bytes(13) });
    const file = buildSafetensors(tensors);
    const container = await roundTrip(file.bytes, { chunkBytes: 1000 }, `unknown dtypes, seed ${rng.seed}`);
    const { reader, byName } = await tensorSegments(container);
    for (const tt of tensors) {
      const seg = byName.get(tt.name)!;
      assert.equal(seg.dtype, tt.dtype);
      assert.equal(seg.coding.layout.valueBytes, 1, `${tt.name}: unknown dtypes are 1-byte values`);
      if (!seg.transform) assert.equal(seg.chunks.length, Math.ceil(tt.data.length / 1000)); // f4.sparse: ZERO_FLAGS streams
      assert.ok(Buffer.compare(await reader.readSegment(seg), tt.data) === 0, tt.name);
    }
  });

  test('a file holding every dtype at once, tensors interleaved, 1000-byte chunks', async () => {
    const rng = new Rng(testSeed(0x7101));
    const tensors: TensorInput[] = [];
    for (let k = 0; k < 3; k++) {
      for (const dtype of rng.shuffle([...ALL_DTYPES, 'F4'])) {
        const n = rng.pick([0, 1, 3, 250, 999, 4097]);
        tensors.push({ name: `layer.${k}.${dtype.toLowerCase()}`, dtype, shape: [n], data: makeValues(dtype, n, rng.pick(VALUE_MIXES), rng) });
      }
    }
    await roundTrip(buildSafetensors(tensors).bytes, { chunkBytes: 1000 }, `mixed dtypes, seed ${rng.seed}`);
  });
});

describe('round trip: header variants', () => {
  const rng = new Rng(testSeed(0x7200));
  const base = (): TensorInput[] => [
    { name: 'w', dtype: 'BF16', shape: [40, 3], data: makeValues('BF16', 120, 'gaussian', rng) },
    { name: 'b', dtype: 'F32', shape: [3], data: makeValues('F32', 3, 'gaussian', rng) },
    { name: 'empty', dtype: 'F16', shape: [0], data: new Uint8Array(0) },
    { name: 'ids', dtype: 'I64', shape: [17], data: makeValues('I64', 17, 'random', rng) },
    { name: 'mask', dtype: 'BOOL', shape: [9], data: makeValues('BOOL', 9, 'random', rng) },
  ];

  const variants: [string, () => Uint8Array][] = [
    ['__metadata__ first, with unicode and empty values', () => buildSafetensors(base(), { metadata: { format: 'pt', note: 'ünïcødé ✓ 😀', empty: '' } }).bytes],
    ['__metadata__ last', () => buildSafetensors(base(), { metadata: { a: 'b' }, headerOrder: ['w', 'b', 'empty', 'ids', 'mask', '__metadata__'] }).bytes],
    ['__metadata__ in the middle, keys in reverse data order', () => buildSafetensors(base(), { metadata: { a: 'b' }, headerOrder: ['mask', 'ids', '__metadata__', 'empty', 'b', 'w'] }).bytes],
    ['keys shuffled against data order', () => buildSafetensors(base(), { headerOrder: ['ids', 'w', 'mask', 'empty', 'b'] }).bytes],
    ['8-byte aligned header with 0..15 extra trailing spaces', () => buildSafetensors(base(), { extraSpaces: 13 }).bytes],
    ['unaligned header without padding', () => buildSafetensors(base(), { align: false }).bytes],
    ['only a header: {}', () => buildSafetensors([]).bytes],
    ['only __metadata__', () => buildSafetensors([], { metadata: { x: 'y' } }).bytes],
    ['only zero-size tensors', () => buildSafetensors([{ name: 'a', dtype: 'F32', shape: [0], data: new Uint8Array(0) }, { name: 'b', dtype: 'U8', shape: [2, 0], data: new Uint8Array(0) }]).bytes],
    ['zero-size tensors first, between and last', () => {
      const z = (name: string): TensorInput => ({ name, dtype: 'I32', shape: [0, 3], data: new Uint8Array(0) });
      const [w, b, , ids] = base();
      return buildSafetensors([z('z0'), w, z('z1'), z('z2'), b, ids, z('z3')]).bytes;
    }],
    ['odd tensor names: __proto__, constructor, empty, unicode, slashes, quotes', () => {
      const names = ['__proto__', 'constructor', '', 'ñ€😀.weight', 'a/b/c:d', 'q"uo\\te', 'toString', 'hasOwnProperty'];
      return buildSafetensors(names.map((name, k) => ({ name, dtype: 'U16', shape: [k], data: makeValues('U16', k, 'random', rng) }))).bytes;
    }],
    ['long names sharing a 300-byte prefix (front coding caps at 255), and a 4096-byte name', () => {
      const p = 'model.layers.'.repeat(25);
      const names = [p + 'a', p + 'ab', p + 'b', 'x', p + 'a'.repeat(10), 'n'.repeat(4096)];
      return buildSafetensors(names.map((name, k) => ({ name, dtype: 'I8', shape: [k + 1], data: makeValues('I8', k + 1, 'random', rng) }))).bytes;
    }],
    ['rank 32 shape of ones', () => buildSafetensors([{ name: 'r', dtype: 'F32', shape: new Array(32).fill(1), data: makeValues('F32', 1, 'gaussian', rng) }]).bytes],
    ['header padded with spaces before the JSON ends (whitespace inside)', () => {
      const t = base();
      const file = buildSafetensors(t);
      // Re-serialise the same header with JSON.stringify indentation: still one JSON object, more whitespace.
      const n = Number(new DataView(file.bytes.buffer).getBigUint64(0, true));
      const header = JSON.parse(new TextDecoder().decode(file.bytes.subarray(8, 8 + n)));
      const text = new TextEncoder().encode(JSON.stringify(header, null, 2));
      const out = new Uint8Array(8 + text.length + file.bytes.length - file.headerEnd);
      new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
      out.set(text, 8);
      out.set(file.bytes.subarray(file.headerEnd), 8 + text.length);
      return out;
    }],
  ];
  for (const [what, make] of variants) {
    test(what, async () => {
      const bytes = make();
      await roundTrip(bytes, { chunkBytes: 64 }, what);
      await roundTrip(bytes, {}, what);
    });
  }
});

test('the index records every tensor name exactly (leading BOM, NUL, __proto__, empty, long shared prefixes)', async () => {
  const rng = new Rng(testSeed(0x7201));
  const names = ['\ufeffbom', '\u0000nul', '__proto__', '', 'ñ€😀', 'a/../b', 'x'.repeat(300) + '1', 'x'.repeat(300) + '2', ' spaced '];
  const tensors = names.map((name, k) => ({ name, dtype: 'F16', shape: [k], data: makeValues('F16', k, 'random', rng) }));
  const container = await roundTrip(buildSafetensors(tensors).bytes, {}, 'odd names');
  const { byName } = await tensorSegments(container);
  assert.deepEqual([...byName.keys()].sort(), [...names].sort());
});

describe('round trip: files that are not parsed as safetensors', () => {
  test('random bytes of 0, 1, 7, 1001, 65535, 65536, 65537 bytes (safetensors: false)', async () => {
    const rng = new Rng(testSeed(0x7300));
    for (const n of [0, 1, 7, 1001, 65535, 65536, 65537]) {
      const bytes = rng.bytes(n);
      const container = await roundTrip(bytes, { safetensors: false, chunkBytes: 4096 }, `${n} random bytes`);
      // Raw storage keeps random data from growing by more than the container's fixed costs.
      assert.ok(container.length <= n + 248 + 12 * Math.ceil(n / 4096), `${n} random bytes became ${container.length}`);
    }
  });

  test('empty input, with and without the safetensors name', async () => {
    await roundTrip(new Uint8Array(0), { safetensors: false }, 'empty, safetensors: false');
    await roundTrip(new Uint8Array(0), { name: 'empty.bin' }, 'empty .bin');
  });

  test('a valid safetensors file stored as plain bytes, and structured non-safetensors data', async () => {
    const rng = new Rng(testSeed(0x7301));
    const st = buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [500], data: makeValues('BF16', 500, 'gaussian', rng) }]).bytes;
    await roundTrip(st, { safetensors: false }, 'safetensors as bytes');
    await roundTrip(st, { name: 'weights.bin' }, 'safetensors named .bin');
    const text = new TextEncoder().encode('the quick brown fox '.repeat(3000));
    const c = await roundTrip(text, { safetensors: false }, 'text');
    assert.ok(c.length < text.length / 2, `repetitive text compressed only to ${c.length} of ${text.length}`);
  });

  test('the name decides parsing: random bytes named *.safetensors are refused with strict, else kept as bytes', async () => {
    const rng = new Rng(testSeed(0x7302));
    const bytes = rng.bytes(300);
    bytes.fill(0xff, 0, 8); // header length far above the limit
    await assert.rejects(compressBuffer(bytes, { strict: true }), (e) => e instanceof WcodecError && e.code === 'LIMIT_EXCEEDED');
    await assert.rejects(compressBuffer(bytes, { name: 'x.safetensors', strict: true }), (e) => e instanceof WcodecError);
    await roundTrip(bytes, { name: 'x.safetensors' }, 'named .safetensors, not strict');
    await roundTrip(bytes, { name: 'x.bin' }, 'named .bin');
    await roundTrip(bytes, { name: 'x.safetensors', safetensors: false }, 'safetensors: false wins over the name');
  });
});

describe('compression and determinism', () => {
  test('compressing twice gives identical bytes, for several inputs and chunk sizes', async () => {
    const rng = new Rng(testSeed(0x7400));
    const file = buildSafetensors([
      { name: 'a', dtype: 'BF16', shape: [3000], data: makeValues('BF16', 3000, 'gaussian', rng) },
      { name: 'b', dtype: 'F32', shape: [999], data: makeValues('F32', 999, 'special', rng) },
      { name: 'c', dtype: 'U8', shape: [77], data: makeValues('U8', 77, 'random', rng) },
    ], { metadata: { k: 'v' } }).bytes;
    for (const chunkBytes of [undefined, 1000, 4096]) {
      const one = await compressBuffer(file, { chunkBytes });
      const two = await compressBuffer(file.slice(), { chunkBytes });
      assert.equal(sha(one), sha(two), `chunkBytes ${chunkBytes}: two compressions differ`);
    }
  });

  test('any chunk size round trips (1, 2, 3, 7, 8, 9, 1000, 4096, 65536, 2^22 bytes)', async () => {
    const rng = new Rng(testSeed(0x7401));
    const tensors: TensorInput[] = ['F64', 'F32', 'BF16', 'U8', 'I16', 'F4'].map((dtype, k) => ({
      name: `t${k}`, dtype, shape: [dtype === 'F4' ? 2 * (300 + k) : 300 + k], data: makeValues(dtype, 300 + k, k % 2 ? 'gaussian' : 'sparse', rng),
    }));
    const file = buildSafetensors(tensors).bytes;
    const sizes = new Set<string>();
    for (const chunkBytes of [1, 2, 3, 7, 8, 9, 1000, 4096, 65536, 1 << 22]) {
      const c = await roundTrip(file, { chunkBytes }, `chunkBytes ${chunkBytes}`);
      sizes.add(sha(c));
      const { byName } = await tensorSegments(c);
      for (const tt of tensors) {
        const W = DTYPE_WIDTH[tt.dtype] ?? 1;
        const seg = byName.get(tt.name)!;
        if (seg.transform) continue; // sparse mixes may be stored as ZERO_FLAGS streams (no chunks of their own)
        if (seg.coding.byteModel) continue; // version 11: chunks of the byte model's own size, or a group's (FORMAT.md §3.4)
        assert.equal(seg.chunkValues, Math.max(1, Math.floor(chunkBytes / W)), `chunkBytes ${chunkBytes}, ${tt.dtype}`);
      }
    }
    assert.ok(sizes.size >= 8, 'chunk size does not change the container');
  });

  test('chunkBytes must be a positive integer (RangeError)', async () => {
    for (const chunkBytes of [0, -1, 1.5, Number.NaN, Infinity]) {
      await assert.rejects(compressBuffer(new Uint8Array(4), { safetensors: false, chunkBytes }), RangeError, `chunkBytes ${chunkBytes}`);
    }
  });

  test('weights-like data compresses: zeros to almost nothing, gaussian BF16 below 80%', async () => {
    const rng = new Rng(testSeed(0x7402));
    const zeros = buildSafetensors([{ name: 'z', dtype: 'F32', shape: [1 << 18], data: new Uint8Array(1 << 20) }]).bytes;
    const cz = await roundTrip(zeros, {}, 'zeros');
    assert.ok(cz.length < 4096, `1 MiB of zeros became ${cz.length} bytes`);
    const g = buildSafetensors([{ name: 'g', dtype: 'BF16', shape: [1 << 17], data: makeValues('BF16', 1 << 17, 'gaussian', rng) }]).bytes;
    const cg = await roundTrip(g, {}, 'gaussian');
    assert.ok(cg.length < 0.8 * g.length, `gaussian BF16: ${cg.length} of ${g.length} bytes`);
  });
});

describe('reading single tensors', () => {
  test('readSegment and decodeSegment give each tensor; the header is its own byte segment', async () => {
    const rng = new Rng(testSeed(0x7500));
    const tensors: TensorInput[] = [
      { name: 'first', dtype: 'F16', shape: [5000], data: makeValues('F16', 5000, 'gaussian', rng) },
      { name: 'middle', dtype: 'I32', shape: [50, 7], data: makeValues('I32', 350, 'sparse', rng) },
      { name: 'last', dtype: 'F8_E5M2', shape: [3333], data: makeValues('F8_E5M2', 3333, 'special', rng) },
    ];
    const file = buildSafetensors(tensors, { metadata: { m: '1' }, headerOrder: ['last', '__metadata__', 'first', 'middle'] });
    const container = await compressBuffer(file.bytes, { chunkBytes: 512 });
    const { reader, byName } = await tensorSegments(container);
    const header = reader.index.members[0].segments[0];
    assert.equal(header.kind, 'bytes');
    assert.ok(Buffer.compare(await reader.readSegment(header), file.bytes.subarray(0, file.headerEnd)) === 0, 'header segment');
    for (const name of ['middle', 'last', 'first']) {
      const [b, e] = file.offsets.get(name)!;
      const want = file.bytes.subarray(b, e);
      const seg = byName.get(name)!;
      assert.ok(Buffer.compare(await reader.readSegment(seg), want) === 0, `${name}: readSegment`);
      assert.ok(Buffer.compare(await reader.readSegment(seg, { checkDigests: false }), want) === 0, `${name}: readSegment without digests`);
      const pieces: Uint8Array[] = [];
      await reader.decodeSegment(seg, (p) => void pieces.push(p.slice()));
      // A transformed segment (the sparse tensor may be ZERO_FLAGS) is one piece: its inverse needs every stream.
      assert.equal(pieces.length, seg.transform ? 1 : seg.chunks.length, `${name}: one piece per chunk`);
      assert.ok(Buffer.compare(Buffer.concat(pieces), want) === 0, `${name}: decodeSegment pieces`);
    }
  });

  test("a corrupt chunk of one tensor fails that tensor (CORRUPT_CHUNK) but not its neighbours", async () => {
    const rng = new Rng(testSeed(0x7501));
    const tensors: TensorInput[] = [
      { name: 'a', dtype: 'BF16', shape: [2000], data: makeValues('BF16', 2000, 'gaussian', rng) },
      { name: 'b', dtype: 'BF16', shape: [2000], data: makeValues('BF16', 2000, 'gaussian', rng) },
    ];
    const file = buildSafetensors(tensors);
    const container = await compressBuffer(file.bytes, { chunkBytes: 1024 });
    const { byName } = await tensorSegments(container);
    const victim = byName.get('a')!.chunks[1];
    const bad = container.slice();
    bad[victim.offset + (victim.bytes >> 1)] ^= 0x10;
    const { reader, byName: badNames } = await tensorSegments(bad);
    const [b0, b1] = file.offsets.get('b')!;
    assert.ok(Buffer.compare(await reader.readSegment(badNames.get('b')!), file.bytes.subarray(b0, b1)) === 0);
    await assert.rejects(reader.readSegment(badNames.get('a')!), (e) => e instanceof WcodecError && ['CORRUPT_CHUNK', 'CHECKSUM_MISMATCH'].includes(e.code) && e.offset === victim.offset);
    await assert.rejects(decompressBuffer(bad), (e) => e instanceof WcodecError && ['CORRUPT_CHUNK', 'CHECKSUM_MISMATCH'].includes(e.code));
  });
});

describe('member names', () => {
  test('the name given to compressBuffer is recorded as the member path', async () => {
    for (const name of ['model.safetensors', 'weights.bin', 'ünï cødé.bin', 'n'.repeat(4096)]) {
      const bytes = new Uint8Array([1, 2, 3]);
      const container = await roundTrip(bytes, { name, safetensors: false }, `name ${name.slice(0, 20)}`);
      const reader = await ContainerReader.open(new MemorySource(container));
      assert.equal(reader.index.members[0].path, name);
    }
  });

  // A writer must not produce a container its reader refuses: names the reader rejects (BAD_PATH, or a path
  // over MAX_NAME_BYTES) must be refused when compressing, or else decode.
  test('a member name the reader would reject is refused when compressing', async () => {
    for (const name of ['a/b.bin', '..', '', 'c:d.bin', 'a\\b.bin', 'x'.repeat(5000)]) {
      const bytes = new Uint8Array([1, 2, 3]);
      let container: Uint8Array;
      try {
        container = await compressBuffer(bytes, { name, safetensors: false });
      } catch (e) {
        assert.ok(e instanceof RangeError || e instanceof WcodecError, `name ${name.slice(0, 20)}: ${String(e)}`);
        continue;
      }
      assert.deepEqual(await decompressBuffer(container), bytes, `name ${name.slice(0, 20)}: accepted but not decodable`);
    }
  });
});
