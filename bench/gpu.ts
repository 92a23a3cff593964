// GPU decode benchmark: decoded-output throughput of the WGSL kernels for BF16, F16 and F32 at >= 1 GiB
// of payload (kernel time by timestamp queries), end-to-end time from a .wcodec file to GPU buffers for each
// upload method, the same upload of the uncompressed safetensors file, and the WGSL copy ceiling, all in one run.
// Every decode is checked: per-chunk status words, and the decoded bytes' SHA-256 against the container's.
// Usage: npm run bench:gpu -- [--bytes N] [--dtypes BF16,F16,F32] [--reps R] [--warm-ms 300] [--variants subgroup:2,workgroup:1]
//        [--ceiling-bytes N] [--chunk-bytes N] [--lanes K] [--fast-decode] [--scaling] [--kernels-only] [--prepare-only]
//        [--e2e staging:false,staging:gpu,mapped:false,write-buffer:false,staging:host] [--work DIR] [--out FILE]
// A variant is lanes:groups[:cN][:tags]: groups of 32 per workgroup, cN = chunks each group decodes in turn; tag
// 'generic' runs the generic kernel instead of the pipelines specialised per class of segments, 'old' decode.wgsl for
// every class (no lean kernel, decode-lean.wgsl); the bisection tags (BISECT) time variants that decode wrongly.
// The end-to-end cases use the first variant's lanes, groups and cN.

import '../src/io/node-sha256.js';
import { cpus, totalmem, tmpdir } from 'node:os';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { compressFile, openCheckpoint } from '../src/node.js';
import { BUFFER_USAGE, MAP_MODE, requestDecodeDevice, subgroupSizes } from '../src/gpu/adapter.js';
import { decodeToGPU } from '../src/gpu/decode.js';
import { GpuDecodeJob } from '../src/gpu/decode-job.js';
import { chooseLanes } from '../src/gpu/lanes-dispatch.js';
import type { GpuDecodeOptions, UploadMethod } from '../src/gpu/decode-options.js';
import type { LaneVariant } from '../src/gpu/kernels.js';
import { writeSyntheticWeights, type SyntheticDtype } from '../tools/synthetic-weights.js';
import { median } from './median.js';


interface Args {
  bytes: number;
  dtypes: SyntheticDtype[];
  reps: number;
  work: string;
  out: string;
  variants: string[];
  ceilingBytes: number;
  prepareOnly: boolean;
  kernelsOnly: boolean;
  scaling: boolean;
  probe: boolean;
  chunkBytes: number | undefined;
  lanes: number | undefined;
  fastDecode: boolean;
  /** End-to-end cases as upload:crc (crc = false, gpu or host). */
  e2e: [UploadMethod, boolean | 'gpu'][];
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    bytes: 1024 * 1024 * 1024,
    dtypes: ['BF16', 'F16', 'F32'],
    reps: 10,
    work: join(tmpdir(), 'wcodec-bench-gpu'),
    out: 'bench/results/gpu.json',
    variants: ['subgroup:1', 'subgroup:2', 'subgroup:4', 'workgroup:1'],
    ceilingBytes: 1024 * 1024 * 1024,
    prepareOnly: false,
    kernelsOnly: false,
    scaling: false,
    probe: false,
    chunkBytes: undefined,
    lanes: undefined,
    fastDecode: false,
    e2e: [['staging', false], ['mapped', false], ['write-buffer', false], ['staging', 'gpu'], ['staging', true]],
  };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i + 1];
    switch (argv[i]) {
      case '--bytes': a.bytes = Number(v); i++; break;
      case '--dtypes': a.dtypes = v.split(',') as SyntheticDtype[]; i++; break;
      case '--reps': a.reps = Number(v); i++; break;
      case '--warm-ms': warmUpMs = Number(v); i++; break;
      case '--work': a.work = v; i++; break;
      case '--out': a.out = v; i++; break;
      case '--variants': a.variants = v.split(','); i++; break;
      case '--ceiling-bytes': a.ceilingBytes = Number(v); i++; break;
      case '--prepare-only': a.prepareOnly = true; break;
      case '--kernels-only': a.kernelsOnly = true; break;
      case '--scaling': a.scaling = true; break;
      case '--probe': a.probe = true; break;
      case '--chunk-bytes': a.chunkBytes = Number(v); i++; break;
      case '--lanes': a.lanes = Number(v); i++; break;
      case '--fast-decode': a.fastDecode = true; break;
      case '--e2e':
        a.e2e = v.split(',').map((c) => {
          const [u, crc] = c.split(':');
          return [u as UploadMethod, crc === 'gpu' ? 'gpu' : crc === 'host'];
        });
        i++;
        break;
      default: throw new RangeError(`unknown argument ${argv[i]}`);
    }
  }
  return a;
}

