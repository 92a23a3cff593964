// Interleaved rANS and its frequency tables (FORMAT.md §5.2-§5.3): round trips over every lane count, value
// count and table precision; normalisation invariants; the serialised table; and the stream checks a
// decoder must make (length, initial states, words left over).

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRans, encodeRans, prepareDecodeTable, validLaneCount } from '../src/entropy/rans.js';
import {
  buildSlotTable,
  codedBits,
  makeTable,
  normalizeFrequencies,
  readFreqTable,
  tableBytes,
  writeFreqTable,
  type FreqTable,
} from '../src/entropy/freq-table.js';
import { ByteReader, ByteWriter } from '../src/format/byte-cursor.js';
import { WcodecError } from '../src/errors.js';
import { Rng, testSeed } from './helpers/prng.js';

const LANES = [1, 2, 4, 8, 16, 32];
const SIZES = [0, 1, 31, 32, 33, 1000];
const L = 1 << 16;

type Shape = 'skewed' | 'uniform' | 'constant' | 'two';

/** A plane of `n` symbols of `bits` bits drawn from a distribution of the given shape, and its counts. */
function makePlane(rng: Rng, n: number, bits: number, shape: Shape): { symbols: Uint16Array; counts: Float64Array } {
  const A = 1 << bits;
  const symbols = new Uint16Array(n);
  const constant = rng.int(A);
  for (let i = 0; i < n; i++) {
    switch (shape) {
      case 'uniform':
        symbols[i] = rng.int(A);
        break;
      case 'constant':
        symbols[i] = constant;
        break;
      case 'two':
        symbols[i] = rng.float() < 0.999 ? constant : (constant + 1) % A;
        break;
      case 'skewed': // geometric around a random centre: a few symbols carry most of the mass
        symbols[i] = (constant + Math.floor(-Math.log(1 - rng.float()) * 2)) % A;
        break;
    }
  }
  const counts = new Float64Array(A);
  for (const s of symbols) counts[s]++;
  return { symbols, counts };
}

/** A table for counts at `probBits`, or at the smallest precision that holds every present symbol. */
function tableFor(counts: Float64Array, probBits: number): FreqTable {
  let present = 0;
  for (const c of counts) if (c > 0) present++;
  let pb = probBits;
  while (present > 1 << pb) pb++;
  if (present === 0) {
    // An empty plane still needs a valid table: give the whole range to symbol 0.
    const freqs = new Uint32Array(counts.length);
    freqs[0] = 1 << pb;
    return makeTable(pb, freqs);
  }
  return normalizeFrequencies(counts, pb);
}

/** Encoder written from the normative order (FORMAT.md §5.3), independent of encodeRans: decode order is
 * for step s, for plane p, for lane l (value K*s + l < n); the encoder walks it backwards. */
function referenceEncode(planes: Uint16Array[], tables: FreqTable[], n: number, K: number): Uint8Array {
  const order: [number, number, number][] = [];
  for (let s = 0; s * K < n; s++) for (let p = 0; p < planes.length; p++) for (let l = 0; l < K && s * K + l < n; l++) order.push([p, l, s * K + l]);
  const x = new Array<number>(K).fill(L);
  const words: number[] = [];
  for (let k = order.length - 1; k >= 0; k--) {
    const [p, l, i] = order[k];
    const t = tables[p];
    const v = planes[p][i];
    const f = t.freqs[v];
    let s = x[l];
    if (s >= f * 2 ** (32 - t.probBits)) {
      words.push(s % 65536);
      s = Math.floor(s / 65536);
    }
    x[l] = Math.floor(s / f) * 2 ** t.probBits + (s % f) + t.cum[v];
  }
  const out = new Uint8Array(4 * K + 2 * words.length);
  const dv = new DataView(out.buffer);
  x.forEach((v, l) => dv.setUint32(4 * l, v, true));
  words.reverse().forEach((w, k) => dv.setUint16(4 * K + 2 * k, w, true));
  return out;
}

interface Case {
  planes: Uint16Array[];
  tables: FreqTable[];
  n: number;
  lanes: number;
}

