// Benchmark of y = W·x for BF16 matrices (src/gpu/matvec.ts): the fused product (matvec-fused.wgsl, W decoded inside
// the product) against decode-then-multiply (decode-lean.wgsl, then matvec-decoded.wgsl: each kernel alone, their sum,
// and both in one submission) and against the uncompressed multiply (matvec-decoded.wgsl over the raw BF16 bytes).
// Kernel times by timestamp queries around each pass: the median of --reps passes recorded back to back, after
// warm-up batches for at least --warm-ms (a GPU leaves its idle clocks only under sustained load). W: rows of tools/synthetic-weights.ts (seed S), x: Gaussian (seed S + 1). Every case checks its own
// output: the three products give the same bits, the fused one is within 1e-5 of the float64 product (relative to
// Σ|w·x| per row), and every chunk's status word and digest pass.
// Usage: npm run bench:gpu-matvec -- [--shapes 256x256,256x768,768x256,4096x4096] [--chunks gpu,default]
//        [--variants auto,auto:nodigest,subgroup:8,workgroup:1] [--reps R] [--warm-ms 300] [--seed S] [--out FILE]
// --chunks: 'gpu' codes W in the GPU profile's 16 KiB chunks, 'default' in the writer's default 256 KiB chunks.
// A variant is lanes:groups[:nodigest] (groups of 32 invocations per workgroup, for the fused and the decode kernel;
// nodigest: the fused kernel without its chunk digests, timed and its y checked, the digests not); 'auto[:nodigest]' is
// the lane variant decodeToGPU would choose, with its default groups.

import '../src/io/node-sha256.js';
import { cpus, totalmem } from 'node:os';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { compressBuffer } from '../src/api/buffers.js';
import { openContainer, type Checkpoint } from '../src/api/checkpoint.js';
import { MemorySource } from '../src/io/byte-source.js';
import { BUFFER_USAGE, MAP_MODE, requestDecodeDevice, subgroupSizes } from '../src/gpu/adapter.js';
import { GpuDecodeJob } from '../src/gpu/decode-job.js';
import { chooseLanes } from '../src/gpu/lanes-dispatch.js';
import { readBuffer } from '../src/gpu/readback.js';
import { GPU_PROFILE } from '../src/gpu/profile.js';
import type { LaneVariant } from '../src/gpu/kernels.js';
import { MatvecFusedJob, fusedUnavailableReason } from '../src/gpu/matvec-fused-job.js';
import { CombinePass, DecodedProductPass } from '../src/gpu/matvec-passes.js';
import { matvecShape, partialSlots, type MatvecShape } from '../src/gpu/matvec-shape.js';
import { syntheticMatrixBF16 } from '../tools/synthetic-weights.js';
import { Rng } from '../tools/seeded-rng.js';
import { median } from './median.js';

/** Largest error of the fused y against the float64 product, relative to Σ_c |w_rc · x_c|. */
const TOLERANCE = 1e-5;

export interface MatvecBenchArgs {
  shapes: [number, number][];
  chunks: ('gpu' | 'default')[];
  variants: string[];
  reps: number;
  /** Milliseconds of untimed batches before each case's timed one (the GPU's clock rises only under sustained load). */
  warmMs: number;
  seed: number;
  out: string;
}

export function parseMatvecArgs(argv: string[]): MatvecBenchArgs {
  const a: MatvecBenchArgs = {
    shapes: [[256, 256], [256, 768], [768, 256], [4096, 4096]],
    chunks: ['gpu', 'default'],
    variants: ['auto'],
    reps: 20,
    warmMs: 300,
    seed: 1,
    out: 'bench/out/gpu-matvec.json',
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--shapes':
        a.shapes = v.split(',').map((s) => s.split('x').map(Number) as [number, number]);
        i++;
        break;
      case '--chunks': a.chunks = v.split(',') as MatvecBenchArgs['chunks']; i++; break;
      case '--variants': a.variants = v.split(','); i++; break;
      case '--reps': a.reps = Number(v); i++; break;
      case '--warm-ms': a.warmMs = Number(v); i++; break;
      case '--seed': a.seed = Number(v); i++; break;
      case '--out': a.out = v; i++; break;
      default: throw new RangeError(`unknown argument ${argv[i]}`);
    }
  }
  for (const [r, c] of a.shapes) if (!(Number.isInteger(r) && Number.isInteger(c) && r > 0 && c > 0)) throw new RangeError(`shape ${r}x${c} is not rows x cols`);
  for (const c of a.chunks) if (c !== 'gpu' && c !== 'default') throw new RangeError(`--chunks ${c}: expected gpu or default`);
  if (!Number.isInteger(a.reps) || a.reps < 1) throw new RangeError(`--reps ${a.reps} is not a positive integer`);
  if (!(a.warmMs >= 0)) throw new RangeError(`--warm-ms ${a.warmMs} is not a non-negative number`);
  return a;
}


