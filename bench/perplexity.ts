// The perplexity harness on the llama-tiny reference: `wcodec eval` (as a child process, so wall times include the
// process start and loading the model) on the base model and under each reference lossy variant, beside the losses of
// ../shared/corpus/llama-tiny/eval/REFERENCE.json (PyTorch, float32). Each run's loss is checked against the reference
// (1e-4 nats per byte for the base model, 1e-3 for the variants); GNU time (where present) gives each run's CPU time,
// which other jobs on the machine move less than wall time. The median (and min / max) of N runs per model.
// Usage: npm run bench:perplexity -- [--runs 1] [--threads N] [--model DIR_OR_CONTAINER]
// Writes bench/results/perplexity.json and prints a Markdown table.

import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORPUS_ROOT, REPO_ROOT } from './inputs.js';
import { median } from './median.js';
import { option } from './args.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const VARIANTS = ['base_bf16', 'int8_per_row_rtn', 'int4_g128_rtn', 'fp8_e4m3_per_tensor', 'prune30_magnitude'] as const;


const GNU_TIME = '/usr/bin/time';
const haveGnuTime = spawnSync(GNU_TIME, ['-f', '%U', 'true'], { encoding: 'utf8' }).status === 0;

const runs = Number(option('runs') ?? 1);
const threads = Number(option('threads') ?? availableParallelism());
const model = option('model') ?? join(CORPUS_ROOT, 'llama-tiny', 'base');
const textPath = join(CORPUS_ROOT, 'llama-tiny', 'eval', 'gyp.py.txt');
const reference = JSON.parse(readFileSync(join(CORPUS_ROOT, 'llama-tiny', 'eval', 'REFERENCE.json'), 'utf8')) as { bytes_scored: number; loss_nats_per_byte: Record<string, number> };
const textSha256 = createHash('sha256').update(readFileSync(textPath)).digest('hex');
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';

const dir = await mkdtemp(join(tmpdir(), 'wcodec-perplexity-'));
const rows: { variant: string; natsPerByte: number; reference: number; difference: number; wall: number[]; cpu: number[] }[] = [];
const loadBefore = loadavg()[0];
try {
  for (const variant of VARIANTS) {
    const args = [CLI, 'eval', model, '--text', textPath, '--json', '--threads', String(threads), ...(variant === 'base_bf16' ? [] : ['--variant', variant])];
    const wall: number[] = [];
    const cpu: number[] = [];
    let nats = NaN;
    for (let r = 0; r < runs; r++) {
      const cpuFile = join(dir, 'cpu.txt');
      const t0 = performance.now();
      const p = haveGnuTime ? spawnSync(GNU_TIME, ['-f', '%U %S', '-o', cpuFile, process.execPath, ...args], { encoding: 'utf8' }) : spawnSync(process.execPath, args, { encoding: 'utf8' });
      wall.push((performance.now() - t0) / 1000);
      if (p.status !== 0) throw new Error(`wcodec eval ${variant}: exit ${p.status}\n${p.stderr}`);
      cpu.push(haveGnuTime ? readFileSync(cpuFile, 'utf8').trim().split(/\s+/).map(Number).reduce((a, b) => a + b, 0) : NaN);
      const out = JSON.parse(p.stdout) as { nats_per_byte: number; bytes_scored: number };
      if (out.bytes_scored !== reference.bytes_scored) throw new Error(`${variant}: ${out.bytes_scored} bytes scored, the reference ${reference.bytes_scored}`);
      if (r > 0 && out.nats_per_byte !== nats) throw new Error(`${variant}: run ${r + 1} gave ${out.nats_per_byte}, run 1 ${nats}`);
      nats = out.nats_per_byte;
    }
    const want = reference.loss_nats_per_byte[variant];
    const tolerance = variant === 'base_bf16' ? 1e-4 : 1e-3;
    if (!(Math.abs(nats - want) < tolerance)) throw new Error(`${variant}: ${nats} nats/byte, the reference ${want} (tolerance ${tolerance})`);
    rows.push({ variant, natsPerByte: nats, reference: want, difference: nats - want, wall, cpu });
    process.stderr.write(`${variant}: ${nats} (reference ${want}), ${median(wall).toFixed(1)} s\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const results = {
  commit: dirty ? `${commit} (with uncommitted changes)` : commit,
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), loadAverageBefore: loadBefore, loadAverageAfter: loadavg()[0] },
  runtime: { node: process.version, v8: process.versions.v8 },
  data: { model, text: textPath, textSha256, bytesScored: reference.bytes_scored },
  options: { runs, threads },
  rows: rows.map((r) => ({ ...r, wallMedian: median(r.wall), cpuMedian: median(r.cpu) })),
};
await writeFile(join(REPO_ROOT, 'bench', 'results', 'perplexity.json'), JSON.stringify(results, null, 2) + '\n');

const table = [
  '| model | nats/byte | REFERENCE.json | difference | wall s (median of ' + runs + ') | CPU s |',
  '| --- | --- | --- | --- | --- | --- |',
  ...results.rows.map((r) => `| ${r.variant} | ${r.natsPerByte.toFixed(7)} | ${r.reference.toFixed(7)} | ${r.difference.toExponential(1)} | ${r.wallMedian.toFixed(1)} | ${Number.isNaN(r.cpuMedian) ? '' : r.cpuMedian.toFixed(1)} |`),
];
console.log(`commit ${results.commit}, ${results.machine.cpu} (${results.machine.cores} cores), Node ${process.version}, ${threads} threads, load average ${loadBefore.toFixed(2)} before, ${results.machine.loadAverageAfter.toFixed(2)} after`);
console.log(table.join('\n'));
