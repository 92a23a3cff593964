// Declared output sizes checked before anything is decoded or written (docs/SECURITY.md §7): maxOutputBytes on the
// decoding APIs, --max-size on the CLI, and the free space of the output's file system.

import '../src/io/node-sha256.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { openContainer } from '../src/api/checkpoint.js';
import { WcodecError } from '../src/errors.js';
import { MAX_CHUNK_VALUES } from '../src/format/constants.js';
import { MemorySource } from '../src/io/byte-source.js';
import { decompressFile, openCheckpoint } from '../src/node/file-api.js';
import { parseSize } from '../src/cli/args.js';
import { editIndex, takeApart, tensor } from '../tools/vectors/surgery.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { wcodec } from './helpers/cli.js';

/** 1 TiB: above the free space of any disk these tests run on (the NO_SPACE test checks and skips otherwise). */
const DECLARED = 2 ** 40;

const isCode = (code: string) => (e: unknown): boolean => {
  assert.ok(e instanceof WcodecError, `not a WcodecError: ${(e as Error)?.stack ?? e}`);
  assert.equal(e.code, code, e.message);
  return true;
};

let work: string;
let small: Uint8Array; // a valid container of 64 + header bytes
let bomb: Uint8Array; // a container of about 300 KB whose index declares an F64 tensor of 1 TiB (its chunks are empty)
let smallBytes: number;
let bombHeaderBytes: number; // the bomb's stored safetensors header

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'wcodec-limits-'));
  const file = buildSafetensors([{ name: 'x', dtype: 'F64', shape: [8], data: new Uint8Array(64).fill(1) }]).bytes;
  smallBytes = file.length;
  small = await compressBuffer(file, { transforms: false });
  // The bomb's stored header declares the same 1 TiB tensor as its index, so its labels are consistent (FORMAT.md §4.4
  // "Labels") and only the size check stands between it and the decoder: its header segment is taken from a
  // container of just that header's bytes.
  const values = DECLARED / 8;
  let json = JSON.stringify({ x: { dtype: 'F64', shape: [values], data_offsets: [0, DECLARED] } });
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const header = new Uint8Array(8 + json.length);
  new DataView(header.buffer).setBigUint64(0, BigInt(json.length), true);
  header.set(new TextEncoder().encode(json), 8);
  bombHeaderBytes = header.length;
  const headerParts = await takeApart(await compressBuffer(header, { name: 'h.bin', safetensors: false, transforms: false }));
  const headerSeg = headerParts.index.members[0].segments[0];
  bomb = await editIndex(small, (index, parts) => {
    const oldHeader = index.members[0].segments[0];
    const oldRecords = new Set(oldHeader.chunks);
    index.members[0].segments[0] = headerSeg;
    parts.chunks = [...headerParts.chunks, ...parts.chunks.filter((c) => !oldRecords.has(c.record))];
    const seg = tensor(index, 'x')!;
    const first = parts.chunks.find((c) => c.record === seg.chunks[0])!;
    seg.shape = [values];
    seg.chunkValues = MAX_CHUNK_VALUES;
    seg.chunks = Array.from({ length: values / MAX_CHUNK_VALUES }, (_, k) => (k === 0 ? first.record : { offset: 0, bytes: 0, crc32c: 0, digest: 0n }));
    seg.originalBytes = DECLARED;
    const m = index.members[0];
    m.originalBytes = m.segments.reduce((a, s) => a + s.originalBytes, 0);
    delete m.identitySha256; // a bomb's maker writes the identity digest of the sizes it declares
    const at = parts.chunks.indexOf(first);
    parts.chunks = [...parts.chunks.slice(0, at + 1), ...seg.chunks.slice(1).map((record) => ({ record, payload: new Uint8Array(0) })), ...parts.chunks.slice(at + 1)];
  }, true);
  await writeFile(join(work, 'small.wcodec'), small);
  await writeFile(join(work, 'bomb.wcodec'), bomb);
});

after(() => rm(work, { recursive: true, force: true }));