/**
 * Bisection of the kernel's time (variants that decode wrongly on purpose, timed only, never checked): each tag
 * replaces one part of decode.wgsl with a stand-in that keeps the data dependences.
 */
const BISECT: Record<string, Record<string, string>> = {
  nostore: { WRITE_OUTPUT: '(x == 1u)' },
  // Not a bisection: the previous store path of 2-byte and 1-byte values (4 / W shuffles per step), decodes right.
  gatherstore: { PAIRED_STORES: 'false' },
  noballot: { 'let mask = lane_ballot(need, l);': 'let mask = select(0u, 1u << l, need);' },
  noshuffle: { 'let a = lane_shuffle((*win).w0, k & 31u, l);': 'let a = (*win).w0;', 'let b = lane_shuffle((*win).w1, k & 31u, l);': 'let b = (*win).w1;' },
  // Not a bisection: the lean kernel's stores as plain (non-atomic) stores, the last partial word of a tensor
  // written whole (the padding after it too), decodes every tensor right.
  leanplain: {
    'output: array<atomic<u32>>; // lean output': 'output: array<u32>;',
    'atomicStore(&output[q0 + l], v);': 'output[q0 + l] = v;',
    'atomicStore(&output[q], word);': 'output[q] = word;',
    'atomicStore(&output[q0 + (l >> 1u)], word);': 'output[q0 + (l >> 1u)] = word;',
    'atomicAnd(&output[q], 0xffff0000u);': '',
    'atomicOr(&output[q], word & 0xffffu);': 'output[q] = word;',
  },
  // The lean kernel (decode-lean.wgsl): its raw-plane reads, and its rANS word reads, replaced by stand-ins.
  leannoraw: { 'let r = word_bits(rq, rbit) & ((1u << R_BITS) - 1u);': 'let r = rbit & ((1u << R_BITS) - 1u);' },
  leannoword: { 'let word = word_bits(cq, sp + 16u * countOneBits(mask & below)) & 0xffffu;': 'let word = (mask & below) & 0xffffu;' },
  // Not a bisection: the lean step with its reads a step ahead (each lane reads the 16 bits at sp + 16 l for the lane
  // whose renormalising lanes below number l, which takes them by shuffle, and its next raw symbol), decodes right.
  leanahead: {
    'var<private> pn: u32;': 'var<private> pn: u32;\nvar<private> cand: u32;\nvar<private> rnext: u32;',
    '  pn = 8u * n;\n': '  pn = 8u * n;\n  cand = word_bits(cq, sp + 16u * l) & 0xffffu;\n  rnext = word_bits(rq, rbit) & ((1u << R_BITS) - 1u);\n',
    'let word = word_bits(cq, sp + 16u * countOneBits(mask & below)) & 0xffffu;': 'let word = lane_shuffle(cand, countOneBits(mask & below), l);',
    'sp += 16u * countOneBits(mask);': 'sp += 16u * countOneBits(mask);\n  cand = word_bits(cq, sp + 16u * l) & 0xffffu;',
    'let r = word_bits(rq, rbit) & ((1u << R_BITS) - 1u);\n  rbit += LANES * R_BITS;': 'let r = rnext;\n  rbit += LANES * R_BITS;\n  rnext = word_bits(rq, rbit) & ((1u << R_BITS) - 1u);',
  },
  noplane: {
    'bits |= decode_plane(hoisted_a[p], hoisted_b[p], on, l, below, i, n, raw_at, stream_end, &x, &rp, &win, &err);':
      'bits |= vec3<u32>(x ^ hoisted_a[p].x, i, 0u); x = x * 1664525u + 1013904223u;',
  },
};

function bisectOverrides(tags: string[]): Record<string, string> | undefined {
  const o: Record<string, string> = {};
  for (const t of tags) Object.assign(o, BISECT[t] ?? {});
  return Object.keys(o).length > 0 ? o : undefined;
}

/**
 * Milliseconds of back-to-back passes before each timing: a GPU leaves its idle clocks only under sustained load (an
 * H100 sat at 705–990 MHz through batches of ten 1-ms decodes separated by host work, at 1980 MHz through 200). --warm-ms.
 */
let warmUpMs = 300;

/**
 * Kernel time of `encode` in ms per repetition: timestamps around `reps` back-to-back passes, best of 3 batches,
 * after batches of untimed passes for at least warmUpMs.
 */
