// Containers with very many records: an index of many tensors read in memory bounded by its size, `wcodec info` on
// hundreds of thousands of tensors, and containers of 1-value chunks decoded from a file as from memory.

import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { compressBuffer } from '../src/api/buffers.js';
import { HEADER_BYTES } from '../src/format/constants.js';
import { readIndex, writeIndex } from '../src/format/index-codec.js';
import { FormatError } from '../src/errors.js';
import { craftEmptyTensorsIndex } from '../tools/many-tensors.js';
import { CLI } from './helpers/cli.js';

setFlagsFromString('--expose-gc');
/** A full garbage collection, so that memory figures count live objects only. */
const gc = runInNewContext('gc') as () => void;
const liveBytes = (): number => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

/** A safetensors file of `count` empty F16 tensors (shape [0]). */
function emptyTensors(count: number): Uint8Array {
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(`"t.${i}":{"dtype":"F16","shape":[0],"data_offsets":[0,0]}`);
  let json = `{${parts.join(',')}}`;
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  return out;
}

test('an index of 20,000 tensors with tables of their own is held in a small multiple of its size', () => {
  const count = 20_000;
  const index = craftEmptyTensorsIndex(count);
  const before = liveBytes();
  const parsed = readIndex(index, HEADER_BYTES, HEADER_BYTES);
  const held = liveBytes() - before;
  assert.equal(parsed.members[0].segments.length, count);
  // Each tensor's 12-bit table as arrays would take 32 KiB: 655 MB here. Records, the index copy and slack stay far below.
  assert.ok(held < 8 * index.length + 4 * 1024 * 1024, `reading a ${index.length}-byte index holds ${held} bytes`);
  // The tables come back exactly: the index writes back byte for byte (tables rebuilt, some evicted and rebuilt again).
  assert.deepEqual(writeIndex(parsed), index);
  assert.deepEqual(writeIndex(parsed), index);
});

test('a bad table deep in a large index is rejected when the index is read', () => {
  const count = 20_000;
  const index = craftEmptyTensorsIndex(count);
  // The last tensor's 4-bit plane table: probBits 8, one symbol (gap 0) whose frequency - 1 is the varint 0xff 0x01.
  const at = index.length - 15;
  assert.deepEqual([...index.subarray(at, at + 6)], [8, 1, 0, 0, 0xff, 0x01]);
  const bad = index.slice();
  bad[at + 4] = 0x7f; // frequency 0x7f + 1 = 128: the table no longer sums to 2^8
  assert.throws(() => readIndex(bad, HEADER_BYTES, HEADER_BYTES), (e: unknown) => e instanceof FormatError && e.code === 'CORRUPT_INDEX' && /sum to 128/.test(e.message));
});

test('wcodec info lists a container of 200,000 tensors that wcodec wrote', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-scale-'));
  try {
    const count = 200_000;
    const packed = join(dir, 'many.wcodec');
    await writeFile(packed, await compressBuffer(emptyTensors(count), { name: 'many.safetensors' }));
    // Its table is ~20 MB of text: more than spawnSync's default buffer.
    const info = spawnSync(process.execPath, [CLI, 'info', packed], { encoding: 'utf8', maxBuffer: 256 << 20 });
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout, new RegExp(`total: ${count} tensors in 1 file`));
    assert.match(info.stdout, /^t\.199999 +F16 +\[0\]/m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
