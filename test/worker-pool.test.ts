// The worker pool: containers byte-identical for 1, 2 and 3 threads (and to the TypeScript reference), decoding
// with any thread count restores the input, corrupt chunks and every invalid vector fail with the same error as in
// one thread (also where every chunk is decoded in a worker: a chunk that fails there, by its structure or by its
// digest, is reported with its code and offset), outputs decoded by workers land in shared memory, the number of jobs
// in flight never exceeds the pool's bound, and jobs smaller than minPoolBytes start no pool.

import '../src/io/node-sha256.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { MemorySource } from '../src/io/byte-source.js';
import { POOL_MIN_BYTES, WorkerPool, closeSharedPools, poolFor, type JobRequest } from '../src/workers/pool.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { makeValues } from './helpers/values.js';

after(() => closeSharedPools());

/** A file of several dtypes, each tensor several chunks long at chunkBytes 8192 (odd sizes: a short last chunk). */
function sampleFile(seed: number): Uint8Array {
  const rng = new Rng(testSeed(seed));
  const spec: [string, number][] = [['BF16', 20001], ['F32', 9001], ['F16', 4097], ['U8', 30000], ['F64', 3001], ['I32', 1]];
  return buildSafetensors(spec.map(([dtype, n], k) => ({ name: `t${k}`, dtype, shape: [n], data: makeValues(dtype, n, 'gaussian', rng) }))).bytes;
}

/** Error summary for comparisons across thread counts. */
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (e) {
    const err = e as Error & { code?: string; offset?: number };
    return `${err.constructor.name} ${err.code} ${err.offset} ${err.message}`;
  }
}

