// The benchmark suite: `npm run bench -- [options] [files or folders...]`. For each input it computes the entropy
// bounds, then runs every codec of the registry (bench/codecs.ts) at each thread count in a child process of its
// own (bench/measure.ts), and writes the results JSON, the markdown report and the SVG charts.
//
// With no inputs: the bundled example, ../shared/corpus (when present) and 256 MiB each of synthetic BF16, F16 and
// F32; results go to bench/results/bench.json, docs/BENCHMARKS.md (between its generated markers) and docs/*.svg.
// With inputs: results go to bench/out/ unless --results / --docs say otherwise.

import { execFile, execFileSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem, platform, release, arch } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { entropyBounds } from './bounds.js';
import { allThreads, codecRegistry } from './codecs.js';
import { argumentInputs, defaultInputs, inputSha256, loadMembers, REPO_ROOT, totalBytes, type BenchInput } from './inputs.js';
import type { MeasureRequest, MeasureResult } from './measure.js';
import { isFailed, RESULTS_SCHEMA, type BenchResults, type CodecResult, type InputResult } from './results-schema.js';
import { summaryLine } from './summary-line.js';
import { writeReport } from './write-report.js';

const MiB = 2 ** 20;

const USAGE = `usage: npm run bench -- [options] [files or folders...]
  --runs N             timed runs per figure, after the warm-up (default 5)
  --warmup N           untimed runs first (default 1)
  --threads LIST       thread counts, e.g. 1,2 (default: 1 and all cores)
  --codecs LIST        codec ids (default: all): ${codecRegistry().map((c) => c.id).join(',')}
  --synthetic-mb N     MiB of each synthetic input in a default run (default 256; 0 = none)
  --no-corpus          leave out ../shared/corpus in a default run
  --slow-ratio-mb N    slow codecs: ratio on at most the first N MiB of an input (default 24)
  --slow-timing-mb N   slow codecs: throughput timed on the first N MiB (default 1)
  --results FILE       where the JSON goes (default bench/results/bench.json, or bench/out/bench.json with inputs)
  --docs DIR           where BENCHMARKS.md and the charts go (default docs/, or bench/out/ with inputs)
  --ref PATH           the named inputs are also coded against this checkpoint (a file or folder) by the delta
                       entries (wcodec-ref, zstd-19-xor, xz-9-xor), which run only on such inputs
  --quick              smoke run: 1 run, no warm-up, 1 MiB synthetic inputs
  --report-from FILE   only rewrite the report and charts from a results file (with --docs DIR)`;

interface Options {
  runs: number;
  warmup: number;
  threads: number[];
  codecs: string[];
  syntheticBytes: number;
  corpus: boolean;
  slowRatioBytes: number;
  slowTimingBytes: number;
  results?: string;
  docs?: string;
  paths: string[];
  /** --ref: the checkpoint the named inputs are coded against by the delta entries. */
  reference?: string;
}