/** Where a case puts a timestamp: at the start of its first pass and at the end of its last. */
type Stamp = (which: 'whole' | 'begin' | 'end') => GPUComputePassTimestampWrites | undefined;

/** MatvecBenchArgs.warmMs of the run (set by main). */
let warmUpMs = 300;

/**
 * Milliseconds of one case: `reps` runs recorded back to back in one submission, each bracketed by timestamps
 * (`record` places them), after warm-up batches (at least one, and until `warmMs` have passed); the median run.
 * Without timestamp queries, the batch's wall time per run.
 */
async function timeCase(device: GPUDevice, reps: number, record: (enc: GPUCommandEncoder, stamp: Stamp) => void, warmMs = warmUpMs): Promise<{ ms: number; runsMs: number[] }> {
  const qs = device.features.has('timestamp-query') ? device.createQuerySet({ label: 'bench matvec timestamps', type: 'timestamp', count: 2 * reps }) : undefined;
  const bytes = 16 * reps;
  const resolve = device.createBuffer({ label: 'bench matvec timestamps', size: bytes, usage: BUFFER_USAGE.QUERY_RESOLVE | BUFFER_USAGE.COPY_SRC });
  try {
    let result = { ms: NaN, runsMs: [] as number[] };
    const w0 = performance.now();
    for (let warm = true; ; warm = performance.now() - w0 < warmMs) {
      const batch = warm ? 'warm-up' : 'timed';
      const read = device.createBuffer({ label: 'bench matvec timestamps read', size: bytes, usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST });
      const enc = device.createCommandEncoder({ label: `bench matvec ${batch}` });
      for (let r = 0; r < reps; r++) {
        const stamp: Stamp = (which) => {
          if (!qs) return undefined;
          if (which === 'begin') return { querySet: qs, beginningOfPassWriteIndex: 2 * r };
          if (which === 'end') return { querySet: qs, endOfPassWriteIndex: 2 * r + 1 };
          return { querySet: qs, beginningOfPassWriteIndex: 2 * r, endOfPassWriteIndex: 2 * r + 1 };
        };
        record(enc, stamp);
      }
      if (qs) {
        enc.resolveQuerySet(qs, 0, 2 * reps, resolve, 0);
        enc.copyBufferToBuffer(resolve, 0, read, 0, bytes);
      }
      const t0 = performance.now();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
      const wallMs = (performance.now() - t0) / reps;
      if (qs) {
        await read.mapAsync(MAP_MODE.READ);
        const t = new BigUint64Array(read.getMappedRange());
        const runsMs = Array.from({ length: reps }, (_, r) => Number(t[2 * r + 1] - t[2 * r]) / 1e6);
        read.unmap();
        result = { ms: median(runsMs), runsMs };
      } else {
        result = { ms: wallMs, runsMs: [] };
      }
      read.destroy();
      if (!warm) break;
    }
    return result;
  } finally {
    qs?.destroy();
    resolve.destroy();
  }
}

/** A safetensors file of one BF16 tensor 'w'. */
function safetensorsOf(rows: number, cols: number, data: Uint8Array): Uint8Array {
  let json = JSON.stringify({ w: { dtype: 'BF16', shape: [rows, cols], data_offsets: [0, data.length] } });
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  out.set(data, 8 + json.length);
  return out;
}

/** Largest |y − y64| / Σ|w·x| over the rows. */
function relativeError(w: Uint8Array, shape: MatvecShape, x: Float32Array, y: Float32Array): number {
  const bits = new Uint16Array(w.buffer, w.byteOffset, shape.rows * shape.cols);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let worst = 0;
  for (let r = 0; r < shape.rows; r++) {
    let s = 0;
    let m = 0;
    for (let c = 0; c < shape.cols; c++) {
      u[0] = bits[r * shape.cols + c] << 16;
      const p = f[0] * x[c];
      s += p;
      m += Math.abs(p);
    }
    worst = Math.max(worst, m === 0 ? Math.abs(y[r]) : Math.abs(y[r] - s) / m);
  }
  return worst;
}