async function timeKernel(device: GPUDevice, reps: number, encode: (enc: GPUCommandEncoder, ts?: GPUComputePassTimestampWrites) => void): Promise<{ gpuMs: number; wallMs: number }> {
  for (const w0 = performance.now(); performance.now() - w0 < warmUpMs; ) {
    const enc = device.createCommandEncoder({ label: 'bench warm-up' });
    for (let r = 0; r < reps; r++) encode(enc, undefined);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  }
  const hasTs = device.features.has('timestamp-query');
  const qs = hasTs ? device.createQuerySet({ label: 'bench timestamps', type: 'timestamp', count: 2 }) : undefined;
  const resolve = device.createBuffer({ label: 'bench timestamps', size: 16, usage: BUFFER_USAGE.QUERY_RESOLVE | BUFFER_USAGE.COPY_SRC });
  const gpuTimes: number[] = [];
  const wallTimes: number[] = [];
  for (let batch = 0; batch < 3; batch++) {
    const read = device.createBuffer({ label: 'bench timestamps read', size: 16, usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST });
    const enc = device.createCommandEncoder({ label: 'bench kernel batch' });
    for (let r = 0; r < reps; r++) {
      const ts = qs ? { querySet: qs, ...(r === 0 ? { beginningOfPassWriteIndex: 0 } : {}), ...(r === reps - 1 ? { endOfPassWriteIndex: 1 } : {}) } : undefined;
      encode(enc, ts && (r === 0 || r === reps - 1) ? ts : undefined);
    }
    if (qs) {
      enc.resolveQuerySet(qs, 0, 2, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, read, 0, 16);
    }
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    wallTimes.push((performance.now() - t0) / reps);
    if (qs) {
      await read.mapAsync(MAP_MODE.READ);
      const t = new BigUint64Array(read.getMappedRange());
      gpuTimes.push(Number(t[1] - t[0]) / 1e6 / reps);
      read.unmap();
    }
    read.destroy();
  }
  qs?.destroy();
  resolve.destroy();
  return { gpuMs: gpuTimes.length ? Math.min(...gpuTimes) : NaN, wallMs: Math.min(...wallTimes) };
}

/** Latency probes: one workgroup of 32 runs a dependent chain of `iters` steps of one operation; ns per step. */
async function latencyProbes(device: GPUDevice): Promise<Record<string, number>> {
  const iters = 1 << 18;
  const ops: Record<string, string> = {
    imad: 'x = x * 1664525u + 1013904223u;',
    ballot: 'x = x * 1664525u + 1013904223u; x ^= subgroupBallot((x & 1u) == 1u).x;',
    shuffle: 'x = subgroupShuffle(x * 1664525u + 1013904223u, (x >> 7u) & 31u);',
    barrier: 'x = x * 1664525u + 1013904223u; workgroupBarrier();',
    sharedLoad: 'x = wg[(x * 1664525u + 1013904223u) & 4095u];',
    globalLoadL1: 'x = src[(x * 1664525u + 1013904223u) & 4095u];',
    globalLoad64MiB: 'x = src[(x * 1664525u + 1013904223u) & 16777215u];',
    atomicStore: 'x = x * 1664525u + 1013904223u; atomicStore(&dst[(i * 32u + l) & 1048575u], x);',
    plainStore: 'x = x * 1664525u + 1013904223u; dst2[(i * 32u + l) & 1048575u] = x;',
  };
  const src = device.createBuffer({ label: 'probe src', size: 64 * 1024 * 1024, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST });
  const init = new Uint32Array(16 * 1024 * 1024);
  for (let i = 0; i < init.length; i++) init[i] = (i * 2654435761) >>> 0;
  device.queue.writeBuffer(src, 0, init);
  const dst = device.createBuffer({ label: 'probe dst', size: 4 * 1024 * 1024, usage: BUFFER_USAGE.STORAGE });
  const dst2 = device.createBuffer({ label: 'probe dst2', size: 4 * 1024 * 1024, usage: BUFFER_USAGE.STORAGE });
  const out: Record<string, number> = {};
  for (const [name, body] of Object.entries(ops)) {
    const code = `enable subgroups;
@group(0) @binding(0) var<storage, read> src: array<u32>;
@group(0) @binding(1) var<storage, read_write> dst: array<atomic<u32>>;
@group(0) @binding(2) var<storage, read_write> dst2: array<u32>;
var<workgroup> wg: array<u32, 4096>;
@compute @workgroup_size(32) fn probe(@builtin(local_invocation_index) l: u32) {
  for (var k = l; k < 4096u; k += 32u) { wg[k] = k * 2654435761u; }
  workgroupBarrier();
  var x = l;
  for (var i = 0u; i < ${iters}u; i++) { ${body} }
  dst2[1048576u + l] = x;
}`;
    try {
      const module = device.createShaderModule({ label: `probe ${name}`, code });
      const pipeline = await device.createComputePipelineAsync({ label: `probe ${name}`, layout: 'auto', compute: { module, entryPoint: 'probe' } });
      const bg = device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: dst } }, { binding: 2, resource: { buffer: dst2 } }].filter((e) => code.includes(['src[', 'atomicStore', 'dst2['][e.binding]) || e.binding === 2),
      });
      const t = await timeKernel(device, 3, (enc, ts) => {
        const pass = enc.beginComputePass({ timestampWrites: ts });
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bg);
        pass.dispatchWorkgroups(1);
        pass.end();
      });
      out[name] = (t.gpuMs * 1e6) / iters;
      console.log(`probe ${name}: ${out[name].toFixed(2)} ns per step`);
    } catch (e) {
      console.log(`probe ${name}: FAILED ${(e as Error).message}`);
    }
  }
  src.destroy();
  dst.destroy();
  dst2.destroy();
  return out;
}

