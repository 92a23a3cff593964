// What a worker does with a job, independent of the worker API (Node worker_threads or Web Workers): code the
// chunk with this thread's WebAssembly kernels (TypeScript where they are unavailable), exactly as in-thread code would.

import { createChunkDecoder, createChunkEncoder, type ChunkDecoding, type ChunkEncoding } from '../wasm/chunk-engines.js';
import { WcodecError } from '../errors.js';
import { kernelsFor } from '../wasm/kernels.js';
import type { Job, Reply } from './protocol.js';

/** Prepared coders kept per worker: enough for the segments in flight at once (jobs arrive in segment order). */
const MAX_CACHED_CODERS = 4;

const coders = new Map<string, ChunkEncoding | ChunkDecoding>();

function coderFor<T extends ChunkEncoding | ChunkDecoding>(key: string, make: () => T): T {
  let c = coders.get(key) as T | undefined;
  if (!c) {
    c = make();
    if (coders.size >= MAX_CACHED_CODERS) {
      const [oldKey, old] = coders.entries().next().value as [string, ChunkEncoding | ChunkDecoding];
      old.dispose();
      coders.delete(oldKey);
    }
    coders.set(key, c);
  }
  return c;
}

/** Runs one job; never throws (errors come back in wire form). */
export async function runJob(job: Job): Promise<Reply> {
  try {
    const kernels = await kernelsFor(job.engine);
    if (job.kind === 'encode') {
      const enc = coderFor(`e:${job.engine}:${job.digests}:${job.key}`, () => createChunkEncoder(job.coding, job.maxValues, kernels, job.digests));
      const r = enc.encode(job.bytes, job.n);
      return { id: job.id, ok: true, kind: 'encode', bytes: r.bytes, crc32c: r.crc32c, digest: r.digest };
    }
    const dec = coderFor(`d:${job.engine}:${job.key}`, () => createChunkDecoder(job.coding, job.maxValues, kernels));
    const size = job.n * job.coding.layout.valueBytes;
    const out = job.outBuffer && job.outBuffer.byteLength >= size ? new Uint8Array(job.outBuffer, 0, size) : new Uint8Array(size);
    const checkOk = dec.decode(job.chunk, job.n, out, job.check, job.file, job.offset);
    return { id: job.id, ok: true, kind: 'decode', bytes: out, checkOk, chunkBuffer: job.chunk.buffer as ArrayBuffer };
  } catch (e) {
    if (e instanceof WcodecError) return { id: job.id, ok: false, error: e.toWire() };
    const err = e instanceof Error ? e : new Error(String(e));
    return { id: job.id, ok: false, error: { code: undefined, name: err.name, message: err.message } };
  }
}