function decode(c: Case, stream: Uint8Array, poison = 0xbeef): Uint16Array[] {
  const out = c.planes.map(() => new Uint16Array(c.n + 3).fill(poison));
  decodeRans(stream, c.n, c.tables.map(prepareDecodeTable), out, c.lanes, { file: 'case', offset: 1000 });
  // Nothing past n is written.
  for (const o of out) for (let i = c.n; i < o.length; i++) assert.equal(o[i], poison, `slot ${i} past n was written`);
  return out.map((o) => o.subarray(0, c.n));
}

/** Asserts CORRUPT_CHUNK with an offset inside the stream (placed at 1000), exactly `at` when given. */
function assertCorrupt(fn: () => void, what: string, at?: number): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof WcodecError, `${what}: threw ${String(e)}, not a WcodecError`);
    assert.equal(e.code, 'CORRUPT_CHUNK', `${what}: ${e.message}`);
    assert.equal(typeof e.offset, 'number', `${what}: no offset`);
    assert.ok(e.offset! >= 1000, `${what}: offset ${e.offset} does not include the stream's place`);
    if (at !== undefined) assert.equal(e.offset, 1000 + at, `${what}: ${e.message}`);
    return true;
  }, what);
}

describe('rANS round trips', () => {
  test('the worked example of FORMAT.md §5.3: table and stream bytes, decoded symbols', () => {
    const freqs = new Uint32Array(256);
    freqs.set([200, 40, 8, 8]);
    const table = makeTable(8, freqs);
    const w = new ByteWriter();
    writeFreqTable(w, table);
    assert.equal(Buffer.from(w.finish()).toString('hex'), '08040000c701002700070007');
    const symbols = Uint16Array.of(2, 3, 0, 2, 3, 1, 2, 3, 2);
    const stream = encodeRans([symbols], [table], 9, 2);
    assert.equal(Buffer.from(stream).toString('hex'), 'f37b1400fa33030088fef079');
    assert.deepEqual(decode({ planes: [symbols], tables: [table], n: 9, lanes: 2 }, stream)[0], symbols);
  });

  test('every lane count x n in {0,1,31,32,33,1000} x 3 planes with different tables and precisions', () => {
    const rng = new Rng(testSeed(0x4a45));
    for (const lanes of LANES) {
      for (const n of SIZES) {
        const shapes: Shape[] = ['skewed', 'uniform', 'constant'];
        const bits = [8, rng.range(1, 12), rng.range(1, 12)];
        const pbs = [rng.range(8, 15), rng.range(8, 15), rng.range(8, 15)];
        const made = shapes.map((s, k) => makePlane(rng, n, bits[k], s));
        const c: Case = { planes: made.map((m) => m.symbols), tables: made.map((m, k) => tableFor(m.counts, pbs[k])), n, lanes };
        const stream = encodeRans(c.planes, c.tables, n, lanes);
        const what = `lanes ${lanes}, n ${n}, bits ${bits}, probBits ${c.tables.map((t) => t.probBits)}, seed ${rng.seed}`;
        assert.ok(stream.length >= 4 * lanes && (stream.length - 4 * lanes) % 2 === 0, `${what}: stream length ${stream.length}`);
        assert.ok(stream.length <= 4 * lanes + 2 * n * c.planes.length, `${what}: more than one word per symbol`);
        assert.deepEqual(stream, referenceEncode(c.planes, c.tables, n, lanes), `${what}: differs from the normative order`);
        const out = decode(c, stream);
        out.forEach((o, p) => assert.deepEqual(o, c.planes[p], `${what}: plane ${p}`));
      }
    }
  });

  test('every precision 8..15 with skewed, uniform, two-symbol and constant alphabets', () => {
    const rng = new Rng(testSeed(0x4a46));
    for (let pb = 8; pb <= 15; pb++) {
      for (const shape of ['skewed', 'uniform', 'two', 'constant'] as Shape[]) {
        for (const bits of [1, 4, 8, 12]) {
          if (shape === 'uniform' && 1 << bits > 1 << pb) continue; // more symbols than slots
          const n = rng.range(1, 3000);
          const lanes = rng.pick(LANES);
          const { symbols, counts } = makePlane(rng, n, bits, shape);
          const c: Case = { planes: [symbols], tables: [tableFor(counts, pb)], n, lanes };
          const stream = encodeRans(c.planes, c.tables, n, lanes);
          const what = `probBits ${pb}, ${shape}, ${bits}-bit symbols, n ${n}, lanes ${lanes}, seed ${rng.seed}`;
          assert.deepEqual(decode(c, stream)[0], symbols, what);
          if (shape === 'constant') {
            // A single symbol has freq 2^probBits: it costs nothing, the stream is the lane states only.
            assert.equal(c.tables[0].freqs[symbols[0]], 1 << pb, what);
            assert.equal(stream.length, 4 * lanes, `${what}: a constant plane wrote words`);
          }
        }
      }
    }
  });

  test('a coded plane is close to its entropy (uniform 8-bit costs ~1 byte, skewed much less)', () => {
    const rng = new Rng(testSeed(0x4a47));
    const n = 50_000;
    const uni = makePlane(rng, n, 8, 'uniform');
    const sk = makePlane(rng, n, 8, 'skewed');
    for (const [m, maxBytes] of [[uni, n * 1.002 + 200], [sk, n * 0.5]] as const) {
      const t = normalizeFrequencies(m.counts, 12);
      const stream = encodeRans([m.symbols], [t], n, 32);
      assert.ok(stream.length <= codedBits(m.counts, t) / 8 + 128 + 16, `stream ${stream.length} bytes vs ${codedBits(m.counts, t) / 8} estimated`);
      assert.ok(stream.length <= maxBytes, `stream ${stream.length} bytes, expected at most ${maxBytes}`);
    }
  });

  test('encodeRans rejects a bad lane count (RangeError) and a symbol without frequency (INPUT_CHANGED: its table was counted from other bytes)', () => {
    const t = normalizeFrequencies([5, 5, 0, 0], 8);
    const plane = Uint16Array.from([0, 1, 2]);
    for (const lanes of [0, 3, 64, 1.5]) {
      assert.equal(validLaneCount(lanes), false);
      assert.throws(() => encodeRans([plane], [t], 2, lanes), RangeError);
    }
    assert.throws(() => encodeRans([plane], [t], 3, 1), (e) => e instanceof WcodecError && e.code === 'INPUT_CHANGED');
  });
});

