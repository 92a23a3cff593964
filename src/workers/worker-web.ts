// Worker entry for browsers (a module Web Worker): runs jobs from the pool and posts the replies, transferring output bytes.

import { runJobInOrder } from './worker-core.js';
import { replyTransfers, WORKER_READY, type Job } from './protocol.js';

interface WorkerScope {
  onmessage: ((e: MessageEvent<Job>) => void) | null;
  postMessage(message: unknown, transfer?: Transferable[]): void;
}

const scope = globalThis as unknown as WorkerScope;
scope.onmessage = (e) => {
  void runJobInOrder(e.data).then((reply) => scope.postMessage(reply, replyTransfers(reply)));
};
scope.postMessage(WORKER_READY);