/** The WGSL copy ceiling: vec4<u32> copy of `bytes` bytes; GB/s counts bytes read plus bytes written. */
async function copyCeiling(device: GPUDevice, bytes: number, reps: number): Promise<Record<string, number>> {
  const module = device.createShaderModule({
    label: 'bench copy',
    code: `
@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<u32>>;
@compute @workgroup_size(256) fn copy(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let stride = nw.x * 256u;
  for (var i = id.x; i < arrayLength(&dst); i += stride) { dst[i] = src[i]; }
}`,
  });
  const pipeline = await device.createComputePipelineAsync({ label: 'bench copy', layout: 'auto', compute: { module, entryPoint: 'copy' } });
  const a = device.createBuffer({ label: 'bench copy src', size: bytes, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST });
  const b = device.createBuffer({ label: 'bench copy dst', size: bytes, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST });
  const bg = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: a } }, { binding: 1, resource: { buffer: b } }] });
  const groups = Math.min(device.limits.maxComputeWorkgroupsPerDimension, 132 * 64);
  const kernel = await timeKernel(device, reps, (enc, ts) => {
    const pass = enc.beginComputePass({ timestampWrites: ts });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(groups);
    pass.end();
  });
  const builtin = await timeKernel(device, reps, (enc) => enc.copyBufferToBuffer(a, 0, b, 0, bytes));
  a.destroy();
  b.destroy();
  return {
    bytes,
    wgslCopyMs: kernel.gpuMs,
    wgslCopyGBps: (2 * bytes) / (kernel.gpuMs / 1e3) / 1e9,
    copyBufferToBufferMs: builtin.wallMs,
    copyBufferToBufferGBps: (2 * bytes) / (builtin.wallMs / 1e3) / 1e9,
  };
}

/** Host-to-GPU upload of `bytes` bytes from host memory by each method (no file reads): GB/s. */
async function uploadCeiling(device: GPUDevice, bytes: number): Promise<Record<string, number>> {
  const host = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i += 4096) host[i] = i & 255;
  const out: Record<string, number> = { bytes };
  const PIECE = 16 * 1024 * 1024;
  const run = async (name: string, fn: () => Promise<GPUBuffer>): Promise<void> => {
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const b = await fn();
      await device.queue.onSubmittedWorkDone();
      times.push(performance.now() - t0);
      b.destroy();
    }
    out[`${name}Ms`] = median(times);
    out[`${name}GBps`] = bytes / (median(times) / 1e3) / 1e9;
  };
  const U = BUFFER_USAGE;
  await run('writeBufferWhole', async () => {
    const b = device.createBuffer({ size: bytes, usage: U.STORAGE | U.COPY_DST });
    device.queue.writeBuffer(b, 0, host);
    return b;
  });
  await run('writeBuffer16MiB', async () => {
    const b = device.createBuffer({ size: bytes, usage: U.STORAGE | U.COPY_DST });
    for (let o = 0; o < bytes; o += PIECE) device.queue.writeBuffer(b, o, host, o, Math.min(PIECE, bytes - o));
    return b;
  });
  await run('mappedAtCreation', async () => {
    const b = device.createBuffer({ size: bytes, usage: U.STORAGE | U.COPY_DST, mappedAtCreation: true });
    new Uint8Array(b.getMappedRange()).set(host);
    b.unmap();
    return b;
  });
  await run('mappedAtCreation64MiBSlabs', async () => {
    const SLAB = 64 * 1024 * 1024;
    const b = device.createBuffer({ size: bytes, usage: U.STORAGE | U.COPY_DST });
    const enc = device.createCommandEncoder();
    const tmp: GPUBuffer[] = [];
    for (let o = 0; o < bytes; o += SLAB) {
      const len = Math.min(SLAB, bytes - o);
      const s = device.createBuffer({ size: len, usage: U.COPY_SRC, mappedAtCreation: true });
      new Uint8Array(s.getMappedRange()).set(host.subarray(o, o + len));
      s.unmap();
      enc.copyBufferToBuffer(s, 0, b, o, len);
      tmp.push(s);
    }
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    for (const s of tmp) s.destroy();
    return b;
  });
  await run('stagingRing4x16MiB', async () => {
    const b = device.createBuffer({ size: bytes, usage: U.STORAGE | U.COPY_DST });
    const ring = Array.from({ length: 4 }, () => ({ buf: device.createBuffer({ size: PIECE, usage: U.MAP_WRITE | U.COPY_SRC, mappedAtCreation: true }), ready: Promise.resolve() }));
    let k = 0;
    for (let o = 0; o < bytes; o += PIECE) {
      const st = ring[k++ % 4];
      await st.ready;
      const len = Math.min(PIECE, bytes - o);
      new Uint8Array(st.buf.getMappedRange(0, PIECE)).set(host.subarray(o, o + len));
      st.buf.unmap();
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(st.buf, 0, b, o, len);
      device.queue.submit([enc.finish()]);
      st.ready = st.buf.mapAsync(MAP_MODE.WRITE);
    }
    await Promise.all(ring.map((r) => r.ready));
    for (const r of ring) r.buf.destroy();
    return b;
  });
  return out;
}