describe('rANS stream checks', () => {
  function sample(lanes: number, n: number, seed: number): { c: Case; stream: Uint8Array } {
    const rng = new Rng(testSeed(seed));
    const a = makePlane(rng, n, 8, 'skewed');
    const b = makePlane(rng, n, 6, 'uniform');
    const c: Case = { planes: [a.symbols, b.symbols], tables: [tableFor(a.counts, 11), tableFor(b.counts, 9)], n, lanes };
    return { c, stream: encodeRans(c.planes, c.tables, n, lanes) };
  }

  test('rejects every truncation of the stream (CORRUPT_CHUNK)', () => {
    for (const lanes of [1, 4, 32]) {
      const { c, stream } = sample(lanes, 300, 0x7a01 + lanes);
      for (let len = 0; len < stream.length; len++) {
        assertCorrupt(() => decode(c, stream.subarray(0, len)), `lanes ${lanes}: stream cut to ${len} of ${stream.length} bytes`);
      }
    }
  });

  test('rejects extra bytes and extra words after the stream', () => {
    for (const lanes of [1, 8, 32]) {
      for (const n of [0, 1, 300]) {
        const { c, stream } = sample(lanes, n, 0x7a02 + n);
        for (const extra of [[0], [0, 0], [0x12, 0x34], [0, 0, 0, 0], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]]) {
          const longer = new Uint8Array([...stream, ...extra]);
          // An even number of bytes is whole words left unread: reported where they start.
          assertCorrupt(() => decode(c, longer), `lanes ${lanes}, n ${n}: ${extra.length} bytes appended`, extra.length % 2 ? 0 : stream.length);
        }
      }
    }
  });

  test('rejects a lane whose initial state is below 2^16, for every lane', () => {
    for (const lanes of [1, 2, 32]) {
      const { c, stream } = sample(lanes, 200, 0x7a03);
      for (let l = 0; l < lanes; l++) {
        for (const bad of [0, 1, L - 1]) {
          const s = stream.slice();
          new DataView(s.buffer).setUint32(4 * l, bad, true);
          assertCorrupt(() => decode(c, s), `lanes ${lanes}: lane ${l} starts at ${bad}`, 4 * l);
        }
      }
    }
  });

  test('rejects n = 0 with any lane state other than 2^16, and a stream for n decoded as n - 1 or n + 1', () => {
    const { c, stream } = sample(4, 0, 0x7a04);
    assert.deepEqual([...stream], [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0], 'n = 0 encodes to four states of 2^16');
    const s = stream.slice();
    s[0] = 1;
    assertCorrupt(() => decode(c, s), 'n = 0, lane 0 at 2^16 + 1');
    const big = sample(4, 500, 0x7a05);
    for (const n of [499, 501]) {
      const planes = big.c.planes.map((p) => (n > p.length ? Uint16Array.from([...p, 0]) : p));
      assertCorrupt(() => decode({ ...big.c, planes, n }, big.stream), `500 values decoded as ${n}`);
    }
  });

  test('a changed word or state is detected or at worst decodes: never a foreign error', () => {
    const { c, stream } = sample(4, 400, 0x7a06);
    let detected = 0;
    let total = 0;
    for (let byte = 0; byte < stream.length; byte++) {
      for (const bit of [0, 3, 7]) {
        const s = stream.slice();
        s[byte] ^= 1 << bit;
        total++;
        try {
          decode(c, s);
        } catch (e) {
          assert.ok(e instanceof WcodecError && e.code === 'CORRUPT_CHUNK', `byte ${byte} bit ${bit}: ${String(e)}`);
          detected++;
        }
      }
    }
    // Corruption usually breaks the final-state check; the container's CRC-32C catches the rest.
    assert.ok(detected > total * 0.9, `only ${detected} of ${total} flips detected by the rANS checks`);
  });
});

