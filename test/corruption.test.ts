// Corrupt containers: every single-bit flip, every truncation and appended bytes must fail with a WcodecError
// (never another error, never different bytes). Mutations whose checksums are then repaired reach the
// structural checks behind the CRCs: index validation, the rANS end-state check and the SHA-256 digests.

import '../src/io/node-sha256.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { WcodecError, errorClassFor, type ErrorCode } from '../src/errors.js';
import { FOOTER_BYTES } from '../src/format/constants.js';
import { crc32c } from '../src/format/crc32c.js';
import { readFooter, writeFooter } from '../src/format/envelope.js';
import { readIndexBlock, writeIndexBlock } from '../src/pipeline/index-block.js';
import { readIndex, writeIndex, type ContainerIndex } from '../src/pipeline/index-codec.js';
import { buildSafetensors, type TensorInput } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { makeValues } from './helpers/values.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A small file of several dtypes, compressed into a container of a few KB with several chunks per tensor. */
async function smallContainer(): Promise<{ original: Uint8Array; container: Uint8Array }> {
  const rng = new Rng(testSeed(0xbad0));
  const spec: [string, string, number, Parameters<typeof makeValues>[2]][] = [
    ['w.bf16', 'BF16', 300, 'gaussian'],
    ['w.f32', 'F32', 40, 'special'],
    ['ids.i8', 'I8', 90, 'random'],
    ['w.f16', 'F16', 200, 'sparse'],
    ['c.u8', 'U8', 64, 'constant'],
    ['m.bool', 'BOOL', 30, 'random'],
    ['d.f64', 'F64', 5, 'gaussian'],
    ['e.i32', 'I32', 0, 'random'],
    ['x.f4', 'F4', 21, 'random'],
  ];
  const tensors: TensorInput[] = spec.map(([name, dtype, n, mix]) => ({ name, dtype, shape: [dtype === 'F4' ? 2 * n : n], data: makeValues(dtype, n, mix, rng) }));
  const original = buildSafetensors(tensors, { metadata: { format: 'pt' } }).bytes;
  // Version 1 (transforms off): these tests rewrap and parse the index as version 1; transformed records are
  // covered by test/transform-container.test.ts, the v2 vectors and the fuzz 'delta' target.
  const container = await compressBuffer(original, { chunkBytes: 128, transforms: false, formatVersion: 2 });
  return { original, container };
}

/** Decodes `bytes`: returns 'ok' when it decodes to `original`, else the WcodecError's code; fails on anything else. */
async function outcome(bytes: Uint8Array, original: Uint8Array, what: string): Promise<ErrorCode | 'ok'> {
  let out: Uint8Array;
  try {
    // Every digest checked, segments' too (as `wcodec verify` does): a damaged segment digest is then caught as well.
    out = await decompressBuffer(bytes, { name: 'c.wcodec', checkSegmentDigests: true });
  } catch (e) {
    if (!(e instanceof WcodecError)) assert.fail(`${what}: threw ${(e as Error)?.name}: ${(e as Error)?.message}, not a WcodecError`);
    assert.ok(e instanceof errorClassFor(e.code), `${what}: ${e.name} is not the class of ${e.code}`);
    if (e.offset !== undefined) assert.ok(Number.isSafeInteger(e.offset) && e.offset >= 0 && e.offset <= bytes.length, `${what}: offset ${e.offset} outside ${bytes.length} bytes (${e.message})`);
    return e.code;
  }
  assert.equal(sha(out), sha(original), `${what}: decoded to different bytes without an error`);
  return 'ok';
}