describe('maxOutputBytes', () => {
  test('decompressBuffer refuses a declared size above the limit with LIMIT_EXCEEDED naming both; at the limit it decodes', async () => {
    await assert.rejects(decompressBuffer(bomb, { maxOutputBytes: 10 * 2 ** 30 }), (e) => {
      isCode('LIMIT_EXCEEDED')(e);
      assert.match((e as Error).message, new RegExp(`declares ${DECLARED + bombHeaderBytes} bytes.*limit of ${10 * 2 ** 30} bytes`));
      return true;
    });
    await assert.rejects(decompressBuffer(small, { maxOutputBytes: smallBytes - 1 }), isCode('LIMIT_EXCEEDED'));
    assert.equal((await decompressBuffer(small, { maxOutputBytes: smallBytes })).length, smallBytes);
    await assert.rejects(decompressBuffer(small, { maxOutputBytes: -1 }), RangeError);
  });

  test('Checkpoint.read refuses a tensor above the limit before reading its chunks', async () => {
    const cp = await openContainer(new MemorySource(bomb, 'bomb.wcodec'));
    await assert.rejects(cp.read('x', { maxOutputBytes: 2 ** 30 }), (e) => isCode('LIMIT_EXCEEDED')(e) && /tensor 'x' declares 1099511627776 bytes/.test((e as Error).message));
    const ok = await openCheckpoint(join(work, 'small.wcodec'));
    assert.equal((await ok.read('x', { maxOutputBytes: 64 })).bytes.length, 64);
    await assert.rejects(ok.read('x', { maxOutputBytes: 63 }), isCode('LIMIT_EXCEEDED'));
    await ok.close();
  });

  test('decompressFile refuses before anything is written: no output, no temporary', async () => {
    const out = join(work, 'limited-out');
    await assert.rejects(decompressFile(join(work, 'bomb.wcodec'), out, { maxOutputBytes: 2 ** 30 }), isCode('LIMIT_EXCEEDED'));
    assert.deepEqual((await readdir(work)).sort(), ['bomb.wcodec', 'small.wcodec']);
  });
});

describe('free space', () => {
  test('decompressFile refuses a declared size above the free space with NO_SPACE, writing nothing', async (t) => {
    const fs = statfsSync(work);
    if (fs.bavail * fs.bsize >= DECLARED + smallBytes) return t.skip('more than 1 TiB free here');
    const out = join(work, 'huge-out');
    await assert.rejects(decompressFile(join(work, 'bomb.wcodec'), out), (e) => isCode('NO_SPACE')(e) && (e as WcodecError).file === out && /needs \d+ bytes.*\d+ bytes free/.test((e as Error).message));
    assert.deepEqual((await readdir(work)).sort(), ['bomb.wcodec', 'small.wcodec']);
    assert.equal(dirname(out), work);
  });
});

describe('CLI --max-size', () => {
  test('parses sizes with suffixes and refuses anything else', () => {
    assert.equal(parseSize('10G'), 10 * 2 ** 30);
    assert.equal(parseSize('10GiB'), 10 * 2 ** 30);
    assert.equal(parseSize('10GB'), 10e9);
    assert.equal(parseSize('1.5k'), 1536);
    assert.equal(parseSize('123'), 123);
    assert.equal(parseSize('0'), 0);
    for (const bad of ['', '-1', '10X', '1.2345', 'G', '1e3', '9P0', '99999P']) assert.throws(() => parseSize(bad), { name: 'Error' }, bad);
  });

  test('decompress and verify exit 2 with LIMIT_EXCEEDED above the limit, writing nothing; within it they succeed', () => {
    const out = join(work, 'cli-out');
    const d = wcodec('decompress', join(work, 'bomb.wcodec'), '-o', out, '--max-size', '10G', '-q');
    assert.equal(d.status, 2, d.stderr);
    assert.match(d.stderr, /LIMIT_EXCEEDED: the container declares \d+ bytes of output, above the limit of 10737418240 bytes/);
    const v = wcodec('verify', join(work, 'bomb.wcodec'), '--max-size', '1M');
    assert.equal(v.status, 2, v.stderr);
    assert.match(v.stderr, /LIMIT_EXCEEDED/);
    assert.equal(wcodec('verify', join(work, 'small.wcodec'), '--max-size', `${smallBytes}`).status, 0);
    assert.equal(wcodec('decompress', join(work, 'small.wcodec'), '-o', out, '--max-size', '1K', '-q').status, 0);
    assert.equal(wcodec('info', join(work, 'small.wcodec'), '--max-size', '1K').status, 1, '--max-size with info is a usage error');
    assert.equal(wcodec('verify', join(work, 'small.wcodec'), '--max-size', 'lots').status, 1);
  });

  test('decompress without --max-size exits 1 with NO_SPACE for a declared size above the free space', (t) => {
    const fs = statfsSync(work);
    if (fs.bavail * fs.bsize >= DECLARED + smallBytes) return t.skip('more than 1 TiB free here');
    const d = wcodec('decompress', join(work, 'bomb.wcodec'), '-o', join(work, 'cli-huge'), '-q');
    assert.equal(d.status, 1, d.stderr);
    assert.match(d.stderr, /NO_SPACE/);
  });
});
