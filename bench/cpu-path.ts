// The figures the suite (bench/run.ts) does not take: how encode and decode scale from 1 to 2 threads, in process
// (compressBuffer, decompressBuffer, with and without SHA-256 checks) and through the file API (decompressFile), and
// the CLI file to file beside `zstd -d`, for the default coding and the huffman option. Each figure is the median of N
// runs, conditions alternating within a round so that machine noise hits them alike; every output is checked against
// the input by SHA-256. Usage: npm run bench:cpu -- [--runs N] [--mb M] [--cli-mb C] [files...]; with --cli-mb the
// CLI rows decode a synthetic BF16 file of C MiB instead of each input. Writes bench/results/cpu-path.json.

import '../src/io/node-sha256.js';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { decompressFile } from '../src/node/file-api.js';
import { closeSharedPools } from '../src/workers/pool.js';
import { CORPUS_ROOT, syntheticInput } from './inputs.js';
import { median } from './median.js';
import { numberOption, positionals } from './args.js';

const RUNS = numberOption('runs', 5);
const MB = numberOption('mb', 256);
const CLI_MB = numberOption('cli-mb', 0);
const files = positionals();
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
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

/** Wall seconds of a command. @throws when it fails */
function timeCommand(cmd: string, argv: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  const s = (performance.now() - t0) / 1e3;
  if (r.status !== 0) throw new Error(`${cmd} ${argv.join(' ')} failed: ${r.stderr?.toString()}`);
  return s;
}

/** Times every condition RUNS times, alternating within each round, after one untimed warm-up each; medians in MB/s. */
async function alternate<C>(bytes: number, conds: C[], f: (c: C) => Promise<void>): Promise<{ cond: C; MBps: number; runs: number[] }[]> {
  for (const c of conds) await f(c);
  const times = conds.map(() => [] as number[]);
  for (let r = 0; r < RUNS; r++) for (const [k, c] of conds.entries()) times[k].push(await timeOnce(() => f(c)));
  return conds.map((cond, k) => ({ cond, MBps: mbps(bytes, median(times[k])), runs: times[k].map((s) => mbps(bytes, s)) }));
}

/** CLI decode of `packed` to a file with 1 and 2 threads, and `zstd -d` of the same input; medians in MB/s. */
function cliRows(packed: string, zstPath: string | undefined, out: string, bytes: number): Record<string, number> {
  const cli: Record<string, number[]> = { 'wcodec -t1': [], 'wcodec -t2': [], 'zstd -d': [] };
  for (let r = 0; r < RUNS; r++) {
    cli['wcodec -t1'].push(timeCommand(process.execPath, [CLI, 'decompress', packed, '-o', out, '-f', '-q', '--threads', '1']));
    cli['wcodec -t2'].push(timeCommand(process.execPath, [CLI, 'decompress', packed, '-o', out, '-f', '-q', '--threads', '2']));
    if (zstPath) cli['zstd -d'].push(timeCommand('zstd', ['-q', '-d', '-f', zstPath, '-o', out]));
  }
  return Object.fromEntries(Object.entries(cli).filter(([, t]) => t.length > 0).map(([k, t]) => [k, mbps(bytes, median(t))]));
}

