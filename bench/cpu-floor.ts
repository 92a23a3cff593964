// What one thread cannot go below, beside zstd -3 on the same bytes in the same process: the parts of a wcodec encode
// and decode that the container requires whatever the coder does, timed alone. Encode: SHA-256 of every tensor and of
// the whole file (both digests are stored: FORMAT.md §3.3, §7.1; node:crypto, SHA-NI where the CPU has it) and the
// WebAssembly chunk encoder of the default coding alone. Decode: the first touch of an output the size of the input
// (page faults; a one-shot decode into new memory pays them, zstd's included) and the WebAssembly chunk decoder alone
// (chunk digests checked) into memory touched already. Each figure is the median of N runs after a warm-up, rounds
// alternating between the steps, in CPU time of this process (ratios) and wall time; every output is checked (zstd and wcodec round trips byte for byte, chunk decode
// equal to the input, digests of both passes equal to a third).
// Usage: npm run bench:cpu-floor [-- --runs 5 --mb 256 FILE... --out PATH]; with FILEs only those are measured (else two
// synthetic inputs of --mb MiB); writes bench/results/cpu-floor.json, or PATH. Also timed: the encoder's symbol counts
// of every tensor (pass one), a step any entropy coder of these layouts takes.

import '../src/io/node-sha256.js';
import { createHash } from 'node:crypto';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { FORMAT_VERSION_DIGESTS } from '../src/format/constants.js';
import { chooseCoding } from '../src/pipeline/choose-layout.js';
import { WasmSegmentStats } from '../src/pipeline/wasm-segment-stats.js';
import { readSafetensorsLayout } from '../src/safetensors/read-layout.js';
import { MemorySource } from '../src/io/byte-source.js';
import { loadKernels } from '../src/wasm/kernels.js';
import { WasmChunkDecoder } from '../src/wasm/wasm-chunk-decoder.js';
import { WasmChunkEncoder } from '../src/wasm/wasm-chunk-encoder.js';
import { syntheticInput } from './inputs.js';
import { median } from './median.js';
import { numberOption, option, positionals } from './args.js';

const RUNS = numberOption('runs', 5);
const MB = numberOption('mb', 256);
const files = positionals();
const outArg = option('out');

interface ZstdNapi {
  compress(b: Uint8Array, p?: { compressionLevel?: number }): Buffer;
  decompress(b: Uint8Array): Buffer;
}
const zstd = createRequire(import.meta.url)('zstd-napi') as ZstdNapi;

const equal = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/**
 * Times every step once per round, in an order that alternates between rounds; returns the median CPU ms (user +
 * system of this process: time slices taken by other jobs on a shared machine do not count) and the median wall ms.
 */
async function rounds(steps: Record<string, () => unknown>): Promise<{ cpu: Record<string, number>; wall: Record<string, number> }> {
  const names = Object.keys(steps);
  for (const n of names) await steps[n](); // warm-up
  const cpu: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const wall: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < RUNS; r++) {
    const order = r % 2 === 0 ? names : [...names].reverse();
    for (const n of order) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await steps[n]();
      wall[n].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[n].push((c.user + c.system) / 1e3);
    }
  }
  return { cpu: Object.fromEntries(names.map((n) => [n, median(cpu[n])])), wall: Object.fromEntries(names.map((n) => [n, median(wall[n])])) };
}

