// `level: 'max'` (format version 10, the tensor model, FORMAT.md §5.6) beside the default coding on real weights
// (llama-tiny base, base-fp32, adam-layer0, stories260K) and seeded synthetic BF16: ratio, and encode and decode MB/s
// of one thread (WebAssembly kernels; median of RUNS after one warm-up, wall and process CPU time). The ratio is that
// of the container `wcodec compress` writes (a folder is one container); speeds code each file in memory. Every decode
// is compared with its input byte for byte. Writes bench/results/tensor-model.json and prints a Markdown table.
// Usage: npm run build && node dist/bench/tensor-model.js [--runs N] [--synthetic-bytes B]

import { existsSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { compressBuffer, compressFile, decompressBuffer } from '../src/node.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { MemorySource } from '../src/io/byte-source.js';
import { CORPUS_ROOT, inputSha256, loadMembers, REPO_ROOT, syntheticInput, type BenchInput } from './inputs.js';
import { median } from './median.js';

const args = process.argv.slice(2);
const valueOf = (flag: string, fallback: number): number => (args.includes(flag) ? Number(args[args.indexOf(flag) + 1]) : fallback);
const RUNS = valueOf('--runs', 3);
const SYNTHETIC_BYTES = valueOf('--synthetic-bytes', 8_000_000);
const LEVELS = ['default', 'max'] as const;


/** Median wall and CPU seconds of RUNS calls of `f` after one warm-up. */
async function timed(f: () => Promise<unknown>): Promise<{ wall: number; cpu: number }> {
  await f();
  const walls: number[] = [];
  const cpuTimes: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await f();
    walls.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpuTimes.push((c.user + c.system) / 1e6);
  }
  return { wall: median(walls), cpu: median(cpuTimes) };
}

const inputs: BenchInput[] = [];
for (const [name, rel, kind] of [
  ['llama-tiny/base', 'llama-tiny/base', 'folder'],
  ['llama-tiny/base-fp32', 'llama-tiny/base-fp32', 'folder'],
  ['llama-tiny/adam-layer0', 'llama-tiny/adam-layer0.safetensors', 'file'],
  ['stories260K', 'stories260K/stories260K.safetensors', 'file'],
] as const) {
  const path = join(CORPUS_ROOT, rel);
  if (existsSync(path)) inputs.push({ name, path, kind, origin: 'corpus' });
}
if (SYNTHETIC_BYTES > 0) inputs.push(await syntheticInput('BF16', SYNTHETIC_BYTES, (s) => console.error(s)));

interface Row {
  input: string;
  sha256: string;
  bytes: number;
  level: (typeof LEVELS)[number];
  containerBytes: number;
  ratio: number;
  tensorModelSegments: number;
  encodeMBps: number;
  encodeCpuMBps: number;
  decodeMBps: number;
  decodeCpuMBps: number;
}

const rows: Row[] = [];
const dir = await mkdtemp(join(tmpdir(), 'wcodec-tm-'));
try {
  for (const input of inputs) {
    const members = await loadMembers(input);
    const total = members.reduce((a, m) => a + m.bytes.length, 0);
    for (const level of LEVELS) {
      // The container the CLI writes, for the ratio.
      const out = join(dir, `${level}.wcodec`);
      await compressFile(input.path, out, { level, threads: 1, overwrite: true });
      const containerBytes = (await stat(out)).size;
      let tensorModelSegments = 0;
      // Speed: each file in memory, one thread.
      const coded = await Promise.all(members.map((m) => compressBuffer(m.bytes, { name: m.path, level, threads: 1 })));
      for (const c of coded) {
        const ix = (await ContainerReader.open(new MemorySource(c))).index;
        tensorModelSegments += ix.members.flatMap((m) => m.segments).filter((s) => s.coding.tensorModel).length;
      }
      const enc = await timed(async () => {
        for (const m of members) await compressBuffer(m.bytes, { name: m.path, level, threads: 1 });
      });
      const dec = await timed(async () => {
        for (let k = 0; k < members.length; k++) {
          const back = await decompressBuffer(coded[k], { threads: 1 });
          if (Buffer.compare(Buffer.from(back.buffer, back.byteOffset, back.length), Buffer.from(members[k].bytes)) !== 0) throw new Error(`${input.name} ${members[k].path}: decoded bytes differ`);
        }
      });
      const row: Row = {
        input: input.name,
        sha256: inputSha256(input, members),
        bytes: total,
        level,
        containerBytes,
        ratio: total / containerBytes,
        tensorModelSegments,
        encodeMBps: total / enc.wall / 1e6,
        encodeCpuMBps: total / enc.cpu / 1e6,
        decodeMBps: total / dec.wall / 1e6,
        decodeCpuMBps: total / dec.cpu / 1e6,
      };
      rows.push(row);
      console.error(`${input.name} ${level}: x${row.ratio.toFixed(4)}, enc ${row.encodeMBps.toFixed(2)} MB/s, dec ${row.decodeMBps.toFixed(2)} MB/s`);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

const commit = (() => {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: REPO_ROOT }).toString().trim();
  } catch {
    return 'unknown';
  }
})();
const result = {
  benchmark: 'tensor-model',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadAverage: loadavg().map((x) => Math.round(x * 100) / 100) },
  runtime: { node: process.version },
  commit,
  options: { runs: RUNS, warmup: 1, threads: 1, engine: 'wasm', levels: LEVELS, syntheticBytes: SYNTHETIC_BYTES },
  rows,
};
writeFileSync(join(REPO_ROOT, 'bench/results/tensor-model.json'), `${JSON.stringify(result, null, 2)}\n`);
const f = (x: number, d = 2): string => x.toFixed(d);
console.log('| input | MB | level | ratio | tensor-model segments | encode MB/s (wall / CPU) | decode MB/s (wall / CPU) |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.input} | ${f(r.bytes / 1e6)} | ${r.level} | ${f(r.ratio, 4)} | ${r.tensorModelSegments} | ${f(r.encodeMBps)} / ${f(r.encodeCpuMBps)} | ${f(r.decodeMBps)} / ${f(r.decodeCpuMBps)} |`);
console.log(`\nSHA-256 of inputs: ${[...new Map(rows.map((r) => [r.input, r.sha256])).entries()].map(([n, s]) => `${n} ${s.slice(0, 8)}…${s.slice(-8)}`).join('; ')}`);
