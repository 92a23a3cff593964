// A pool of workers that code chunks in parallel. Callers submit jobs in order and await the replies in the same
// order (see ChunkWindow), so output order and bytes never depend on the thread count; at most `maxInFlight`
// chunks are outstanding, which bounds memory whatever the file size.

import { fromWire, type WireError } from '../errors.js';
import type { Job, PlainError, Reply } from './protocol.js';
import { spawnWorker, type WorkerHandle } from './spawn-worker.js';

/** Chunks in flight per worker: one being coded and one queued, so a worker never waits for the main thread. */
const IN_FLIGHT_PER_WORKER = 2;

type OkReply = Extract<Reply, { ok: true }>;
/** A job before the pool numbers it. */
export type JobRequest = Job extends infer J ? (J extends Job ? Omit<J, 'id'> : never) : never;

interface Slot {
  handle: WorkerHandle;
  busy: number;
}

/** Worker pool; create with WorkerPool.create, end with close(). */
export class WorkerPool {
  private slots: Slot[] = [];
  private pending = new Map<number, { resolve: (r: OkReply) => void; reject: (e: Error) => void; slot: Slot }>();
  private nextId = 1;
  private failure: Error | undefined;

  private constructor(readonly threads: number) {}

  /**
   * Starts `threads` workers.
   * @throws RangeError for a thread count that is not a positive integer; Error where workers cannot start
   */
  static async create(threads: number): Promise<WorkerPool> {
    if (!Number.isSafeInteger(threads) || threads < 1) throw new RangeError(`threads ${threads} must be a positive integer`);
    const pool = new WorkerPool(threads);
    const started = await Promise.allSettled(Array.from({ length: threads }, () => spawnWorker((r) => pool.settle(r), (e) => pool.fail(e))));
    for (const s of started) if (s.status === 'fulfilled') pool.slots.push({ handle: s.value, busy: 0 });
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await pool.close();
      throw failed.reason;
    }
    for (const slot of pool.slots) slot.handle.setIdle(true);
    return pool;
  }

  /** Whether a worker died (every job then fails; the shared pools replace such a pool). */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  /** Chunks a caller should keep outstanding at most. */
  get maxInFlight(): number {
    return this.threads * IN_FLIGHT_PER_WORKER;
  }

  /** Runs a job on the least busy worker; rejects with the worker's error (rebuilt from its wire form). */
  run(request: JobRequest, transfer: ArrayBuffer[]): Promise<OkReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const slot = this.slots.reduce((a, b) => (b.busy < a.busy ? b : a));
    return new Promise<OkReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot });
      if (slot.busy++ === 0) slot.handle.setIdle(false);
      slot.handle.post({ ...request, id } as Job, transfer);
    });
  }

  private settle(r: Reply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (--p.slot.busy === 0) p.slot.handle.setIdle(true);
    if (r.ok) p.resolve(r);
    else p.reject(errorFromWire(r.error));
  }

  /** A worker died: every outstanding and later job fails with its error. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    this.failure ??= new Error('worker pool closed');
    await Promise.all(this.slots.map((s) => s.handle.terminate()));
    this.slots = [];
  }
}

function errorFromWire(e: WireError | PlainError): Error {
  if (e.code !== undefined) return fromWire(e);
  const Cls = e.name === 'RangeError' ? RangeError : e.name === 'TypeError' ? TypeError : Error;
  return new Cls(e.message);
}

const shared = new Map<number, Promise<WorkerPool>>();

/**
 * A pool of `threads` workers shared by every call that asks for that many (idle workers do not keep the process
 * alive). A pool whose worker died is replaced by a fresh one.
 */
export async function sharedPool(threads: number): Promise<WorkerPool> {
  const existing = shared.get(threads);
  if (existing) {
    const pool = await existing;
    if (!pool.failed) return pool;
    if (shared.get(threads) === existing) shared.delete(threads);
    void pool.close();
    return sharedPool(threads);
  }
  const p = WorkerPool.create(threads);
  shared.set(threads, p);
  p.catch(() => shared.delete(threads));
  return p;
}

/** Closes the shared pools (tests, or a host that wants its threads back). */
export async function closeSharedPools(): Promise<void> {
  const pools = [...shared.values()];
  shared.clear();
  for (const p of pools) await (await p).close();
}

/** Options that ask for parallel chunk coding. */
export interface ThreadOptions {
  /**
   * Threads to use: 1 (default) codes chunks in the calling thread; N > 1 keeps the calling thread for reading,
   * checksums and output and codes chunks in a shared pool of N - 1 workers. Output is identical for every N.
   */
  threads?: number;
  /** A pool to use instead of the shared one (overrides `threads`). */
  pool?: WorkerPool;
  /** Bytes of work below which `threads` codes in the calling thread (default POOL_MIN_BYTES; 0: always a pool). */
  minPoolBytes?: number;
}

/** @throws RangeError unless `options.threads` is absent or a positive integer, and `minPoolBytes` absent or a non-negative one */
export function checkThreads(options: ThreadOptions): void {
  const t = options.threads ?? 1;
  if (!Number.isSafeInteger(t) || t < 1) throw new RangeError(`threads ${t} must be a positive integer`);
  const m = options.minPoolBytes ?? 0;
  if (!Number.isSafeInteger(m) || m < 0) throw new RangeError(`minPoolBytes ${m} must be a non-negative integer`);
}

/**
 * Bytes of work below which `threads` starts no pool: starting one (a thread, its module graph and its WebAssembly
 * compile) costs more than it saves. On 2 cores, a 27.6 MB model of 412 F16 tensors decoded in 0.36 s in-thread and
 * 0.43 s with a worker, and compressed in 1.43 s and 1.6 s (docs/BENCHMARKS.md, small jobs).
 */
export const POOL_MIN_BYTES = 64 * 2 ** 20;

/**
 * The pool `options` ask for, or undefined for in-thread coding: also where workers cannot be started (no worker
 * API, a blocked script), and for jobs of fewer than `options.minPoolBytes` bytes (default POOL_MIN_BYTES) (an explicit `options.pool` is always used):
 * the output is the same either way.
 * @param workBytes the bytes the caller is about to code or decode (its file or member), when known
 */
export async function poolFor(options: ThreadOptions, workBytes = Infinity): Promise<WorkerPool | undefined> {
  checkThreads(options);
  if (options.pool) return options.pool;
  const t = options.threads ?? 1;
  if (t <= 1 || workBytes < (options.minPoolBytes ?? POOL_MIN_BYTES)) return undefined;
  // The calling thread has a thread's worth of work of its own with a pool (reads, SHA-256, copies into the output,
  // messages): N threads are that thread and N - 1 workers. Measured on 2 cores, decoding 271 MB (huffman, no
  // digests): in-thread 937 MB/s, 1 worker 1082 MB/s, 2 workers 897 MB/s (three busy threads on two cores).
  try {
    return await sharedPool(t - 1);
  } catch {
    return undefined;
  }
}
