// The chunks of a job, shared between the calling thread and a pool's workers and finished in submission order, so
// the output order (and hence every byte) is the same for any number of threads. Chunks go in runs (tasks) of about
// RUN_BYTES. Workers take the newest tasks that nobody has taken yet; the calling thread finishes the oldest, doing it
// itself when no worker took it, and while a worker's task at the head is not done it does the oldest task nobody has
// taken (runAhead) rather than wait. So N threads code with N - 1 workers and the calling thread, which codes whatever
// the workers leave it between its own work (reads, digests, messages), and a run it codes at its turn can go
// straight to where its output belongs.

import { IN_FLIGHT_PER_WORKER, type JobRequest, type OkReply, type WorkerPool } from './pool.js';

/**
 * Original bytes per task (a run of chunks of one segment): one message each way per run instead of per chunk. A
 * message costs each side about 35 us on 2 cores, coding a 256 KiB chunk 0.3-1.3 ms.
 */
export const RUN_BYTES = 1024 * 1024;

/** Chunks of `chunkBytes` original bytes per task: as many as fit in RUN_BYTES, at least one. */
export function chunksPerRun(chunkBytes: number): number {
  return Math.max(1, Math.floor(RUN_BYTES / chunkBytes));
}

/**
 * One task's work (a run of chunks), done once: by a worker (job, then finish), or by the calling thread at its turn
 * (runHere) or ahead of it (runAhead, then what that returns at its turn).
 */
export interface ChunkTask {
  /**
   * The job that does this task in a worker, and the buffers it transfers; built when a worker takes the task.
   * Absent for a step that only the calling thread can do (it then runs at its turn).
   */
  job?(): { request: JobRequest; transfer: ArrayBuffer[] } | Promise<{ request: JobRequest; transfer: ArrayBuffer[] }>;
  /** Finishes the task with a worker's reply, at its turn (after every older task is finished). */
  finish?(reply: OkReply): Promise<void> | void;
  /** Does and finishes the task in the calling thread, at its turn. */
  runHere(): Promise<void> | void;
  /**
   * Does the task in the calling thread before its turn, returning what finishes it at its turn (absent: the task
   * waits for its turn). An error it throws is reported at its turn.
   */
  runAhead?(): (() => Promise<void> | void) | Promise<() => Promise<void> | void>;
  /** The error to report for a failure of this task, wherever it was done (default: the error itself). */
  failure?(error: unknown): unknown;
}

interface Entry {
  task: ChunkTask;
  /** The worker's reply, once a worker took the task. */
  reply?: Promise<OkReply>;
  /** Whether `reply` has settled. */
  settled?: boolean;
  /** What finishes the task at its turn, once this thread has run it ahead. */
  ahead?: () => Promise<void> | void;
}

/** How many tasks a window holds and hands to workers. */
export interface WindowSize {
  /** Tasks held at most (taken or not): beyond this, push finishes the oldest first. */
  tasks: number;
  /** Tasks in flight per worker at most (default IN_FLIGHT_PER_WORKER). */
  perWorker?: number;
}

/**
 * Tasks held per thread by default: enough that the tasks workers took are done before the calling thread reaches
 * them (with fewer, the workers take every new task and the calling thread waits for them).
 */
const TASKS_PER_THREAD = 8;

/** The default size of a window over `pool`: TASKS_PER_THREAD per thread, the calling thread included. */
export function defaultWindowSize(pool: WorkerPool): WindowSize {
  return { tasks: TASKS_PER_THREAD * (pool.threads + 1) };
}

/** An ordered window of tasks over a pool. After an error it takes no more tasks. */
export class ChunkWindow {
  private entries: Entry[] = [];
  private failed = false;
  /** Tasks handed to workers whose job is still being built (their reads), not yet counted by the pool. */
  private reserved = 0;
  /** Tasks handed to workers whose reply has not come. */
  private inFlight = 0;
  private readonly perWorker: number;
  private readonly tasks: number;

  constructor(private readonly pool: WorkerPool, size: WindowSize = defaultWindowSize(pool)) {
    this.tasks = Math.max(1, size.tasks);
    this.perWorker = Math.max(1, size.perWorker ?? IN_FLIGHT_PER_WORKER);
  }

