// Messages between evaluatePerplexity (src/eval/perplexity.ts) and its worker threads (src/eval/eval-worker.ts).

import type { PackedModel } from './packed-model.js';

/** What each worker starts with (its workerData): the model and the text, both in shared memory. */
export interface EvalWorkerData {
  model: PackedModel;
  text: Uint8Array;
  windowBytes: number;
}

/** Score window `window` (bytes window·windowBytes .. (window + 1)·windowBytes − 1 of the text). */
export interface EvalJob {
  window: number;
}

/** A window's summed loss in nats, or the message of the error that stopped the worker. */
export type EvalReply = { window: number; loss: number } | { error: string };
