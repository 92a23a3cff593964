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
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { BufferSink } from '../src/io/byte-source.js';
import { FileSource } from '../src/io/file-source.js';
import { closeSharedPools } from '../src/workers/pool.js';
import { HEADER_BYTES } from '../src/format/constants.js';
import { readIndex, writeIndex } from '../src/pipeline/index-codec.js';
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

/** A safetensors file of one tensor of `values` values of `dtype` (2 or 4 bytes), seeded pseudo-random bits. */
function oneTensor(dtype: 'BF16' | 'F32', values: number, seed: number): Uint8Array {
  const W = dtype === 'BF16' ? 2 : 4;
  let json = JSON.stringify({ w: { dtype, shape: [values], data_offsets: [0, values * W] } });
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + json.length + values * W);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let x = seed >>> 0 || 1;
  for (let i = 8 + json.length; i < out.length; i += W) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    // Exponents in a narrow band (as weights have), low bits random.
    out[i] = x & 0xff;
    if (W === 4) out[i + 1] = (x >>> 8) & 0xff;
    if (W === 4) out[i + 2] = (x >>> 16) & 0xff;
    out[i + W - 1] = 0x3c + ((x >>> 24) & 3);
  }
  return out;
}

test('containers of 1-value chunks and of chunks larger than a read span decode from a file exactly as from memory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-chunks-'));
  try {
    const cases = [
      // 30,000 chunks of one BF16 value each, read in one span.
      { name: 'tiny', input: oneTensor('BF16', 30_000, 7), chunkBytes: 1 },
      // Chunks of 64 KiB of F32 values: a dozen or so per read span, several spans.
      { name: 'medium', input: oneTensor('F32', 1_300_000, 9), chunkBytes: 64 * 1024 },
      // Chunks of 2 MiB of F32 values: each larger than a read span, so read alone.
      { name: 'large', input: oneTensor('F32', 1_300_000, 9), chunkBytes: 2 * 1024 * 1024 },
    ];
    for (const c of cases) {
      const container = await compressBuffer(c.input, { chunkBytes: c.chunkBytes, transforms: false });
      const path = join(dir, `${c.name}.wcodec`);
      await writeFile(path, container);
      const fromMemory = await decompressBuffer(container);
      assert.deepEqual(fromMemory, c.input, `${c.name}: memory round trip`);
      for (const threads of [1, 2]) {
        const reader = await ContainerReader.open(await FileSource.open(path));
        try {
          const sink = new BufferSink(reader.index.members[0].originalBytes);
          sink.bytes.fill(0xa5); // poisoned: bytes left unwritten show
          await reader.decodeMember(reader.index.members[0], sink, { threads, minPoolBytes: 0 });
          assert.equal(sink.length, fromMemory.length, `${c.name}, ${threads} thread(s)`);
          assert.ok(Buffer.from(sink.bytes).equals(Buffer.from(fromMemory)), `${c.name}, ${threads} thread(s): file and memory decode differ`);
          // One tensor on its own (the segment path) from the file, too.
          const seg = reader.index.members[0].segments.find((s) => s.kind === 'tensor')!;
          const tensor = await reader.readSegment(seg, { threads, minPoolBytes: 0 });
          assert.equal(tensor.length, seg.originalBytes);
        } finally {
          await reader.close();
        }
      }
    }
  } finally {
    await closeSharedPools();
    await rm(dir, { recursive: true, force: true });
  }
});
