// What a worker does with a job, independent of the worker API (Node worker_threads or Web Workers): code the
// chunks with this thread's WebAssembly kernels (TypeScript where they are unavailable), exactly as in-thread code would.

import { createChunkDecoder, createChunkEncoder, type ChunkDecoding, type ChunkEncoding } from '../wasm/chunk-engines.js';
import { WcodecError } from '../errors.js';
import { kernelsFor } from '../wasm/kernels.js';
import { createSha256, type Sha256 } from '../format/sha256.js';
import { MAX_CACHED_CODERS, type DecodeJob, type EncodeJob, type HashJob, type Job, type PlainError, type Reply } from './protocol.js';
import type { WireError } from '../errors.js';

/**
 * Prepared coders by key, oldest first. An entry is added exactly when a job carries its coder and the key is absent,
 * and the oldest dropped beyond MAX_CACHED_CODERS, as the pool's copy of this list assumes. A coder that failed to
 * build is kept as its error, so the list stays in step and the segment's later jobs fail alike.
 */
const coders = new Map<string, ChunkEncoding | ChunkDecoding | Error>();

/**
 * Jobs run one at a time, in arrival order (the coder list depends on that order). The kernels compile first, as the
 * worker starts, while the pool's first jobs are being prepared.
 */
let queue: Promise<unknown> = kernelsFor(undefined).catch(() => {});

/** Runs `job` after every job that arrived before it; never rejects (errors come back in wire form). */
export function runJobInOrder(job: Job): Promise<Reply> {
  const reply = queue.then(() => runJob(job));
  queue = reply;
  return reply;
}

/** The SHA-256s of streams being hashed here (HashJob), by key. */
const hashes = new Map<string, Sha256>();

async function coderFor(job: EncodeJob | DecodeJob): Promise<ChunkEncoding | ChunkDecoding> {
  let c = coders.get(job.key);
  if (c === undefined) {
    if (!job.coder) throw new Error(`internal: no prepared coder '${job.key}' in this worker`);
    try {
      const kernels = await kernelsFor(job.coder.engine);
      c = job.kind === 'encode' ? createChunkEncoder(job.coder.coding, job.coder.maxValues, kernels, job.coder.digests) : createChunkDecoder(job.coder.coding, job.coder.maxValues, kernels);
    } catch (e) {
      c = e instanceof Error ? e : new Error(String(e));
    }
    if (coders.size >= MAX_CACHED_CODERS) {
      const [oldKey, old] = coders.entries().next().value as [string, ChunkEncoding | ChunkDecoding | Error];
      if (!(old instanceof Error)) old.dispose();
      coders.delete(oldKey);
    }
    coders.set(job.key, c);
  }
  if (c instanceof Error) throw c;
  return c;
}

/** Runs one job; never throws (errors come back in wire form). */
async function runJob(job: Job): Promise<Reply> {
  if (job.kind === 'hash') return hashRun(job);
  let coder: ChunkEncoding | ChunkDecoding;
  try {
    coder = await coderFor(job);
  } catch (e) {
    return { id: job.id, ok: false, error: toWire(e) };
  }
  return job.kind === 'encode' ? encodeRun(job, coder as ChunkEncoding) : decodeRun(job, coder as ChunkDecoding);
}

function encodeRun(job: EncodeJob, enc: ChunkEncoding): Reply {
  const W = job.counts.length > 0 ? job.bytes.length / job.counts.reduce((a, n) => a + n, 0) : 1;
  const chunks: Uint8Array[] = [];
  const crc32c: number[] = [];
  const digests: bigint[] = [];
  let at = 0;
  let error: WireError | PlainError | undefined;
  for (const n of job.counts) {
    try {
      const r = enc.encode(job.bytes.subarray(at, at + n * W), n);
      chunks.push(r.bytes);
      crc32c.push(r.crc32c);
      if (r.digest !== undefined) digests.push(r.digest);
    } catch (e) {
      error = toWire(e);
      break;
    }
    at += n * W;
  }
  const input = chunks.some((c) => c.buffer === job.bytes.buffer) ? undefined : job.bytes.buffer;
  return { id: job.id, ok: true, kind: 'encode', chunks, crc32c, digests: digests.length > 0 ? digests : undefined, done: chunks.length, error, input };
}

function decodeRun(job: DecodeJob, dec: ChunkDecoding): Reply {
  const outputs: (Uint8Array | undefined)[] = [];
  const spare = job.outBuffers;
  let at = 0;
  let error: WireError | PlainError | undefined;
  for (const p of job.parts) {
    let out = p.into;
    if (!out) {
      const b = spare.length > 0 && spare[0].byteLength >= p.size ? spare.shift() : undefined;
      out = b ? new Uint8Array(b, 0, p.size) : new Uint8Array(p.size);
    }
    let ok: boolean;
    try {
      ok = dec.decode(job.data.subarray(at, at + p.stored), p.n, out, p.check, job.file, p.offset);
    } catch (e) {
      error = toWire(e);
      break;
    }
    if (!ok) break;
    outputs.push(p.into ? undefined : out);
    at += p.stored;
  }
  return { id: job.id, ok: true, kind: 'decode', outputs, done: outputs.length, error, dataBuffer: job.data.buffer };
}

function hashRun(job: HashJob): Reply {
  let h = hashes.get(job.key);
  if (!h) hashes.set(job.key, (h = createSha256()));
  h.update(job.bytes);
  if (!job.final) return { id: job.id, ok: true, kind: 'hash', digest: undefined, buffer: job.bytes.buffer };
  hashes.delete(job.key);
  return { id: job.id, ok: true, kind: 'hash', digest: h.digest(), buffer: job.bytes.buffer };
}

function toWire(e: unknown): WireError | PlainError {
  if (e instanceof WcodecError) return e.toWire();
  const err = e instanceof Error ? e : new Error(String(e));
  return { code: undefined, name: err.name, message: err.message };
}
