// On-demand fuzzing (docs/SECURITY.md, "Fuzzing"): every target of test/fuzz/ in turn, for a given time, from a
// printed seed. Each target runs in a worker thread watched from here, so a hang is reported with its input too.
// Usage: npm run fuzz -- [--minutes N] [--seed S] [--target NAME] [--iteration I]
//   --iteration I replays one input (of --target, from --seed); failing inputs are written to fuzz-out/.

import { mkdir, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { describeReport, FuzzFailure, fuzzTarget, makeCase, type FuzzReport } from '../test/fuzz/run-fuzz.js';
import { cleanupTargets, TARGETS } from '../test/fuzz/targets.js';

/** Where failing inputs go (git-ignored). */
const OUT_DIR = fileURLToPath(new URL('../../fuzz-out/', import.meta.url));
/** A worker silent for this long is hung: far above the per-input time bound of test/fuzz/check.ts. */
const HANG_MS = 60_000;
/** Worker progress heartbeats: one per this many milliseconds at most. */
const BEAT_MS = 1000;

interface Job {
  target: string;
  seed: number;
  budgetMs: number;
  firstIteration: number;
  maxIterations?: number;
}

type WorkerMessage =
  | { kind: 'beat'; iteration: number }
  | { kind: 'done'; report: FuzzReport }
  | { kind: 'failure'; message: string; iteration: number; what: string; input: Uint8Array | undefined };

if (!isMainThread) {
  // Worker: fuzz one target in slices, reporting the iteration reached so a hang can be located.
  const job = workerData as Job;
  const target = TARGETS.find((t) => t.name === job.target)!;
  const post = (m: WorkerMessage): void => parentPort!.postMessage(m);
  const total: FuzzReport = { target: job.target, seed: job.seed, iterations: 0, ms: 0, outcomes: {}, slowestMs: 0, maxRssGrowth: 0, retainedBytes: 0 };
  const t0 = performance.now();
  let next = job.firstIteration;
  const end = job.maxIterations === undefined ? Infinity : job.firstIteration + job.maxIterations;
  try {
    while (performance.now() - t0 < job.budgetMs && next < end) {
      post({ kind: 'beat', iteration: next });
      const slice = Math.min(BEAT_MS, job.budgetMs - (performance.now() - t0));
      const r = await fuzzTarget(target, { seed: job.seed, budgetMs: slice, firstIteration: next, maxIterations: end === Infinity ? undefined : end - next });
      next += r.iterations;
      total.iterations += r.iterations;
      for (const [k, v] of Object.entries(r.outcomes)) total.outcomes[k] = (total.outcomes[k] ?? 0) + v;
      total.slowestMs = Math.max(total.slowestMs, r.slowestMs);
      total.maxRssGrowth = Math.max(total.maxRssGrowth, r.maxRssGrowth);
      total.retainedBytes = Math.max(total.retainedBytes, r.retainedBytes);
    }
    total.ms = performance.now() - t0;
    post({ kind: 'done', report: total });
  } catch (e) {
    const f = e as FuzzFailure;
    post({ kind: 'failure', message: f.message, iteration: f.iteration ?? next, what: f.what ?? '', input: f.input });
  } finally {
    await cleanupTargets();
  }
} else {
  await main();
}

function parse(argv: string[]): { minutes: number; seed: number; targets: string[]; iteration: number | undefined } {
  const opts = { minutes: 1, seed: (Date.now() ^ (process.pid << 8)) >>> 0, targets: TARGETS.map((t) => t.name), iteration: undefined as number | undefined };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    const num = (): number => {
      const n = Number(v);
      if (v === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${argv[i]} needs a non-negative number`);
      i++;
      return n;
    };
    if (argv[i] === '--minutes') opts.minutes = num();
    else if (argv[i] === '--seed') opts.seed = num() >>> 0;
    else if (argv[i] === '--iteration') opts.iteration = Math.floor(num());
    else if (argv[i] === '--target') {
      if (!TARGETS.some((t) => t.name === v)) throw new Error(`unknown target '${v}'; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
      opts.targets = [v];
      i++;
    } else throw new Error(`unknown option ${argv[i]}\nusage: npm run fuzz -- [--minutes N] [--seed S] [--target NAME] [--iteration I]`);
  }
  return opts;
}

/** Runs one job in a worker; resolves to its report, or to a failure (a broken property, a crash or a hang). */
function runJob(job: Job): Promise<{ report?: FuzzReport; failure?: { message: string; iteration: number; what: string; input: Uint8Array | undefined } }> {
  return new Promise((resolve) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    let iteration = job.firstIteration;
    let lastBeat = performance.now();
    let settled = false;
    const settle = (v: Awaited<ReturnType<typeof runJob>>): void => {
      if (settled) return;
      settled = true;
      clearInterval(watch);
      void worker.terminate();
      resolve(v);
    };
    const watch = setInterval(() => {
      if (performance.now() - lastBeat > HANG_MS) {
        settle({ failure: { message: `no progress for ${HANG_MS / 1000} s: hang at or after iteration ${iteration}`, iteration, what: 'hang', input: undefined } });
      }
    }, 1000);
    worker.on('message', (m: WorkerMessage) => {
      lastBeat = performance.now();
      if (m.kind === 'beat') iteration = m.iteration;
      else if (m.kind === 'done') settle({ report: m.report });
      else settle({ failure: m });
    });
    worker.on('error', (e) => settle({ failure: { message: `worker crashed: ${e.stack ?? e}`, iteration, what: 'crash', input: undefined } }));
    worker.on('exit', (code) => settle({ failure: { message: `worker exited with code ${code} (out of memory?) at or after iteration ${iteration}`, iteration, what: 'crash', input: undefined } }));
  });
}

async function main(): Promise<void> {
  let opts;
  try {
    opts = parse(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  const replay = opts.iteration !== undefined;
  const budgetMs = replay ? 600_000 : (opts.minutes * 60_000) / opts.targets.length;
  process.stdout.write(`wcodec fuzz: seed ${opts.seed}, ${replay ? `replaying iteration ${opts.iteration}` : `${opts.minutes} min over ${opts.targets.join(', ')}`}\n`);
  let failed = false;
  for (const name of opts.targets) {
    const job: Job = { target: name, seed: opts.seed, budgetMs, firstIteration: opts.iteration ?? 0, maxIterations: replay ? 1 : undefined };
    if (replay) {
      const c = await makeCase(TARGETS.find((t) => t.name === name)!, opts.seed, opts.iteration!);
      process.stdout.write(`input: ${c.bytes.length} bytes — ${c.what}\n`);
    }
    const r = await runJob(job);
    if (r.report) {
      process.stdout.write(`${describeReport(r.report)}\n`);
      continue;
    }
    failed = true;
    const f = r.failure!;
    let input = f.input;
    if (!input) input = (await makeCase(TARGETS.find((t) => t.name === name)!, opts.seed, f.iteration)).bytes;
    await mkdir(OUT_DIR, { recursive: true });
    const file = `${OUT_DIR}${name}-seed${opts.seed}-iter${f.iteration}.bin`;
    await writeFile(file, input);
    const replayLine = f.message.includes('replay:') ? '' : `\n  replay: npm run fuzz -- --target ${name} --seed ${opts.seed} --iteration ${f.iteration}`;
    process.stdout.write(`FAIL ${name}: ${f.message}\n  input (${input.length} bytes) written to ${file}${replayLine}\n`);
  }
  process.exitCode = failed ? 2 : 0;
}
