// PlaneCountCache (src/pipeline/choose-layout.ts): every head-plane histogram it gives, counted from the present heads
// or summed from a wider plane's histogram, equals headPlaneCounts' exactly, for the float candidates' planes and for
// planes whose fields are not one contiguous run, on segments with few and with many distinct heads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headPlaneCounts, PlaneCountCache, SegmentStats } from '../src/pipeline/choose-layout.js';
import type { BitRange } from '../src/transform/planes.js';
import { Rng } from './helpers/prng.js';

const r = (lo: number, width: number): BitRange => ({ lo, width });
/** Widest first, as chooseCoding asks, so that the narrower ones are summed (where heads outnumber bins). */
const PLANES: BitRange[][] = [
  [r(10, 5), r(3, 7)], [r(10, 5), r(5, 5)], [r(10, 5), r(7, 3)], [r(7, 8), r(4, 3)], [r(7, 8), r(5, 2)], [r(7, 8)],
  [r(15, 1), r(0, 7)], [r(15, 1), r(0, 5)], [r(15, 1), r(0, 3)], [r(8, 8)], [r(0, 8)], [r(15, 1), r(10, 2), r(0, 3)],
];

for (const values of [300, 200_000]) {
  test(`plane count cache: equal to headPlaneCounts on ${values} values`, () => {
    const rng = new Rng(values);
    const bytes = new Uint8Array(values * 2);
    for (let i = 0; i < bytes.length; i += 2) {
      const h = values > 1000 ? rng.int(65536) : 0x3c00 + rng.int(700);
      bytes[i] = h & 0xff;
      bytes[i + 1] = h >> 8;
    }
    const stats = new SegmentStats(2);
    stats.add(bytes);
    const present = stats.presentHeads();
    const cache = new PlaneCountCache(stats.head, present);
    for (const ranges of PLANES) assert.deepEqual(cache.of(ranges), headPlaneCounts(stats.head, present, ranges), JSON.stringify(ranges));
    // Asked again: the same array.
    assert.equal(cache.of(PLANES[1]), cache.of(PLANES[1]));
  });
}
