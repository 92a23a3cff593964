// The fuzz loop shared by the CI test and `npm run fuzz`: input i of a run comes from its own Rng derived from
// (seed, i), so a failure replays from the seed and the iteration alone. Time-bounded; checks retained memory too.

import { Rng } from '../helpers/prng.js';
import { arrayBufferBytes, forceGc } from '../helpers/measure.js';
import { checkRun, PropertyFailure } from './check.js';
import { seedCorpus } from './seeds.js';
import type { FuzzCase, FuzzTarget } from './targets.js';

/** Memory still held after a run (and a forced GC) above what was held before it: catches caches that grow with input. */
export const MAX_RETAINED_BYTES = 64 * 1024 * 1024;

/** The Rng of input `iteration` of a run seeded with `seed`. */
export function iterationRng(seed: number, iteration: number): Rng {
  return new Rng((seed ^ Math.imul(iteration + 1, 0x9e3779b1)) >>> 0);
}

/** A failed property, with what is needed to replay it. */
export class FuzzFailure extends Error {
  constructor(readonly target: string, readonly seed: number, readonly iteration: number, readonly input: Uint8Array | undefined, readonly what: string, problem: string) {
    super(`fuzz target '${target}', seed ${seed}, iteration ${iteration} (${what}): ${problem}\n  replay: npm run fuzz -- --target ${target} --seed ${seed} --iteration ${iteration}`);
  }
}

/** What a run did. */
export interface FuzzReport {
  target: string;
  seed: number;
  iterations: number;
  ms: number;
  /** Inputs per outcome ('ok' or an error code). */
  outcomes: Record<string, number>;
  /** CPU milliseconds of the slowest input. */
  slowestMs: number;
  maxRssGrowth: number;
  retainedBytes: number;
}

/** Options of one run. */
export interface FuzzOptions {
  seed: number;
  /** Wall-clock budget in milliseconds. */
  budgetMs: number;
  /** Stop after this many inputs even if time remains. */
  maxIterations?: number;
  /**
   * Go on past the budget until this many inputs have run, for at most 4 budgets in all (a machine busy with other
   * work slows each input; a target that needs more than that is slow in itself).
   */
  minIterations?: number;
  /** First iteration number (to replay one input: its number with maxIterations 1). */
  firstIteration?: number;
}

/** Makes input `iteration` of a run of `target` seeded with `seed` (what a replay feeds to the target). */
export async function makeCase(target: FuzzTarget, seed: number, iteration: number): Promise<FuzzCase> {
  return target.make(iterationRng(seed, iteration), await seedCorpus());
}

/**
 * Fuzzes one target until the budget or the iteration count runs out.
 * @throws FuzzFailure at the first input that breaks a property
 */
export async function fuzzTarget(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const corpus = await seedCorpus();
  const first = options.firstIteration ?? 0;
  const end = first + (options.maxIterations ?? Number.MAX_SAFE_INTEGER);
  forceGc();
  const held = arrayBufferBytes();
  const t0 = performance.now();
  const report: FuzzReport = { target: target.name, seed: options.seed, iterations: 0, ms: 0, outcomes: {}, slowestMs: 0, maxRssGrowth: 0, retainedBytes: 0 };
  const more = (): boolean => {
    const ms = performance.now() - t0;
    return ms < options.budgetMs || (report.iterations < (options.minIterations ?? 0) && ms < 4 * options.budgetMs);
  };
  for (let i = first; i < end && more(); i++) {
    let input: FuzzCase | undefined;
    try {
      input = await target.make(iterationRng(options.seed, i), corpus);
      const r = await checkRun(input.bytes, target.codes, () => target.run(input!.bytes, corpus));
      report.outcomes[r.outcome] = (report.outcomes[r.outcome] ?? 0) + 1;
      report.slowestMs = Math.max(report.slowestMs, r.ms);
      report.maxRssGrowth = Math.max(report.maxRssGrowth, r.rssGrowth);
    } catch (e) {
      const problem = e instanceof PropertyFailure ? e.message : `the harness failed: ${(e as Error).stack ?? e}`;
      throw new FuzzFailure(target.name, options.seed, i, input?.bytes, input?.what ?? '(making the input)', problem);
    }
    report.iterations++;
  }
  report.ms = performance.now() - t0;
  forceGc();
  report.retainedBytes = arrayBufferBytes() - held;
  if (report.retainedBytes > MAX_RETAINED_BYTES) {
    throw new FuzzFailure(target.name, options.seed, first + report.iterations - 1, undefined, `after ${report.iterations} inputs`, `${(report.retainedBytes / 2 ** 20).toFixed(0)} MiB of ArrayBuffers still held after the run, limit ${MAX_RETAINED_BYTES / 2 ** 20} MiB`);
  }
  return report;
}

/** One line per report, for logs. */
export function describeReport(r: FuzzReport): string {
  const outcomes = Object.entries(r.outcomes).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  return `${r.target}: ${r.iterations} inputs in ${(r.ms / 1000).toFixed(1)} s (seed ${r.seed}; slowest ${r.slowestMs.toFixed(0)} ms CPU; peak RSS growth ${(r.maxRssGrowth / 2 ** 20).toFixed(0)} MiB; retained ${(r.retainedBytes / 2 ** 20).toFixed(1)} MiB) — ${outcomes}`;
}
