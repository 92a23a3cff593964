// Starts one worker running this package's worker entry: worker_threads under Node, a module Web Worker in
// browsers. Both are wrapped in the same small handle so the pool does not care which it has.
// Nothing here imports a node: module: Node's Worker class comes from process.getBuiltinModule, so a browser
// bundle of this file (and of the public entry) needs no Node built-in and no bundler configuration.

import { WORKER_READY, type Job, type Reply } from './protocol.js';

/** One started worker. */
export interface WorkerHandle {
  post(job: Job, transfer: ArrayBuffer[]): void;
  /** Lets the process exit while this worker is idle (Node; no-op in browsers). */
  setIdle(idle: boolean): void;
  terminate(): Promise<void>;
}

/** Young-generation size of a Node worker's heap, in MB. */
const WORKER_YOUNG_GENERATION_MB = 16;

/**
 * The Node worker entry, beside this file, named by a path that holds from dist/src/workers/ and from the command
 * line's single-file bundle in dist/src/cli/ alike (tools/bundle-cli.mjs). A name rather than a literal inside
 * `new URL(…)`, and webpackIgnore: bundlers treat `new URL('literal', import.meta.url)` as an asset to emit (webpack
 * any expression there, with a warning), and a browser bundle has no use for the Node worker.
 */
const NODE_WORKER_FILE = '../workers/worker-node.js';

type NodeWorkerThreads = typeof import('node:worker_threads');

/** Node's worker_threads module, or undefined outside Node. */
function nodeWorkerThreads(): NodeWorkerThreads | undefined {
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string') return undefined;
  return process.getBuiltinModule('node:worker_threads');
}

/**
 * Starts a worker and resolves once its script has loaded (the worker's WORKER_READY message); replies, and later
 * failures as reply-less errors, go to the callbacks.
 * @throws Error where there is no worker API, or where the worker's script does not load (a bundle that lacks it,
 *   a Content-Security-Policy that blocks it)
 */
export async function spawnWorker(onReply: (r: Reply) => void, onError: (e: Error) => void): Promise<WorkerHandle> {
  const threads = nodeWorkerThreads();
  return threads ? spawnNodeWorker(threads, onReply, onError) : spawnWebWorker(onReply, onError);
}

async function spawnNodeWorker(threads: NodeWorkerThreads, onReply: (r: Reply) => void, onError: (e: Error) => void): Promise<WorkerHandle> {
  // A bounded young generation keeps each worker's garbage, and so the process's peak RSS, down (a 2 GB file through a
  // pool of 2 went over 300 MB without it); 4 MB made every job pay for scavenges and halved a worker's throughput.
  const w = new threads.Worker(new URL(/* webpackIgnore: true */ NODE_WORKER_FILE, import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB } });
  let starting: { resolve: () => void; reject: (e: Error) => void } | undefined;
  const ready = new Promise<void>((resolve, reject) => (starting = { resolve, reject }));
  const fail = (e: Error): void => {
    if (starting) starting.reject(e);
    else onError(e);
    starting = undefined;
  };
  w.on('message', (m: Reply | typeof WORKER_READY) => {
    if (m !== WORKER_READY) onReply(m);
    else if (starting) {
      starting.resolve();
      starting = undefined;
    }
  });
  w.on('error', fail);
  w.on('exit', (code) => {
    if (code !== 0) fail(new Error(`worker exited with code ${code}`));
  });
  await ready;
  return {
    post: (job, transfer) => w.postMessage(job, transfer),
    setIdle: (idle) => (idle ? w.unref() : w.ref()),
    terminate: async () => {
      // Until its 'exit' event resolves terminate(), something must keep the event loop alive, or a caller awaiting
      // it ends with "Promise resolution is still pending". w.ref() alone does not: once the thread is told to stop,
      // Node 20 can leave no referenced handle (about 1 run in 3 after a pool of one worker reported errors), so a
      // timer holds the loop until the exit comes.
      w.ref();
      const hold = setInterval(() => {}, 1000);
      try {
        await w.terminate();
      } finally {
        clearInterval(hold);
      }
    },
  };
}

async function spawnWebWorker(onReply: (r: Reply) => void, onError: (e: Error) => void): Promise<WorkerHandle> {
  if (typeof Worker === 'undefined') throw new Error('no worker API in this environment');
  // Written out literally: `new Worker(new URL('./worker-web.js', import.meta.url), { type: 'module' })` is the form
  // that bundlers (Vite, webpack, Parcel) follow, emitting the worker and its imports as a chunk of their own.
  const w = new Worker(new URL('./worker-web.js', import.meta.url), { type: 'module' });
  await new Promise<void>((resolve, reject) => {
    w.onmessage = () => resolve();
    w.onerror = (e) => {
      e.preventDefault();
      w.terminate();
      reject(new Error(`the worker script worker-web.js (relative to ${import.meta.url}) did not load${e.message ? `: ${e.message}` : ''}`));
    };
  });
  w.onmessage = (e: MessageEvent<Reply>) => onReply(e.data);
  w.onerror = (e) => {
    e.preventDefault();
    onError(new Error(`worker failed: ${e.message || 'no message (the browser console has the details)'}`));
  };
  return {
    post: (job, transfer) => w.postMessage(job, transfer),
    setIdle: () => {},
    terminate: async () => w.terminate(),
  };
}