async function measure(path: string): Promise<Record<string, unknown>> {
  const input = new Uint8Array(await readFile(path));
  const layout = await readSafetensorsLayout(new MemorySource(input, path));
  const tensors = layout.tensors;
  const kernels = await loadKernels();
  if (!kernels) throw new Error('the WebAssembly kernels did not load');
  const chunkBytes = 256 * 1024;

  // The default coding of each tensor, chosen once (choosing is not part of either floor).
  const coders = tensors.map((t) => {
    const W = t.dtype === 'BF16' || t.dtype === 'F16' ? 2 : t.dtype === 'F32' ? 4 : 1;
    const bytes = input.subarray(t.begin, t.end);
    const stats = new WasmSegmentStats(kernels, W);
    stats.add(bytes);
    const chunkValues = chunkBytes / W;
    const coding = chooseCoding(W === 1 ? 'bytes' : t.dtype, stats, chunkValues, false, undefined, false, false, FORMAT_VERSION_DIGESTS);
    return { W, bytes, chunkValues, coding, encoder: new WasmChunkEncoder(kernels, coding, chunkValues, true), decoder: new WasmChunkDecoder(kernels, coding, chunkValues) };
  });
  type Coded = { bytes: Uint8Array; n: number; digest?: bigint; at: number }[];
  const coded: Coded[] = coders.map(() => []);
  const encodeKernel = (): void => {
    coders.forEach((c, k) => {
      const out: Coded = (coded[k] = []);
      const values = c.bytes.length / c.W;
      for (let v = 0; v < values; v += c.chunkValues) {
        const n = Math.min(c.chunkValues, values - v);
        const e = c.encoder.encode(c.bytes.subarray(v * c.W, (v + n) * c.W), n);
        out.push({ bytes: e.bytes, n, digest: e.digest, at: v * c.W });
      }
    });
  };
  const warmOut = new Uint8Array(input.length);
  const decodeKernel = (): void => {
    coders.forEach((c, k) => {
      const base = tensors[k].begin;
      for (const ch of coded[k]) {
        if (!c.decoder.decode(ch.bytes, ch.n, warmOut.subarray(base + ch.at, base + ch.at + ch.n * c.W), { crc32c: 0, digest: ch.digest }, path, 0)) throw new Error(`${path}: chunk digest mismatch`);
      }
    });
  };
  let touched = 0;
  let counted = 0;
  const countStats = new Map<number, WasmSegmentStats>();
  const firstTouch = (): void => {
    const b = new Uint8Array(input.length);
    for (let i = 0; i < b.length; i += 4096) b[i] = 1;
    touched += b[b.length - 1];
  };
  let zc = zstd.compress(input, { compressionLevel: 3 });
  let wc = await compressBuffer(input, { threads: 1 });
  const digests: string[] = [];
  const { cpu: t, wall } = await rounds({
    'zstd -3 encode': () => (zc = zstd.compress(input, { compressionLevel: 3 })),
    'zstd -3 decode': () => zstd.decompress(zc),
    'SHA-256 x2 (tensors, file)': () => {
      const h = createHash('sha256');
      for (const x of tensors) h.update(input.subarray(x.begin, x.end));
      digests.push(h.digest('hex'), sha(input));
    },
    'encode kernel (WebAssembly)': encodeKernel,
    'symbol counts (pass one)': () => {
      // One SegmentStats per value width, emptied for each tensor, as the encoder keeps them.
      for (const c of coders) {
        const stats = countStats.get(c.W) ?? countStats.set(c.W, new WasmSegmentStats(kernels, c.W)).get(c.W)!;
        stats.reset();
        stats.add(c.bytes);
        counted += stats.values;
      }
    },
    'first touch of the output': firstTouch,
    'decode kernel (WebAssembly, digests)': decodeKernel,
    'wcodec encode (1 thread)': async () => (wc = await compressBuffer(input, { threads: 1 })),
    'wcodec decode (1 thread)': () => decompressBuffer(wc, { threads: 1 }),
  });
  // Checks: both codecs round-trip, the kernels' chunks decode to the input, the file digest is the input's.
  if (!equal(zstd.decompress(zc), input)) throw new Error(`${path}: zstd round trip differs`);
  if (!equal(await decompressBuffer(wc, { threads: 1 }), input)) throw new Error(`${path}: wcodec round trip differs`);
  warmOut.fill(0);
  decodeKernel();
  for (const x of tensors) if (!equal(warmOut.subarray(x.begin, x.end), input.subarray(x.begin, x.end))) throw new Error(`${path}: kernel decode of ${x.name} differs`);
  if (digests[1] !== sha(input)) throw new Error(`${path}: digest differs`);
  for (const c of coders) {
    c.encoder.dispose();
    c.decoder.dispose();
  }
  const encFloor = t['SHA-256 x2 (tensors, file)'] + t['encode kernel (WebAssembly)'];
  const values = coders.reduce((a, c) => a + c.bytes.length / c.W, 0);
  if (counted !== values * (RUNS + 1)) throw new Error(`${path}: counted ${counted} values, not ${values} a run`);
  const decFloor = t['first touch of the output'] + t['decode kernel (WebAssembly, digests)'];
  return {
    input: basename(path),
    bytes: input.length,
    sha256: sha(input),
    tensors: tensors.length,
    cpuMs: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    wallMs: Object.fromEntries(Object.entries(wall).map(([k, v]) => [k, Math.round(v * 10) / 10])),
    mbPerCpuS: Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Math.round(input.length / v / 1e3)])),
    encode: {
      digestsOverZstd: t['SHA-256 x2 (tensors, file)'] / t['zstd -3 encode'],
      floorOverZstd: encFloor / t['zstd -3 encode'],
      floorWithCountsOverZstd: (encFloor + t['symbol counts (pass one)']) / t['zstd -3 encode'],
      wcodecOverZstd: t['wcodec encode (1 thread)'] / t['zstd -3 encode'],
      zstdOverWcodec: t['zstd -3 encode'] / t['wcodec encode (1 thread)'],
    },
    decode: {
      floorSpeedup: t['zstd -3 decode'] / decFloor,
      wcodecSpeedup: t['zstd -3 decode'] / t['wcodec decode (1 thread)'],
    },
    touched,
  };
}

