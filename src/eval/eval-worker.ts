// Worker thread of the perplexity evaluator (started by src/eval/perplexity.ts): loads the kernels and the model once,
// then scores each window it is sent and replies with its summed loss.

import { parentPort, workerData } from 'node:worker_threads';
import { WindowForward } from './window-forward.js';
import type { EvalJob, EvalReply, EvalWorkerData } from './eval-protocol.js';

const data = workerData as EvalWorkerData;
const port = parentPort!;
const ready = WindowForward.create(data.model, data.windowBytes);

port.on('message', (job: EvalJob) => {
  ready
    .then((fwd) => {
      const from = job.window * data.windowBytes;
      port.postMessage({ window: job.window, loss: fwd.score(data.text.subarray(from, from + data.windowBytes)) } satisfies EvalReply);
    })
    .catch((e: unknown) => port.postMessage({ error: String((e as Error)?.stack ?? e) } satisfies EvalReply));
});