/** Reads a whole file into a buffer created mapped (the uncompressed safetensors baseline). */
async function uploadFileMapped(device: GPUDevice, path: string): Promise<number> {
  const t0 = performance.now();
  const size = (await stat(path)).size;
  const b = device.createBuffer({ label: 'bench raw safetensors', size: Math.ceil(size / 4) * 4, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST, mappedAtCreation: true });
  const view = new Uint8Array(b.getMappedRange(), 0, size);
  const fh = await open(path, 'r');
  const SLAB = 64 * 1024 * 1024;
  for (let o = 0; o < size; o += SLAB) {
    const len = Math.min(SLAB, size - o);
    let got = 0;
    while (got < len) got += (await fh.read(view, o + got, len - got, o + got)).bytesRead;
  }
  await fh.close();
  b.unmap();
  await device.queue.onSubmittedWorkDone();
  const ms = performance.now() - t0;
  b.destroy();
  return ms;
}

/** Reads a whole file into a device-local buffer through a ring of 4 x 16 MiB mapped staging buffers. */
async function uploadFileStaging(device: GPUDevice, path: string): Promise<number> {
  const t0 = performance.now();
  const size = (await stat(path)).size;
  const U = BUFFER_USAGE;
  const PIECE = 16 * 1024 * 1024;
  const b = device.createBuffer({ label: 'bench raw safetensors', size: Math.ceil(size / 4) * 4, usage: U.STORAGE | U.COPY_DST });
  const ring = Array.from({ length: 4 }, () => ({ buf: device.createBuffer({ size: PIECE, usage: U.MAP_WRITE | U.COPY_SRC, mappedAtCreation: true }), ready: Promise.resolve() }));
  const fh = await open(path, 'r');
  let k = 0;
  for (let o = 0; o < size; o += PIECE) {
    const st = ring[k++ % 4];
    await st.ready;
    const len = Math.min(PIECE, size - o);
    const view = new Uint8Array(st.buf.getMappedRange(0, PIECE));
    let got = 0;
    while (got < len) got += (await fh.read(view, got, len - got, o + got)).bytesRead;
    st.buf.unmap();
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(st.buf, 0, b, o, Math.ceil(len / 4) * 4);
    device.queue.submit([enc.finish()]);
    st.ready = st.buf.mapAsync(MAP_MODE.WRITE);
  }
  await fh.close();
  await Promise.all(ring.map((r) => r.ready));
  await device.queue.onSubmittedWorkDone();
  const ms = performance.now() - t0;
  for (const r of ring) r.buf.destroy();
  b.destroy();
  return ms;
}

/** A kernel variant lanes:groups[:cN][:tags] (see the usage line). */
function parseVariant(v: string): { lanes: LaneVariant; groups: number; perGroup: number; extra: string[] } {
  const [lanes, g, ...rest] = v.split(':') as [LaneVariant, string, ...string[]];
  const c = rest.find((t) => /^c\d+$/.test(t));
  return { lanes, groups: Number(g), perGroup: c ? Number(c.slice(1)) : 1, extra: rest.filter((t) => t !== c) };
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  const fh = await open(path, 'r');
  const buf = new Uint8Array(64 * 1024 * 1024);
  for (;;) {
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) break;
    h.update(buf.subarray(0, bytesRead));
  }
  await fh.close();
  return h.digest('hex');
}