/** Parses the command line. @throws RangeError with the usage for anything it does not understand */
export function parseBenchArgs(argv: readonly string[]): Options {
  const o: Options = {
    runs: 5,
    warmup: 1,
    threads: [...new Set([1, allThreads()])],
    codecs: codecRegistry().map((c) => c.id),
    syntheticBytes: 256 * MiB,
    corpus: true,
    slowRatioBytes: 24 * MiB,
    slowTimingBytes: 1 * MiB,
    paths: [],
  };
  const fail = (why: string): never => {
    throw new RangeError(`${why}\n${USAGE}`);
  };
  const int = (v: string | undefined, name: string, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) fail(`${name} needs an integer >= ${min}, got ${v}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string | undefined => argv[++i];
    if (a === '--runs') o.runs = int(next(), a, 1);
    else if (a === '--warmup') o.warmup = int(next(), a, 0);
    else if (a === '--threads') o.threads = (next() ?? '').split(',').map((t) => int(t, a, 1));
    else if (a === '--codecs') {
      o.codecs = (next() ?? '').split(',');
      for (const c of o.codecs) if (!codecRegistry().some((x) => x.id === c)) fail(`unknown codec '${c}'`);
    } else if (a === '--synthetic-mb') o.syntheticBytes = int(next(), a, 0) * MiB;
    else if (a === '--no-corpus') o.corpus = false;
    else if (a === '--slow-ratio-mb') o.slowRatioBytes = int(next(), a, 1) * MiB;
    else if (a === '--slow-timing-mb') o.slowTimingBytes = int(next(), a, 1) * MiB;
    else if (a === '--results') o.results = next() ?? fail('--results needs a file');
    else if (a === '--docs') o.docs = next() ?? fail('--docs needs a folder');
    else if (a === '--ref') o.reference = next() ?? fail('--ref needs a file or folder');
    else if (a === '--quick') {
      o.runs = 1;
      o.warmup = 0;
      o.syntheticBytes = 1 * MiB;
    } else if (a.startsWith('-')) fail(`unknown option ${a}`);
    else o.paths.push(a);
  }
  return o;
}

/** Runs one measurement in a child process and returns its result. */
function runChild(req: MeasureRequest): Promise<MeasureResult> {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'measure.js');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, JSON.stringify(req)], { maxBuffer: 16 * MiB }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${req.codec} on ${req.input.name} (${req.threads} threads) failed: ${stderr.trim() || err.message}`));
      else resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as MeasureResult);
    });
  });
}

