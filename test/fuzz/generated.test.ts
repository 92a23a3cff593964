// Property-based tests over generated structures (docs/SECURITY.md, "Fuzzing"), with fast-check from a printed
// seed (WCODEC_TEST_SEED overrides it): safetensors headers against an independent model of the rules of
// FORMAT.md §4.4, round trips of generated tensors, and containers whose index records are generated field by field.

import '../../src/io/node-sha256.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { compressBuffer, decompressBuffer } from '../../src/api/buffers.js';
import { openContainer } from '../../src/api/checkpoint.js';
import { ContainerReader } from '../../src/pipeline/container-reader.js';
import { crc32c } from '../../src/format/crc32c.js';
import { writeFooter, writeHeader } from '../../src/format/envelope.js';
import { writeIndexBlock } from '../../src/pipeline/index-block.js';
import { writeIndex, type ContainerIndex, type SegmentRecord } from '../../src/pipeline/index-codec.js';
import { MemorySink, MemorySource } from '../../src/io/byte-source.js';
import { makeTable } from '../../src/entropy/freq-table.js';
import type { PlaneSpec } from '../../src/transform/planes.js';
import { DTYPE_BITS } from '../../src/safetensors/read-layout.js';
import { assembleSafetensors, buildSafetensors } from '../helpers/safetensors-builder.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { DTYPE_WIDTH, makeValues, VALUE_MIXES } from '../helpers/values.js';
import { checkRun } from './check.js';
import { CONTAINER_CODES } from './targets.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const utf8 = (s: string): number => new TextEncoder().encode(s).length;
/** Runs per property in CI; fast-check stops earlier if the time limit is reached. */
const RUNS = 1000;
const TIME_LIMIT_MS = 5000;

function options(t: { diagnostic(m: string): void }, fixed: number): fc.Parameters<unknown> {
  const seed = testSeed(fixed) | 0;
  t.diagnostic(`fast-check seed ${seed}`);
  return { seed, numRuns: RUNS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false };
}

// ---------------------------------------------------------------------------------------------------------------
// safetensors headers: generated entries, some consistent and some not, judged by a model of §4.4.

interface Entry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** FORMAT.md §4.4 rules 2-6 as a plain model over the generated entries (no parsing involved). */
function modelAccepts(entries: Entry[], dataBytes: number): boolean {
  const names = new Set<string>();
  const U64_MAX = 2n ** 64n - 1n;
  for (const e of entries) {
    if (names.has(e.name)) return false; // duplicate key (rule 2)
    names.add(e.name);
    // The safetensors library's rules (3-4): a dtype it knows, unsigned integer literals, 64-bit products in whole bytes.
    if (!Object.prototype.hasOwnProperty.call(DTYPE_BITS, e.dtype)) return false;
    const bits = DTYPE_BITS[e.dtype];
    if (!e.shape.every((d) => Number.isInteger(d) && d >= 0)) return false;
    let elements = 1n;
    for (const d of e.shape) {
      elements *= BigInt(d);
      if (elements > U64_MAX) return false;
    }
    const nbits = elements * BigInt(bits);
    if (nbits > U64_MAX || nbits % 8n !== 0n) return false;
    if (e.begin < 0 || e.end < e.begin || e.end > dataBytes || BigInt(e.end - e.begin) !== nbits / 8n) return false;
    // wcodec's bounds (rule 6).
    if (e.shape.length > 32) return false;
    let running = 1;
    for (const d of e.shape) {
      running *= d;
      if (!Number.isSafeInteger(d) || !Number.isSafeInteger(running)) return false;
    }
  }
  const sorted = entries.map((e, k) => ({ e, k })).sort((x, y) => x.e.begin - y.e.begin || x.e.end - y.e.end || x.k - y.k);
  let at = 0;
  for (const { e } of sorted) {
    if (e.begin !== at) return false;
    at = e.end;
  }
  return at === dataBytes;
}

const dimension = fc.oneof({ weight: 8, arbitrary: fc.nat(5) }, { weight: 1, arbitrary: fc.constantFrom(0, 2 ** 31, 2 ** 53 - 1, 2 ** 53, -1, 1.5) });
const rawEntry = fc.record({
  name: fc.oneof(fc.constantFrom('a', 'b', 'w.0', 'é'), fc.string({ maxLength: 6 })).filter((n) => n !== '__metadata__'),
  dtype: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...Object.keys(DTYPE_WIDTH)) }, { weight: 2, arbitrary: fc.constantFrom('F4', 'F6_E2M3', 'C64', 'Q4_0') }, { weight: 1, arbitrary: fc.string({ maxLength: 34 }) }),
  shape: fc.oneof({ weight: 10, arbitrary: fc.array(dimension, { maxLength: 4 }) }, { weight: 1, arbitrary: fc.constant(new Array(33).fill(1)) }),
  /** How the byte range relates to shape x width: exact, off by some bytes, or empty. */
  size: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -3, max: 3 }) }),
  /** Where it lies: after the previous one, or shifted (holes, overlaps, out of range). */
  shift: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -4, max: 4 }) }),
});