function tally(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
const show = (m: Map<string, number>): string => [...m].map(([k, v]) => `${k} ${v}`).join(', ');

const { original, container } = await smallContainer();

describe('corrupt containers', () => {

  test('the sample container is small, multi-chunk and decodes', async () => {
    assert.ok(container.length >= 1500 && container.length <= 5000, `container of ${container.length} bytes`);
    assert.equal(await outcome(container, original, 'intact'), 'ok');
  });

  test('every single-bit flip is detected with a WcodecError', async (t) => {
    const codes = new Map<string, number>();
    for (let bit = 0; bit < container.length * 8; bit++) {
      const c = container.slice();
      c[bit >> 3] ^= 1 << (bit & 7);
      const r = await outcome(c, original, `bit ${bit} (byte ${bit >> 3})`);
      // Every byte of a container is under a CRC (header, chunks, index, footer): no flip may pass.
      assert.notEqual(r, 'ok', `bit ${bit} (byte ${bit >> 3}) of ${container.length}: flip not detected`);
      tally(codes, r);
    }
    t.diagnostic(`${container.length * 8} flips: ${show(codes)}`);
    for (const code of ['CORRUPT_CHUNK', 'CORRUPT_INDEX', 'CORRUPT_HEADER', 'BAD_MAGIC']) assert.ok(codes.has(code), `no flip gave ${code}: ${show(codes)}`);
  });

  test('every truncation (lengths 0 .. size-1) is rejected', async (t) => {
    const codes = new Map<string, number>();
    for (let n = 0; n < container.length; n++) tally(codes, await outcome(container.slice(0, n), original, `cut to ${n}`));
    assert.ok(!codes.has('ok'), `a truncation decoded: ${show(codes)}`);
    t.diagnostic(show(codes));
  });

  test('appended bytes, a repeated footer, a doubled container and prepended bytes are rejected', async (t) => {
    const rng = new Rng(testSeed(0xbad1));
    const codes = new Map<string, number>();
    const cases: Uint8Array[] = [];
    for (const n of [1, 2, 7, 8, 39, 40, 41, 1000]) {
      cases.push(new Uint8Array([...container, ...new Uint8Array(n)]));
      cases.push(new Uint8Array([...container, ...rng.bytes(n)]));
    }
    cases.push(new Uint8Array([...container, ...container.subarray(container.length - FOOTER_BYTES)]));
    cases.push(new Uint8Array([...container, ...container]));
    cases.push(new Uint8Array([0, ...container]));
    cases.push(new Uint8Array([...container.subarray(0, 16), ...container])); // a second header
    for (const [k, c] of cases.entries()) tally(codes, await outcome(c, original, `case ${k} (${c.length} bytes)`));
    assert.ok(!codes.has('ok'), `an extended container decoded: ${show(codes)}`);
    t.diagnostic(show(codes));
  });

  /** Splits a container into data region, decoded index and footer fields. */
  function parts(c: Uint8Array): { data: Uint8Array; index: Uint8Array; indexOffset: number } {
    const footer = readFooter(c.subarray(c.length - FOOTER_BYTES), c.length);
    const block = readIndexBlock(c.subarray(footer.indexOffset, footer.indexOffset + footer.indexBytes), footer.indexOffset);
    return { data: c.subarray(0, footer.indexOffset), index: block.index, indexOffset: footer.indexOffset };
  }

  /**
   * Rebuilds a container from a data region and a serialised index, with correct index and footer CRCs. The
   * index block is stored raw (coding 0) unless `coded`: the same index checks run, and much faster.
   */
  function rewrap(data: Uint8Array, index: Uint8Array, coded = false): Uint8Array {
    let block: Uint8Array;
    if (coded) block = writeIndexBlock(index);
    else {
      block = new Uint8Array(5 + index.length);
      new DataView(block.buffer).setUint32(0, index.length, true);
      block.set(index, 5);
    }
    const footer = writeFooter({ indexOffset: data.length, indexBytes: block.length, indexCrc32c: crc32c(block) });
    const out = new Uint8Array(data.length + block.length + footer.length);
    out.set(data, 0);
    out.set(block, data.length);
    out.set(footer, data.length + block.length);
    return out;
  }

  test('rewrapping the intact index gives back the same container (the repair below is faithful)', async () => {
    const { data, index } = parts(container);
    assert.equal(sha(rewrap(data, index, true)), sha(container));
    assert.equal(await outcome(rewrap(data, index), original, 'raw index block'), 'ok');
  });

  test('every bit flip of the decoded index, with CRCs repaired, fails with a WcodecError or decodes exactly', async (t) => {
    const { data, index, indexOffset } = parts(container);
    const codes = new Map<string, number>();
    for (let bit = 0; bit < index.length * 8; bit++) {
      const m = index.slice();
      m[bit >> 3] ^= 1 << (bit & 7);
      tally(codes, await outcome(rewrap(data, m), original, `index bit ${bit} (byte ${bit >> 3} of ${index.length}), index at ${indexOffset}`));
    }
    t.diagnostic(`${index.length * 8} index flips: ${show(codes)}`);
    // Only fields that do not change the output may go unnoticed (a shape of an unknown dtype, a dtype spelling, a name).
    assert.ok((codes.get('ok') ?? 0) < index.length * 8 * 0.2, `too many index flips undetected: ${show(codes)}`);
    assert.ok(codes.has('CORRUPT_INDEX') && codes.has('CHECKSUM_MISMATCH'), show(codes));
  });

  test('an index with bytes added or removed (CRCs repaired) is CORRUPT_INDEX', async () => {
    const { data, index } = parts(container);
    for (const extra of [[0], [0, 0, 0, 0], [0xff]]) {
      assert.equal(await outcome(rewrap(data, new Uint8Array([...index, ...extra])), original, `${extra.length} bytes after the index`), 'CORRUPT_INDEX');
    }
    for (const cut of [1, 4, 32, index.length - 1, index.length]) {
      assert.equal(await outcome(rewrap(data, index.subarray(0, index.length - cut)), original, `index short by ${cut}`), 'CORRUPT_INDEX');
    }
  });

  test('chunk bytes flipped with the chunk CRC repaired: the rANS checks or SHA-256 catch every one', async (t) => {
    const { data, index, indexOffset } = parts(container);
    const parsed: ContainerIndex = readIndex(index, indexOffset, indexOffset);
    const codes = new Map<string, number>();
    let flips = 0;
    for (const seg of parsed.members[0].segments) {
      for (const chunk of seg.chunks) {
        for (let byte = 0; byte < chunk.bytes; byte++) {
          for (const bit of [0, 5]) {
            const d = data.slice();
            d[chunk.offset + byte] ^= 1 << bit;
            const saved = chunk.crc32c;
            chunk.crc32c = crc32c(d.subarray(chunk.offset, chunk.offset + chunk.bytes));
            const c = rewrap(d, writeIndex(parsed));
            chunk.crc32c = saved;
            const r = await outcome(c, original, `${seg.name || 'header'} chunk at ${chunk.offset}, byte ${byte}, bit ${bit}`);
            assert.notEqual(r, 'ok', `${seg.name || 'header'} chunk at ${chunk.offset}, byte ${byte}, bit ${bit}: a changed chunk decoded`);
            tally(codes, r);
            flips++;
          }
        }
      }
    }
    t.diagnostic(`${flips} chunk flips: ${show(codes)}`);
    assert.ok(codes.has('CORRUPT_CHUNK') && codes.has('CHECKSUM_MISMATCH'), show(codes));
  });

  test('fuzz: random multi-byte mutations of the index and chunks, CRCs repaired (time-bounded)', async (t) => {
    const rng = new Rng(testSeed(0xbad2));
    t.diagnostic(`seed ${rng.seed}`);
    const { data, index, indexOffset } = parts(container);
    const chunks = readIndex(index, indexOffset, indexOffset).members[0].segments.flatMap((s) => s.chunks);
    const codes = new Map<string, number>();
    // 2.5 s, or up to 10 s until 200 runs are done (a busy machine slows each run).
    const t0 = performance.now();
    const deadline = t0 + 2500;
    let runs = 0;
    while ((performance.now() < deadline || (runs < 200 && performance.now() < t0 + 10_000)) && runs < 20_000) {
      if (rng.int(3) === 0) {
        // Mutate one chunk and repair its CRC in the index.
        const parsed = readIndex(index, indexOffset, indexOffset);
        const segChunks = parsed.members[0].segments.flatMap((s) => s.chunks);
        const k = rng.int(chunks.length);
        const ch = segChunks[k];
        const d = data.slice();
        for (let e = rng.range(1, 4); e > 0; e--) d[ch.offset + rng.int(ch.bytes)] = rng.int(256);
        ch.crc32c = crc32c(d.subarray(ch.offset, ch.offset + ch.bytes));
        const r = await outcome(rewrap(d, writeIndex(parsed)), original, `fuzz run ${runs} (chunk ${k}), seed ${rng.seed}`);
        if (sha(d) !== sha(data)) assert.notEqual(r, 'ok', `fuzz run ${runs} (chunk ${k}), seed ${rng.seed}: a changed chunk decoded`);
        tally(codes, r);
        runs++;
        continue;
      }
      const m = index.slice();
      const edits = rng.range(1, 4);
      for (let k = 0; k < edits; k++) {
        const at = rng.int(m.length);
        const kind = rng.int(4);
        if (kind === 0) m[at] = rng.int(256);
        else if (kind === 1) m[at] = rng.pick([0, 1, 0x7f, 0x80, 0xff]);
        else if (kind === 2) new DataView(m.buffer).setUint32(Math.min(at, m.length - 4), rng.pick([0, 1, 0xffffffff, 0x7fffffff, 1 << 22, rng.u32()]), true);
        else m[at] ^= 1 << rng.int(8);
      }
      const cut = rng.int(10) === 0 ? rng.int(m.length) : m.length;
      tally(codes, await outcome(rewrap(data, m.subarray(0, cut)), original, `fuzz run ${runs}, seed ${rng.seed}`));
      runs++;
    }
    t.diagnostic(`${runs} runs: ${show(codes)}`);
    assert.ok(runs >= 200, `only ${runs} runs in the time bound`);
  });
});
