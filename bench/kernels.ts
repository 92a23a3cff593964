// Micro-benchmark of the hot loops, TypeScript reference vs WebAssembly kernels side by side in one process:
// CRC-32C, the WD64 chunk digest (over 4 KiB, 256 KiB and whole-input blocks), SHA-256 (node:crypto and portable),
// symbol counting, and chunk encode/decode (rANS or Huffman + planes) on seeded synthetic BF16 and F32 weights, in the
// default, fastDecode and huffman layouts and the version 4 default (one coded plane, the 6-bit sign and mantissa
// plane packed raw). Median of N runs after a warm-up; every kernel result is checked against
// the reference. Usage: npm run bench:kernels [-- --runs N --mb M]; writes bench/results/kernels.json.

import '../src/io/node-sha256.js';
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChunkDecoder, ChunkScratch, encodeChunk } from '../src/entropy/chunk-codec.js';
import { chunkDigest } from '../src/format/chunk-digest.js';
import { crc32c } from '../src/format/crc32c.js';
import { FORMAT_VERSION_DIGESTS, FORMAT_VERSION_IDENTITY } from '../src/format/constants.js';
import { PortableSha256 } from '../src/format/sha256.js';
import { chooseCoding, SegmentStats } from '../src/pipeline/choose-layout.js';
import { chunkDigestInKernel } from '../src/wasm/kernel-digest.js';
import { loadKernels } from '../src/wasm/kernels.js';
import { WasmChunkDecoder } from '../src/wasm/wasm-chunk-decoder.js';
import { WasmChunkEncoder } from '../src/wasm/wasm-chunk-encoder.js';
import { WasmSegmentStats } from '../src/pipeline/wasm-segment-stats.js';
import { numberOption } from './args.js';

const RUNS = numberOption('runs', 7);
const MB = numberOption('mb', 32);

