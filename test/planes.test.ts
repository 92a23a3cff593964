// Plane transform (FORMAT.md §4.2) and the encoder's layout choice: splitPlanes/mergePlanes are exact inverses
// for every candidate layout and for random valid layouts of each value width; checkLayout rejects
// malformed layouts; symbol counting does not depend on how the bytes are fed.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLayout, headBits, mergePlanes, planeBits, splitPlanes, type BitRange, type PlaneLayout, type PlaneSpec } from '../src/transform/planes.js';
import { chooseCoding, laneCount, rawCoding, SegmentStats } from '../src/pipeline/choose-layout.js';
import { MAX_CODED_SYMBOL_BITS, MAX_PLANES, RANS_LANES } from '../src/format/constants.js';
import { Rng, testSeed } from './helpers/prng.js';
import { ALL_DTYPES, DTYPE_WIDTH, VALUE_MIXES, makeValues } from './helpers/values.js';
import { isHuffman } from '../src/entropy/chunk-codec.js';

const r = (lo: number, width: number): BitRange => ({ lo, width });
const head = (...ranges: BitRange[]): PlaneSpec => ({ kind: 'head', ranges });
const byte = (byteIndex: number): PlaneSpec => ({ kind: 'byte', byteIndex });
/** Byte planes below the head, high to low, as the encoder orders them. */
const lowBytes = (W: number): PlaneSpec[] => Array.from({ length: W - headBits(W) / 8 }, (_, k) => byte(W - headBits(W) / 8 - 1 - k));

/**
 * The head splits src/pipeline/choose-layout.ts considers, per dtype (a copy: if the encoder gains a
 * candidate, the "chooseCoding picks a known candidate" test below fails and this list must grow).
 */
const HEAD_CANDIDATES: Record<string, PlaneSpec[][]> = {
  BF16: [
    [head(r(7, 8)), head(r(15, 1), r(0, 7))],
    [head(r(7, 8), r(6, 1)), head(r(15, 1), r(0, 6))],
    [head(r(7, 8), r(5, 2)), head(r(15, 1), r(0, 5))],
    [head(r(7, 8), r(4, 3)), head(r(15, 1), r(0, 4))],
    [head(r(8, 8)), head(r(0, 8))],
  ],
  F16: [
    [head(r(10, 5), r(7, 3)), head(r(15, 1), r(0, 7))],
    [head(r(10, 5), r(5, 5)), head(r(15, 1), r(0, 5))],
    [head(r(10, 5), r(3, 7)), head(r(15, 1), r(0, 3))],
    [head(r(8, 8)), head(r(0, 8))],
  ],
  F64: [[head(r(4, 11)), head(r(15, 1), r(0, 4))], [head(r(4, 12)), head(r(0, 4))], [head(r(8, 8)), head(r(0, 8))]],
  W1: [[head(r(0, 8))]],
  W2: [[head(r(8, 8)), head(r(0, 8))]],
};
HEAD_CANDIDATES.F32 = HEAD_CANDIDATES.BF16;

function candidateLayouts(dtype: string): PlaneLayout[] {
  const W = DTYPE_WIDTH[dtype] ?? 1;
  const heads = HEAD_CANDIDATES[dtype] ?? HEAD_CANDIDATES[W === 1 ? 'W1' : 'W2'];
  return heads.map((h) => ({ valueBytes: W, planes: [...h, ...lowBytes(W)] }));
}

