// Work and memory a hostile container can cause, bounded by what it costs to send: regression tests for the
// amplifications the fuzz harness and review found (docs/SECURITY.md, "Resource limits").

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_CACHED_LUTS, mergePlanes, splitPlanes, type PlaneLayout, type PlaneSpec } from '../src/transform/planes.js';
import { forceGc, retainedArrayBufferBytes } from './helpers/measure.js';
import { WcodecError } from '../src/errors.js';
import { HEADER_BYTES, MAX_CHUNK_VALUES } from '../src/format/constants.js';
import { openContainer } from '../src/api/checkpoint.js';
import { MemorySource } from '../src/io/byte-source.js';
import { editIndex } from '../tools/vectors/surgery.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { folderContainer } from './fuzz/seeds.js';
import { readIndex, writeIndex, type MemberRecord, type SegmentRecord } from '../src/pipeline/index-codec.js';

/** Distinct valid BF16 layouts: two head planes, one taking the 1-bits of `mask` as 1-bit ranges, one the rest. */
function* distinctLayouts(count: number): Generator<PlaneLayout> {
  let made = 0;
  for (let mask = 1; mask < 1 << 16 && made < count; mask++) {
    const a: PlaneSpec = { kind: 'head', ranges: [] };
    const b: PlaneSpec = { kind: 'head', ranges: [] };
    for (let bit = 15; bit >= 0; bit--) ((mask >> bit) & 1 ? a : b).ranges.push({ lo: bit, width: 1 });
    if (a.ranges.length > 12 || b.ranges.length < 1 || b.ranges.length > 12) continue;
    made++;
    yield { valueBytes: 2, planes: [a, b] };
  }
}

describe('resource bounds', () => {
  test(`decoding values under many distinct plane layouts retains at most ${MAX_CACHED_LUTS} small tables`, async () => {
    // Each layout costs a hostile index about 40 bytes; the decoder used to cache a 128 KiB table per layout for the
    // life of the process (3000 layouts: 800 MB kept).
    const heads = new Uint16Array(1);
    const out = new Uint8Array(2);
    const retained = await retainedArrayBufferBytes(() => {
      for (const layout of distinctLayouts(3000)) mergePlanes([new Uint16Array(1), new Uint16Array(1)], 1, layout, out, heads);
    });
    assert.ok(retained < 16 * 1024 * 1024, `${(retained / 1e6).toFixed(1)} MB retained after 3000 layouts`);
  });

  test('the bounded cache still gives exact inverses when layouts are evicted and rebuilt', () => {
    const layouts = [...distinctLayouts(3 * MAX_CACHED_LUTS)];
    const bytes = new Uint8Array([0x34, 0x12, 0xcd, 0xab, 0x00, 0x80, 0xff, 0x7f]);
    for (let round = 0; round < 2; round++) {
      for (const layout of layouts) {
        const planes = [new Uint16Array(4), new Uint16Array(4)];
        const heads = new Uint16Array(4);
        splitPlanes(bytes, 4, layout, planes, heads);
        const out = new Uint8Array(8);
        mergePlanes(planes, 4, layout, out, heads);
        assert.deepEqual(out, bytes);
      }
    }
  });
});

describe('resource bounds: index checks', () => {
  test('the folder-prefix rule costs time linear in the paths, not quadratic in their length', () => {
    // 400 members, each a 4 KB path of 2000 components: 1.6 MB of index (about 220 KB as a coded block). The
    // former check hashed every '/'-prefix of every path: about 2 s here.
    const deep = Array(2000).fill('a').join('/');
    const members = Array.from({ length: 400 }, (_, k) => ({ path: `${deep}/f${k}`, originalBytes: 0, sha256: new Uint8Array(32), segments: [] }));
    const index = writeIndex({ kind: 'folder', members });
    // The fastest of three reads: a busy machine slows one read, not the cost the rule adds (5x under the former).
    let ms = Infinity;
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      assert.equal(readIndex(index, HEADER_BYTES, HEADER_BYTES).members.length, 400);
      ms = Math.min(ms, performance.now() - t0);
    }
    assert.ok(ms < 400, `readIndex took ${ms.toFixed(0)} ms for ${index.length} bytes`);
  });

  test('the folder-prefix rule still finds a member that is a folder of another, in either order and deep down', () => {
    const member = (path: string): MemberRecord => ({ path, originalBytes: 0, sha256: new Uint8Array(32), segments: [] });
    for (const paths of [['a', 'a/b'], ['a/b', 'a'], ['x/y/z', 'x/y/z/w/v'], ['x/y/z/w/v', 'q', 'x/y/z'], ['d/a', 'd/a-b', 'd/a/b']]) {
      assert.throws(() => readIndex(writeIndex({ kind: 'folder', members: paths.map(member) }), HEADER_BYTES, HEADER_BYTES), (e: unknown) => {
        assert.ok(e instanceof WcodecError && e.code === 'BAD_PATH', String(e));
        assert.match(e.message, /is also a folder of/);
        return true;
      }, paths.join(' '));
    }
    for (const paths of [['a', 'ab', 'a-b/c', 'b/a'], ['x/y', 'x/z', 'x/yy/y']]) {
      assert.equal(readIndex(writeIndex({ kind: 'folder', members: paths.map(member) }), HEADER_BYTES, HEADER_BYTES).members.length, paths.length);
    }
  });
});