/** Median seconds of `runs` calls of `f` after one warm-up call. */
function time(f: () => void, runs = RUNS): number {
  f();
  const t: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    f();
    t.push((performance.now() - t0) / 1e3);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

/** Seeded near-Gaussian weights (xorshift + sum of uniforms), as BF16 or F32 bytes. */
function weights(dtype: 'BF16' | 'F32', bytes: number, seed = 1): Uint8Array {
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
  const n = Math.floor(bytes / (dtype === 'BF16' ? 2 : 4));
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = (rnd() + rnd() + rnd() + rnd() - 2) * 0.02;
  if (dtype === 'F32') return new Uint8Array(f.buffer);
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = u[i] >>> 16;
  return new Uint8Array(out.buffer);
}

const mbps = (bytes: number, s: number): number => Math.round(bytes / s / 1e4) / 100;

async function main(): Promise<void> {
  const kernels = await loadKernels();
  if (!kernels) throw new Error('WebAssembly kernels unavailable');
  const results: Record<string, unknown>[] = [];
  const row = (kernel: string, data: string, bytes: number, ts: number | undefined, wasm: number | undefined, extra: Record<string, unknown> = {}): void => {
    const r = { kernel, data, bytes, tsMBps: ts === undefined ? null : mbps(bytes, ts), wasmMBps: wasm === undefined ? null : mbps(bytes, wasm), ...extra };
    results.push(r);
    console.log(`${kernel.padEnd(31)} ${data.padEnd(10)} ts ${String(r.tsMBps).padStart(8)} MB/s   wasm ${String(r.wasmMBps).padStart(8)} MB/s`);
  };

  // CRC-32C over bytes already in kernel memory (the decoder's case: the chunk is copied in once for CRC and decode).
  const buf = weights('F32', MB * 1e6);
  const ptr = kernels.copyIn(buf);
  const want = crc32c(buf);
  if (kernels.k.crc32cUpdate(0, ptr, buf.length) >>> 0 !== want) throw new Error('crc32c mismatch');
  row('crc32c', 'random', buf.length, time(() => crc32c(buf)), time(() => kernels.k.crc32cUpdate(0, ptr, buf.length)));
  // WD64 over bytes already in kernel memory (the decoder digests its output in place). A block smaller than the input
  // is digested again and again at the same place, as a decoder's output block is, until the input's size is covered.
  for (const block of [4096, 256 * 1024, buf.length]) {
    const reps = Math.max(1, Math.floor(buf.length / block));
    const data = buf.subarray(0, block);
    if (chunkDigestInKernel(kernels, ptr, block) !== chunkDigest(data)) throw new Error(`chunk digest mismatch at ${block} bytes`);
    const label = block === buf.length ? `${MB} MB` : `${block / 1024} KiB`;
    const tsRuns = block === buf.length ? 3 : RUNS;
    const tTs = time(() => {
      for (let r = 0; r < reps; r++) chunkDigest(data);
    }, tsRuns);
    const tWasm = time(() => {
      for (let r = 0; r < reps; r++) chunkDigestInKernel(kernels, ptr, block);
    });
    row('chunk digest WD64', label, reps * block, tTs, tWasm);
  }
  row('copy into kernel memory', 'random', buf.length, undefined, time(() => kernels.u8.set(buf, ptr)));
  kernels.release(ptr, buf.length);
  row('sha256 node:crypto', 'random', buf.length, time(() => createHash('sha256').update(buf).digest()), undefined);
  const slice = buf.subarray(0, buf.length >> 3);
  row('sha256 portable', 'random', slice.length, time(() => {
    const h = new PortableSha256();
    h.update(slice);
    h.digest();
  }, 3), undefined);

  // "fast": the fastDecode encoder option (only the exponent plane coded, by rANS); "huff": the huffman option (the
  // same layout, the exponent plane Huffman-coded); "v4": the default layout choice of container version 4.
  const variants: ['BF16' | 'F32', boolean, boolean, number][] = [
    ['BF16', false, false, FORMAT_VERSION_IDENTITY],
    ['BF16', true, false, FORMAT_VERSION_IDENTITY],
    ['BF16', true, true, FORMAT_VERSION_IDENTITY],
    ['BF16', false, false, FORMAT_VERSION_DIGESTS],
    ['F32', false, false, FORMAT_VERSION_IDENTITY],
    ['F32', true, false, FORMAT_VERSION_IDENTITY],
    ['F32', true, true, FORMAT_VERSION_IDENTITY],
    ['F32', false, false, FORMAT_VERSION_DIGESTS],
  ];
  for (const [dtype, fast, huff, version] of variants) {
    const label = huff ? `${dtype} huff` : fast ? `${dtype} fast` : version === FORMAT_VERSION_DIGESTS ? `${dtype} v4` : dtype;
    const data = weights(dtype, MB * 1e6);
    const W = dtype === 'BF16' ? 2 : 4;
    const values = data.length / W;
    const stats = new SegmentStats(W);
    const wstats = new WasmSegmentStats(kernels, W);
    const tCount = time(() => new SegmentStats(W).add(data), 3);
    const wCount = time(() => new WasmSegmentStats(kernels, W).add(data), 3);
    stats.add(data);
    wstats.add(data);
    if (wstats.head.some((c, i) => c !== stats.head[i])) throw new Error('histogram mismatch');
    if (!fast && version === FORMAT_VERSION_IDENTITY) row('count symbols', dtype, data.length, tCount, wCount);
    const chunkValues = (256 * 1024) / W;
    const coding = chooseCoding(dtype, stats, chunkValues, fast, undefined, huff, false, version);
    const chunks: { at: number; n: number; bytes: Uint8Array; crc: number }[] = [];
    const scratch = new ChunkScratch(chunkValues, coding.layout.planes.length);
    const enc = new WasmChunkEncoder(kernels, coding, chunkValues);
    const tEnc = time(() => {
      for (let v = 0; v < values; v += chunkValues) {
        const n = Math.min(chunkValues, values - v);
        const c = encodeChunk(data.subarray(v * W, (v + n) * W), n, coding, scratch);
        crc32c(c);
      }
    }, 3);
    const wEnc = time(() => {
      chunks.length = 0;
      for (let v = 0; v < values; v += chunkValues) {
        const n = Math.min(chunkValues, values - v);
        const c = enc.encode(data.subarray(v * W, (v + n) * W), n);
        chunks.push({ at: v * W, n, bytes: c.bytes, crc: c.crc32c });
      }
    });
    enc.dispose();
    for (const c of chunks) {
      const ref = encodeChunk(data.subarray(c.at, c.at + c.n * W), c.n, coding, scratch);
      if (Buffer.compare(Buffer.from(ref), Buffer.from(c.bytes)) !== 0) throw new Error(`${dtype}: encoded chunk differs from the reference`);
    }
    // Coded symbols per value (a Huffman plane's symbols count too, though they decode several per lookup).
    const coded = coding.tables.filter((t) => t).length;
    const codedBytes = chunks.reduce((a, c) => a + c.bytes.length, 0);
    row('encode chunks (rANS+split+crc)', label, data.length, tEnc, wEnc, { symbolsPerValue: coded, ratio: Math.round((data.length / codedBytes) * 1000) / 1000 });
    const out = new Uint8Array(data.length);
    const ref = new ChunkDecoder(coding, chunkValues);
    const dec = new WasmChunkDecoder(kernels, coding, chunkValues);
    const tDec = time(() => {
      for (const c of chunks) {
        if (crc32c(c.bytes) !== c.crc) throw new Error('crc');
        ref.decode(c.bytes, c.n, out.subarray(c.at, c.at + c.n * W), undefined, 0);
      }
    }, 3);
    const wDec = time(() => {
      for (const c of chunks) dec.decode(c.bytes, c.n, out.subarray(c.at, c.at + c.n * W), { crc32c: c.crc }, undefined, 0);
    });
    dec.dispose();
    if (Buffer.compare(Buffer.from(out), Buffer.from(data)) !== 0) throw new Error(`${dtype}: decode differs`);
    const symbols = values * coded;
    row('decode chunks (crc+rANS+merge)', label, data.length, tDec, wDec, {
      tsMsymPerS: Math.round(symbols / tDec / 1e4) / 100,
      wasmMsymPerS: Math.round(symbols / wDec / 1e4) / 100,
    });
  }

  const file = join(dirname(fileURLToPath(import.meta.url)), '../../bench/results/kernels.json');
  await mkdir(dirname(file), { recursive: true });
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, v8: process.versions.v8 };
  await writeFile(file, `${JSON.stringify({ date: new Date().toISOString(), machine, runs: RUNS, mb: MB, unit: 'MB/s of original bytes (10^6)', results }, null, 2)}\n`);
  console.log(`wrote ${file}`);
}

await main();
