// A pool of workers that code chunks in parallel. Callers hand chunks to it through a ChunkWindow, which takes results
// in submission order, so output order and bytes never depend on the thread count; a worker holds at most a few
// chunks at a time (ChunkWindow's `perWorker`), which bounds memory whatever the file size.

import { fromWire, type WireError } from '../errors.js';
import { MAX_CACHED_CODERS, type DecodeCoder, type EncodeCoder, type Job, type PlainError, type Reply } from './protocol.js';
import { spawnWorker, type WorkerHandle } from './spawn-worker.js';

/**
 * Jobs (runs of chunks) in flight per worker by default: one being coded and two queued. The calling thread hands out
 * new jobs only between its own runs (each about a millisecond), and with one queued a worker would wait for it.
 */
export const IN_FLIGHT_PER_WORKER = 3;

/** A successful reply. */
export type OkReply = Extract<Reply, { ok: true }>;

/** A job before the pool numbers it, with its coder (the pool sends the coder only to a worker that lacks it). */
export type JobRequest =
  | (Omit<Extract<Job, { kind: 'encode' }>, 'id' | 'coder'> & { coder: EncodeCoder })
  | (Omit<Extract<Job, { kind: 'decode' }>, 'id' | 'coder'> & { coder: DecodeCoder })
  | Omit<Extract<Job, { kind: 'hash' }>, 'id'>;

interface Slot {
  handle: WorkerHandle;
  /** Jobs in flight. */
  busy: number;
  /** Coding jobs (runs of chunks) among them: what spare() counts (a hash job is short, and one stream's jobs go to one worker). */
  coding: number;
  /** The worker's prepared coders, oldest first, as it keeps them (worker-core.ts). */
  coders: string[];
}

/** Options of WorkerPool.create. */
export interface WorkerPoolOptions {
  /**
   * Whether a thread that codes with this pool also codes chunks itself, those the workers leave it (default true:
   * `threads: N` means N threads coding). false: every chunk goes to a worker, and the calling thread only reads,
   * hands out and writes (a browser's main thread that must stay responsive, say). The output is the same.
   */
  callerCodes?: boolean;
}

/** Worker pool; create with WorkerPool.create, end with close(). */
export class WorkerPool {
  private slots: Slot[] = [];
  private pending = new Map<number, { resolve: (r: OkReply) => void; reject: (e: Error) => void; slot: Slot; coding: boolean }>();
  private nextId = 1;
  private failure: Error | undefined;
  private roomWaiters: (() => void)[] = [];

  private constructor(
    readonly threads: number,
    /** Whether the calling thread codes chunks too (WorkerPoolOptions.callerCodes). */
    readonly callerCodes: boolean,
  ) {}

  /**
   * Starts `threads` workers.
   * @throws RangeError for a thread count that is not a positive integer; Error where workers cannot start
   */
  static async create(threads: number, options: WorkerPoolOptions = {}): Promise<WorkerPool> {
    if (!Number.isSafeInteger(threads) || threads < 1) throw new RangeError(`threads ${threads} must be a positive integer`);
    const pool = new WorkerPool(threads, options.callerCodes !== false);
    const started = await Promise.allSettled(Array.from({ length: threads }, () => spawnWorker((r) => pool.settle(r), (e) => pool.fail(e))));
    for (const s of started) if (s.status === 'fulfilled') pool.slots.push({ handle: s.value, busy: 0, coding: 0, coders: [] });
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

  /** Jobs in flight at most when every window that uses this pool keeps the default IN_FLIGHT_PER_WORKER per worker. */
  get maxInFlight(): number {
    return this.threads * IN_FLIGHT_PER_WORKER;
  }

  /** Coding jobs that can be started now with at most `perWorker` in flight on any worker (0 once a worker has died). */
  spare(perWorker: number): number {
    if (this.failure) return 0;
    let n = 0;
    for (const s of this.slots) n += Math.max(0, perWorker - s.coding);
    return n;
  }

  /**
   * Runs a job on the least busy worker, or on worker `worker` (jobs on one worker run in the order they are posted);
   * a coding job carries its coder only when that worker does not hold it already. Rejects with the worker's error
   * (rebuilt from its wire form).
   */
  run(request: JobRequest, transfer: ArrayBuffer[], worker?: number): Promise<OkReply> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const slot = worker !== undefined ? this.slots[worker % this.slots.length] : this.slots.reduce((a, b) => (b.coding < a.coding ? b : a));
    let job: Job;
    if (request.kind === 'hash') job = { ...request, id };
    else {
      // Keys are unique per segment within a kind; the worker's list and this copy change together, message by message.
      const key = `${request.kind}:${request.key}`;
      const held = slot.coders.includes(key);
      if (!held) {
        slot.coders.push(key);
        if (slot.coders.length > MAX_CACHED_CODERS) slot.coders.shift();
      }
      job = { ...request, key, coder: held ? undefined : request.coder, id } as Job;
    }
    const coding = request.kind !== 'hash';
    return new Promise<OkReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, slot, coding });
      if (slot.busy++ === 0) slot.handle.setIdle(false);
      if (coding) slot.coding++;
      slot.handle.post(job, transfer);
    });
  }

  /** Resolves when a job ends (a worker has room again) or the pool fails. */
  roomOrFailure(): Promise<void> {
    if (this.failure) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private settle(r: Reply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (--p.slot.busy === 0) p.slot.handle.setIdle(true);
    if (p.coding) p.slot.coding--;
    if (r.ok) p.resolve(r);
    else p.reject(errorFromWire(r.error));
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  /** A worker died: every outstanding and later job fails with its error. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
    for (const wake of this.roomWaiters.splice(0)) wake();
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    this.failure ??= new Error('worker pool closed');
    await Promise.all(this.slots.map((s) => s.handle.terminate()));
    this.slots = [];
  }
}

/** A worker's error rebuilt from its wire form: a WcodecError with its code and offset, or a plain Error, RangeError or TypeError. */
export function errorFromWire(e: WireError | PlainError): Error {
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
   * Threads to use: 1 (default) codes chunks in the calling thread; N > 1 codes them in the calling thread and a
   * shared pool of N - 1 workers, the calling thread coding what the workers leave it besides its reads, checksums and
   * output (ChunkWindow). Output is identical for every N.
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
 * compile, about 50 ms) costs more than it saves, and even a pool already started does not pay on small files of
 * many tensors (each segment's coder is built in every thread that codes it). On 2 cores, the 4.9 MB llama-tiny shard
 * decoded in 10.9 ms in-thread and 13.9 ms with a started worker sharing the work (docs/BENCHMARKS.md, threads).
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
  // N threads are the calling thread and N - 1 workers: the calling thread codes the chunks the workers leave it
  // (ChunkWindow), so a worker per core beside it would only make the threads take turns.
  try {
    return await sharedPool(t - 1);
  } catch {
    return undefined;
  }
}
