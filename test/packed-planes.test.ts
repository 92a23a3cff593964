// Packed raw head planes (FORMAT.md §3.4, §6, version 4): the bit order and padding of a packed plane; chunk round
// trips on the TypeScript reference and the WebAssembly kernels (identical bytes, identical decodes) for every width 1-8
// and sizes 0, 1, 7-9, 63-65 and a large odd count, including the fused kernel of the version 4 float layout; padding
// and size errors raised alike by both; the plane-record rule and chunk size bound by version; the encoder's choice.

import '../src/io/node-sha256.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compressBuffer } from '../src/api/buffers.js';
import { ChunkDecoder, ChunkScratch, encodeChunk, type SegmentCoding } from '../src/entropy/chunk-codec.js';
import { normalizeFrequencies } from '../src/entropy/freq-table.js';
import { huffmanLengths } from '../src/entropy/huffman.js';
import { FOOTER_BYTES, FORMAT_VERSION_DIGESTS, FORMAT_VERSION_IDENTITY, HEADER_BYTES } from '../src/format/constants.js';
import { readFooter } from '../src/format/envelope.js';
import { MemorySource } from '../src/io/byte-source.js';
import { chooseCoding, headPlaneCounts, SegmentStats } from '../src/pipeline/choose-layout.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { readIndexBlock } from '../src/pipeline/index-block.js';
import { readIndex, writeIndex, type ContainerIndex, type SegmentRecord } from '../src/pipeline/index-codec.js';
import { packBits, packedBytes, paddingBits, unpackBits } from '../src/transform/bit-pack.js';
import { planeBits, type BitRange, type PlaneLayout, type PlaneSpec } from '../src/transform/planes.js';
import { loadKernels, type Kernels } from '../src/wasm/kernels.js';
import { WasmChunkDecoder } from '../src/wasm/wasm-chunk-decoder.js';
import { WasmChunkEncoder } from '../src/wasm/wasm-chunk-encoder.js';
import { WcodecError } from '../src/errors.js';
import { crc32c } from '../src/format/crc32c.js';
import { editIndex, segmentsOf } from '../tools/vectors/surgery.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { bf16Bits, f16Bits, f32Bits, makeValues, type ValueMix } from './helpers/values.js';

const SIZES = [0, 1, 7, 8, 9, 63, 64, 65];
/** A count with full 32-lane steps, a partial step and a partial group of eight. */
const LARGE = 70_001;
const WIDTHS = [1, 2, 3, 4, 5, 6, 7, 8];

const r = (lo: number, width: number): BitRange => ({ lo, width });
const head = (...ranges: BitRange[]): PlaneSpec => ({ kind: 'head', ranges });
const byte = (byteIndex: number): PlaneSpec => ({ kind: 'byte', byteIndex });

async function kernels(): Promise<Kernels> {
  const k = await loadKernels();
  assert.ok(k, 'WebAssembly SIMD kernels must load under Node >= 20');
  return k;
}

/** Outcome of a call: its result bytes, or its error's class, code, offset and message. */
function outcome(f: () => Uint8Array): string {
  try {
    return `ok ${Buffer.from(f()).toString('hex')}`;
  } catch (e) {
    const err = e as Error & { code?: string; offset?: number };
    return `${err.constructor.name} ${err.code} ${err.offset} ${err.message}`;
  }
}

/**
 * A layout of `W`-byte values with a raw head plane of `b` bits first, its other head bits in coded planes of at most
 * 12 bits: 'low' takes head bits 0 … b − 1, 'sign' the sign and bits 0 … b − 2; 'raw' (W = 1) splits the byte into two
 * raw planes. Byte planes below the head: byte 1 coded, byte 0 raw.
 */
function layoutWith(family: 'low' | 'sign' | 'raw', b: number, W: 1 | 2 | 4): { layout: PlaneLayout; raw: boolean[] } {
  if (family === 'raw') {
    const planes = b === 8 ? [head(r(0, 8))] : [head(r(0, b)), head(r(b, 8 - b))];
    return { layout: { valueBytes: 1, planes }, raw: planes.map(() => true) };
  }
  const planes: PlaneSpec[] = [];
  // The rest of the 16 head bits: from `from` up to `to` (exclusive), in planes of at most 12 bits.
  let from: number;
  let to = 16;
  if (family === 'low') {
    planes.push(head(r(0, b)));
    from = b;
  } else {
    planes.push(b === 1 ? head(r(15, 1)) : head(r(15, 1), r(0, b - 1)));
    from = b - 1;
    to = 15;
  }
  if (to - from <= 12) planes.push(head(r(from, to - from)));
  else planes.push(head(r(to - 8, 8)), head(r(from, to - 8 - from)));
  const raw = planes.map((_, k) => k === 0);
  if (W === 4) {
    planes.push(byte(1), byte(0));
    raw.push(false, true);
  }
  return { layout: { valueBytes: W, planes }, raw };
}