/** A random valid layout: the head's bits dealt into planes of random bit ranges, byte planes, all shuffled. */
function randomLayout(rng: Rng, W: number): PlaneLayout {
  const H = headBits(W);
  const lowCount = W - H / 8;
  const maxHeadPlanes = Math.min(H, MAX_PLANES - lowCount);
  const planeCount = rng.range(1, maxHeadPlanes);
  // Cut a random permutation of the head bits into planeCount non-empty groups.
  const bits = rng.shuffle(Array.from({ length: H }, (_, i) => i));
  const cuts = rng.shuffle(Array.from({ length: H - 1 }, (_, i) => i + 1)).slice(0, planeCount - 1).sort((a, b) => a - b);
  const groups: number[][] = [];
  let from = 0;
  for (const c of [...cuts, H]) {
    groups.push(bits.slice(from, c));
    from = c;
  }
  const heads: PlaneSpec[] = groups.map((g) => {
    // Merge runs of adjacent bits into ranges, then shuffle the ranges (any order is a valid plane).
    const sorted = [...g].sort((a, b) => a - b);
    const ranges: BitRange[] = [];
    for (const b of sorted) {
      const last = ranges[ranges.length - 1];
      if (last && last.lo + last.width === b && rng.int(3) > 0) last.width++;
      else ranges.push({ lo: b, width: 1 });
    }
    return head(...rng.shuffle(ranges));
  });
  const bytes = rng.shuffle(Array.from({ length: lowCount }, (_, k) => byte(k)));
  return { valueBytes: W, planes: rng.shuffle([...heads, ...bytes]) };
}

/** split -> check symbol widths -> merge into a poisoned buffer -> compare. */
function assertInverse(bytes: Uint8Array, layout: PlaneLayout, what: string): void {
  const W = layout.valueBytes;
  const n = bytes.length / W;
  const planes = layout.planes.map(() => new Uint16Array(n + 2).fill(0xdead));
  const heads = new Uint16Array(n + 2);
  splitPlanes(bytes, n, layout, planes, heads);
  layout.planes.forEach((p, k) => {
    const limit = 1 << planeBits(p);
    for (let i = 0; i < n; i++) if (planes[k][i] >= limit) assert.fail(`${what}: plane ${k} symbol ${planes[k][i]} has more than ${planeBits(p)} bits`);
    assert.equal(planes[k][n], 0xdead, `${what}: plane ${k} written past n`);
  });
  const out = new Uint8Array(bytes.length + 3).fill(0xa5);
  mergePlanes(planes, n, layout, out, new Uint16Array(n + 2));
  assert.deepEqual(out.subarray(0, bytes.length), bytes, `${what}: merge(split(x)) != x`);
  assert.deepEqual([...out.subarray(bytes.length)], [0xa5, 0xa5, 0xa5], `${what}: merge wrote past n values`);
}

describe('plane split/merge', () => {
  test('every candidate layout of every dtype is valid and an exact inverse, over every value mix', () => {
    const rng = new Rng(testSeed(0x91a4));
    for (const dtype of [...ALL_DTYPES, 'F4']) {
      for (const layout of candidateLayouts(dtype)) {
        const what = `${dtype} ${JSON.stringify(layout.planes)}`;
        assert.equal(checkLayout(layout), undefined, what);
        for (const mix of VALUE_MIXES) {
          for (const n of [0, 1, 7, 1000]) assertInverse(makeValues(dtype, n, mix, rng), layout, `${what}, ${mix}, n ${n}, seed ${rng.seed}`);
        }
      }
    }
  });

  test('random valid layouts of widths 1, 2, 4, 8 are exact inverses (all 2^16 heads for 2-byte values)', () => {
    const rng = new Rng(testSeed(0x91a5));
    const allHeads = new Uint8Array(2 * 65536);
    for (let h = 0; h < 65536; h++) {
      allHeads[2 * h] = h & 0xff;
      allHeads[2 * h + 1] = h >>> 8;
    }
    for (const W of [1, 2, 4, 8]) {
      for (let trial = 0; trial < 60; trial++) {
        const layout = randomLayout(rng, W);
        const what = `W ${W}, trial ${trial}, ${JSON.stringify(layout.planes)}, seed ${rng.seed}`;
        assert.equal(checkLayout(layout), undefined, what);
        assertInverse(W === 2 && trial < 10 ? allHeads : rng.bytes(W * rng.range(0, 700)), layout, what);
      }
    }
  });

  test('head planes take the named bits, first range most significant (BF16 -1.5 = 0xBFC0)', () => {
    const layout = candidateLayouts('BF16')[0];
    const planes = [new Uint16Array(1), new Uint16Array(1)];
    splitPlanes(new Uint8Array([0xc0, 0xbf]), 1, layout, planes, new Uint16Array(1));
    assert.equal(planes[0][0], 0x7f, 'exponent plane');
    assert.equal(planes[1][0], 0x80 | 0x40, 'sign then 7 mantissa bits');
    // F32 1.0 = 0x3F800000 little-endian: exponent 0x7F, then zeros; the low bytes are byte planes 1 and 0.
    const f32 = candidateLayouts('F32')[0];
    const p4 = f32.planes.map(() => new Uint16Array(1));
    splitPlanes(new Uint8Array([0x12, 0x34, 0x80, 0x3f]), 1, f32, p4, new Uint16Array(1));
    assert.deepEqual(p4.map((p) => p[0]), [0x7f, 0, 0x34, 0x12]);
  });
});

