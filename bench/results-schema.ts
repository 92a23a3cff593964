// The benchmark's results file (bench/results/bench.json): everything needed to regenerate the tables and charts
// and to know what was measured, where, and on which bytes.

import type { EntropyBounds } from './bounds.js';
import type { BenchInput } from './inputs.js';
import type { MeasureResult } from './measure.js';

/** Bumped when a field changes meaning or is removed. */
export const RESULTS_SCHEMA = 1;

/** A codec as the results record it. */
export interface CodecInfo {
  id: string;
  label: string;
  library: string;
  options: Record<string, string | number | boolean>;
  scope: 'container' | 'per-file';
  cost: 'full' | 'slow';
}

/** A (codec, threads) pair that was not run, and why. */
export interface SkippedResult {
  codec: string;
  threads: number;
  skipped: string;
}

/** A (codec, threads) pair whose run failed (a decode that differed from the input, a crash): the run's error. */
export interface FailedResult {
  codec: string;
  threads: number;
  failed: string;
}

export type CodecResult = MeasureResult | SkippedResult | FailedResult;

/** Whether a result holds no figures (skipped or failed). */
export const isSkipped = (r: CodecResult): r is SkippedResult | FailedResult => 'skipped' in r || 'failed' in r;

export const isFailed = (r: CodecResult): r is FailedResult => 'failed' in r;

/** One input's figures. */
export interface InputResult {
  input: BenchInput & { path: string };
  files: number;
  bytes: number;
  /** SHA-256 of the file, or of a folder's manifest (`<sha256>  <path>` lines; see bench/inputs.ts). */
  sha256: string;
  bounds: EntropyBounds;
  results: CodecResult[];
}

export interface BenchResults {
  schema: typeof RESULTS_SCHEMA;
  /** ISO time the run started. */
  date: string;
  /** The command line that produced this file. */
  command: string;
  /** The checkout measured: `git describe --always --dirty` (a -dirty suffix: uncommitted changes were measured too). */
  revision: string;
  machine: { cpu: string; cores: number; memoryGiB: number; os: string; arch: string };
  runtime: { node: string; v8: string };
  options: {
    runs: number;
    warmup: number;
    threads: number[];
    codecs: string[];
    syntheticBytes: number;
    slowRatioBytes: number;
    slowTimingBytes: number;
  };
  codecs: CodecInfo[];
  inputs: InputResult[];
}
