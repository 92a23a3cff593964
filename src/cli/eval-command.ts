// `wcodec eval` (docs/CLI.md, "eval"): the loss of a byte-level Llama model on a text, in nats per byte, and its
// perplexity, as src/eval/perplexity.ts measures it; with --variant, under one of the reference lossy variants.

import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { parseArgs as parseNodeArgs } from 'node:util';
import { IoError, WcodecError } from '../errors.js';
import { LOSSY_VARIANTS, type LossyVariant } from '../lossy/reference-quantizers.js';
import { loadLlama } from '../eval/load-llama.js';
import { DEFAULT_WINDOW_BYTES, evaluatePerplexity } from '../eval/perplexity.js';
import { MAX_THREADS } from './args.js';
import { printable } from './printable.js';

/** `wcodec eval --help` (at most 80 columns). */
export const EVAL_HELP = `usage: wcodec eval MODEL --text FILE [OPTIONS]

Measures the loss of a byte-level Llama model (Hugging Face LlamaForCausalLM,
token = byte value) on a text: the text is cut into windows of 512 bytes (a
last partial window is dropped), and in each window bytes 1..511 are scored
given the bytes before them in the window. Prints the mean cross-entropy in
nats per byte and the perplexity (e to that power). Computes in float32.

MODEL is a model folder (config.json and .safetensors shards), a .safetensors
file with config.json beside it, or a .wcodec container of either.

      --text FILE          the text to score (required)
      --variant NAME       first apply a reference lossy variant to every 2-D
                           weight: int8_per_row_rtn, int4_g128_rtn,
                           fp8_e4m3_per_tensor or prune30_magnitude
      --windows N          score only the first N windows
      --window-bytes N     bytes per window (default 512; at most the model's
                           max_position_embeddings)
  -t, --threads N          threads (default: all cores); any N gives the same
                           result
      --json               one JSON object on standard output (docs/CLI.md)
  -h, --help               this text

Exit codes: 0 success; 1 usage error, or a file that cannot be read; 2 a model
that is malformed or not supported (UNSUPPORTED_MODEL: another model_type,
rope_scaling, biases, a vocabulary other than 256 bytes, ...).`;

const EXIT_OK = 0;
const EXIT_USAGE = 1;
const EXIT_DATA = 2;

const OPTIONS = {
  text: { type: 'string' },
  variant: { type: 'string' },
  windows: { type: 'string' },
  'window-bytes': { type: 'string' },
  threads: { type: 'string', short: 't' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class EvalUsageError extends Error {}

function positiveInt(text: string | undefined, name: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new EvalUsageError(`${name} must be an integer from 1 to ${max}, not '${text}'`);
  return n;
}

/**
 * Runs `wcodec eval` with the arguments after the word `eval`; prints the result or the error.
 * @returns the exit status
 */
export async function runEval(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const head = { ok: true, command: 'eval', code: null as string | null, message: null as string | null, file: null as string | null, offset: null as number | null };
  try {
    let parsed;
    try {
      parsed = parseNodeArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    } catch (e) {
      throw new EvalUsageError((e as Error).message.split('\n')[0]);
    }
    const v = parsed.values;
    if (v.help) {
      process.stdout.write(EVAL_HELP + '\n');
      return EXIT_OK;
    }
    if (parsed.positionals.length !== 1) throw new EvalUsageError(`eval takes one MODEL, not ${parsed.positionals.length}`);
    if (v.text === undefined) throw new EvalUsageError('--text FILE is required');
    if (v.variant !== undefined && !(LOSSY_VARIANTS as readonly string[]).includes(v.variant)) {
      throw new EvalUsageError(`--variant must be one of ${LOSSY_VARIANTS.join(', ')}, not '${v.variant}'`);
    }
    const model = parsed.positionals[0];
    head.file = model;
    const threads = positiveInt(v.threads, '--threads', MAX_THREADS) ?? availableParallelism();
    const maxWindows = positiveInt(v.windows, '--windows', Number.MAX_SAFE_INTEGER);
    const windowBytes = positiveInt(v['window-bytes'], '--window-bytes', 1 << 20) ?? DEFAULT_WINDOW_BYTES;
    if (windowBytes < 2) throw new EvalUsageError('--window-bytes must be at least 2');
    let text: Uint8Array;
    try {
      text = await readFile(v.text);
    } catch (e) {
      throw new IoError('IO_ERROR', `cannot read the text: ${(e as Error).message}`, { file: v.text, cause: e });
    }
    if (text.length < windowBytes) throw new EvalUsageError(`the text ${v.text} has ${text.length} bytes, fewer than one window of ${windowBytes}`);
    const t0 = performance.now();
    const weights = await loadLlama(model, { variant: v.variant as LossyVariant | undefined });
    const r = await evaluatePerplexity(weights, text, { threads, windowBytes, maxWindows });
    const seconds = (performance.now() - t0) / 1000;
    if (json) {
      const out = {
        ...head,
        model,
        text: v.text,
        variant: v.variant ?? null,
        nats_per_byte: r.natsPerByte,
        bits_per_byte: r.natsPerByte / Math.LN2,
        perplexity: r.perplexity,
        bytes_scored: r.bytesScored,
        windows: r.windows,
        window_bytes: r.windowBytes,
        threads,
        seconds,
      };
      process.stdout.write(JSON.stringify(out) + '\n');
    } else {
      const variant = v.variant !== undefined ? ` (${v.variant})` : '';
      process.stdout.write(
        `${printable(model)}${variant} on ${printable(v.text)}: ${r.natsPerByte.toFixed(6)} nats/byte, perplexity ${r.perplexity.toFixed(4)}\n` +
          `  ${r.bytesScored} bytes scored in ${r.windows} windows of ${r.windowBytes} bytes; ${seconds.toFixed(1)} s, ${threads} thread(s)\n`,
      );
    }
    return EXIT_OK;
  } catch (e) {
    if (e instanceof EvalUsageError) {
      if (json) process.stdout.write(JSON.stringify({ ...head, ok: false, code: 'USAGE', message: e.message }) + '\n');
      process.stderr.write(`wcodec: ${printable(e.message)} (see 'wcodec eval --help')\n`);
      return EXIT_USAGE;
    }
    if (e instanceof WcodecError) {
      if (json) process.stdout.write(JSON.stringify({ ...head, ok: false, code: e.code, message: e.message, file: e.file ?? head.file, offset: e.offset ?? null }) + '\n');
      process.stderr.write(`wcodec: ${printable(e.message)}\n`);
      return e instanceof IoError ? EXIT_USAGE : EXIT_DATA;
    }
    if (e instanceof RangeError) {
      // Options the model refuses (a window longer than its max_position_embeddings): a usage error.
      if (json) process.stdout.write(JSON.stringify({ ...head, ok: false, code: 'USAGE', message: e.message }) + '\n');
      process.stderr.write(`wcodec: ${printable(e.message)} (see 'wcodec eval --help')\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
}