/** Tables for `layout` fitted to `data` (12-bit precision), raw where `raw` says. */
function codingFor(layout: PlaneLayout, raw: boolean[], data: Uint8Array, lanes: number): SegmentCoding {
  const stats = new SegmentStats(layout.valueBytes);
  stats.add(data);
  // Every coded symbol needs a frequency: tables fitted to a non-empty sample that holds every symbol of the data.
  const tables = layout.planes.map((p, k) => {
    if (raw[k]) return undefined;
    const counts = p.kind === 'head' ? headPlaneCounts(stats.head, stats.presentHeads(), p.ranges) : stats.low[p.byteIndex].slice();
    if (stats.values === 0) counts[0] = 1;
    return normalizeFrequencies(counts, 12);
  });
  return { layout, tables, lanes };
}

/** Encodes `n` values on both engines (asserting identical bytes), decodes on both (asserting the input comes back). */
function roundTrip(K: Kernels, coding: SegmentCoding, data: Uint8Array, n: number, what: string): Uint8Array {
  const W = coding.layout.valueBytes;
  const ref = encodeChunk(data, n, coding, new ChunkScratch(Math.max(n, 1), coding.layout.planes.length));
  const enc = new WasmChunkEncoder(K, coding, Math.max(n, 1));
  const got = enc.encode(data, n);
  enc.dispose();
  assert.ok(Buffer.from(got.bytes).equals(Buffer.from(ref)), `${what}: WebAssembly chunk differs from the reference`);
  assert.equal(got.crc32c, crc32c(ref), `${what}: CRC`);
  const coded = coding.tables.filter((t) => t).length;
  const rawBytes = coding.layout.planes.reduce((a, p, k) => a + (coding.tables[k] ? 0 : packedBytes(n, planeBits(p))), 0);
  if (coded === 0) assert.equal(ref.length, rawBytes, `${what}: raw planes take ⌈n·b/8⌉ bytes each`);
  else assert.ok(ref.length >= 4 * coding.lanes + rawBytes, `${what}: chunk size`);
  const out = new Uint8Array(n * W).fill(0xa5);
  new ChunkDecoder(coding, Math.max(n, 1)).decode(ref, n, out, 'c.wcodec', 0);
  assert.ok(Buffer.from(out).equals(Buffer.from(data.subarray(0, n * W))), `${what}: reference decode`);
  const dec = new WasmChunkDecoder(K, coding, Math.max(n, 1));
  const out2 = new Uint8Array(n * W).fill(0x5a);
  assert.ok(dec.decode(ref, n, out2, { crc32c: crc32c(ref) }, 'c.wcodec', 0));
  dec.dispose();
  assert.ok(Buffer.from(out2).equals(Buffer.from(out)), `${what}: WebAssembly decode`);
  return ref;
}

/** The version 4 float layout of `dtype` (FORMAT.md §4.3) with `lanes` and tables fitted to `data`. */
function packedLayout(dtype: 'BF16' | 'F16' | 'F32', data: Uint8Array, lanes: number): SegmentCoding {
  const W = dtype === 'F32' ? 4 : 2;
  const exp = dtype === 'F16' ? head(r(10, 5), r(5, 5)) : head(r(7, 8), r(5, 2));
  const planes = [exp, head(r(15, 1), r(0, 5)), ...(W === 4 ? [byte(1), byte(0)] : [])];
  return codingFor({ valueBytes: W, planes }, [false, true, true, true], data, lanes);
}

