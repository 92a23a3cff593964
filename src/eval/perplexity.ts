// Perplexity of a byte-level Llama model on a text: the text is cut into non-overlapping windows of `windowBytes`
// bytes (a last partial window is dropped); in each window bytes 1..T-1 are scored given the earlier bytes of the same
// window; the loss is the mean cross-entropy in nats per byte. Windows are spread over worker threads; each window's
// loss is computed whole by one thread and the sums are added in window order, so any thread count gives the same bits.

import { Worker } from 'node:worker_threads';
import { packModel, type PackedModel } from './packed-model.js';
import type { LlamaWeights } from './load-llama.js';
import { WindowForward } from './window-forward.js';
import type { EvalJob, EvalReply, EvalWorkerData } from './eval-protocol.js';

/**
 * The evaluator's worker entry, beside this file, named by a path that holds from dist/src/eval/ and from the command
 * line's single-file bundle in dist/src/cli/ alike (tools/bundle-cli.mjs).
 */
const EVAL_WORKER_FILE = '../eval/eval-worker.js';

/** Window length of the llama-tiny reference (its max_position_embeddings). */
export const DEFAULT_WINDOW_BYTES = 512;

/** Options of evaluatePerplexity. */
export interface PerplexityOptions {
  /** Threads that run windows (default 1: the calling thread); above 1, that many worker threads. */
  threads?: number;
  /** Bytes per window (default 512); at most the model's max_position_embeddings. */
  windowBytes?: number;
  /** Score only the first this many windows (default all). */
  maxWindows?: number;
}

/** What evaluatePerplexity measured. */
export interface PerplexityResult {
  /** Mean cross-entropy of the scored bytes, in nats. */
  natsPerByte: number;
  /** exp(natsPerByte): the perplexity per byte. */
  perplexity: number;
  /** windows · (windowBytes − 1). */
  bytesScored: number;
  windows: number;
  windowBytes: number;
}

function checkOptions(weights: LlamaWeights, text: Uint8Array, options: PerplexityOptions): { windows: number; windowBytes: number; threads: number } {
  const windowBytes = options.windowBytes ?? DEFAULT_WINDOW_BYTES;
  const threads = options.threads ?? 1;
  const maxPositions = weights.config.maxPositions;
  if (!Number.isSafeInteger(windowBytes) || windowBytes < 2) throw new RangeError(`windowBytes ${windowBytes} is not an integer of at least 2`);
  if (maxPositions !== undefined && windowBytes > maxPositions) throw new RangeError(`windows of ${windowBytes} bytes exceed the model's max_position_embeddings ${maxPositions}`);
  if (!Number.isSafeInteger(threads) || threads < 1) throw new RangeError(`threads ${threads} is not a positive integer`);
  let windows = Math.floor(text.length / windowBytes);
  if (options.maxWindows !== undefined) {
    if (!Number.isSafeInteger(options.maxWindows) || options.maxWindows < 1) throw new RangeError(`maxWindows ${options.maxWindows} is not a positive integer`);
    windows = Math.min(windows, options.maxWindows);
  }
  if (windows === 0) throw new RangeError(`a text of ${text.length} bytes holds no whole window of ${windowBytes} bytes`);
  return { windows, windowBytes, threads };
}

/** Each window's summed loss, computed in this thread. */
async function lossesHere(model: PackedModel, text: Uint8Array, windows: number, windowBytes: number): Promise<Float64Array> {
  const fwd = await WindowForward.create(model, windowBytes);
  const out = new Float64Array(windows);
  for (let w = 0; w < windows; w++) out[w] = fwd.score(text.subarray(w * windowBytes, (w + 1) * windowBytes));
  return out;
}

/** Each window's summed loss, computed by `threads` worker threads that take the next window as they finish one. */
async function lossesInWorkers(model: PackedModel, text: Uint8Array, windows: number, windowBytes: number, threads: number): Promise<Float64Array> {
  const shared = new Uint8Array(new SharedArrayBuffer(text.length));
  shared.set(text);
  const data: EvalWorkerData = { model, text: shared, windowBytes };
  const out = new Float64Array(windows);
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      const give = (wk: Worker): void => {
        if (next < windows) wk.postMessage({ window: next++ } satisfies EvalJob);
      };
      for (let i = 0; i < threads; i++) {
        const wk = new Worker(new URL(EVAL_WORKER_FILE, import.meta.url), { workerData: data });
        workers.push(wk);
        wk.on('message', (r: EvalReply) => {
          if ('error' in r) return reject(new Error(`evaluator worker: ${r.error}`));
          out[r.window] = r.loss;
          if (++done === windows) resolve();
          else give(wk);
        });
        wk.on('error', reject);
        wk.on('exit', (code) => {
          if (done < windows) reject(new Error(`evaluator worker exited with code ${code} before the last window`));
        });
        give(wk);
      }
    });
  } finally {
    await Promise.all(workers.map((wk) => wk.terminate()));
  }
  return out;
}

/**
 * Measures a model's loss on a text, as described at the top of this file.
 * @param weights a model from loadLlama
 * @param text the text's bytes (token = byte value)
 * @param options see PerplexityOptions
 * @returns the mean loss in nats per byte, the perplexity and the bytes scored
 * @throws RangeError for a text without a whole window, a window longer than the model's max_position_embeddings,
 *   or options out of range; Error when a worker thread fails or WebAssembly SIMD is unavailable
 */
export async function evaluatePerplexity(weights: LlamaWeights, text: Uint8Array, options: PerplexityOptions = {}): Promise<PerplexityResult> {
  const { windows, windowBytes, threads } = checkOptions(weights, text, options);
  const workers = Math.min(threads, windows);
  const model = packModel(weights, workers > 1);
  const losses = workers > 1 ? await lossesInWorkers(model, text, windows, windowBytes, workers) : await lossesHere(model, text, windows, windowBytes);
  let total = 0;
  for (let w = 0; w < windows; w++) total += losses[w];
  const bytesScored = windows * (windowBytes - 1);
  const natsPerByte = total / bytesScored;
  return { natsPerByte, perplexity: Math.exp(natsPerByte), bytesScored, windows, windowBytes };
}
