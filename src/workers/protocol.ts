// The typed messages between the pool (main thread) and its workers: one job per chunk, one reply per job.
// Everything here survives structured cloning; byte buffers travel as transferred ArrayBuffers (no copy).

import type { ChunkCheck, SegmentCoding } from '../entropy/chunk-codec.js';
import type { WireError } from '../errors.js';
import type { Engine } from '../wasm/kernels.js';

/** Encode one chunk of `n` values (`bytes` holds exactly n * valueBytes bytes). */
export interface EncodeJob {
  kind: 'encode';
  id: number;
  /** Names the segment: a worker keeps the prepared encoder of a recent key instead of rebuilding it. */
  key: string;
  coding: SegmentCoding;
  /** The largest chunk of the segment, in values (sizes the worker's buffers). */
  maxValues: number;
  bytes: Uint8Array;
  n: number;
  engine: Engine | undefined;
  /** Version 4: return the chunk digest of `bytes` instead of the chunk's CRC-32C. */
  digests: boolean;
}

/** Decode one chunk's `n` values, checked by its CRC-32C (versions 1-3) or the digest of its output (version 4). */
export interface DecodeJob {
  kind: 'decode';
  id: number;
  key: string;
  coding: SegmentCoding;
  maxValues: number;
  chunk: Uint8Array;
  n: number;
  check: ChunkCheck;
  /** For error messages: the container's name and the chunk's offset in it. */
  file: string | undefined;
  offset: number;
  engine: Engine | undefined;
  /** A buffer of an earlier reply, handed back for this job's output when it is large enough (saves an allocation per chunk). */
  outBuffer: ArrayBuffer | undefined;
}

/** A job for a worker. */
export type Job = EncodeJob | DecodeJob;

/** A worker's answer to job `id`. */
export type Reply =
  | { id: number; ok: true; kind: 'encode'; bytes: Uint8Array; crc32c: number; digest?: bigint }
  | { id: number; ok: true; kind: 'decode'; bytes: Uint8Array; checkOk: boolean; chunkBuffer: ArrayBuffer }
  | { id: number; ok: false; error: WireError | PlainError };

/** The buffers a reply transfers back: its output and, for a decode, the chunk's buffer (for the pool to reuse). */
export function replyTransfers(reply: Reply): ArrayBuffer[] {
  if (!reply.ok) return [];
  const list = [reply.bytes.buffer as ArrayBuffer];
  if (reply.kind === 'decode' && reply.chunkBuffer !== list[0]) list.push(reply.chunkBuffer);
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