async function main(): Promise<void> {
  const log = (s: string): void => console.error(s);
  const paths = files.length > 0 ? files : [(await syntheticInput('BF16', MB * 1024 * 1024, log)).path, (await syntheticInput('F32', MB * 1024 * 1024, log)).path];
  const results: Record<string, unknown>[] = [];
  for (const p of paths) {
    const r = await measure(p);
    results.push(r);
    const ms = r.cpuMs as Record<string, number>;
    const wms = r.wallMs as Record<string, number>;
    const e = r.encode as Record<string, number>;
    const d = r.decode as Record<string, number>;
    console.log(`\n${r.input as string} (${((r.bytes as number) / 1e6).toFixed(1)} MB, ${r.tensors as number} tensors), medians of ${RUNS}, CPU ms (wall ms):`);
    for (const [k, v] of Object.entries(ms)) console.log(`  ${k.padEnd(40)} ${v.toFixed(1).padStart(9)} ms CPU (${wms[k].toFixed(1).padStart(8)} wall)  ${String((r.mbPerCpuS as Record<string, number>)[k]).padStart(6)} MB per CPU s`);
    console.log(`  encode: digests alone ${e.digestsOverZstd.toFixed(2)}x zstd -3's encode time; digests + encode kernel ${e.floorOverZstd.toFixed(2)}x; wcodec ${e.wcodecOverZstd.toFixed(2)}x (speed ${e.zstdOverWcodec.toFixed(2)}x zstd's)`);
    console.log(`  decode: first touch + decode kernel would be ${d.floorSpeedup.toFixed(2)}x zstd -3's decode speed; wcodec ${d.wcodecSpeedup.toFixed(2)}x`);
  }
  const file = outArg ?? join(dirname(fileURLToPath(import.meta.url)), '../../bench/results/cpu-floor.json');
  await mkdir(dirname(file), { recursive: true });
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, v8: process.versions.v8, openssl: process.versions.openssl, loadAtStart: loadavg()[0] };
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), machine, runs: RUNS, unit: 'ms (median), CPU of this process and wall; ratios from CPU ms; MB = 10^6 B', results }, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

await main();
