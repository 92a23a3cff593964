// The typed messages between the pool (main thread) and its workers: one job per chunk, one reply per job.
// Everything here survives structured cloning; byte buffers travel as transferred ArrayBuffers (no copy).
// A segment's coding (its tables: up to 512 KiB for a 16-bit plane) travels once per worker: the first job of a
// segment that a worker gets carries it, and the worker keeps the prepared coder under the job's key.

import type { ChunkCheck, SegmentCoding } from '../entropy/chunk-codec.js';
import type { WireError } from '../errors.js';
import type { Engine } from '../wasm/kernels.js';

/**
 * Prepared coders a worker keeps, oldest dropped first. The pool keeps the same list per worker, in the same order
 * (jobs reach a worker in the order they are posted), so it knows which jobs must carry their coder.
 */
export const MAX_CACHED_CODERS = 8;

/** What a worker needs to prepare an encoder for a segment's chunks. */
export interface EncodeCoder {
  coding: SegmentCoding;
  /** The largest chunk of the segment, in values (sizes the worker's buffers). */
  maxValues: number;
  engine: Engine | undefined;
  /** Version 4: return the chunk digest of the values instead of the chunk's CRC-32C. */
  digests: boolean;
}

/** What a worker needs to prepare a decoder for a segment's chunks. */
export interface DecodeCoder {
  coding: SegmentCoding;
  maxValues: number;
  engine: Engine | undefined;
}

/** Encode a run of chunks of one segment. */
export interface EncodeJob {
  kind: 'encode';
  id: number;
  /** Names the segment's coder: unique per segment, kind, engine and digests (the pool makes it so). */
  key: string;
  /** The coder, when this worker does not hold one under `key`. */
  coder: EncodeCoder | undefined;
  /** The chunks' values, back to back (a buffer of its own, transferred). */
  bytes: Uint8Array;
  /** Values per chunk, in order. */
  counts: number[];
}

/** One chunk of a decode job. */
export interface DecodePart {
  /** Its stored bytes: the next `stored` bytes of the job's `data`. */
  stored: number;
  n: number;
  /** Its decoded bytes: n * the value width. */
  size: number;
  /** Its CRC-32C (versions 1-3) or the digest its output must have (version 4). */
  check: ChunkCheck;
  /** Its offset in the container, for error messages. */
  offset: number;
  /**
   * Where its output goes when that can be written in place: a view of `size` bytes of shared memory (a
   * SharedArrayBuffer: the output buffer or file block the bytes belong in). Else the reply carries the output.
   */
  into: Uint8Array | undefined;
}

/** Decode a run of chunks of one segment, each checked by its CRC-32C or by the digest of its output. */
export interface DecodeJob {
  kind: 'decode';
  id: number;
  key: string;
  coder: DecodeCoder | undefined;
  /** The parts' stored bytes, back to back: a buffer of its own (transferred), or a view of shared memory. */
  data: Uint8Array;
  parts: DecodePart[];
  /** The container's name, for error messages. */
  file: string | undefined;
  /** Buffers of earlier replies, for the outputs of parts without `into` (used in order when large enough). */
  outBuffers: ArrayBuffer[];
}

/** Add bytes to a SHA-256 this worker keeps under `key` (WorkerSha256); `final`: return its digest and drop it. */
export interface HashJob {
  kind: 'hash';
  id: number;
  key: string;
  /** The next bytes of the stream (a buffer of its own, transferred, and handed back in the reply). */
  bytes: Uint8Array;
  final: boolean;
}

/** A job for a worker. */
export type Job = EncodeJob | DecodeJob | HashJob;

/**
 * A worker's answer to job `id`. A run stops at its first failing chunk: `done` chunks were coded, and chunk `done`
 * (when there is one) failed with `error`, or, decoding, its check failed (no error). An error of the whole job (its
 * coder could not be built) comes back as `ok: false`.
 */
export type Reply =
  | {
      id: number;
      ok: true;
      kind: 'encode';
      chunks: Uint8Array[];
      crc32c: number[];
      digests: bigint[] | undefined;
      done: number;
      error: WireError | PlainError | undefined;
      /** The job's `bytes` buffer, handed back for reuse (undefined when a chunk's bytes lie in it). */
      input: ArrayBufferLike | undefined;
    }
  | {
      id: number;
      ok: true;
      kind: 'decode';
      /** The outputs of the parts decoded, in order: undefined for those written `into` shared memory. */
      outputs: (Uint8Array | undefined)[];
      done: number;
      error: WireError | PlainError | undefined;
      /** The job's `data` buffer, handed back for reuse. */
      dataBuffer: ArrayBufferLike;
    }
  | { id: number; ok: true; kind: 'hash'; digest: Uint8Array | undefined; buffer: ArrayBufferLike }
  | { id: number; ok: false; error: WireError | PlainError };

/**
 * The buffers a reply transfers back: its outputs and, for a decode or a hash, the job's buffer (for reuse). Shared
 * memory is never in the list: it is shared, not moved.
 */
export function replyTransfers(reply: Reply): ArrayBuffer[] {
  if (!reply.ok) return [];
  const list: ArrayBuffer[] = [];
  const add = (b: ArrayBufferLike | undefined): void => {
    if (b instanceof ArrayBuffer && !list.includes(b)) list.push(b);
  };
  if (reply.kind === 'encode') {
    for (const c of reply.chunks) add(c.buffer);
    add(reply.input);
  }
  else if (reply.kind === 'decode') {
    for (const o of reply.outputs) add(o?.buffer);
    add(reply.dataBuffer);
  } else add(reply.buffer);
  return list;
}

/** A non-wcodec error (a bug, or a RangeError from a wrong argument) in wire form. */
export interface PlainError {
  code: undefined;
  name: string;
  message: string;
}

/**
 * The first message a worker posts, once its script has loaded: spawnWorker waits for it, so a worker script that
 * cannot load fails the pool's creation (and the caller codes in-thread) instead of failing the first job.
 */
export const WORKER_READY = 'ready';
