// Huffman-coded planes (FORMAT.md §5.4, version 2): optimal length-limited code lengths, canonical codes, the
// table's serialised form and its validation, blocks of eight streams (exact round trips for every block size, strict
// end checks), and containers made with the `huffman` encoder option: identical on both engines and thread counts,
// exact round trips over every float dtype and value mix, and corrupt chunks rejected alike by both decoders.

import '../src/io/node-sha256.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { ByteReader, ByteWriter } from '../src/format/byte-cursor.js';
import { createChunkDecoder } from '../src/wasm/chunk-engines.js';
import { isHuffman } from '../src/entropy/chunk-codec.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { crc32c } from '../src/format/crc32c.js';
import { HUFFMAN_MAX_BITS } from '../src/format/constants.js';
import {
  buildHuffmanDecodeTable,
  decodeHuffmanBlock,
  encodeHuffmanBlock,
  huffmanCodedBits,
  huffmanCodes,
  huffmanLengths,
  readHuffmanTable,
  writeHuffmanTable,
  type HuffmanTable,
} from '../src/entropy/huffman.js';
import { WcodecError } from '../src/errors.js';
import { MemorySource } from '../src/io/byte-source.js';
import { loadKernels } from '../src/wasm/kernels.js';
import { closeSharedPools } from '../src/workers/pool.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { DTYPE_WIDTH, VALUE_MIXES, makeValues } from './helpers/values.js';

after(() => closeSharedPools());

/** Unlimited Huffman coding (two smallest weights merged, repeatedly): the optimal size and the longest code. */
function plainHuffman(counts: number[]): { bits: number; maxLength: number } {
  const heap = counts.filter((c) => c > 0).map((w) => ({ w, depth: 0 }));
  let bits = 0;
  while (heap.length > 1) {
    heap.sort((a, b) => a.w - b.w);
    const a = heap.shift()!;
    const b = heap.shift()!;
    bits += a.w + b.w;
    heap.push({ w: a.w + b.w, depth: Math.max(a.depth, b.depth) + 1 });
  }
  return { bits, maxLength: heap[0].depth };
}

/** Counts of a skewed 256-symbol distribution, like the exponents of real weights. */
function exponentCounts(rng: Rng, spread: number): number[] {
  const counts = new Array<number>(256).fill(0);
  for (let i = 0; i < 20000; i++) counts[Math.max(0, Math.min(255, Math.round(120 + rng.float() * spread - spread / 2 - Math.log2(1 / (rng.float() + 1e-9)))))]++;
  return counts;
}

function kraftComplete(lengths: Uint8Array): boolean {
  let k = 0;
  for (const l of lengths) if (l > 0) k += 2 ** (HUFFMAN_MAX_BITS - l);
  return k === 2 ** HUFFMAN_MAX_BITS;
}

function serialise(t: HuffmanTable): Uint8Array {
  const w = new ByteWriter();
  writeHuffmanTable(w, t);
  return w.finish();
}

function parse(bytes: Uint8Array): HuffmanTable {
  return readHuffmanTable(new ByteReader(bytes, 0, 't.wcodec', 'CORRUPT_INDEX'));
}

