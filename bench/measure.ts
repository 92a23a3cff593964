// One measurement of the benchmark, run in a child process of its own so that its peak RSS belongs to one codec on
// one input at one thread count: load the input, warm up, then time N encodes and N decodes, checking every decode.

import { codecRegistry, compareMembers, type BenchCodec, type Member } from './codecs.js';
import { leadingSlice, loadMembers, totalBytes, type BenchInput } from './inputs.js';

/** What the parent asks of a child (passed as one JSON argument). */
export interface MeasureRequest {
  input: BenchInput;
  codec: string;
  threads: number;
  runs: number;
  warmup: number;
  /** For 'slow' codecs: the ratio is measured on at most this many leading bytes (the whole input when smaller). */
  slowRatioBytes: number;
  /** For 'slow' codecs: throughput is timed on at most this many leading bytes. */
  slowTimingBytes: number;
}

/** Median, minimum and maximum of the timed runs, in MB/s of original bytes (10^6 bytes per second). */
export interface Throughput {
  median: number;
  min: number;
  max: number;
  /** Every run, in order. */
  runs: number[];
  /** Original bytes each run processed (a leading slice for 'slow' codecs on large inputs). */
  bytes: number;
  /** Times the input was coded back to back in one run (each figure is their mean). */
  reps: number;
}

/** What a child reports. */
export interface MeasureResult {
  codec: string;
  threads: number;
  originalBytes: number;
  /** Compressed size of the bytes the ratio was measured on. */
  compressedBytes: number;
  /** Original bytes the ratio was measured on (less than originalBytes when sliced). */
  ratioBytes: number;
  ratio: number;
  encode: Throughput;
  decode: Throughput;
  /** Every decode (warm-up, ratio and timed runs) gave back the input. */
  checkedDecodes: number;
  /** RSS after loading the input, before any codec work, and the process's peak RSS, in MB. */
  baseRssMB: number;
  peakRssMB: number;
  /** Set (by the suite) when a step could not use the threads asked for and ran on one: the reason. */
  encodeSingleThread?: string;
  decodeSingleThread?: string;
}

const nowSeconds = (): number => Number(process.hrtime.bigint()) / 1e9;

/** A timed run lasts at least this long: shorter ones are dominated by timer and scheduling noise. */
const MIN_RUN_SECONDS = 0.25;
/** Repetitions per run at most (a codec on an empty input would otherwise ask for millions). */
const MAX_REPS = 1000;

/** Repetitions that make a run of `seconds` per repetition last MIN_RUN_SECONDS. */
const repsFor = (seconds: number): number => Math.min(MAX_REPS, Math.max(1, Math.ceil(MIN_RUN_SECONDS / Math.max(seconds, 1e-9))));

function summarize(seconds: number[], bytes: number): Omit<Throughput, 'reps'> {
  const runs = seconds.map((s) => bytes / 1e6 / s);
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median, min: sorted[0], max: sorted[sorted.length - 1], runs, bytes };
}

/** Runs the request in this process. @throws Error when a decode does not give back its input */
export async function measure(req: MeasureRequest): Promise<MeasureResult> {
  const codec: BenchCodec | undefined = codecRegistry().find((c) => c.id === req.codec);
  if (!codec) throw new Error(`unknown codec '${req.codec}'`);
  const members = await loadMembers(req.input);
  const originalBytes = totalBytes(members);
  const baseRssMB = process.memoryUsage().rss / 1e6;
  const ref = req.input.reference;
  const reference = ref ? await loadMembers({ name: ref.name, path: ref.path, kind: ref.kind, origin: 'argument' }) : undefined;
  const ctx = { threads: req.threads, kind: req.input.kind, reference };
  const check = codec.check ?? compareMembers;
  let checkedDecodes = 0;
  // A timed run codes the input `reps` times back to back and reports the mean, so that a run of a fast codec on a
  // small input (zstd -3 on 1 MB: about a millisecond) lasts long enough to time well; reps come from the warm-up.
  let encReps = 1;
  let decReps = 1;
  const timeReps = async <T>(reps: number, f: () => Promise<T>): Promise<{ last: T; seconds: number }> => {
    const t = nowSeconds();
    let last = await f();
    for (let k = 1; k < reps; k++) last = await f();
    return { last, seconds: (nowSeconds() - t) / reps };
  };
  const roundTrip = async (input: Member[]): Promise<{ encoded: number; tEnc: number; tDec: number }> => {
    const e = await timeReps(encReps, () => codec.encode(input, ctx));
    const d = await timeReps(decReps, () => codec.decode(e.last, ctx));
    const problem = check(input, d.last);
    if (problem) throw new Error(`${codec.id} on ${req.input.name} (${req.threads} threads): decode differs from the input: ${problem}`);
    checkedDecodes++;
    return { encoded: e.last.bytes, tEnc: e.seconds, tDec: d.seconds };
  };

  // Slow codecs: the ratio on the whole input up to slowRatioBytes, the timing on a shorter leading slice.
  const slow = codec.cost === 'slow';
  const ratioInput = slow && originalBytes > req.slowRatioBytes ? leadingSlice(members, req.slowRatioBytes) : members;
  const timingInput = slow && originalBytes > req.slowTimingBytes ? leadingSlice(members, req.slowTimingBytes) : members;
  const timingBytes = totalBytes(timingInput);

  for (let i = 0; i < req.warmup; i++) {
    const w = await roundTrip(timingInput);
    encReps = repsFor(w.tEnc);
    decReps = repsFor(w.tDec);
  }
  const enc: number[] = [];
  const dec: number[] = [];
  let compressedBytes = -1;
  for (let i = 0; i < req.runs; i++) {
    const r = await roundTrip(timingInput);
    enc.push(r.tEnc);
    dec.push(r.tDec);
    if (timingInput === ratioInput) {
      // Deterministic codecs give the same size every run; a codec that does not is caught here.
      if (compressedBytes >= 0 && r.encoded !== compressedBytes) throw new Error(`${codec.id}: encoded size changed between runs (${compressedBytes} then ${r.encoded})`);
      compressedBytes = r.encoded;
    }
  }
  if (timingInput !== ratioInput) compressedBytes = (await roundTrip(ratioInput)).encoded;
  const ratioBytes = totalBytes(ratioInput);
  return {
    codec: codec.id,
    threads: req.threads,
    originalBytes,
    compressedBytes,
    ratioBytes,
    ratio: ratioBytes / compressedBytes,
    encode: { ...summarize(enc, timingBytes), reps: encReps },
    decode: { ...summarize(dec, timingBytes), reps: decReps },
    checkedDecodes,
    baseRssMB,
    peakRssMB: (process.resourceUsage().maxRSS * 1024) / 1e6,
  };
}

/** Child entry: `node dist/bench/measure.js '<MeasureRequest JSON>'` prints one line of MeasureResult JSON. */
if (process.argv[1]?.endsWith('measure.js') && process.argv[2]) {
  measure(JSON.parse(process.argv[2]) as MeasureRequest).then(
    (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