/** Generates the synthetic safetensors file of `dtype` and compresses it (each step skipped when its file exists). */
async function prepare(dtype: SyntheticDtype, args: Args): Promise<{ st: string; wc: string; genMs: number; compressMs: number }> {
  await mkdir(args.work, { recursive: true });
  const st = join(args.work, `synthetic-${dtype}-${args.bytes}.safetensors`);
  const wc = `${st}${args.chunkBytes ? `.chunk${args.chunkBytes}` : ''}${args.lanes ? `.lanes${args.lanes}` : ''}${args.fastDecode ? '.fast' : ''}.wcodec`;
  const tGen = performance.now();
  if (!existsSync(wc) && !existsSync(st)) await writeSyntheticWeights(st, { dtype, bytes: args.bytes, seed: 6 });
  const genMs = performance.now() - tGen;
  const tC = performance.now();
  if (!existsSync(wc)) {
    await compressFile(st, `${wc}.part`, { overwrite: true, chunkBytes: args.chunkBytes, lanes: args.lanes, fastDecode: args.fastDecode });
    await rename(`${wc}.part`, wc);
  }
  const compressMs = performance.now() - tC;
  return { st, wc, genMs, compressMs };
}

async function benchDtype(device: GPUDevice, dtype: SyntheticDtype, args: Args): Promise<Record<string, unknown>> {
  const { st, wc, genMs, compressMs } = await prepare(dtype, args);
  const fileBytes = (await stat(st)).size;
  const containerBytes = (await stat(wc)).size;
  const cp = await openCheckpoint(wc);
  const infos = cp.tensors;
  const names = infos.map((t) => t.name);
  const payload = infos.reduce((a, t) => a + t.originalBytes, 0);
  const chunkBytes = infos.reduce((a, t) => a + t.compressedBytes, 0);
  const result: Record<string, unknown> = {
    dtype,
    data: { generator: 'tools/synthetic-weights.ts v2 seed 6', safetensorsBytes: fileBytes, safetensorsSha256: await sha256File(st), tensors: infos.length, layouts: [...new Set(infos.map((t) => t.layout))] },
    payloadBytes: payload,
    containerBytes,
    chunkBytes,
    ratio: fileBytes / containerBytes,
    generateMs: genMs,
    compressCpuMs: compressMs,
  };

  // Kernel throughput per variant: upload once, decode `reps` times between two timestamps.
  const kernels: Record<string, unknown>[] = [];
  let verified = false;
  for (const v of args.variants) {
    // variant = lanes:chunksPerWorkgroup[:nostore]; nostore times the decode without its output stores.
    // Further parts: 'staging' / 'write-buffer' upload the input that way (default: mapped at creation);
    // 'globaltables' keeps decode tables in global memory; 'slabs' keeps decodeToGPU's 64 MiB input slabs.
    const { lanes, groups: g, perGroup, extra } = parseVariant(v);
    if (lanes === 'subgroup' && chooseLanes(device) !== 'subgroup') continue;
    const opts: GpuDecodeOptions = {
      // One input slab and one output buffer, so one dispatch: consecutive dispatches writing the same buffers
      // run one after another (measured: 64 MiB slabs made 1 GiB of BF16 take 11 x the time of one 4096-step
      // chunk), so the kernel time of a multi-dispatch plan is the sum of per-dispatch latencies. Unless 'slabs'.
      inputSlabBytes: extra.includes('slabs') ? undefined : device.limits.maxStorageBufferBindingSize,
      outputSlabBytes: extra.includes('slabs') ? undefined : device.limits.maxStorageBufferBindingSize,
      lanes,
      chunksPerWorkgroup: g,
      chunksPerGroup: perGroup,
      specialize: !extra.includes('generic'),
      lean: !extra.includes('old'),
      workgroupTables: !extra.includes('globaltables'),
      checkCrc: 'gpu',
      kernelOverrides: bisectOverrides(extra),
    };
    const check = !extra.some((t) => t in BISECT && t !== 'gatherstore' && t !== 'leanplain' && t !== 'leanahead');
    const uploadFor: UploadMethod = extra.includes('staging') ? 'staging' : extra.includes('write-buffer') ? 'write-buffer' : 'mapped';
    let job: GpuDecodeJob | undefined;
    try {
      job = await GpuDecodeJob.create(device, cp, infos, opts);
      await job.uploadAndDecode(uploadFor, false);
      if (check) await job.checkStatus();
      else await device.queue.onSubmittedWorkDone();
      if (check) {
        // Byte-exact check of everything decoded: SHA-256 of each tensor read back against the container's record.
        for (const t of job.plan.tensors) {
          const bytes = await job.readBack(t.output, t.offset, t.byteLength);
          const hex = createHash('sha256').update(bytes).digest('hex');
          if (hex !== Buffer.from(t.seg.sha256).toString('hex')) throw new Error(`${dtype} ${v}: tensor '${t.name}' decodes to wrong bytes on the GPU`);
        }
        verified = true;
      }
      const j = job;
      const k = await timeKernel(device, args.reps, (enc, ts) => {
        j.encodeClearStatus(enc);
        j.encodeDecode(enc, undefined, ts);
      });
      if (check) await job.checkStatus();
      const crcTime = await timeKernel(device, args.reps, (enc, ts) => j.encodeCrc(enc, undefined, ts));
      // The chunk digest pass (version 4) over the decoded outputs: 0 ms where the chunks carry CRCs instead.
      const digestTime = await timeKernel(device, args.reps, (enc, ts) => j.encodeDigest(enc, undefined, ts));
      const scaling: { chunks: number; kernelMs: number }[] = [];
      if (args.scaling && v === args.variants[0]) {
        // Time against chunks in flight: flat means latency-bound (too few chunks), linear means throughput-bound.
        for (const count of [132, 264, 528, 1056, 2112, 4224, 8448]) {
          if (count >= job.plan.origins.length) break;
          job.limitJobs(count);
          const t = await timeKernel(device, args.reps, (enc, ts) => j.encodeDecode(enc, undefined, ts));
          scaling.push({ chunks: count, kernelMs: t.gpuMs });
          console.log(`${dtype} ${v} scaling: ${count} chunks ${t.gpuMs.toFixed(3)} ms`);
        }
        job.limitJobs(undefined);
      }
      kernels.push({ scaling, variant: v, jobsPerWorkgroup: job.jobsPerWorkgroup, tableWords: job.plan.tableWords, crcKernelMs: crcTime.gpuMs, crcGBps: chunkBytes / (crcTime.gpuMs / 1e3) / 1e9, digestKernelMs: digestTime.gpuMs, digestGBps: payload / (digestTime.gpuMs / 1e3) / 1e9, kernelMs: k.gpuMs, wallMsPerDecode: k.wallMs, outputGBps: payload / (k.gpuMs / 1e3) / 1e9, dispatches: job.plan.dispatches.length, chunks: job.plan.origins.length });
      console.log(`${dtype} kernel ${v}: ${k.gpuMs.toFixed(3)} ms, ${(payload / (k.gpuMs / 1e3) / 1e9).toFixed(1)} GB/s of output (${job.plan.dispatches.length} dispatch(es), ${job.plan.origins.length} chunks; CRC kernel ${crcTime.gpuMs.toFixed(3)} ms; digest kernel ${digestTime.gpuMs.toFixed(3)} ms)`);
    } catch (e) {
      kernels.push({ variant: v, error: (e as Error).message });
      console.log(`${dtype} kernel ${v}: FAILED ${(e as Error).message}`);
    } finally {
      job?.releaseInputs();
      for (const b of job?.outputs ?? []) b.destroy();
    }
  }
  result.verifiedBySha256 = verified;
  result.kernels = kernels;
  if (args.kernelsOnly) {
    await cp.close();
    return result;
  }

  // End to end: open the file, read, upload, decode, check every status word (CRC checked on the host or not).
  const e2e: Record<string, unknown>[] = [];
  const cases = args.e2e;
  const first = parseVariant(args.variants[0]);
  const e2eOptions: GpuDecodeOptions = { lanes: first.lanes === 'subgroup' && chooseLanes(device) !== 'subgroup' ? undefined : first.lanes, chunksPerWorkgroup: first.groups, chunksPerGroup: first.perGroup };
  result.endToEndVariant = args.variants[0];
  for (const [upload, checkCrc] of cases) {
    const times: number[] = [];
    const phases: { openMs: number; setupMs: number; uploadAndDecodeMs: number }[] = [];
    for (let r = 0; r < 3; r++) {
      const t0 = performance.now();
      const c = await openCheckpoint(wc);
      const tOpen = performance.now() - t0;
      const res = await decodeToGPU(c, names, device, { ...e2eOptions, upload, checkCrc });
      const ms = performance.now() - t0;
      await c.close();
      if (res.backend !== 'gpu') throw new Error('fell back to the CPU');
      for (const b of res.buffers) b.destroy();
      times.push(ms);
      phases.push({ openMs: tOpen, setupMs: res.timings.setupMs, uploadAndDecodeMs: res.timings.uploadAndDecodeMs });
    }
    const ms = median(times);
    e2e.push({ upload, checkCrc, ms, times, phases, outputGBps: payload / (ms / 1e3) / 1e9, compressedGBps: chunkBytes / (ms / 1e3) / 1e9 });
    console.log(`${dtype} end-to-end ${upload}${checkCrc ? ` +CRC ${checkCrc === 'gpu' ? 'GPU' : 'host'}` : ''}: ${ms.toFixed(0)} ms, ${(payload / (ms / 1e3) / 1e9).toFixed(2)} GB/s of output`);
  }
  result.endToEnd = e2e;
  const raw: number[] = [];
  for (let r = 0; r < 3; r++) raw.push(await uploadFileMapped(device, st));
  result.uncompressedUploadMs = median(raw);
  result.uncompressedUploadGBps = fileBytes / (median(raw) / 1e3) / 1e9;
  console.log(`${dtype} uncompressed safetensors upload (mapped): ${median(raw).toFixed(0)} ms`);
  // The same file through the staging ring, the fastest upload path: what loading without wcodec costs.
  const rawRing: number[] = [];
  for (let r = 0; r < 3; r++) rawRing.push(await uploadFileStaging(device, st));
  result.uncompressedStagingMs = median(rawRing);
  result.uncompressedStagingGBps = fileBytes / (median(rawRing) / 1e3) / 1e9;
  console.log(`${dtype} uncompressed safetensors upload (staging ring): ${median(rawRing).toFixed(0)} ms`);
  await cp.close();
  return result;
}

