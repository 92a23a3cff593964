// Worker entry for Node (worker_threads): runs jobs from the pool and posts the replies, transferring output bytes.

import '../io/node-sha256.js';
import { parentPort } from 'node:worker_threads';
import { runJobInOrder } from './worker-core.js';
import { replyTransfers, WORKER_READY, type Job } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('worker-node.js runs only as a worker thread');
port.on('message', (job: Job) => {
  void runJobInOrder(job).then((reply) => port.postMessage(reply, replyTransfers(reply)));
});
port.postMessage(WORKER_READY);