async function readY(device: GPUDevice, y: GPUBuffer, rows: number): Promise<Uint32Array> {
  const b = await readBuffer(device, y, y.size, 0, rows * 4);
  return new Uint32Array(b.buffer, b.byteOffset, rows);
}

const sameBits = (a: Uint32Array, b: Uint32Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

interface Variant {
  lanes: LaneVariant;
  groups: number;
  /** Time the fused kernel without its chunk digests (tag 'nodigest'; its chunks' status words are still checked). */
  noDigest: boolean;
}

function parseVariant(v: string, device: GPUDevice): Variant {
  const [head, ...rest] = v.split(':');
  const noDigest = rest.includes('nodigest');
  if (head === 'auto') {
    const lanes = chooseLanes(device);
    return { lanes, groups: lanes === 'subgroup' ? 8 : 1, noDigest };
  }
  if (head !== 'subgroup' && head !== 'workgroup') throw new RangeError(`variant ${v}: expected auto, subgroup:G or workgroup:1, then tags`);
  return { lanes: head, groups: Number(rest[0] ?? 1), noDigest };
}

/** One shape, chunk size and variant: the three products timed and checked. */
async function benchCase(device: GPUDevice, cp: Checkpoint, w: Uint8Array, shape: MatvecShape, x: Float32Array, variant: Variant, reps: number): Promise<Record<string, unknown>> {
  const U = BUFFER_USAGE;
  const info = await cp.find('w');
  const { rows, cols } = shape;
  const bf16Bytes = rows * cols * 2;
  const reason = fusedUnavailableReason(cp.segmentOf(info), device);
  if (reason) return { skipped: reason };
  const options = { lanes: variant.lanes, chunksPerWorkgroup: variant.groups };
  const made: { destroy(): void }[] = [];
  const buffer = (label: string, size: number, usage: number): GPUBuffer => {
    const b = device.createBuffer({ label, size: Math.max(4, Math.ceil(size / 4) * 4), usage });
    made.push(b);
    return b;
  };
  const xb = buffer('bench x', cols * 4, U.STORAGE | U.COPY_DST);
  device.queue.writeBuffer(xb, 0, x as Float32Array<ArrayBuffer>);
  const partials = buffer('bench partials', partialSlots(shape) * 4, U.STORAGE);
  const yFused = buffer('bench y fused', rows * 4, U.STORAGE | U.COPY_SRC);
  const yDecoded = buffer('bench y decoded', rows * 4, U.STORAGE | U.COPY_SRC);
  const yRaw = buffer('bench y uncompressed', rows * 4, U.STORAGE | U.COPY_SRC);
  const raw = buffer('bench W uncompressed', bf16Bytes, U.STORAGE | U.COPY_DST);
  const padded = new Uint8Array(Math.ceil(bf16Bytes / 4) * 4);
  padded.set(w);
  device.queue.writeBuffer(raw, 0, padded);

  const fused = await MatvecFusedJob.create(device, cp, info, shape, { ...options, kernelOverrides: variant.noDigest ? { MATVEC_DIGESTS: 'false' } : {} });
  made.push(fused);
  const decode = await GpuDecodeJob.create(device, cp, [info], options);
  made.push({ destroy: () => { decode.releaseInputs(); for (const b of decode.outputs) b.destroy(); } });
  const product = await DecodedProductPass.create(device, shape);
  const combine = await CombinePass.create(device, shape);
  made.push(product, combine);
  try {
    await fused.upload();
    await decode.uploadAndDecode('staging', false);
    await decode.checkStatus();
    const t = decode.plan.tensors[0];
    const decoded = decode.outputs[t.output];

    {
      const enc = device.createCommandEncoder({ label: 'bench clear status' });
      fused.encodeClear(enc);
      device.queue.submit([enc.finish()]);
    }
    const fusedTime = await timeCase(device, reps, (enc, stamp) => {
      const pass = enc.beginComputePass({ label: 'bench fused', timestampWrites: stamp('whole') });
      fused.record(pass, xb, partials);
      combine.record(pass, partials, yFused);
      pass.end();
    });
    await fused.checkChunks();
    const decodeTime = await timeCase(device, reps, (enc, stamp) => decode.encodeDecode(enc, undefined, stamp('whole')));
    const multiply = (enc: GPUCommandEncoder, w: GPUBuffer, offset: number, y: GPUBuffer, ts: GPUComputePassTimestampWrites | undefined): void => {
      const pass = enc.beginComputePass({ label: 'bench multiply', timestampWrites: ts });
      product.record(pass, w, offset, xb, partials);
      combine.record(pass, partials, y);
      pass.end();
    };
    const multiplyTime = await timeCase(device, reps, (enc, stamp) => multiply(enc, decoded, t.offset, yDecoded, stamp('whole')));
    const oneSubmission = await timeCase(device, reps, (enc, stamp) => {
      decode.encodeDecode(enc, undefined, stamp('begin'));
      multiply(enc, decoded, t.offset, yDecoded, stamp('end'));
    });
    await decode.checkStatus();
    const rawTime = await timeCase(device, reps, (enc, stamp) => multiply(enc, raw, 0, yRaw, stamp('whole')));

    const [a, b, c] = [await readY(device, yFused, rows), await readY(device, yDecoded, rows), await readY(device, yRaw, rows)];
    if (!sameBits(a, b) || !sameBits(a, c)) throw new Error(`${rows}x${cols}: the fused, decoded and uncompressed products differ`);
    const err = relativeError(w, shape, x, new Float32Array(a.buffer, a.byteOffset, rows));
    if (!(err <= TOLERANCE)) throw new Error(`${rows}x${cols}: the fused product is ${err} (relative) from the float64 product`);

    const gbps = (bytes: number, ms: number): number => bytes / (ms / 1e3) / 1e9;
    return {
      lanes: fused.lanes,
      groups: variant.groups,
      digests: !variant.noDigest,
      compressedBytes: fused.plan.inputBytes,
      ratio: bf16Bytes / fused.plan.inputBytes,
      fusedMs: fusedTime.ms,
      decodeMs: decodeTime.ms,
      multiplyMs: multiplyTime.ms,
      decodePlusMultiplyMs: decodeTime.ms + multiplyTime.ms,
      decodeThenMultiplyOneSubmissionMs: oneSubmission.ms,
      uncompressedMs: rawTime.ms,
      fusedReadGBps: gbps(fused.plan.inputBytes, fusedTime.ms),
      uncompressedReadGBps: gbps(bf16Bytes, rawTime.ms),
      uncompressedOverFused: rawTime.ms / fusedTime.ms,
      decodeThenMultiplyOverFused: oneSubmission.ms / fusedTime.ms,
      check: { sameBits: true, maxRelativeError: err, chunksChecked: fused.plan.origins.length },
      runsMs: { fused: fusedTime.runsMs, decode: decodeTime.runsMs, multiply: multiplyTime.runsMs, oneSubmission: oneSubmission.runsMs, uncompressed: rawTime.runsMs },
    };
  } finally {
    for (const m of made.reverse()) m.destroy();
  }
}

/** Runs the benchmark; `log` gets the progress and the table. @returns the report written to args.out */
export async function runMatvecBench(args: MatvecBenchArgs, device: GPUDevice, machine: Record<string, unknown>, log: (line: string) => void = console.log): Promise<Record<string, unknown>> {
  warmUpMs = args.warmMs;
  const cases: Record<string, unknown>[] = [];
  const report = {
    benchmark: 'gpu-matvec',
    date: new Date().toISOString(),
    command: `npm run bench:gpu-matvec -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine,
    unit: 'ms of GPU time per product (timestamp queries, median of reps); GB/s = 1e9 bytes of W read per second',
    options: { ...args, tolerance: TOLERANCE },
    cases,
  };
  const rows: string[] = ['| shape | chunks | variant | ratio | fused ms | decode ms | multiply ms | decode+multiply ms | one submission ms | uncompressed ms | uncompressed/fused |', '|---|---|---|---|---|---|---|---|---|---|---|'];
  for (const [r, c] of args.shapes) {
    const t0 = performance.now();
    const w = syntheticMatrixBF16(r, c, args.seed);
    const sha256 = createHash('sha256').update(w).digest('hex');
    const rng = new Rng(args.seed + 1);
    const x = new Float32Array(c);
    for (let k = 0; k < c; k++) x[k] = rng.gaussian();
    for (const chunks of args.chunks) {
      const options = chunks === 'gpu' ? { chunkBytes: GPU_PROFILE.chunkBytes, lanes: GPU_PROFILE.lanes } : {};
      const cp = await openContainer(new MemorySource(await compressBuffer(safetensorsOf(r, c, w), { ...options, transforms: false }), `w-${r}x${c}.wcodec`));
      const seg = cp.segmentOf(cp.tensors[0]);
      const shape = matvecShape(r, c, seg.chunkValues);
      log(`${r}x${c} ${chunks} chunks: ${seg.chunks.length} chunks of ${seg.chunkValues} values, prepared in ${(performance.now() - t0).toFixed(0)} ms`);
      for (const v of args.variants) {
        const variant = parseVariant(v, device);
        const base = { rows: r, cols: c, chunks, chunkValues: seg.chunkValues, chunkCount: seg.chunks.length, layout: cp.tensors[0].layout, variant: v, bf16Bytes: r * c * 2, sha256 };
        try {
          const res = await benchCase(device, cp, w, shape, x, variant, args.reps);
          cases.push({ ...base, ...res });
          if ('skipped' in res) {
            log(`  ${v}: skipped: ${String(res.skipped)}`);
            continue;
          }
          const f = (k: string): string => (res[k] as number).toFixed(4);
          rows.push(`| ${r}x${c} | ${chunks} (${seg.chunks.length}) | ${v} → ${res.lanes}:${variant.groups}${variant.noDigest ? ':nodigest' : ''} | ${(res.ratio as number).toFixed(3)} | ${f('fusedMs')} | ${f('decodeMs')} | ${f('multiplyMs')} | ${f('decodePlusMultiplyMs')} | ${f('decodeThenMultiplyOneSubmissionMs')} | ${f('uncompressedMs')} | ${(res.uncompressedOverFused as number).toFixed(2)} |`);
          log(`  ${v}: fused ${f('fusedMs')} ms, decode ${f('decodeMs')} + multiply ${f('multiplyMs')} ms (one submission ${f('decodeThenMultiplyOneSubmissionMs')}), uncompressed ${f('uncompressedMs')} ms; same bits, error ${(res.check as { maxRelativeError: number }).maxRelativeError.toExponential(2)}`);
        } catch (e) {
          cases.push({ ...base, error: (e as Error).stack });
          log(`  ${v}: FAILED ${(e as Error).stack}`);
        }
        await mkdir(dirname(args.out), { recursive: true });
        await writeFile(args.out, JSON.stringify(report, null, 2) + '\n'); // partial results survive a later failure
      }
    }
  }
  log(rows.join('\n'));
  log(`wrote ${args.out}`);
  return report;
}

/** What the report records of the machine and runtime. */
async function describeMachine(device: GPUDevice, adapter: GPUAdapter, flags: string[]): Promise<Record<string, unknown>> {
  const info = adapter.info;
  const pkg = JSON.parse(await readFile(new URL('../../node_modules/webgpu/package.json', import.meta.url), 'utf8')) as { version: string };
  return {
    adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, subgroups: subgroupSizes(info) },
    features: [...device.features].sort(),
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    memoryBytes: totalmem(),
    node: process.version,
    webgpu: pkg.version,
    dawnFlags: flags,
    lanes: chooseLanes(device),
  };
}

async function main(): Promise<void> {
  const args = parseMatvecArgs(process.argv.slice(2));
  const flags = (process.env.WCODEC_DAWN_FLAGS ?? 'disable-dawn-features=timestamp_quantization').split(' ').filter(Boolean);
  const { create } = (await import('webgpu')) as { create: (f: string[]) => GPU };
  // Dawn's instance must stay referenced while its devices live (a collected instance takes them down).
  const gpu = create(flags);
  const got = await requestDecodeDevice('wcodec bench matvec', gpu);
  if (!got.device) throw new Error(`no GPU: ${got.reason}`);
  const { device, adapter } = got;
  device.addEventListener('uncapturederror', (e) => console.error('GPU error:', (e as GPUUncapturedErrorEvent).error.message));
  const machine = await describeMachine(device, adapter, flags);
  console.log(JSON.stringify(machine));
  await runMatvecBench(args, device, machine);
  device.destroy();
  void gpu;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