describe('Huffman coding', () => {
  test('package-merge lengths: complete, within 11 bits, optimal where the limit does not bind, deterministic', () => {
    const rng = new Rng(testSeed(31));
    let fitting = 0;
    for (let trial = 0; trial < 40; trial++) {
      // Odd trials: few symbols of similar counts (the unlimited code fits in 11 bits); even: long exponent-like tails.
      const counts =
        trial % 2 ? Array.from({ length: 256 }, (_, s) => (s < 2 + trial * 3 ? 1 + rng.int(1000) : 0)) : exponentCounts(rng, 2 + trial);
      const lengths = huffmanLengths(counts);
      assert.ok(kraftComplete(lengths), `trial ${trial}: Kraft sum`);
      assert.ok(Math.max(...lengths) <= HUFFMAN_MAX_BITS);
      counts.forEach((c, s) => assert.equal(lengths[s] > 0, c > 0, `symbol ${s}: a code iff it occurs`));
      const unlimited = plainHuffman(counts);
      const limited = huffmanCodedBits(counts, lengths);
      assert.ok(limited >= unlimited.bits, 'no code beats Huffman');
      // Where the unlimited code fits in 11 bits, package-merge finds a code just as short.
      if (unlimited.maxLength <= HUFFMAN_MAX_BITS) {
        assert.equal(limited, unlimited.bits, `trial ${trial}`);
        fitting++;
      }
      assert.deepEqual(huffmanLengths(counts), lengths);
    }
    assert.ok(fitting >= 10, `${fitting} distributions with an unlimited code of <= 11 bits`);
    // Fibonacci counts force an unlimited code far past 11 bits: the limit binds and the code stays complete.
    const fib = [1, 1];
    while (fib.length < 30) fib.push(fib[fib.length - 1] + fib[fib.length - 2]);
    const lengths = huffmanLengths(fib);
    assert.equal(Math.max(...lengths), HUFFMAN_MAX_BITS);
    assert.ok(kraftComplete(lengths));
    assert.throws(() => huffmanLengths([5]), RangeError);
    assert.throws(() => huffmanLengths([0, 0]), RangeError);
  });

  test('canonical codes: prefix-free, by length then symbol (worked example)', () => {
    const lengths = new Uint8Array(256);
    lengths[3] = 2; // A
    lengths[7] = 1; // B
    lengths[9] = 3; // C
    lengths[200] = 3; // D
    const codes = huffmanCodes(lengths);
    // Canonical (MSB-first): B = 0, A = 10, C = 110, D = 111; stored bit-reversed for LSB-first streams.
    assert.deepEqual([codes[7], codes[3], codes[9], codes[200]], [0b0, 0b01, 0b011, 0b111]);
    const table = buildHuffmanDecodeTable({ kind: 'huffman', lengths });
    for (const s of [3, 7, 9, 200]) assert.equal(table[codes[s]], s | (lengths[s] << 8));
  });

  test('tables: round trip, and every malformed table is CORRUPT_INDEX', () => {
    const t = { kind: 'huffman' as const, lengths: huffmanLengths(exponentCounts(new Rng(testSeed(32)), 12)) };
    assert.deepEqual(parse(serialise(t)).lengths, t.lengths);
    const bad = (bytes: number[], why: RegExp): void => {
      assert.throws(() => parse(Uint8Array.from(bytes)), (e) => e instanceof WcodecError && e.code === 'CORRUPT_INDEX' && why.test(e.message));
    };
    bad([1, 0, 5, 1], /lists 1 symbols/); // one symbol: no code
    bad([2, 0, 0, 1, 0, 0], /length 0/);
    bad([2, 0, 0, 12, 0, 1], /length 12/);
    bad([2, 0, 0, 1, 0, 2], /not a complete code/); // 1/2 + 1/4
    bad([3, 0, 0, 1, 0, 1, 0, 1], /not a complete code/); // over-full
    bad([2, 0, 0xff, 0x01, 1, 0, 1], /outside the 8-bit alphabet/);
    bad([2, 0, 0, 1], /needs 1 bytes/); // truncated
  });

  test('blocks: exact round trips for every size class, and the reference rejects bad ends', () => {
    const rng = new Rng(testSeed(33));
    const counts = exponentCounts(rng, 6);
    const t = { kind: 'huffman' as const, lengths: huffmanLengths(counts) };
    const present = [...t.lengths.keys()].filter((s) => t.lengths[s] > 0);
    const table = buildHuffmanDecodeTable(t);
    for (const n of [1, 2, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1000, 4097, 65537]) {
      const symbols = Array.from({ length: n }, () => present[rng.int(present.length)]);
      const block = encodeHuffmanBlock(symbols, n, t);
      const out = new Uint16Array(n);
      assert.equal(decodeHuffmanBlock(block, 0, block.length, n, table, out, { offset: 0 }), block.length, `n ${n}`);
      assert.deepEqual([...out], symbols, `n ${n}`);
      if (n < 8) continue;
      // A stream one byte short, or a non-zero padding bit, is CORRUPT_CHUNK.
      const dv = new DataView(block.buffer, block.byteOffset);
      const short = block.slice();
      new DataView(short.buffer).setUint32(0, dv.getUint32(0, true) + 1, true);
      assert.throws(() => decodeHuffmanBlock(short, 0, short.length, n, table, out, { offset: 0 }), /CORRUPT_CHUNK|Huffman block/);
    }
  });
});

