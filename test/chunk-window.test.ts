// The task window over a pool (src/workers/chunk-window.ts), against a scripted pool whose replies come when the test
// says: tasks finish in submission order whatever order replies come in; workers take the newest tasks and the
// calling thread the oldest; while a worker's task at the head is pending the calling thread runs later tasks ahead,
// whose errors are reported at their turn; with `callerCodes: false` every task goes to a worker; after an error the
// window takes and hands out nothing more.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChunkWindow, type ChunkTask } from '../src/workers/chunk-window.js';
import type { JobRequest, OkReply, WorkerPool } from '../src/workers/pool.js';

/** A pool of one worker whose jobs end when the test calls reply(id). */
class ScriptedPool {
  readonly threads = 1;
  failed = false;
  busy = 0;
  peak = 0;
  private jobs = new Map<number, { resolve: (r: OkReply) => void; reject: (e: Error) => void }>();
  private rooms: (() => void)[] = [];

  constructor(readonly callerCodes = true) {}

  spare(perWorker: number): number {
    return this.failed ? 0 : Math.max(0, perWorker - this.busy);
  }

  run(request: JobRequest): Promise<OkReply> {
    const id = Number((request as { key: string }).key);
    this.busy++;
    this.peak = Math.max(this.peak, this.busy);
    return new Promise<OkReply>((resolve, reject) => this.jobs.set(id, { resolve, reject }));
  }

  roomOrFailure(): Promise<void> {
    return new Promise((resolve) => this.rooms.push(resolve));
  }

  /** Ends task `id`'s job: with a reply, or with `error`. */
  reply(id: number, error?: Error): void {
    const job = this.jobs.get(id);
    assert.ok(job, `task ${id} is not with the worker`);
    this.jobs.delete(id);
    this.busy--;
    if (error) job.reject(error);
    else job.resolve({ id, ok: true, kind: 'hash', digest: undefined, buffer: new ArrayBuffer(0) });
    for (const wake of this.rooms.splice(0)) wake();
  }

  holds(): number[] {
    return [...this.jobs.keys()].sort((a, b) => a - b);
  }
}

/** Task `id`, logging what happens to it into `log`; `fails` makes it throw wherever it runs. */
function task(id: number, log: string[], fails?: Error): ChunkTask {
  return {
    job: () => {
      log.push(`worker ${id}`);
      return { request: { kind: 'hash', key: String(id), bytes: new Uint8Array(0), final: false }, transfer: [] };
    },
    finish: () => {
      log.push(`finish ${id}`);
    },
    runHere: () => {
      log.push(`here ${id}`);
      if (fails) throw fails;
    },
    runAhead: () => {
      log.push(`ahead ${id}`);
      if (fails) throw fails;
      return () => {
        log.push(`finish ${id}`);
      };
    },
    failure: (e) => new Error(`task ${id}: ${(e as Error).message}`),
  };
}

/** Lets pending events and the window's steps run. */
async function tick(): Promise<void> {
  for (let k = 0; k < 8; k++) await new Promise((resolve) => setImmediate(resolve));
}

const finishes = (log: string[]): number[] => log.filter((l) => l.startsWith('finish')).map((l) => Number(l.split(' ')[1]));

describe('task window', () => {
  test('workers take the newest tasks, the calling thread the oldest; tasks finish in submission order', async () => {
    const pool = new ScriptedPool();
    const window = new ChunkWindow(pool as unknown as WorkerPool, { tasks: 8, perWorker: 2 });
    const log: string[] = [];
    for (let k = 0; k < 6; k++) await window.push(task(k, log));
    await tick();
    // The head (0) is never handed out; tasks 1 and 2 went to the worker as they came, then it had no room.
    assert.deepEqual(pool.holds(), [1, 2]);
    const drained = window.drain();
    await tick();
    // Task 0 ran here; while task 1 is pending, the oldest tasks nobody took ran ahead.
    assert.deepEqual(log.filter((l) => !l.startsWith('worker')), ['here 0', 'ahead 3', 'ahead 4', 'ahead 5']);
    pool.reply(2);
    await tick();
    pool.reply(1);
    await drained;
    assert.deepEqual(finishes(log), [1, 2, 3, 4, 5], 'task 0 ran at its turn');
    assert.ok(pool.peak <= 2, `peak ${pool.peak}`);
  });

  test('a task that fails ahead of its turn fails at its turn, after the tasks before it; then the window takes nothing', async () => {
    const pool = new ScriptedPool();
    const window = new ChunkWindow(pool as unknown as WorkerPool, { tasks: 8, perWorker: 1 });
    const log: string[] = [];
    await window.push(task(0, log));
    await window.push(task(1, log));
    await window.push(task(2, log, new Error('corrupt')));
    await window.push(task(3, log));
    const drained = window.drain();
    await tick();
    assert.ok(log.includes('ahead 2') && log.includes('ahead 3'), log.join(', '));
    assert.ok(!log.includes('finish 1'), 'nothing is finished before its turn');
    pool.reply(1);
    await assert.rejects(drained, /task 2: corrupt/);
    assert.deepEqual(finishes(log), [1], 'task 1 finished before task 2 failed; task 3 never');
    await assert.rejects(window.push(task(4, log)), /after it failed/);
    assert.deepEqual(pool.holds(), []);
  });

  test("a worker's failure is reported at its task's turn, through the task's failure()", async () => {
    const pool = new ScriptedPool();
    const window = new ChunkWindow(pool as unknown as WorkerPool, { tasks: 2, perWorker: 1 });
    const log: string[] = [];
    await window.push(task(0, log));
    await window.push(task(1, log));
    pool.reply(1, new Error('worker died'));
    await window.push(task(2, log)); // finishes task 0 here to make room
    await assert.rejects(window.drain(), /task 1: worker died/);
    assert.deepEqual(log.filter((l) => l.startsWith('here')), ['here 0']);
  });

  test('with callerCodes false every task goes to a worker, oldest first, the head waiting for room', async () => {
    const pool = new ScriptedPool(false);
    const window = new ChunkWindow(pool as unknown as WorkerPool, { tasks: 3, perWorker: 1 });
    const log: string[] = [];
    for (let k = 0; k < 3; k++) await window.push(task(k, log));
    const drained = window.drain();
    for (let k = 0; k < 3; k++) {
      await tick();
      assert.deepEqual(pool.holds(), [k]);
      pool.reply(k);
    }
    await drained;
    assert.deepEqual(finishes(log), [0, 1, 2]);
    assert.ok(!log.some((l) => l.startsWith('here') || l.startsWith('ahead')), log.join(', '));
  });

  test('a step without a job runs in the calling thread at its turn', async () => {
    const pool = new ScriptedPool(false);
    const window = new ChunkWindow(pool as unknown as WorkerPool, { tasks: 4 });
    const log: string[] = [];
    await window.push(task(0, log));
    await window.push({ runHere: () => void log.push('step') });
    const drained = window.drain();
    await tick();
    assert.ok(!log.includes('step'), 'the step waits for task 0');
    pool.reply(0);
    await drained;
    assert.deepEqual(log, ['worker 0', 'finish 0', 'step']);
  });
});