/** The checkout being measured, or 'unknown' outside a git work tree. */
function revision(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: REPO_ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** The machine and runtime, as recorded in the results. */
function machineInfo(): Pick<BenchResults, 'machine' | 'runtime'> {
  const c = cpus();
  return {
    machine: { cpu: c[0]?.model.trim() ?? 'unknown', cores: allThreads(), memoryGiB: Math.round(totalmem() / 2 ** 30), os: `${platform()} ${release()}`, arch: arch() },
    runtime: { node: process.version, v8: process.versions.v8 },
  };
}

/** Measures one input with every selected codec and thread count. */
async function benchInput(input: BenchInput, o: Options, log: (s: string) => void): Promise<InputResult> {
  const members = await loadMembers(input);
  const bytes = totalBytes(members);
  log(`${input.name}: ${members.length} file(s), ${(bytes / 1e6).toFixed(2)} MB; computing bounds ...`);
  const result: InputResult = {
    input: { ...input, path: relative(REPO_ROOT, input.path) || '.' },
    files: members.length,
    bytes,
    sha256: inputSha256(input, members),
    bounds: await entropyBounds(members),
    results: [],
  };
  const codecs = codecRegistry().filter((c) => o.codecs.includes(c.id));
  for (const codec of codecs) {
    for (const threads of o.threads) {
      // A step that cannot use `threads` still runs (on one thread) when the other step can; the result says so.
      const whyEnc = codec.threadsUnsupported(threads, 'encode');
      const whyDec = codec.threadsUnsupported(threads, 'decode');
      let r: CodecResult;
      if (codec.needsReference && !input.reference) r = { codec: codec.id, threads, skipped: 'a delta mode: the input names no reference (--ref)' };
      else if (input.reference && input.origin === 'corpus' && !codec.needsReference && codec.id !== 'wcodec') {
        // A corpus delta pair: its files are measured without a reference as inputs of their own; wcodec stays as the baseline.
        r = { codec: codec.id, threads, skipped: 'measured without a reference on the same files as their own input' };
      }
      else if (whyEnc !== undefined && whyDec !== undefined) r = { codec: codec.id, threads, skipped: whyEnc === whyDec ? whyEnc : `${whyEnc}; ${whyDec}` };
      else {
        log(`  ${codec.id}, ${threads} thread(s) ...`);
        try {
          const m = await runChild({ input, codec: codec.id, threads, runs: o.runs, warmup: o.warmup, slowRatioBytes: o.slowRatioBytes, slowTimingBytes: o.slowTimingBytes });
          r = { ...m, ...(whyEnc ? { encodeSingleThread: whyEnc } : {}), ...(whyDec ? { decodeSingleThread: whyDec } : {}) };
        } catch (e) {
          // Recorded and reported at the end (the run fails then), so one failure does not discard the others.
          log(`  FAILED: ${(e as Error).message}`);
          r = { codec: codec.id, threads, failed: (e as Error).message };
        }
      }
      result.results.push(r);
    }
  }
  return result;
}

/** Runs the suite. @returns the results (also written to disk) */
export async function runBench(argv: readonly string[], log: (s: string) => void = (s) => process.stderr.write(`${s}\n`)): Promise<BenchResults> {
  const o = parseBenchArgs(argv);
  const explicit = o.paths.length > 0;
  if (o.reference !== undefined && !explicit) throw new RangeError(`--ref applies to inputs named on the command line\n${USAGE}`);
  const inputs = explicit ? await argumentInputs(o.paths, o.reference) : await defaultInputs(o.syntheticBytes, log, o.corpus);
  const resultsPath = o.results ?? join(REPO_ROOT, 'bench', explicit ? 'out' : 'results', 'bench.json');
  const docsDir = o.docs ?? join(REPO_ROOT, explicit ? join('bench', 'out') : 'docs');
  const results: BenchResults = {
    schema: RESULTS_SCHEMA,
    date: new Date().toISOString(),
    command: ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' '),
    revision: revision(),
    ...machineInfo(),
    options: { runs: o.runs, warmup: o.warmup, threads: o.threads, codecs: o.codecs, syntheticBytes: explicit ? 0 : o.syntheticBytes, slowRatioBytes: o.slowRatioBytes, slowTimingBytes: o.slowTimingBytes },
    codecs: codecRegistry()
      .filter((c) => o.codecs.includes(c.id))
      .map((c) => ({ id: c.id, label: c.label, library: c.library, options: c.options, scope: c.scope, cost: c.cost })),
    inputs: [],
  };
  for (const input of inputs) {
    const r = await benchInput(input, o, log);
    results.inputs.push(r);
    process.stdout.write(`${summaryLine(r)}\n`);
  }
  await mkdir(dirname(resultsPath), { recursive: true });
  await writeFile(resultsPath, `${JSON.stringify(results, null, 1)}\n`);
  const failed = results.inputs.flatMap((r) => r.results.filter(isFailed).map((f) => `${r.input.name}: ${f.failed}`));
  if (failed.length > 0) {
    // The JSON keeps what was measured, but a report is never regenerated from a run with failures.
    throw new Error(`${failed.length} measurement(s) failed (results in ${resultsPath}; report not written):\n${failed.join('\n')}`);
  }
  await writeReport(results, docsDir);
  log(`wrote ${relative(process.cwd(), resultsPath)} and the report in ${relative(process.cwd(), docsDir) || '.'}`);
  return results;
}

/** Rewrites the report and charts from an existing results file: `node dist/bench/run.js --report-from FILE [--docs DIR]`. */
async function reportFrom(file: string, docs: string | undefined): Promise<void> {
  const results = JSON.parse(await readFile(file, 'utf8')) as BenchResults;
  await writeReport(results, docs ?? join(REPO_ROOT, 'docs'));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--report-from');
  const docsAt = argv.indexOf('--docs');
  const job = argv.includes('-h') || argv.includes('--help') ? Promise.resolve(void process.stdout.write(`${USAGE}\n`)) : at >= 0 ? reportFrom(argv[at + 1], docsAt >= 0 ? argv[docsAt + 1] : undefined) : runBench(argv);
  job.catch((e: unknown) => {
    process.stderr.write(`${e instanceof RangeError ? e.message : ((e as Error).stack ?? String(e))}\n`);
    process.exitCode = 1;
  });
}