describe('frequency tables', () => {
  test('normalizeFrequencies: sums to 2^probBits, every present symbol >= 1, absent symbols 0', () => {
    const rng = new Rng(testSeed(0xf4e1));
    for (let trial = 0; trial < 300; trial++) {
      const A = 1 << rng.range(1, 12);
      const pb = rng.range(8, 15);
      const counts = new Float64Array(A);
      const kind = trial % 4;
      for (let s = 0; s < A; s++) {
        if (kind === 0) counts[s] = rng.float() < 0.5 ? rng.int(1000) : 0;
        else if (kind === 1) counts[s] = rng.float() < 0.02 ? 1e9 : rng.float() < 0.3 ? 1 : 0; // extreme skew
        else if (kind === 2) counts[s] = 1; // every symbol once
        else counts[s] = Math.floor(2 ** (rng.float() * 30));
      }
      let present = 0;
      for (const c of counts) if (c > 0) present++;
      const what = `trial ${trial}, alphabet ${A}, probBits ${pb}, ${present} present, seed ${rng.seed}`;
      if (present > 1 << pb) {
        assert.throws(() => normalizeFrequencies(counts, pb), RangeError, what);
        continue;
      }
      const t = normalizeFrequencies(counts, pb);
      assert.equal(t.probBits, pb);
      assert.equal(t.freqs.length, A);
      let sum = 0;
      for (let s = 0; s < A; s++) {
        sum += t.freqs[s];
        if (counts[s] > 0) assert.ok(t.freqs[s] >= 1, `${what}: symbol ${s} present with freq 0`);
        else assert.equal(t.freqs[s], 0, `${what}: absent symbol ${s} has freq ${t.freqs[s]}`);
        assert.equal(t.cum[s], sum - t.freqs[s], `${what}: cum[${s}]`);
      }
      if (present > 0) assert.equal(sum, 1 << pb, what);
      // Deterministic: same counts, same table.
      assert.deepEqual(normalizeFrequencies(counts, pb).freqs, t.freqs);
    }
  });

  test('normalizeFrequencies: a single symbol gets all 2^probBits; no symbols give an all-zero table', () => {
    for (let pb = 8; pb <= 15; pb++) {
      const counts = new Float64Array(256);
      counts[77] = 12345;
      const t = normalizeFrequencies(counts, pb);
      assert.equal(t.freqs[77], 1 << pb);
      assert.equal(t.freqs.reduce((a, b) => a + b, 0), 1 << pb);
    }
    assert.equal(normalizeFrequencies(new Float64Array(16), 8).freqs.reduce((a, b) => a + b, 0), 0);
  });

  test('normalizeFrequencies spends within 0.5% of the entropy on a typical distribution', () => {
    const rng = new Rng(testSeed(0xf4e2));
    const counts = new Float64Array(256);
    for (let i = 0; i < 100_000; i++) counts[Math.min(255, Math.floor(-Math.log(1 - rng.float()) * 12))]++;
    let entropy = 0;
    for (const c of counts) if (c > 0) entropy -= c * Math.log2(c / 100_000);
    const bits = codedBits(counts, normalizeFrequencies(counts, 14));
    assert.ok(bits <= entropy * 1.005, `${bits} bits vs entropy ${entropy}`);
  });

  test('writeFreqTable / readFreqTable round trip; tableBytes is the written size; slot table inverts cum', () => {
    const rng = new Rng(testSeed(0xf4e3));
    for (let trial = 0; trial < 100; trial++) {
      const bits = rng.range(1, 12);
      const pb = rng.range(Math.max(8, bits), 15);
      const counts = new Float64Array(1 << bits);
      for (let s = 0; s < counts.length; s++) counts[s] = rng.float() < 0.6 ? rng.int(5000) : 0;
      counts[rng.int(counts.length)] += 1;
      const t = normalizeFrequencies(counts, pb);
      const w = new ByteWriter();
      writeFreqTable(w, t);
      const bytes = w.finish();
      assert.equal(bytes.length, tableBytes(t), `trial ${trial}`);
      const r = new ByteReader(bytes, 0, 't', 'CORRUPT_INDEX');
      const back = readFreqTable(r, bits);
      assert.equal(r.remaining, 0);
      assert.equal(back.probBits, pb);
      assert.deepEqual(back.freqs, t.freqs);
      assert.deepEqual(back.cum, t.cum);
      const slots = buildSlotTable(t);
      assert.equal(slots.length, 1 << pb);
      for (let x = 0; x < slots.length; x++) {
        const s = slots[x];
        assert.ok(t.cum[s] <= x && x < t.cum[s] + t.freqs[s], `slot ${x} -> symbol ${s}`);
      }
    }
  });

  test('readFreqTable rejects precision out of range, no symbols, symbols past the alphabet, wrong sums, truncation', () => {
    const table = (probBits: number, pairs: [number, number][], present = pairs.length): Uint8Array => {
      const w = new ByteWriter();
      w.u8(probBits);
      w.u16(present);
      for (const [gap, f] of pairs) {
        for (const v of [gap, f]) {
          let x = v;
          while (x >= 0x80) {
            w.u8((x & 0x7f) | 0x80);
            x >>>= 7;
          }
          w.u8(x);
        }
      }
      return w.finish();
    };
    const read = (b: Uint8Array, bits = 8): FreqTable => readFreqTable(new ByteReader(b, 500, 'f', 'CORRUPT_INDEX'), bits);
    // Valid: 256 = 2^8 split as 100 + 156.
    assert.equal(read(table(8, [[0, 99], [0, 155]])).freqs[1], 156);
    const bad: [string, Uint8Array, number?][] = [
      ['probBits 7', table(7, [[0, 127]])],
      ['probBits 16', table(16, [[0, 65535]])],
      ['no symbols', table(8, [])],
      ['more symbols than the alphabet', table(8, [[0, 255]], 3), 1],
      ['symbol past a 4-bit alphabet', table(8, [[16, 255]]), 4],
      ['sum below 2^8', table(8, [[0, 99], [0, 99]])],
      ['sum above 2^8', table(8, [[0, 199], [0, 199]])],
      ['a varint longer than 4 bytes', new Uint8Array([8, 1, 0, 0x80, 0x80, 0x80, 0x80, 0x01])],
      ['truncated pairs', table(8, [[0, 99], [0, 155]]).subarray(0, 5)],
      ['truncated count', new Uint8Array([8, 1])],
    ];
    for (const [what, b, bits] of bad) {
      assert.throws(() => read(b, bits), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_INDEX' && e.offset! >= 500, what);
    }
  });
});