describe('packed raw planes', () => {
  test('packBits: ⌈n·b/8⌉ bytes, symbol i at bits i·b … of an LSB-first bit string, zero padding; unpackBits inverts it', () => {
    const rng = new Rng(testSeed(0x7a01));
    for (const b of WIDTHS) {
      for (const n of [...SIZES, 1001]) {
        const symbols = Uint16Array.from({ length: n }, () => rng.int(1 << b));
        const out = new Uint8Array(packedBytes(n, b) + 2).fill(0xff);
        packBits(symbols, n, b, out, 1);
        assert.equal(out[0], 0xff, `b ${b} n ${n}: wrote before the plane`);
        assert.equal(out[packedBytes(n, b) + 1], 0xff, `b ${b} n ${n}: wrote past the plane`);
        for (let i = 0; i < n; i++) {
          for (let t = 0; t < b; t++) {
            const j = i * b + t;
            assert.equal((out[1 + (j >> 3)] >> (j & 7)) & 1, (symbols[i] >> t) & 1, `b ${b} n ${n}: bit ${t} of symbol ${i}`);
          }
        }
        assert.equal(paddingBits(out, 1, n, b), 0, `b ${b} n ${n}: padding`);
        const back = new Uint16Array(n);
        unpackBits(out, 1, n, b, back);
        assert.deepEqual(back, symbols, `b ${b} n ${n}`);
      }
    }
    assert.equal(packedBytes(9, 6), 7);
    assert.equal(paddingBits(Uint8Array.of(0, 0b0100_0000), 0, 9, 1), 0b10_0000);
  });

  test('every width 1-8, with 8-bit and coded planes beside it: identical chunks on both engines, exact decodes', async () => {
    const K = await kernels();
    const rng = new Rng(testSeed(0x7a02));
    for (const b of WIDTHS) {
      for (const [family, W] of [['low', 2], ['sign', 2], ['sign', 4], ['raw', 1]] as const) {
        if (family === 'sign' && b === 8) continue; // the sign and 7 low bits: the 8-bit plane of versions 1-3, covered elsewhere
        const { layout, raw } = layoutWith(family, b, W);
        const dtype = W === 1 ? 'U8' : W === 2 ? 'BF16' : 'F32';
        for (const mix of ['random', 'gaussian', 'special'] as ValueMix[]) {
          for (const n of [...SIZES, LARGE]) {
            if (n === LARGE && mix !== 'gaussian') continue;
            const data = makeValues(dtype, n, mix, rng);
            for (const lanes of raw.every((x) => x) ? [1] : [1, 4, 32]) {
              roundTrip(K, codingFor(layout, raw, data, lanes), data, n, `${family} b ${b} W ${W} ${mix} n ${n} lanes ${lanes} seed ${rng.seed}`);
            }
          }
        }
      }
    }
  });

  test('packed raw planes beside a Huffman-coded plane: identical chunks on both engines, exact decodes', async () => {
    const K = await kernels();
    const rng = new Rng(testSeed(0x7a09));
    for (const b of WIDTHS) {
      // The top byte Huffman-coded, the low byte in one or two packed raw planes.
      const planes = b === 8 ? [head(r(8, 8)), head(r(0, 8))] : [head(r(8, 8)), head(r(0, b)), head(r(b, 8 - b))];
      for (const n of [...SIZES, 1001]) {
        const data = makeValues('BF16', n, 'gaussian', rng);
        const stats = new SegmentStats(2);
        stats.add(data);
        const counts = headPlaneCounts(stats.head, stats.presentHeads(), [r(8, 8)]);
        // A code needs two symbols: give absent ones a count so every table is valid.
        counts[0] += 1;
        counts[255] += 1;
        const coding: SegmentCoding = { layout: { valueBytes: 2, planes }, tables: [{ kind: 'huffman', lengths: huffmanLengths(counts) }, ...planes.slice(1).map(() => undefined)], lanes: 1 };
        roundTrip(K, coding, data, n, `Huffman + raw b ${b} n ${n} seed ${rng.seed}`);
      }
    }
  });

  test('the version 4 float layouts on 32 lanes (the fused kernel): every size, NaN/Inf/-0, random and weights-like data', async () => {
    const K = await kernels();
    const rng = new Rng(testSeed(0x7a03));
    for (const dtype of ['BF16', 'F16', 'F32'] as const) {
      for (const mix of ['gaussian', 'special', 'random', 'sparse', 'constant'] as ValueMix[]) {
        for (const n of [...SIZES, 31, 32, 33, 95, 96, 97, 1000, LARGE]) {
          const data = makeValues(dtype, n, mix, rng);
          roundTrip(K, packedLayout(dtype, data, 32), data, n, `${dtype} ${mix} n ${n} seed ${rng.seed}`);
        }
      }
    }
  });

  test('corrupt chunks of packed layouts (with correct CRCs) fail with exactly the reference error, or decode to its bytes', async () => {
    const K = await kernels();
    const rng = new Rng(testSeed(0x7a04));
    let rejected = 0;
    for (const [dtype, n, lanes] of [['BF16', LARGE, 32], ['F32', 4099, 32], ['F16', 1001, 4], ['BF16', 77, 1]] as const) {
      const data = makeValues(dtype, n, 'gaussian', rng);
      const coding = packedLayout(dtype, data, lanes);
      const good = encodeChunk(data, n, coding, new ChunkScratch(n, coding.layout.planes.length));
      const mutants: Uint8Array[] = [good.subarray(0, good.length - 1), new Uint8Array([...good, 0]), good.subarray(0, 3)];
      for (let m = 0; m < 60; m++) {
        const bad = good.slice();
        // Half the flips in the raw planes at the end, where the padding bits are.
        const at = m % 2 === 0 ? rng.int(bad.length) : bad.length - 1 - rng.int(Math.min(bad.length, 64));
        bad[at] ^= 1 << rng.int(8);
        mutants.push(bad);
      }
      const ts = new ChunkDecoder(coding, n);
      const wasm = new WasmChunkDecoder(K, coding, n);
      for (const bad of mutants) {
        const run = (decode: (out: Uint8Array) => void) => () => {
          const out = new Uint8Array(n * coding.layout.valueBytes).fill(0xa5);
          decode(out);
          return out;
        };
        const want = outcome(run((out) => ts.decode(bad, n, out, 'c.wcodec', 1000)));
        assert.equal(outcome(run((out) => assert.ok(wasm.decode(bad, n, out, { crc32c: crc32c(bad) }, 'c.wcodec', 1000)))), want, `${dtype}: mutant of ${bad.length} bytes`);
        if (!want.startsWith('ok')) rejected++;
      }
      wasm.dispose();
    }
    // Most flips in the raw planes give other valid values; those in the stream and the padding do not.
    assert.ok(rejected > 40, `${rejected} mutants rejected`);
  });

  test('non-zero padding bits and wrong sizes are CORRUPT_CHUNK, at the padded byte, on both engines', async () => {
    const K = await kernels();
    const rng = new Rng(testSeed(0x7a05));
    for (const b of [1, 3, 5, 6, 7]) {
      const { layout, raw } = layoutWith('low', b, 2);
      for (const n of [1, 7, 9, 65, 1001]) {
        if ((n * b) % 8 === 0) continue;
        const data = makeValues('BF16', n, 'gaussian', rng);
        const coding = codingFor(layout, raw, data, 4);
        const good = encodeChunk(data, n, coding, new ChunkScratch(n, layout.planes.length));
        // The raw plane is the chunk's last part: its last byte holds the padding.
        const last = good.length - 1;
        for (let bit = (n * b) % 8; bit < 8; bit++) {
          const bad = good.slice();
          bad[last] |= 1 << bit;
          const ts = new ChunkDecoder(coding, n);
          const wasm = new WasmChunkDecoder(K, coding, n);
          const out = new Uint8Array(2 * n);
          assert.throws(
            () => ts.decode(bad, n, out, 'c.wcodec', 500),
            (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_CHUNK' && e.offset === 500 + last && /padding bits/.test(e.message),
            `b ${b} n ${n} bit ${bit}`,
          );
          assert.equal(outcome(() => (wasm.decode(bad, n, out, { crc32c: crc32c(bad) }, 'c.wcodec', 500), out)), outcome(() => (ts.decode(bad, n, out, 'c.wcodec', 500), out)));
          wasm.dispose();
        }
        for (const bad of [good.subarray(0, last), new Uint8Array([...good, 0])]) {
          const wasm = new WasmChunkDecoder(K, coding, n);
          const out = new Uint8Array(2 * n);
          const want = outcome(() => (new ChunkDecoder(coding, n).decode(bad, n, out, 'c.wcodec', 500), out));
          assert.match(want, /CORRUPT_CHUNK/, `b ${b} n ${n}: ${bad.length} bytes`);
          assert.equal(outcome(() => (wasm.decode(bad, n, out, { crc32c: crc32c(bad) }, 'c.wcodec', 500), out)), want);
          wasm.dispose();
        }
      }
    }
  });
});

/** A container of one BF16 tensor of `n` weights-like values, its index taken apart, the tensor's segment re-coded with `coding`. */
async function recoded(n: number, coding: (data: Uint8Array) => SegmentCoding): Promise<{ container: Uint8Array; seg: SegmentRecord }> {
  const data = makeValues('BF16', n, 'gaussian', new Rng(testSeed(0x7a06)));
  const file = buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [n], data }]).bytes;
  const v4 = await compressBuffer(file, { name: 'm.safetensors', byteModel: false });
  let seg: SegmentRecord | undefined;
  const container = await editIndex(
    v4,
    (index, p) => {
      seg = segmentsOf(index).find((s) => s.kind === 'tensor')!;
      seg.coding = coding(data);
      const chunks = p.chunks.filter((c) => seg!.chunks.includes(c.record));
      chunks.forEach((c, j) => {
        const at = j * seg!.chunkValues;
        const m = Math.min(seg!.chunkValues, n - at);
        c.payload = encodeChunk(data.subarray(2 * at, 2 * (at + m)), m, seg!.coding, new ChunkScratch(m, seg!.coding.layout.planes.length));
      });
    },
    true,
  );
  return { container, seg: seg! };
}