async function main(): Promise<void> {
  const inputs: string[] = [...files];
  if (inputs.length === 0) {
    const shard = join(CORPUS_ROOT, 'llama-tiny/base/model-00001-of-00002.safetensors');
    if (spawnSync('test', ['-f', shard]).status === 0) inputs.push(shard);
    for (const dtype of ['BF16', 'F32'] as const) inputs.push((await syntheticInput(dtype, MB * 1024 * 1024, (s) => console.error(s))).path);
  }
  const cliInput = CLI_MB > 0 ? (await syntheticInput('BF16', CLI_MB * 1024 * 1024, (s) => console.error(s))).path : undefined;
  const zstd = spawnSync('zstd', ['--version']).status === 0;
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-cpu-path-'));
  const results: Record<string, unknown>[] = [];
  const cliResults: Record<string, unknown>[] = [];
  try {
    for (const path of inputs) {
      const bytes = new Uint8Array(await readFile(path));
      const want = sha(bytes);
      const name = path.includes('/corpus/') ? path.slice(path.indexOf('/corpus/') + 8) : basename(path);
      const zstPath = zstd && !cliInput ? join(dir, 'in.zst') : undefined;
      if (zstPath) spawnSync('zstd', ['-q', '-3', '-f', path, '-o', zstPath]);
      for (const coding of ['default', 'huffman'] as const) {
        const options = { name: basename(path), huffman: coding === 'huffman' };
        const container = await compressBuffer(bytes, { ...options, threads: 1 });
        const packed = join(dir, 'in.wcodec');
        await writeFile(packed, container);
        // Encode, 1 and 2 threads: the same container either way.
        const encode = await alternate(bytes.length, [1, 2], async (threads) => {
          const c = await compressBuffer(bytes, { ...options, threads });
          if (c.length !== container.length) throw new Error(`${name} ${coding}: ${threads}-thread container differs`);
        });
        // In-process decode: 1 and 2 threads x SHA-256 checks on/off (version 4 checks chunk digests either way).
        const conds = [1, 2].flatMap((threads) => [false, true].map((checkSha256) => ({ threads, checkSha256 })));
        for (const c of conds) if (sha(await decompressBuffer(container, c)) !== want) throw new Error(`${name} ${coding}: decode differs`);
        const inProcess = await alternate(bytes.length, conds, async (c) => void (await decompressBuffer(container, c)));
        // The file API, file to file (its temporary file, fsync and rename included).
        const out = join(dir, 'out.bin');
        const fileApi = await alternate(bytes.length, [1, 2], async (threads) => void (await decompressFile(packed, out, { threads, overwrite: true })));
        if (sha(new Uint8Array(await readFile(out))) !== want) throw new Error(`${name}: decompressFile output differs`);
        // The CLI on this input (a separate process: Node's start and the worker's included).
        const cliMBps = cliInput ? {} : cliRows(packed, zstPath, out, bytes.length);
        if (!cliInput && sha(new Uint8Array(await readFile(out))) !== want) throw new Error(`${name}: CLI output differs`);
        const pick = (rows: { cond: unknown; MBps: number }[], match: (c: never) => boolean): number => rows.find((r) => match(r.cond as never))!.MBps;
        const e1 = pick(encode, (t: number) => t === 1);
        const e2 = pick(encode, (t: number) => t === 2);
        const d1 = pick(inProcess, (c: { threads: number; checkSha256: boolean }) => c.threads === 1 && !c.checkSha256);
        const d2 = pick(inProcess, (c: { threads: number; checkSha256: boolean }) => c.threads === 2 && !c.checkSha256);
        const s1 = pick(inProcess, (c: { threads: number; checkSha256: boolean }) => c.threads === 1 && c.checkSha256);
        const s2 = pick(inProcess, (c: { threads: number; checkSha256: boolean }) => c.threads === 2 && c.checkSha256);
        const f1 = pick(fileApi, (t: number) => t === 1);
        const f2 = pick(fileApi, (t: number) => t === 2);
        const row = {
          input: name,
          bytes: bytes.length,
          sha256: want,
          coding,
          ratio: Math.round((bytes.length / container.length) * 10000) / 10000,
          encode: encode.map((r) => ({ threads: r.cond, MBps: r.MBps, runs: r.runs })),
          inProcess: inProcess.map((r) => ({ ...r.cond, MBps: r.MBps, runs: r.runs })),
          decompressFile: fileApi.map((r) => ({ threads: r.cond, MBps: r.MBps, runs: r.runs })),
          cliMBps,
          speedup2: { encode: Math.round((e2 / e1) * 100) / 100, decode: Math.round((d2 / d1) * 100) / 100, decodeSha256: Math.round((s2 / s1) * 100) / 100, decompressFile: Math.round((f2 / f1) * 100) / 100 },
        };
        results.push(row);
        console.log(
          `${name.padEnd(44)} ${coding.padEnd(8)} x${row.ratio.toFixed(4)}  encode 1t ${e1} 2t ${e2} (${row.speedup2.encode}x)` +
            `  decode 1t ${d1} 2t ${d2} (${row.speedup2.decode}x), with SHA-256 ${s1} / ${s2}  decompressFile ${f1} / ${f2} (${row.speedup2.decompressFile}x)` +
            (cliInput ? '' : `  | CLI 1t ${cliMBps['wcodec -t1']} 2t ${cliMBps['wcodec -t2']} zstd -d ${cliMBps['zstd -d'] ?? '-'}`),
        );
      }
    }
    if (cliInput) {
      const bytes = new Uint8Array(await readFile(cliInput));
      const want = sha(bytes);
      const zstPath = zstd ? join(dir, 'cli.zst') : undefined;
      if (zstPath) spawnSync('zstd', ['-q', '-3', '-f', cliInput, '-o', zstPath]);
      for (const coding of ['default', 'huffman'] as const) {
        const packed = join(dir, 'cli.wcodec');
        await writeFile(packed, await compressBuffer(bytes, { name: basename(cliInput), huffman: coding === 'huffman' }));
        const out = join(dir, 'cli-out.bin');
        const cliMBps = cliRows(packed, zstPath, out, bytes.length);
        if (sha(new Uint8Array(await readFile(out))) !== want) throw new Error('CLI output differs');
        const speedup = Math.round((cliMBps['wcodec -t2'] / cliMBps['wcodec -t1']) * 100) / 100;
        cliResults.push({ input: basename(cliInput), bytes: bytes.length, sha256: want, coding, cliMBps, speedup2: speedup });
        console.log(`CLI ${basename(cliInput)} ${coding}: wcodec -t1 ${cliMBps['wcodec -t1']} -t2 ${cliMBps['wcodec -t2']} (${speedup}x) zstd -d ${cliMBps['zstd -d'] ?? '-'} MB/s`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
    await closeSharedPools();
  }
  const file = join(dirname(fileURLToPath(import.meta.url)), '../../bench/results/cpu-path.json');
  await mkdir(dirname(file), { recursive: true });
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, v8: process.versions.v8 };
  const record = { date: new Date().toISOString(), machine, runs: RUNS, unit: 'MB/s of original bytes (10^6), medians', results, cli: cliResults };
  await writeFile(file, `${JSON.stringify(record, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

await main();