  /**
   * Adds a task; workers with room take the newest tasks; while more than `tasks` are held, finishes the oldest.
   * @throws the error of the first task (in submission order) that fails
   */
  async push(task: ChunkTask): Promise<void> {
    if (this.failed) throw new Error('internal: a task window was used after it failed');
    this.entries.push({ task });
    this.topUp();
    while (this.entries.length > this.tasks) await this.finishOldest();
  }

  /** Finishes every task, in order. @throws as push */
  async drain(): Promise<void> {
    while (this.entries.length > 0) await this.finishOldest();
  }

  /**
   * Lets the workers' replies in (each hands that worker another task) in a long stretch of work on the calling
   * thread; returns at once when no worker holds a task of this window.
   */
  async letWorkersIn(): Promise<void> {
    if (this.inFlight > 0) await nextMacrotask();
  }

  /** Gives up: no task is handed out or finished any more (replies still on their way are dropped). */
  abandon(): void {
    this.failed = true;
    this.entries = [];
  }

  /**
   * Hands untaken tasks to workers with room: the newest, leaving the oldest to the calling thread (never the head,
   * which it finishes next); or, where it codes nothing itself (WorkerPool.callerCodes), the oldest, in order.
   */
  private readonly topUp = (): void => {
    const room = (): boolean => !this.failed && this.pool.spare(this.perWorker) - this.reserved > 0;
    const n = this.entries.length;
    const share = this.pool.callerCodes;
    for (let i = share ? n - 1 : 0; (share ? i >= 1 : i < n) && room(); i += share ? -1 : 1) {
      const e = this.entries[i];
      if (!e.reply && !e.ahead && e.task.job) this.assign(e);
    }
  };

  private assign(e: Entry): void {
    this.reserved++;
    this.inFlight++;
    const reply = (async () => {
      let run: Promise<OkReply>;
      try {
        const { request, transfer } = await e.task.job!();
        run = this.pool.run(request, transfer);
      } finally {
        this.reserved--;
      }
      return run;
    })();
    e.reply = reply;
    // A failure is reported at the task's turn, not as an unhandled rejection now.
    reply.catch(() => {});
    const done = (): void => {
      e.settled = true;
      this.inFlight--;
      this.topUp();
    };
    reply.then(done, done);
  }

  private async finishOldest(): Promise<void> {
    const e = this.entries[0];
    // Where the calling thread codes nothing, the head waits until a worker has room for it (a pool that failed
    // takes it, to reject it with its error).
    while (!this.pool.callerCodes && !e.reply && e.task.job && !this.failed) {
      this.topUp();
      if (e.reply) break;
      if (this.pool.failed) this.assign(e);
      else await this.pool.roomOrFailure();
    }
    try {
      if (e.ahead) {
        this.entries.shift();
        await e.ahead();
      } else if (e.reply) {
        // Rather than wait for the worker, this thread does the oldest tasks nobody has taken.
        while (!e.settled && (await this.runOneAhead()));
        const r = await e.reply;
        this.entries.shift();
        await e.task.finish!(r);
      } else {
        this.entries.shift();
        await e.task.runHere();
        // Replies that came meanwhile are handled now, so their workers get new tasks before this thread takes one.
        await this.letWorkersIn();
      }
    } catch (err) {
      this.abandon();
      throw e.task.failure ? e.task.failure(err) : err;
    }
  }

  /** Runs the oldest task nobody has taken ahead of its turn; false when there is none that can run ahead. */
  private async runOneAhead(): Promise<boolean> {
    if (!this.pool.callerCodes) return false;
    const next = this.entries.find((x, k) => k > 0 && !x.reply && !x.ahead && x.task.runAhead);
    if (!next) return false;
    // Marked first: no worker may take it while it runs.
    next.ahead = () => {};
    try {
      next.ahead = await next.task.runAhead!();
    } catch (err) {
      next.ahead = () => {
        throw err;
      };
    }
    await this.letWorkersIn();
    return true;
  }
}

/** Resolves after the event loop has run its pending events (worker messages among them), not just microtasks. */
function nextMacrotask(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(undefined);
  });
}