describe('resource bounds: sizes the index declares', () => {
  test('a shard index member that declares 64 GiB is not read to pick a shard (typed AMBIGUOUS_NAME, no allocation)', async () => {
    const tensor = (v: number): Uint8Array => buildSafetensors([{ name: 'x', dtype: 'U8', shape: [4], data: new Uint8Array(4).fill(v) }]).bytes;
    const weightMap = new TextEncoder().encode(JSON.stringify({ weight_map: { x: 'b.safetensors' } }));
    const folder = await folderContainer([
      { path: 'a.safetensors', bytes: tensor(1) },
      { path: 'b.safetensors', bytes: tensor(2) },
      { path: 'model.safetensors.index.json', bytes: weightMap },
    ]);
    // As sent, the shard index picks b.safetensors.
    assert.equal((await (await openContainer(new MemorySource(folder))).find('x')).file, 'b.safetensors');
    // A hostile index makes the shard index a 64 GiB byte segment of 2^14 chunks (only the first has bytes).
    const huge = await editIndex(folder, (index, parts) => {
      const m = index.members.find((x) => x.path === 'model.safetensors.index.json')!;
      const seg = m.segments[0];
      const first = parts.chunks.find((c) => c.record === seg.chunks[0])!;
      seg.originalBytes = m.originalBytes = 2 ** 36;
      delete m.identitySha256; // a producer that writes this index computes the identity digest of what it writes
      seg.chunkValues = MAX_CHUNK_VALUES;
      seg.chunks = Array.from({ length: 2 ** 36 / MAX_CHUNK_VALUES }, (_, k) => (k === 0 ? first.record : { offset: 0, bytes: 0, crc32c: 0, digest: 0n }));
      const at = parts.chunks.indexOf(first);
      const empty = seg.chunks.slice(1).map((record) => ({ record, payload: new Uint8Array(0) }));
      parts.chunks = [...parts.chunks.slice(0, at + 1), ...empty, ...parts.chunks.slice(at + 1)];
    }, true);
    const cp = await openContainer(new MemorySource(huge));
    await assert.rejects(cp.find('x'), (e: unknown) => e instanceof WcodecError && e.code === 'AMBIGUOUS_NAME');
  });
});

describe('resource bounds: memory per index record', () => {
  test('segment records of a hostile index cost at most 500 bytes of heap each (1.1 KB before: 256 MiB of index ran out of heap)', async () => {
    const seg: SegmentRecord = {
      kind: 'bytes', name: '', dtype: '', shape: [], originalBytes: 0, sha256: new Uint8Array(32),
      coding: { layout: { valueBytes: 1, planes: [{ kind: 'head', ranges: [{ lo: 0, width: 8 }] }] }, tables: [undefined], lanes: 1 },
      chunkValues: 1, chunks: [],
    };
    const count = 250_000;
    const index = writeIndex({ kind: 'file', members: [{ path: 'a', originalBytes: 0, sha256: new Uint8Array(32), segments: new Array(count).fill(seg) }] });
    forceGc();
    const heap0 = process.memoryUsage().heapUsed;
    const parsed = readIndex(index, HEADER_BYTES, HEADER_BYTES);
    forceGc();
    const perRecord = (process.memoryUsage().heapUsed - heap0) / count;
    assert.equal(parsed.members[0].segments.length, count);
    assert.ok(perRecord < 500, `${perRecord.toFixed(0)} bytes of heap per ${index.length / count}-byte segment record`);
  });

  test('the digests of a parsed index do not change with the buffer it was parsed from', () => {
    const member = writeIndex({ kind: 'file', members: [{ path: 'a', originalBytes: 0, sha256: new Uint8Array(32).fill(7), segments: [] }] });
    const parsed = readIndex(member, HEADER_BYTES, HEADER_BYTES);
    member.fill(0);
    assert.deepEqual([...parsed.members[0].sha256], new Array(32).fill(7), 'the digest changed with the buffer');
  });
});
