// The decode-side figures that the suite (bench/run.ts) does not take: what verification costs
// (decompressBuffer with and without SHA-256 digests), how decoding scales from 1 to 2 threads, and the CLI file to
// file beside `zstd -d`, for the default coding and the huffman option. Each figure is the median of N runs,
// conditions alternating within a round so that machine noise hits them alike; every decode is checked against the
// input by SHA-256. Usage: npm run bench:cpu -- [--runs N] [--mb M] [files...]; writes bench/results/cpu-path.json.

import '../src/io/node-sha256.js';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { closeSharedPools } from '../src/workers/pool.js';
import { CORPUS_ROOT, syntheticInput } from './inputs.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const RUNS = opt('runs', 5);
const MB = opt('mb', 256);
const files = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const mbps = (bytes: number, seconds: number): number => Math.round(bytes / seconds / 1e4) / 100;

/** Seconds of one call of `f`, repeated until it lasts 0.25 s (small inputs), as the suite times. */
async function timeOnce(f: () => Promise<void>): Promise<number> {
  const t0 = performance.now();
  let reps = 0;
  do {
    await f();
    reps++;
  } while (performance.now() - t0 < 250);
  return (performance.now() - t0) / 1e3 / reps;
}

/** Wall seconds of a command, or undefined when it fails. */
function timeCommand(cmd: string, argv: string[]): number | undefined {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const s = (performance.now() - t0) / 1e3;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr?.toString()}`);
  return s;
}

async function main(): Promise<void> {
  const inputs: string[] = [...files];
  if (inputs.length === 0) {
    const shard = join(CORPUS_ROOT, 'llama-tiny/base/model-00001-of-00002.safetensors');
    if (spawnSync('test', ['-f', shard]).status === 0) inputs.push(shard);
    for (const dtype of ['BF16', 'F32'] as const) inputs.push((await syntheticInput(dtype, MB * 1024 * 1024, (s) => console.error(s))).path);
  }
  const zstd = spawnSync('zstd', ['--version']).status === 0;
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-cpu-path-'));
  const results: Record<string, unknown>[] = [];
  try {
    for (const path of inputs) {
      const bytes = new Uint8Array(await readFile(path));
      const want = sha(bytes);
      const name = path.includes('/corpus/') ? path.slice(path.indexOf('/corpus/') + 8) : basename(path);
      const zstPath = join(dir, 'in.zst');
      if (zstd) spawnSync('zstd', ['-q', '-3', '-f', path, '-o', zstPath]);
      for (const coding of ['default', 'huffman'] as const) {
        const container = await compressBuffer(bytes, { name: basename(path), huffman: coding === 'huffman', threads: 1 });
        const packed = join(dir, 'in.wcodec');
        await writeFile(packed, container);
        // In-process decode: digests on/off x 1/2 threads, alternating within each round.
        const conds = [1, 2].flatMap((threads) => [true, false].map((checkDigests) => ({ threads, checkDigests })));
        const times = conds.map(() => [] as number[]);
        for (const c of conds) {
          // Warm-up, and the output check.
          if (sha(await decompressBuffer(container, c)) !== want) throw new Error(`${name} ${coding}: decode differs`);
        }
        for (let r = 0; r < RUNS; r++) {
          for (const [k, c] of conds.entries()) times[k].push(await timeOnce(async () => void (await decompressBuffer(container, c))));
        }
        const inProcess = conds.map((c, k) => ({ ...c, MBps: mbps(bytes.length, median(times[k])), runs: times[k].map((s) => mbps(bytes.length, s)) }));
        // CLI file to file beside zstd -d (each run writes and renames a whole file, as users would).
        const out = join(dir, 'out.bin');
        const cli: Record<string, number[]> = { 'wcodec -t1': [], 'wcodec -t2': [], 'zstd -d': [] };
        for (let r = 0; r < RUNS; r++) {
          cli['wcodec -t1'].push(timeCommand(process.execPath, [CLI, 'decompress', packed, '-o', out, '-f', '-q', '--threads', '1'])!);
          cli['wcodec -t2'].push(timeCommand(process.execPath, [CLI, 'decompress', packed, '-o', out, '-f', '-q', '--threads', '2'])!);
          if (zstd) cli['zstd -d'].push(timeCommand('zstd', ['-q', '-d', '-f', zstPath, '-o', out])!);
        }
        if (sha(new Uint8Array(await readFile(out))) !== want) throw new Error(`${name}: CLI output differs`);
        const cliMBps = Object.fromEntries(Object.entries(cli).filter(([, t]) => t.length > 0).map(([k, t]) => [k, mbps(bytes.length, median(t))]));
        const row = { input: name, bytes: bytes.length, sha256: want, coding, ratio: Math.round((bytes.length / container.length) * 10000) / 10000, inProcess, cliMBps };
        results.push(row);
        const f = (t: number, d: boolean): number => inProcess.find((x) => x.threads === t && x.checkDigests === d)!.MBps;
        console.log(
          `${name.padEnd(44)} ${coding.padEnd(8)} x${row.ratio.toFixed(4)}  decode MB/s  1t ${f(1, true)} (no digests ${f(1, false)})  2t ${f(2, true)} (${f(2, false)})` +
            `  | CLI 1t ${cliMBps['wcodec -t1']} 2t ${cliMBps['wcodec -t2']} zstd -d ${cliMBps['zstd -d'] ?? '-'}`,
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await closeSharedPools();
  }
  const file = join(dirname(fileURLToPath(import.meta.url)), '../../bench/results/cpu-path.json');
  await mkdir(dirname(file), { recursive: true });
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, v8: process.versions.v8 };
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), machine, runs: RUNS, unit: 'MB/s of original bytes (10^6), medians', results }, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

await main();
