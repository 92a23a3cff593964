// Starts one worker running this package's worker entry: worker_threads under Node, a module Web Worker in
// browsers. Both are wrapped in the same small handle so the pool does not care which it has.

import type { Job, Reply } from './protocol.js';

/** One started worker. */
export interface WorkerHandle {
  post(job: Job, transfer: ArrayBuffer[]): void;
  /** Lets the process exit while this worker is idle (Node; no-op in browsers). */
  setIdle(idle: boolean): void;
  terminate(): Promise<void>;
}

/** Young-generation size of a Node worker's heap, in MB. */
const WORKER_YOUNG_GENERATION_MB = 16;

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * Starts a worker whose replies (and failures, as a reply-less error) go to the callbacks.
 * @throws Error where no worker API exists
 */
export async function spawnWorker(onReply: (r: Reply) => void, onError: (e: Error) => void): Promise<WorkerHandle> {
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    // A bounded young generation keeps each worker's garbage, and so the process's peak RSS, down (a 2 GB file through a
    // pool of 2 went over 300 MB without it); 4 MB made every job pay for scavenges and halved a worker's throughput.
    const w = new Worker(new URL('./worker-node.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
    w.on('message', onReply);
    w.on('error', onError);
    w.on('exit', (code) => {
      if (code !== 0) onError(new Error(`worker exited with code ${code}`));
    });
    return {
      post: (job, transfer) => w.postMessage(job, transfer),
      setIdle: (idle) => (idle ? w.unref() : w.ref()),
      terminate: async () => {
        // An idle worker is unref'd; ref it first, or nothing keeps the event loop alive until its exit resolves
        // terminate() (a test awaiting it then ends with "Promise resolution is still pending").
        w.ref();
        await w.terminate();
      },
    };
  }
  if (typeof Worker === 'undefined') throw new Error('no worker API in this environment');
  const w = new Worker(new URL('./worker-web.js', import.meta.url), { type: 'module' });
  w.onmessage = (e: MessageEvent<Reply>) => onReply(e.data);
  w.onerror = (e) => onError(new Error(e.message));
  return {
    post: (job, transfer) => w.postMessage(job, transfer),
    setIdle: () => {},
    terminate: async () => w.terminate(),
  };
}