describe('checkLayout', () => {
  const ok2: PlaneLayout = { valueBytes: 2, planes: [head(r(8, 8)), head(r(0, 8))] };
  const ok4: PlaneLayout = { valueBytes: 4, planes: [head(r(8, 8)), head(r(0, 8)), byte(1), byte(0)] };

  test('accepts the baseline layouts and the raw coding of every width', () => {
    assert.equal(checkLayout(ok2), undefined);
    assert.equal(checkLayout(ok4), undefined);
    for (const W of [1, 2, 4, 8]) assert.equal(checkLayout(rawCoding(W).layout), undefined, `raw ${W}`);
  });

  const bad: [string, PlaneLayout][] = [
    ['overlapping ranges across planes', { valueBytes: 2, planes: [head(r(8, 8)), head(r(0, 9))] }],
    ['overlapping ranges inside a plane', { valueBytes: 2, planes: [head(r(8, 8), r(7, 2)), head(r(0, 7))] }],
    ['a gap in the head', { valueBytes: 2, planes: [head(r(8, 8)), head(r(0, 7))] }],
    ['a range past the 16-bit head', { valueBytes: 2, planes: [head(r(9, 8)), head(r(0, 9))] }],
    ['a range past the 8-bit head', { valueBytes: 1, planes: [head(r(0, 9))] }],
    ['a zero-width range', { valueBytes: 2, planes: [head(r(8, 8), r(3, 0)), head(r(0, 8))] }],
    ['a head plane with no ranges', { valueBytes: 2, planes: [head(r(8, 8)), head(r(0, 8)), head()] }],
    ['a duplicate byte plane', { valueBytes: 4, planes: [head(r(8, 8)), head(r(0, 8)), byte(1), byte(1)] }],
    ['a missing byte plane', { valueBytes: 4, planes: [head(r(8, 8)), head(r(0, 8)), byte(1)] }],
    ['a byte plane inside the head', { valueBytes: 4, planes: [head(r(8, 8)), head(r(0, 8)), byte(1), byte(0), byte(2)] }],
    ['a byte plane for a 2-byte value', { valueBytes: 2, planes: [head(r(8, 8)), head(r(0, 8)), byte(0)] }],
    ['no head plane', { valueBytes: 4, planes: [byte(0), byte(1)] }],
    ['no planes at all', { valueBytes: 1, planes: [] }],
    ['value width 3', { valueBytes: 3, planes: [head(r(8, 8)), head(r(0, 8)), byte(0)] }],
    ['value width 0', { valueBytes: 0, planes: [head(r(0, 8))] }],
    ['17 planes', { valueBytes: 8, planes: [...Array.from({ length: 10 }, (_, k) => head(r(k, 1))), head(r(10, 6)), ...lowBytes(8)] }],
  ];
  for (const [what, layout] of bad) {
    test(`rejects ${what}`, () => {
      const problem = checkLayout(layout);
      assert.equal(typeof problem, 'string', `${what}: accepted`);
    });
  }
});