/** `index` written and read back as a version `version` index (its chunk records as they stand). */
function reread(index: ContainerIndex, version: number): ContainerIndex {
  const dataEnd = HEADER_BYTES + segmentsOf(index).reduce((a, s) => a + s.chunks.reduce((b, c) => b + c.bytes, 0), 0);
  return readIndex(writeIndex(index, version), 0, dataEnd, 'c.wcodec', undefined, version);
}

describe('packed raw planes in the index', () => {
  test('a version 3 index with a packed raw plane is CORRUPT_INDEX; the same index reads as version 4', async () => {
    const { container } = await recoded(3000, (data) => packedLayout('BF16', data, 1));
    await ContainerReader.open(new MemorySource(container, 'c.wcodec'));
    const index = indexAsV4(container);
    assert.throws(() => reread(index, FORMAT_VERSION_IDENTITY), (e: unknown) => {
      assert.ok(e instanceof WcodecError && e.code === 'CORRUPT_INDEX', String(e));
      assert.match(e.message, /6-bit plane cannot be stored raw/);
      return true;
    });
    const back = segmentsOf(reread(index, FORMAT_VERSION_DIGESTS)).find((s) => s.kind === 'tensor')!;
    assert.deepEqual(back.coding.layout, packedLayout('BF16', new Uint8Array(0), 1).layout);
    assert.equal(back.coding.tables[1], undefined);
  });

  test('version 4: raw head planes of 1-8 bits accepted, wider ones rejected; the chunk bound counts ⌈n·b/8⌉ per raw plane', async () => {
    for (const b of [1, 4, 7, 9, 12]) {
      // Head bits 0 … b − 1 raw, the rest in one coded plane (or two where wider than 12 bits).
      const { container } = await recoded(1000, (data) => {
        const planes = b <= 3 ? [head(r(0, b)), head(r(8, 8)), head(r(b, 8 - b))] : [head(r(0, b)), head(r(b, 16 - b))];
        return codingFor({ valueBytes: 2, planes }, planes.map((_, k) => k === 0), data, 1);
      });
      const notRaw = (e: unknown): boolean => e instanceof WcodecError && e.code === 'CORRUPT_INDEX' && new RegExp(`${b}-bit plane cannot be stored raw`).test(e.message);
      if (b > 8) {
        assert.throws(() => indexAsV4(container), notRaw, `b ${b}`);
        continue;
      }
      const index = indexAsV4(container);
      reread(index, FORMAT_VERSION_DIGESTS);
      if (b !== 8) assert.throws(() => reread(index, FORMAT_VERSION_IDENTITY), notRaw, `b ${b}, version 3`);
    }
    // One segment, one chunk of 1001 values, the 6-bit plane packed: bound = 4 lanes + 2 × 1001 + ⌈1001 × 6 / 8⌉.
    const n = 1001;
    const { container, seg } = await recoded(n, (data) => packedLayout('BF16', data, 4));
    assert.equal(seg.chunks.length, 1);
    const index = indexAsV4(container);
    const rec = segmentsOf(index).find((s) => s.kind === 'tensor')!.chunks[0];
    const bound = 4 * 4 + 2 * n + packedBytes(n, 6);
    rec.bytes = bound;
    reread(index, FORMAT_VERSION_DIGESTS);
    rec.bytes = bound + 1;
    assert.throws(() => reread(index, FORMAT_VERSION_DIGESTS), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_INDEX' && /exceeds the bound/.test(e.message));
  });
});

/** The index of a container whose index only a version 4 reader accepts, read from its index block as version 4. */
function indexAsV4(container: Uint8Array): ContainerIndex {
  const f = readFooter(container.subarray(container.length - FOOTER_BYTES), container.length);
  const { index } = readIndexBlock(container.subarray(f.indexOffset, f.indexOffset + f.indexBytes), f.indexOffset);
  return readIndex(index, 0, f.indexOffset, 'c.wcodec', undefined, FORMAT_VERSION_DIGESTS);
}

/**
 * `n` weights of magnitude 2^-4 to 2^-1 (three exponents, uniform mantissas, either sign): the exponent plane of the
 * packed layout holds few symbols, so its table is small for every dtype (F16 weights spread over many exponents
 * make a 10-bit table of hundreds of symbols, which the encoder may rightly find too costly on small tensors).
 */
function weights(dtype: 'BF16' | 'F16' | 'F32', n: number, rng: Rng): Uint8Array {
  const W = dtype === 'F32' ? 4 : 2;
  const out = new Uint8Array(n * W);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    const x = (rng.int(2) ? -1 : 1) * (1 + rng.float()) * 2 ** -(2 + rng.int(3));
    if (dtype === 'F32') dv.setUint32(4 * i, f32Bits(x), true);
    else dv.setUint16(2 * i, dtype === 'F16' ? f16Bits(x) : bf16Bits(x), true);
  }
  return out;
}