describe('containers with Huffman-coded planes', () => {
  test('identical on both engines and thread counts; exact round trips over float dtypes, sizes and mixes', async () => {
    const rng = new Rng(testSeed(34));
    for (const dtype of ['BF16', 'F16', 'F32', 'F64', 'U8']) {
      for (const mix of VALUE_MIXES) {
        const tensors = [0, 1, 7, 33, 1025, 70001].map((n, k) => ({ name: `t${k}`, dtype, shape: [n], data: makeValues(dtype, n, mix, rng) }));
        const file = buildSafetensors(tensors).bytes;
        const wasm = await compressBuffer(file, { huffman: true, chunkBytes: 65536 });
        const ts = await compressBuffer(file, { huffman: true, chunkBytes: 65536, engine: 'ts' });
        const two = await compressBuffer(file, { huffman: true, chunkBytes: 65536, threads: 2, minPoolBytes: 0 });
        assert.ok(Buffer.from(ts).equals(Buffer.from(wasm)) && Buffer.from(two).equals(Buffer.from(wasm)), `${dtype} ${mix}: containers differ`);
        for (const options of [{ engine: 'wasm' as const }, { engine: 'ts' as const }, { threads: 2, minPoolBytes: 0 }]) {
          assert.ok(Buffer.from(await decompressBuffer(wasm, options)).equals(Buffer.from(file)), `${dtype} ${mix}: ${JSON.stringify(options)}`);
        }
      }
    }
  });

  test('Huffman planes appear where they pay, and the default stays rANS (with formatVersion 2: versions 2 and 1)', async () => {
    const rng = new Rng(testSeed(35));
    const file = buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [300, 300], data: makeValues('BF16', 90000, 'gaussian', rng) }]).bytes;
    const huff = await compressBuffer(file, { huffman: true });
    const plain = await compressBuffer(file);
    const seg = (await ContainerReader.open(new MemorySource(huff))).index.members[0].segments.find((s) => s.kind === 'tensor')!;
    assert.ok(isHuffman(seg.coding.tables[0]), 'the exponent plane is Huffman-coded');
    assert.equal(seg.coding.tables[1], undefined, 'sign and mantissa raw');
    assert.equal(seg.coding.lanes, 1);
    const version = (c: Uint8Array): number => new DataView(c.buffer, c.byteOffset).getUint16(8, true);
    // Version 4: the byte model would save under 0.5 % of this file (its header), so the writer does not use it;
    // asked for, version 11 holds Huffman planes too.
    assert.equal(version(huff), 4, 'header version');
    assert.equal(version(plain), 4, 'header version');
    assert.equal(version(await compressBuffer(file, { huffman: true, byteModel: false })), 4, 'header version without the byte model');
    assert.equal(version(await compressBuffer(file, { huffman: true, formatVersion: 11 })), 11, 'header version, formatVersion 11');
    assert.equal(version(await compressBuffer(file, { huffman: true, formatVersion: 2 })), 2, 'header version, formatVersion 2');
    assert.equal(version(await compressBuffer(file, { formatVersion: 2 })), 1, 'header version, formatVersion 2');
    assert.ok(huff.length > plain.length && huff.length < plain.length * 1.03, `${huff.length} vs ${plain.length}`);
  });

  test('corrupt chunks (with correct CRCs) fail with exactly the reference error, or decode to exactly its bytes', async () => {
    const K = await loadKernels();
    assert.ok(K);
    const rng = new Rng(testSeed(36));
    let rejected = 0;
    for (const dtype of ['BF16', 'F32', 'F16']) {
      const W = DTYPE_WIDTH[dtype];
      const tensors = [70000, 333, 9].map((n, k) => ({ name: `t${k}`, dtype, shape: [n], data: makeValues(dtype, n, 'gaussian', rng) }));
      const container = await compressBuffer(buildSafetensors(tensors).bytes, { huffman: true });
      const reader = await ContainerReader.open(new MemorySource(container, 'c.wcodec'));
      for (const seg of reader.index.members[0].segments) {
        if (seg.kind !== 'tensor' || seg.chunks.length === 0 || !seg.coding.tables.some(isHuffman)) continue;
        const n = Math.min(seg.chunkValues, seg.originalBytes / W);
        const rec = seg.chunks[0];
        const good = container.slice(rec.offset, rec.offset + rec.bytes);
        const ts = createChunkDecoder(seg.coding, n, undefined);
        const wasm = createChunkDecoder(seg.coding, n, K);
        const mutants: Uint8Array[] = [good.subarray(0, good.length - 1), new Uint8Array([...good, 0]), good.subarray(0, 3)];
        for (let m = 0; m < 60; m++) {
          const bad = good.slice();
          bad[m < 36 ? m : rng.int(bad.length)] ^= 1 << rng.int(8);
          mutants.push(bad);
        }
        for (const bad of mutants) {
          const run = (d: typeof ts) => (): Uint8Array => {
            const out = new Uint8Array(n * W).fill(0xa5);
            assert.ok(d.decode(bad, n, out, { crc32c: crc32c(bad) }, 'c.wcodec', rec.offset));
            return out;
          };
          let want: string;
          try {
            want = `ok ${Buffer.from(run(ts)()).toString('hex')}`;
          } catch (e) {
            want = `${(e as WcodecError).code} ${(e as Error).message}`;
            rejected++;
          }
          let got: string;
          try {
            got = `ok ${Buffer.from(run(wasm)()).toString('hex')}`;
          } catch (e) {
            got = `${(e as WcodecError).code} ${(e as Error).message}`;
          }
          assert.equal(got, want, `${dtype} ${seg.name}: mutant of ${bad.length} bytes`);
        }
        ts.dispose();
        wasm.dispose();
      }
    }
    assert.ok(rejected > 50, `${rejected} mutants rejected`);
  });
});