describe('layout choice', () => {
  test('chooseCoding picks a known candidate (or raw), valid, with tables only on codable planes', () => {
    const rng = new Rng(testSeed(0x91a6));
    for (const dtype of [...ALL_DTYPES, 'F4']) {
      const W = DTYPE_WIDTH[dtype] ?? 1;
      const known = [...candidateLayouts(dtype), rawCoding(W).layout].map((l) => JSON.stringify(l.planes.map((p) => (p.kind === 'byte' ? p : p.ranges))));
      for (const mix of VALUE_MIXES) {
        for (const n of [1, 100, 5000]) {
          const stats = new SegmentStats(W);
          stats.add(makeValues(dtype, n, mix, rng));
          const chunkValues = rng.pick([1, 64, 4096, 1 << 20]);
          const coding = chooseCoding(dtype, stats, chunkValues);
          const what = `${dtype}, ${mix}, n ${n}, chunk ${chunkValues}, seed ${rng.seed}`;
          assert.equal(checkLayout(coding.layout), undefined, what);
          assert.equal(coding.layout.valueBytes, W, what);
          const key = JSON.stringify(coding.layout.planes.map((p) => (p.kind === 'byte' ? p : p.ranges)));
          assert.ok(known.includes(key), `${what}: unlisted layout ${key}`);
          assert.equal(coding.tables.length, coding.layout.planes.length, what);
          coding.tables.forEach((t, k) => {
            const bits = planeBits(coding.layout.planes[k]);
            if (t) {
              assert.ok(bits <= MAX_CODED_SYMBOL_BITS, `${what}: coded ${bits}-bit plane`);
              assert.ok(!isHuffman(t), `${what}: the default encoder codes with rANS`);
              assert.equal(t.freqs.length, 1 << bits, `${what}: table alphabet`);
            } else assert.equal(bits, 8, `${what}: raw ${bits}-bit plane`);
          });
          assert.equal(coding.lanes, laneCount(Math.min(chunkValues, n)), what);
        }
      }
    }
  });

  test('constant data is coded (not raw); uniform random bytes are stored raw', () => {
    const rng = new Rng(testSeed(0x91a7));
    const c = new SegmentStats(2);
    c.add(makeValues('BF16', 10_000, 'constant', rng));
    assert.ok(chooseCoding('BF16', c, 10_000).tables.some((t) => t !== undefined));
    const u = new SegmentStats(1);
    u.add(rng.bytes(10_000));
    assert.ok(chooseCoding('bytes', u, 10_000).tables.every((t) => t === undefined));
  });

  test('laneCount: 32 lanes from 64 Ki values, one lane per 8192 values below, always a power of two', () => {
    assert.equal(laneCount(1 << 16), RANS_LANES);
    assert.equal(laneCount(1 << 22), RANS_LANES);
    assert.equal(laneCount(1), 1);
    assert.equal(laneCount(16383), 1);
    assert.equal(laneCount(16384), 2);
    assert.equal(laneCount(65535), 4);
    // Version 4: 32 lanes from 32 Ki values (the full-width kernels), the same below.
    assert.equal(laneCount(32768, 4), RANS_LANES);
    assert.equal(laneCount(32767, 4), 2);
    assert.equal(laneCount(16384, 4), 2);
    assert.equal(laneCount(32768, 3), 4);
    for (let n = 1; n < 200_000; n += 997) {
      const l = laneCount(n);
      assert.ok(l >= 1 && l <= 32 && (l & (l - 1)) === 0, `laneCount(${n}) = ${l}`);
    }
  });

  test('SegmentStats counts the same however the bytes are split (values straddling calls)', () => {
    const rng = new Rng(testSeed(0x91a8));
    for (const W of [1, 2, 4, 8]) {
      const data = rng.bytes(W * 3001);
      const whole = new SegmentStats(W);
      whole.add(data);
      const split = new SegmentStats(W);
      for (let at = 0; at < data.length; ) {
        const take = Math.min(data.length - at, rng.pick([0, 1, 3, W - 1, W + 1, rng.int(500)]));
        split.add(data.subarray(at, at + take));
        at += take;
      }
      assert.equal(split.values, whole.values, `W ${W}`);
      assert.equal(whole.values, 3001);
      assert.deepEqual(split.head, whole.head, `W ${W}: head histogram`);
      assert.deepEqual(split.low, whole.low, `W ${W}: byte histograms`);
    }
  });
});