describe('version 4 layout choice', () => {
  test('float segments take the packed candidate in version 4 and never in version 3; other dtypes are unchanged', () => {
    const rng = new Rng(testSeed(0x7a07));
    for (const dtype of ['BF16', 'F16', 'F32'] as const) {
      const W = dtype === 'F32' ? 4 : 2;
      const stats = new SegmentStats(W);
      stats.add(weights(dtype, 200_000, rng));
      const v4 = chooseCoding(dtype, stats, 131_072, false, undefined, false, false, FORMAT_VERSION_DIGESTS);
      assert.deepEqual(v4.layout.planes.slice(0, 2), packedLayout(dtype, new Uint8Array(0), 1).layout.planes.slice(0, 2), dtype);
      assert.ok(v4.tables[0] !== undefined && v4.tables[1] === undefined, `${dtype}: exponent plane coded, sign plane raw`);
      assert.equal(v4.lanes, 32);
      const v3 = chooseCoding(dtype, stats, 131_072);
      v3.layout.planes.forEach((p, k) => assert.ok(v3.tables[k] !== undefined || planeBits(p) === 8, `${dtype} version 3: a raw plane of ${planeBits(p)} bits`));
      const fast = chooseCoding(dtype, stats, 131_072, true, undefined, false, false, FORMAT_VERSION_DIGESTS);
      assert.deepEqual(fast.layout.planes.slice(0, 2), v4.layout.planes.slice(0, 2), `${dtype}: fastDecode`);
    }
    for (const dtype of ['F64', 'I16', 'U8', 'bytes']) {
      const W = dtype === 'F64' ? 8 : dtype === 'I16' ? 2 : 1;
      const stats = new SegmentStats(W);
      stats.add(makeValues(dtype === 'bytes' ? 'U8' : dtype, 5000, 'gaussian', rng));
      assert.deepEqual(chooseCoding(dtype, stats, 65_536, false, undefined, false, false, FORMAT_VERSION_DIGESTS), chooseCoding(dtype, stats, 65_536), dtype);
    }
  });

  test('version 4 codings are valid for every mix and size: raw planes narrower than 8 bits are head planes, and round-trip', async () => {
    const K = await kernels();
    const rng = new Rng(testSeed(0x7a08));
    for (const dtype of ['BF16', 'F16', 'F32'] as const) {
      for (const mix of ['random', 'gaussian', 'constant', 'zero', 'special', 'sparse'] as ValueMix[]) {
        for (const n of [1, 100, 5000]) {
          const W = dtype === 'F32' ? 4 : 2;
          const data = makeValues(dtype, n, mix, rng);
          const stats = new SegmentStats(W);
          stats.add(data);
          const chunkValues = rng.pick([64, 4096, 1 << 20]);
          const coding = chooseCoding(dtype, stats, chunkValues, false, undefined, false, rng.int(2) === 1, FORMAT_VERSION_DIGESTS);
          coding.layout.planes.forEach((p, k) => {
            if (!coding.tables[k] && planeBits(p) !== 8) assert.equal(p.kind, 'head', `${dtype} ${mix} n ${n}`);
          });
          for (let at = 0; at < n; at += chunkValues) {
            const m = Math.min(chunkValues, n - at);
            roundTrip(K, coding, data.subarray(at * W, (at + m) * W), m, `${dtype} ${mix} n ${n} at ${at}`);
          }
        }
      }
    }
  });
});