let keepAlive: GPU | undefined;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.prepareOnly) {
    for (const dtype of args.dtypes) {
      const p = await prepare(dtype, args);
      console.log(`${dtype}: generated in ${p.genMs.toFixed(0)} ms, compressed in ${p.compressMs.toFixed(0)} ms`);
    }
    return;
  }
  const flags = (process.env.WCODEC_DAWN_FLAGS ?? 'disable-dawn-features=timestamp_quantization').split(' ').filter(Boolean);
  const { create } = (await import('webgpu')) as { create: (f: string[]) => GPU };
  // Dawn's instance must stay referenced while its devices live (a collected instance takes them down).
  keepAlive = create(flags);
  const got = await requestDecodeDevice('wcodec bench', keepAlive);
  if (!got.device) throw new Error(`no GPU: ${got.reason}`);
  const { device, adapter } = got;
  device.addEventListener('uncapturederror', (e) => console.error('GPU error:', (e as GPUUncapturedErrorEvent).error.message));
  const info = adapter.info;
  const machine = {
    adapter: { vendor: info.vendor, architecture: info.architecture, device: info.device, description: info.description, subgroups: subgroupSizes(info) },
    features: [...device.features].sort(),
    limits: { maxBufferSize: device.limits.maxBufferSize, maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize },
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    memoryBytes: totalmem(),
    node: process.version,
    webgpu: (JSON.parse(await (await import('node:fs/promises')).readFile(new URL('../../node_modules/webgpu/package.json', import.meta.url), 'utf8')) as { version: string }).version,
    dawnFlags: flags,
    lanes: chooseLanes(device),
  };
  console.log(JSON.stringify(machine));
  const probes = args.probe ? await latencyProbes(device) : {};
  const copy = args.ceilingBytes > 0 ? await copyCeiling(device, args.ceilingBytes, args.reps) : {};
  console.log(`copy ceiling: ${JSON.stringify(copy)}`);
  const upload = args.ceilingBytes > 0 && !args.kernelsOnly ? await uploadCeiling(device, args.ceilingBytes) : {};
  console.log(`uploads from memory: ${JSON.stringify(upload)}`);
  const dtypes: Record<string, unknown>[] = [];
  const write = async (): Promise<void> => {
    const report = { benchmark: 'gpu-decode', date: new Date().toISOString(), command: `npm run bench:gpu -- ${process.argv.slice(2).join(' ')}`.trim(), machine, unit: 'GB/s = 1e9 bytes of decoded output per second; copy GB/s counts read + write', copyCeiling: copy, uploadCeiling: upload, latencyProbesNs: probes, dtypes };
    await writeFile(args.out, JSON.stringify(report, null, 2) + '\n');
  };
  for (const dtype of args.dtypes) {
    try {
      dtypes.push(await benchDtype(device, dtype, args));
    } catch (e) {
      dtypes.push({ dtype, error: (e as Error).stack });
      console.log(`${dtype}: FAILED ${(e as Error).stack}`);
    }
    await write(); // partial results survive a later failure
  }
  const report = { benchmark: 'gpu-decode', date: new Date().toISOString(), command: `npm run bench:gpu -- ${process.argv.slice(2).join(' ')}`.trim(), machine, unit: 'GB/s = 1e9 bytes of decoded output per second; copy GB/s counts read + write', copyCeiling: copy, uploadCeiling: upload, dtypes };
  await writeFile(args.out, JSON.stringify(report, null, 2) + '\n');
  console.log(`wrote ${args.out}`);
  device.destroy();
}

await main();