describe('worker pool', () => {
  test('containers are identical for 1, 2 and 3 threads and both engines; any thread count decodes them', async () => {
    const file = sampleFile(21);
    const ref = await compressBuffer(file, { chunkBytes: 8192, engine: 'ts' });
    for (const threads of [1, 2, 3]) {
      for (const engine of ['wasm', 'ts'] as const) {
        const c = await compressBuffer(file, { chunkBytes: 8192, threads, engine, minPoolBytes: 0 });
        assert.ok(Buffer.from(c).equals(Buffer.from(ref)), `threads ${threads} engine ${engine}: container differs`);
        const out = await decompressBuffer(ref, { threads, engine, minPoolBytes: 0 });
        assert.ok(Buffer.from(out).equals(Buffer.from(file)), `threads ${threads} engine ${engine}: decode differs`);
      }
    }
  });

  test('Node Buffers (own memory, or slices of a shared slab) are copied, never detached, when chunks go to workers', async () => {
    const file = sampleFile(24);
    const input = Buffer.concat([Buffer.from('x'), Buffer.from(file)]).subarray(1); // a view into a larger buffer
    const neighbour = Buffer.from([1, 2, 3]); // small Buffers share Node's slab
    const container = Buffer.from(await compressBuffer(input, { chunkBytes: 8192, threads: 2, minPoolBytes: 0 }));
    assert.equal(input.length, file.length, 'the input is intact');
    assert.ok(input.equals(Buffer.from(file)));
    const out = await decompressBuffer(container, { threads: 2, minPoolBytes: 0 });
    assert.ok(container.length > 0, 'the container is intact');
    assert.ok(Buffer.from(out).equals(Buffer.from(file)));
    assert.deepEqual([...neighbour], [1, 2, 3]);
  });

  test('a corrupt chunk fails with the same error for every thread count', async () => {
    const file = sampleFile(22);
    const container = await compressBuffer(file, { chunkBytes: 8192 });
    const reader = await ContainerReader.open(new MemorySource(container));
    const seg = reader.index.members[0].segments.find((s) => s.chunks.length > 2)!;
    for (const which of [1, seg.chunks.length - 1]) {
      const bad = container.slice();
      bad[seg.chunks[which].offset + 3] ^= 0x10; // fails the chunk CRC
      const want = await failure(decompressBuffer(bad, { threads: 1 }));
      assert.match(want, /CORRUPT_CHUNK/);
      for (const threads of [2, 3]) assert.equal(await failure(decompressBuffer(bad, { threads, minPoolBytes: 0 })), want, `threads ${threads}`);
    }
  });

  test('every invalid vector fails with the same error for every thread count, segment digests checked or not', async () => {
    const dir = fileURLToPath(new URL('../../test/vectors/invalid/', import.meta.url));
    const files = (await readdir(dir)).filter((f) => f.endsWith('.wcodec')).sort();
    assert.ok(files.length >= 30);
    for (const f of files) {
      const bad = new Uint8Array(await readFile(join(dir, f)));
      for (const checkSegmentDigests of [false, true]) {
        const want = await failure(decompressBuffer(bad, { threads: 1, checkSegmentDigests }));
        for (const threads of [2, 3]) {
          assert.equal(await failure(decompressBuffer(bad, { threads, checkSegmentDigests, minPoolBytes: 0 })), want, `${f}: threads ${threads}, checkSegmentDigests ${checkSegmentDigests}`);
        }
      }
    }
  });

  test('chunks in flight stay within the bound, and a pool reports wrong arguments', async () => {
    const pool = await WorkerPool.create(2);
    try {
      let inFlight = 0;
      let peak = 0;
      const run = pool.run.bind(pool);
      pool.run = (job: JobRequest, transfer: ArrayBuffer[], worker?: number) => {
        // Coding jobs only: a member's digest goes to a worker in hash jobs besides (WorkerSha256).
        if (job.kind === 'hash') return run(job, transfer, worker);
        peak = Math.max(peak, ++inFlight);
        return run(job, transfer, worker).finally(() => inFlight--);
      };
      const file = sampleFile(23);
      const c = await compressBuffer(file, { chunkBytes: 4096, pool });
      assert.ok(peak >= 2 && peak <= pool.maxInFlight, `peak ${peak} of ${pool.maxInFlight}`);
      peak = 0;
      const out = await decompressBuffer(c, { pool });
      assert.ok(Buffer.from(out).equals(Buffer.from(file)));
      assert.ok(peak >= 2 && peak <= pool.maxInFlight, `peak ${peak} of ${pool.maxInFlight}`);
    } finally {
      await pool.close();
    }
    await assert.rejects(WorkerPool.create(0), RangeError);
    await assert.rejects(compressBuffer(new Uint8Array(10), { threads: 1.5, name: 'x.bin' }), RangeError);
  });

  test('where workers decode every chunk, a chunk that fails its structure or its digest there fails as in one thread', async () => {
    const file = sampleFile(25);
    // Without the byte model the container is version 4 (its header would otherwise make it version 11, with the same
    // chunk digests): the test corrupts float chunks, which are coded alike in both.
    const container = await compressBuffer(file, { chunkBytes: 8192, byteModel: false });
    assert.equal(container[8], 4, 'a version 4 container: chunk digests');
    const reader = await ContainerReader.open(new MemorySource(container));
    const seg = reader.index.members[0].segments.find((s) => s.dtype === 'BF16')!;
    assert.ok(seg.chunks.length >= 4);
    const rec = seg.chunks[2]; // inside a run of several chunks: the chunks before it are decoded and taken first
    const workersOnly = await WorkerPool.create(1, { callerCodes: false });
    try {
      const seen = new Set<string>();
      for (let at = rec.offset; at < rec.offset + rec.bytes && seen.size < 2; at += 7) {
        const bad = container.slice();
        bad[at] ^= 0x04;
        const want = await failure(decompressBuffer(bad, { threads: 1 }));
        const code = /CHECKSUM_MISMATCH|CORRUPT_CHUNK/.exec(want)?.[0];
        if (!code || seen.has(code)) continue;
        seen.add(code);
        // A digest names the chunk's offset; a structural failure the place in the chunk where it shows.
        const offset = Number(want.split(' ')[2]);
        if (code === 'CHECKSUM_MISMATCH') assert.equal(offset, rec.offset, want);
        else assert.ok(offset >= rec.offset && offset <= rec.offset + rec.bytes, want);
        assert.equal(await failure(decompressBuffer(bad, { pool: workersOnly })), want, `${code} from a worker`);
        assert.equal(await failure(decompressBuffer(bad, { threads: 2, minPoolBytes: 0 })), want, `${code} with the work shared`);
      }
      assert.deepEqual([...seen].sort(), ['CHECKSUM_MISMATCH', 'CORRUPT_CHUNK'], 'both kinds of failure were found');
    } finally {
      await workersOnly.close();
    }
  });

  test('a pool whose calling thread codes nothing gives the same containers and outputs', async () => {
    const file = sampleFile(26);
    const ref = await compressBuffer(file, { chunkBytes: 4096 });
    const pool = await WorkerPool.create(2, { callerCodes: false });
    try {
      assert.ok(Buffer.from(await compressBuffer(file, { chunkBytes: 4096, pool })).equals(Buffer.from(ref)));
      assert.ok(Buffer.from(await decompressBuffer(ref, { pool })).equals(Buffer.from(file)));
    } finally {
      await pool.close();
    }
  });

  test('workers decode into shared memory: decompressBuffer returns a SharedArrayBuffer view unless told not to', async () => {
    const file = sampleFile(27);
    const container = await compressBuffer(file, { chunkBytes: 8192 });
    const shared = await decompressBuffer(container, { threads: 2, minPoolBytes: 0 });
    assert.ok(shared.buffer instanceof SharedArrayBuffer);
    assert.ok(Buffer.from(shared).equals(Buffer.from(file)));
    for (const options of [{ threads: 2, minPoolBytes: 0, sharedOutput: false }, { threads: 1 }, { threads: 2 }]) {
      const out = await decompressBuffer(container, options);
      assert.ok(out.buffer instanceof ArrayBuffer, JSON.stringify(options));
      assert.ok(Buffer.from(out).equals(Buffer.from(file)), JSON.stringify(options));
    }
  });

  test('a job smaller than minPoolBytes (default POOL_MIN_BYTES) runs in the calling thread; 0 always pools', async () => {
    assert.equal(await poolFor({ threads: 2 }, POOL_MIN_BYTES - 1), undefined);
    assert.ok(await poolFor({ threads: 2 }, POOL_MIN_BYTES));
    assert.equal(await poolFor({ threads: 2, minPoolBytes: 1000 }, 999), undefined);
    assert.ok(await poolFor({ threads: 2, minPoolBytes: 0 }, 1));
    assert.equal(await poolFor({ threads: 1, minPoolBytes: 0 }, 1), undefined);
    await assert.rejects(poolFor({ threads: 2, minPoolBytes: -1 }, 1), RangeError);
  });
});