describe('generated structures (fast-check)', () => {
  test('safetensors headers: the reader accepts exactly what the model of §4.4 accepts, and accepted files round-trip', async (t) => {
    const seen = { accepted: 0, refused: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(rawEntry, { maxLength: 6 }), fc.integer({ min: -2, max: 2 }), fc.boolean(), async (raw, tail, withMetadata) => {
        const entries: Entry[] = [];
        let at = 0;
        for (const r of raw) {
          const shape = r.shape as number[];
          const elements = shape.reduce((a, d) => a * d, 1);
          const bits = Object.prototype.hasOwnProperty.call(DTYPE_BITS, r.dtype) ? DTYPE_BITS[r.dtype] : 8;
          const exact = Number.isSafeInteger(elements) && elements >= 0 && elements * bits < 8 * 4096 ? Math.floor((elements * bits) / 8) : 4;
          const bytes = Math.max(0, exact + r.size);
          const begin = Math.max(0, at + r.shift);
          entries.push({ name: r.name, dtype: r.dtype, shape, begin, end: begin + bytes });
          at = Math.max(at, begin + bytes);
        }
        const dataBytes = Math.max(0, at + tail);
        const parts = entries.map((e) => `${JSON.stringify(e.name)}:{"dtype":${JSON.stringify(e.dtype)},"shape":${JSON.stringify(e.shape)},"data_offsets":[${e.begin},${e.end}]}`);
        if (withMetadata) parts.unshift('"__metadata__":{"format":"pt"}');
        const file = assembleSafetensors(`{${parts.join(',')}}`, new Uint8Array(dataBytes).map((_, k) => k * 7));
        const expected = modelAccepts(entries, dataBytes);
        let accepted: boolean;
        const r = await checkRun(file, ['BAD_SAFETENSORS', 'LIMIT_EXCEEDED'], async () => {
          const c = await compressBuffer(file, { name: 'gen.safetensors', strict: true });
          assert.deepEqual(await decompressBuffer(c), file, 'an accepted file did not round-trip');
          return c.length;
        });
        accepted = r.outcome === 'ok';
        seen[accepted ? 'accepted' : 'refused']++;
        assert.equal(accepted, expected, `reader ${accepted ? 'accepted' : `refused (${r.outcome})`}, model ${expected ? 'accepts' : 'refuses'}: ${JSON.stringify(entries)} with ${dataBytes} data bytes`);
      }),
      options(t, 0x6e01),
    );
    t.diagnostic(`${seen.accepted} accepted, ${seen.refused} refused`);
    assert.ok(seen.accepted >= 20 && seen.refused >= 20, 'the generator should make both valid and invalid headers');
  });

  test('generated tensors of every dtype round-trip exactly, deterministically, and read back one by one', async (t) => {
    const tensorArb = fc.record({
      dtype: fc.constantFrom(...Object.keys(DTYPE_WIDTH), 'F4'),
      n: fc.oneof(fc.nat(40), fc.constantFrom(0, 1, 31, 32, 33, 255, 256, 257, 1025)),
      mix: fc.constantFrom(...VALUE_MIXES),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(tensorArb, { minLength: 1, maxLength: 4 }), fc.constantFrom(1, 7, 64, 1000, undefined), fc.nat(), async (specs, chunkBytes, dataSeed) => {
        const rng = new Rng(dataSeed);
        const tensors = specs.map((s, k) => ({ name: `t${k}`, dtype: s.dtype, shape: [s.dtype === 'F4' ? 2 * s.n : s.n], data: makeValues(s.dtype, s.n, s.mix, rng) }));
        const file = buildSafetensors(tensors).bytes;
        const c = await compressBuffer(file, { chunkBytes });
        assert.equal(sha(await compressBuffer(file, { chunkBytes })), sha(c), 'encoding is not deterministic');
        assert.equal(sha(await decompressBuffer(c)), sha(file));
        const cp = await openContainer(new MemorySource(c));
        for (const tt of tensors) assert.equal(sha((await cp.read(tt.name)).bytes), sha(tt.data), tt.name);
      }),
      { ...options(t, 0x6e02), numRuns: 150 },
    );
  });

  test('containers with generated index records: typed errors only, and nothing accepted that its digests do not vouch for', async (t) => {
    // Each segment is generated consistent (sizes, a valid plane layout, lane count, chunk table, chunks that decode
    // to zeros, digests of those zeros), then each field group is left as is or replaced by an arbitrary value.
    const outcomes = new Map<string, number>();
    const dtypes = ['U8', 'BF16', 'F32', 'F64', 'Q4_0', ''];
    const wild = <T>(valid: fc.Arbitrary<T>, arbitrary: fc.Arbitrary<T>): fc.Arbitrary<{ valid: boolean; value: T }> =>
      fc.oneof({ weight: 6, arbitrary: valid.map((value) => ({ valid: true, value })) }, { weight: 1, arbitrary: arbitrary.map((value) => ({ valid: false, value })) });
    const bitRange = fc.record({ lo: fc.nat(17), width: fc.nat(17) });
    const plane = fc.oneof(
      fc.record({ kind: fc.constant('head' as const), ranges: fc.array(bitRange, { maxLength: 3 }) }),
      fc.record({ kind: fc.constant('byte' as const), byteIndex: fc.nat(8) }),
    );
    const segmentArb = fc.record({
      kind: fc.constantFrom('tensor' as const, 'bytes' as const),
      name: wild(fc.constantFrom('w', 'w.1', 'é'), fc.constantFrom('', 'x'.repeat(300))),
      dtype: fc.constantFrom(...dtypes),
      shape: fc.array(fc.oneof({ weight: 9, arbitrary: fc.nat(9) }, { weight: 1, arbitrary: fc.constantFrom(2 ** 26, 2 ** 40) }), { maxLength: 3 }),
      size: wild(fc.constant(0), fc.oneof(fc.integer({ min: -8, max: 8 }), fc.constant(2 ** 40))),
      coded: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
      layout: wild(fc.constant(undefined), fc.array(fc.tuple(plane, fc.boolean()), { maxLength: 4 })),
      lanes: wild(fc.constantFrom(1, 2, 4, 32), fc.constantFrom(0, 3, 64)),
      chunkValues: wild(fc.integer({ min: 1, max: 40 }), fc.constantFrom(0, 2 ** 22, 2 ** 22 + 1)),
      chunkCount: wild(fc.constant(0), fc.integer({ min: -2, max: 2 })),
      payload: wild(fc.constant(0), fc.integer({ min: -3, max: 3 })),
      sha: wild(fc.constant(true), fc.constant(false)),
    });
    const memberArb = fc.record({
      path: wild(fc.constantFrom('m.safetensors', 'a/b.bin', 'c/d e.json'), fc.constantFrom('../x', '', 'c:d', '/abs', 'a//b')),
      size: wild(fc.constant(0), fc.constantFrom(-1, 1, 2 ** 40)),
      sha: wild(fc.constant(true), fc.constant(false)),
      segments: fc.array(segmentArb, { maxLength: 3 }),
    });
    const stateL = new Uint8Array([0, 0, 1, 0]); // u32 LE 2^16: the initial rANS state, also the final one
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('file' as const, 'folder' as const), fc.array(memberArb, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.nat(), async (kind, members, coded, dataSeed) => {
        const rng = new Rng(dataSeed);
        const payloads: Uint8Array[] = [];
        const index: ContainerIndex = { kind, members: [] };
        for (const m of kind === 'file' ? members.slice(0, 1) : members) {
          const segments: SegmentRecord[] = [];
          for (const s of m.segments) {
            const W = s.kind === 'tensor' ? (DTYPE_WIDTH[s.dtype] ?? 1) : 1;
            const elements = s.shape.reduce((a, d) => a * d, 1);
            const exact = s.kind === 'tensor' ? elements * W : (elements % 64);
            const originalBytes = s.size.valid ? exact : Math.max(0, exact + s.size.value);
            // A valid layout: the head in two 8-bit planes (one for a 1-byte value), then each lower byte.
            const valid: [PlaneSpec, boolean][] = W === 1 ? [[{ kind: 'head', ranges: [{ lo: 0, width: 8 }] }, s.coded[0]]] : [
              [{ kind: 'head', ranges: [{ lo: 8, width: 8 }] }, s.coded[0]],
              [{ kind: 'head', ranges: [{ lo: 0, width: 8 }] }, s.coded[1]],
              ...Array.from({ length: W - 2 }, (_, k): [PlaneSpec, boolean] => [{ kind: 'byte', byteIndex: k }, s.coded[2 + k]]),
            ];
            const planes = s.layout.valid ? valid : (s.layout.value as [PlaneSpec, boolean][]);
            const tables = planes.map(([p, c]) => {
              if (!c) return undefined;
              const bits = p.kind === 'byte' ? 8 : Math.min(12, Math.max(1, p.ranges.reduce((a, r) => a + r.width, 0)));
              const freqs = new Uint32Array(1 << bits);
              freqs[0] = 1 << 12; // one symbol owns every slot: a stream of lane states alone decodes to zeros
              return makeTable(12, freqs);
            });
            const values = Math.floor(originalBytes / W);
            const chunkValues = s.chunkValues.value;
            const count = Math.max(0, Math.min(64, (chunkValues > 0 ? Math.ceil(values / chunkValues) : 0) + (s.chunkCount.valid ? 0 : s.chunkCount.value)));
            const lanes = s.lanes.value;
            const chunks = [];
            for (let c = 0; c < count; c++) {
              const n = Math.max(0, Math.min(chunkValues, values - c * chunkValues));
              const codedPlanes = tables.filter((x) => x).length;
              const rawPlanes = tables.length - codedPlanes;
              const parts: number[] = [];
              if (codedPlanes > 0) for (let l = 0; l < Math.min(lanes, 64); l++) parts.push(...stateL);
              for (let k = 0; k < rawPlanes * Math.min(n, 4096); k++) parts.push(0);
              let payload = Uint8Array.from(parts);
              if (!s.payload.valid) payload = s.payload.value > 0 ? new Uint8Array([...payload, ...rng.bytes(s.payload.value)]) : payload.subarray(0, Math.max(0, payload.length + s.payload.value));
              payloads.push(payload);
              chunks.push({ offset: 0, bytes: payload.length, crc32c: crc32c(payload) });
            }
            const zeros = new Uint8Array(Math.min(originalBytes, 1 << 20));
            segments.push({
              kind: s.kind,
              name: s.kind === 'tensor' ? s.name.value : '',
              dtype: s.kind === 'tensor' ? s.dtype : '',
              shape: s.kind === 'tensor' ? s.shape : [],
              originalBytes,
              sha256: s.sha.valid && zeros.length === originalBytes ? createHash('sha256').update(zeros).digest() : rng.bytes(32),
              coding: { layout: { valueBytes: W, planes: planes.map(([p]) => p) }, tables, lanes },
              chunkValues,
              chunks,
            });
          }
          const total = segments.reduce((a, x) => a + x.originalBytes, 0);
          const size = m.size.valid ? total : Math.max(0, total + m.size.value);
          const zeros = new Uint8Array(Math.min(size, 1 << 20));
          const path = m.path.valid && kind === 'file' ? 'm.safetensors' : m.path.value;
          if (index.members.some((x) => x.path === path)) continue;
          index.members.push({ path, originalBytes: size, sha256: m.sha.valid && zeros.length === size ? createHash('sha256').update(zeros).digest() : rng.bytes(32), segments });
        }
        let serialised: Uint8Array;
        try {
          serialised = writeIndex(index);
        } catch (e) {
          fc.pre(!(e instanceof RangeError)); // a field the writer cannot even write (u16 overflow)
          throw e;
        }
        const block = coded ? writeIndexBlock(serialised) : (() => {
          const b = new Uint8Array(5 + serialised.length);
          new DataView(b.buffer).setUint32(0, serialised.length, true);
          b.set(serialised, 5);
          return b;
        })();
        const head = writeHeader();
        const data = new Uint8Array(payloads.reduce((a, p) => a + p.length, 0));
        payloads.reduce((o, p) => (data.set(p, o), o + p.length), 0);
        const container = new Uint8Array([...head, ...data, ...block, ...writeFooter({ indexOffset: head.length + data.length, indexBytes: block.length, indexCrc32c: crc32c(block) })]);
        const r = await checkRun(container, CONTAINER_CODES, async () => {
          const reader = await ContainerReader.open(new MemorySource(container));
          let total = 0;
          for (const m of reader.index.members) {
            const sink = new MemorySink();
            await reader.decodeMember(m, sink);
            const out = sink.toBytes();
            assert.equal(sha(out), Buffer.from(m.sha256).toString('hex'), 'a member was accepted whose bytes its digest does not vouch for');
            total += out.length;
          }
          return total;
        });
        outcomes.set(r.outcome, (outcomes.get(r.outcome) ?? 0) + 1);
      }),
      options(t, 0x6e03),
    );
    t.diagnostic([...outcomes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', '));
    assert.ok((outcomes.get('ok') ?? 0) >= 10, 'the generator should make some valid containers');
  });
});

