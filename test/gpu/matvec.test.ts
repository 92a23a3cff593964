// y = W·x on the GPU (src/gpu/matvec.ts): the fused product (matvec-fused.wgsl) equals, bit for bit, the product over
// W decoded by decodeToGPU (matvec-decoded.wgsl) and the summation order of matvec-order.wgsl computed on the CPU,
// and the float64 product within 1e-5 of Σ|w·x| per row, for random and real BF16 matrices of many shapes (rows · cols
// not a multiple of 32, fewer columns than lanes, chunks that start inside rows, one row over many chunks, a short last
// chunk) in both chunk sizes, W in one input slab or several; special values give the same bits both ways; corrupt
// chunks are rejected by their status word or chunk digest (or by decodeToGPU's checks when decoded first); small
// tensors are decoded first and say so; every kernel compiles in both lane variants, and the subgroup one reports
// subgroups that are not 32 wide. Runs on whatever WebGPU adapter Dawn finds (lavapipe in CI); skipped with a reason
// when there is none.

import '../../src/io/node-sha256.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compressBuffer, type CompressBufferOptions } from '../../src/api/buffers.js';
import { openContainer, type Checkpoint } from '../../src/api/checkpoint.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { WcodecError } from '../../src/errors.js';
import { BUFFER_USAGE, requestDecodeDevice } from '../../src/gpu/adapter.js';
import { decodeToGPU } from '../../src/gpu/decode.js';
import { leanSpecOf } from '../../src/gpu/decode-plan.js';
import { chooseLanes } from '../../src/gpu/lanes-dispatch.js';
import { readBuffer } from '../../src/gpu/readback.js';
import type { LaneVariant } from '../../src/gpu/kernels.js';
import { matvecDecoded, matvecFused, type MatvecResult } from '../../src/gpu/matvec.js';
import { decodedKernelSource, fusedKernelSource } from '../../src/gpu/matvec-kernels.js';
import { kernelSource } from '../../src/gpu/kernels.js';
import { matvecShape, partialSlots, piecesPerRow } from '../../src/gpu/matvec-shape.js';
import { MatvecFusedJob } from '../../src/gpu/matvec-fused-job.js';
import { CombinePass } from '../../src/gpu/matvec-passes.js';
import { LaneLayoutError } from '../../src/gpu/chunk-status.js';
import { GPU_PROFILE } from '../../src/gpu/profile.js';
import { buildSafetensors } from '../helpers/safetensors-builder.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { makeValues } from '../helpers/values.js';
import { bf16Values, matvecFloat64, matvecInOrder } from '../helpers/matvec-order.js';

let device: GPUDevice | undefined;
let skipReason = '';
/** Largest error allowed against the float64 product, relative to Σ_c |w_rc · x_c|. */
const TOLERANCE = 1e-5;
const GPU_CHUNKS = { chunkBytes: GPU_PROFILE.chunkBytes, lanes: GPU_PROFILE.lanes } as const;

before(async () => {
  const got = await requestDecodeDevice('wcodec matvec test');
  if (got.device) device = got.device;
  else skipReason = `no WebGPU device: ${got.reason}`;
});

after(() => device?.destroy());

function variants(): LaneVariant[] {
  return device && chooseLanes(device) === 'subgroup' ? ['workgroup', 'subgroup'] : ['workgroup'];
}

async function containerOf(tensors: { name: string; shape: [number, number]; data: Uint8Array }[], options: CompressBufferOptions = {}): Promise<Checkpoint> {
  const st = buildSafetensors(tensors.map((t) => ({ ...t, dtype: 'BF16' })));
  return openContainer(new MemorySource(await compressBuffer(st.bytes, { ...options, transforms: false }), 'matvec.wcodec'));
}

function vector(n: number, rng: Rng): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rng.gaussian();
  return x;
}

/** y's f32 bits, and frees y. */
async function bitsOf(res: MatvecResult): Promise<Uint32Array> {
  const d = device!;
  const bytes = await readBuffer(d, res.y, res.y.size, 0, res.rows * 4);
  res.y.destroy();
  return new Uint32Array(bytes.buffer, bytes.byteOffset, res.rows);
}

/** The product over W decoded by decodeToGPU, in the order of `chunkValues`. */
async function decodedProduct(cp: Checkpoint, name: string, x: Float32Array, chunkValues: number): Promise<Uint32Array> {
  const d = device!;
  const info = await cp.find(name);
  const res = await decodeToGPU(cp, [name], d);
  if (res.backend !== 'gpu') return assert.fail('decoded on the GPU');
  try {
    const t = res.tensors[0];
    return await bitsOf(await matvecDecoded(d, t.buffer, info.shape[0], info.shape[1], x, { offset: t.offset, chunkValues }));
  } finally {
    for (const b of res.buffers) b.destroy();
  }
}

function firstDifference(a: Uint32Array, b: Uint32Array | Float32Array): number {
  const bb = b instanceof Float32Array ? new Uint32Array(b.buffer, b.byteOffset, b.length) : b;
  assert.equal(a.length, bb.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== bb[i]) return i;
  return -1;
}

/**
 * The fused product of tensor `name` against the product over its decoded values (same bits), the order on the CPU
 * (same bits; `exactOrder`) and the float64 product (within TOLERANCE). @returns the fused result's report
 */
async function checkProduct(cp: Checkpoint, name: string, x: Float32Array, lanes: LaneVariant, what: string, exactOrder = true): Promise<{ fused: boolean; reason?: string }> {
  const res = await matvecFused(device!, cp, name, x, { lanes });
  const { rows, cols, chunkValues, fused, reason } = res;
  const gpu = await bitsOf(res);
  const decoded = await decodedProduct(cp, name, x, chunkValues);
  const at = firstDifference(gpu, decoded);
  assert.equal(at, -1, `${what} [${lanes}]: row ${at} of the fused product differs from the product over decoded values`);
  const w = bf16Values((await cp.read(name)).bytes);
  if (exactOrder) {
    const fused = matvecInOrder(w, rows, cols, chunkValues, x, true);
    const twice = matvecInOrder(w, rows, cols, chunkValues, x, false);
    const k = firstDifference(gpu, fused);
    const k2 = firstDifference(gpu, twice);
    assert.ok(k === -1 || k2 === -1, `${what} [${lanes}]: row ${k} differs from the order computed on the CPU with fma rounded once, row ${k2} with fma rounded twice`);
  }
  const ref = matvecFloat64(w, rows, cols, x);
  const y = new Float32Array(gpu.buffer, gpu.byteOffset, rows);
  for (let r = 0; r < rows; r++) {
    const err = Math.abs(y[r] - ref.y[r]);
    if (!(err <= TOLERANCE * ref.scale[r])) assert.fail(`${what} [${lanes}]: row ${r} is ${y[r]}, the float64 product ${ref.y[r]} (scale ${ref.scale[r]})`);
  }
  return { fused, reason };
}

test('matvec: partial slots never repeat, and pieces per row is the most chunks a row touches', () => {
  for (const [rows, cols, cv] of [[256, 688, 8192], [33, 1001, 8192], [300, 7, 8192], [1, 40001, 8192], [7, 13, 5], [12, 96, 64], [5, 3, 1]]) {
    const s = matvecShape(rows, cols, cv);
    const seen = new Set<number>();
    let most = 0;
    for (let r = 0; r < rows; r++) {
      const k0 = Math.floor((r * cols) / cv);
      const k1 = Math.floor((r * cols + cols - 1) / cv);
      most = Math.max(most, k1 - k0 + 1);
      for (let k = k0; k <= k1; k++) {
        assert.ok(!seen.has(r + k) && r + k < partialSlots(s), `${rows}x${cols}/${cv}: slot ${r + k}`);
        seen.add(r + k);
      }
    }
    assert.equal(piecesPerRow(s), most, `${rows}x${cols}/${cv}`);
  }
  assert.throws(() => matvecShape(65536, 32768, 8192), RangeError);
  assert.throws(() => matvecShape(2, 3, 0), RangeError);
});

test('matvec: the fused product equals the product over decoded values and the order on the CPU, bit for bit', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(testSeed(811));
  // [300, 7] under default chunks is under 32 Ki values: fewer lanes, not fused (its own test).
  const shapes: [number, number][] = [[256, 256], [256, 688], [33, 1001], [1, 40001], [4500, 9], [128, 256]];
  for (const [what, options, more] of [['default chunks', {}, []], ['16 KiB chunks', GPU_CHUNKS, [[300, 7]]]] as const) {
    const all = [...shapes, ...more] as [number, number][];
    const cp = await containerOf(all.map(([r, c]) => ({ name: `w${r}x${c}`, shape: [r, c], data: makeValues('BF16', r * c, 'gaussian', rng) })), options);
    for (const [rows, cols] of all) {
      const x = vector(cols, rng);
      for (const lanes of variants()) {
        const res = await checkProduct(cp, `w${rows}x${cols}`, x, lanes, `${what} ${rows}x${cols}`);
        assert.ok(res.fused, `${what} ${rows}x${cols}: fused (${res.reason})`);
      }
    }
  }
});

test('matvec: W over several input slabs (one dispatch each) gives the bits of one slab', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(testSeed(818));
  const [rows, cols] = [130, 1000];
  const cp = await containerOf([{ name: 'w', shape: [rows, cols], data: makeValues('BF16', rows * cols, 'gaussian', rng) }], GPU_CHUNKS);
  const info = await cp.find('w');
  const seg = cp.segmentOf(info);
  const shape = matvecShape(rows, cols, seg.chunkValues);
  const x = vector(cols, rng);
  const xb = device.createBuffer({ size: cols * 4, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST });
  device.queue.writeBuffer(xb, 0, x as Float32Array<ArrayBuffer>);
  const ys: Uint32Array[] = [];
  try {
    for (const inputSlabBytes of [undefined, 16 * 1024]) {
      const job = await MatvecFusedJob.create(device, cp, info, shape, { lanes: variants().at(-1), inputSlabBytes });
      const combine = await CombinePass.create(device, shape);
      const partials = device.createBuffer({ size: partialSlots(shape) * 4, usage: BUFFER_USAGE.STORAGE });
      const y = device.createBuffer({ size: rows * 4, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC });
      try {
        if (inputSlabBytes) assert.ok(job.plan.dispatches.length > 4, `${job.plan.dispatches.length} dispatches`);
        await job.upload();
        const enc = device.createCommandEncoder();
        job.encodeClear(enc);
        const pass = enc.beginComputePass();
        job.record(pass, xb, partials);
        combine.record(pass, partials, y);
        pass.end();
        device.queue.submit([enc.finish()]);
        await job.checkChunks();
        ys.push(await bitsOf({ y, rows, cols, chunkValues: shape.chunkValues, fused: true }));
      } finally {
        job.destroy();
        combine.destroy();
        partials.destroy();
      }
    }
  } finally {
    xb.destroy();
  }
  assert.equal(firstDifference(ys[0], ys[1]), -1);
  assert.equal(firstDifference(ys[0], await decodedProduct(cp, 'w', x, shape.chunkValues)), -1);
});

test('matvec: the subgroup variant where subgroups are not 32 wide is a LaneLayoutError', async (t) => {
  if (!device) return t.skip(skipReason);
  if (!device.features.has('subgroups') || chooseLanes(device) === 'subgroup') return t.skip('the adapter has subgroups of 32 (or none)');
  const rng = new Rng(testSeed(819));
  const cp = await containerOf([{ name: 'w', shape: [64, 600], data: makeValues('BF16', 64 * 600, 'gaussian', rng) }], GPU_CHUNKS);
  await assert.rejects(matvecFused(device, cp, 'w', vector(600, rng), { lanes: 'subgroup' }), LaneLayoutError);
});

test('matvec: special values (NaN, ±Inf, -0, subnormals) give the same bits fused and over decoded values', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(testSeed(812));
  const [rows, cols] = [97, 515];
  const data = makeValues('BF16', rows * cols, 'gaussian', rng);
  // Every tenth row a NaN or an infinity, the others a -0 or a subnormal (and row 5 all -0).
  for (let r = 0; r < rows; r++) {
    const v = r % 10 === 0 ? [0x7fc0, 0x7f80, 0xff80][(r / 10) % 3] : [0x8000, 0x0001, 0x807f][r % 3];
    const at = (r * cols + ((r * 31) % cols)) * 2;
    data[at] = v & 0xff;
    data[at + 1] = v >> 8;
  }
  for (let c = 0; c < cols; c++) data.set([0x00, 0x80], (5 * cols + c) * 2);
  const x = vector(cols, rng);
  x[3] = -0;
  x[4] = 0;
  for (const options of [{}, GPU_CHUNKS]) {
    const cp = await containerOf([{ name: 'w', shape: [rows, cols], data }], options);
    for (const lanes of variants()) {
      const res = await matvecFused(device, cp, 'w', x, { lanes });
      assert.ok(res.fused);
      const chunkValues = res.chunkValues;
      const at = firstDifference(await bitsOf(res), await decodedProduct(cp, 'w', x, chunkValues));
      assert.equal(at, -1, `[${lanes}] row ${at}`);
    }
  }
});

test('matvec: x as a GPU buffer gives the bits of x as an array; wrong shapes and dtypes are RangeErrors', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(testSeed(813));
  const cp = await containerOf([{ name: 'w', shape: [64, 600], data: makeValues('BF16', 64 * 600, 'gaussian', rng) }]);
  const x = vector(600, rng);
  const xb = device.createBuffer({ size: 600 * 4 + 64, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST });
  device.queue.writeBuffer(xb, 0, x as Float32Array<ArrayBuffer>);
  try {
    const a = await bitsOf(await matvecFused(device, cp, 'w', x));
    const b = await bitsOf(await matvecFused(device, cp, 'w', xb));
    assert.equal(firstDifference(a, b), -1);
  } finally {
    xb.destroy();
  }
  await assert.rejects(matvecFused(device, cp, 'w', new Float32Array(599)), RangeError);
  const st = buildSafetensors([
    { name: 'v', dtype: 'BF16', shape: [40000], data: makeValues('BF16', 40000, 'gaussian', rng) },
    { name: 'h', dtype: 'F16', shape: [200, 200], data: makeValues('F16', 40000, 'gaussian', rng) },
  ]);
  const other = await openContainer(new MemorySource(await compressBuffer(st.bytes), 'other.wcodec'));
  await assert.rejects(matvecFused(device, other, 'v', new Float32Array(40000)), RangeError);
  await assert.rejects(matvecFused(device, other, 'h', new Float32Array(200)), RangeError);
  const w = device.createBuffer({ size: 1024, usage: BUFFER_USAGE.STORAGE });
  try {
    await assert.rejects(matvecDecoded(device, w, 16, 33, new Float32Array(33)), RangeError, 'W larger than its buffer');
    await assert.rejects(matvecDecoded(device, w, 2, 3, new Float32Array(3), { offset: 4 }), RangeError, 'an unaligned offset');
  } finally {
    w.destroy();
  }
});

test('matvec: tensors the fused kernel does not take are decoded first, multiplied in the same order, and reported', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(testSeed(814));
  // 25600 values: chunks of fewer than 32 lanes; 37 values: stored raw (no coded plane).
  const cp = await containerOf([
    { name: 'small', shape: [128, 200], data: makeValues('BF16', 128 * 200, 'gaussian', rng) },
    { name: 'tiny', shape: [1, 37], data: makeValues('BF16', 37, 'gaussian', rng) },
  ]);
  for (const [name, cols] of [['small', 200], ['tiny', 37]] as const) {
    assert.equal(leanSpecOf(cp.segmentOf(await cp.find(name)), 4096), undefined);
    const res = await checkProduct(cp, name, vector(cols, rng), 'workgroup', name);
    assert.equal(res.fused, false);
    assert.match(res.reason ?? '', /lanes/);
  }
  const empty = await openContainer(new MemorySource(await compressBuffer(buildSafetensors([{ name: 'e', dtype: 'BF16', shape: [4, 0], data: new Uint8Array(0) }]).bytes), 'e.wcodec'));
  const res = await matvecFused(device, empty, 'e', new Float32Array(0));
  assert.equal(res.fused, false);
  assert.deepEqual([...(await bitsOf(res))], [0, 0, 0, 0]);
});

test('matvec: the llama-tiny matrices of the corpus', async (t) => {
  if (!device) return t.skip(skipReason);
  const file = fileURLToPath(new URL('../../../../shared/corpus/llama-tiny/base/model-00001-of-00002.safetensors', import.meta.url));
  if (!existsSync(file)) return t.skip(`${file} not present`);
  const rng = new Rng(testSeed(815));
  const cp = await openContainer(new MemorySource(await compressBuffer(await readFile(file), { transforms: false }), file));
  // One tensor of each shape.
  const byShape = new Map<string, string>();
  for (const info of cp.tensors) if (info.dtype === 'BF16' && info.shape.length === 2) byShape.set(info.shape.join('x'), info.name);
  assert.ok(byShape.size >= 2, 'the shard holds matrices');
  for (const name of byShape.values()) {
    const info = await cp.find(name);
    const res = await checkProduct(cp, name, vector(info.shape[1], rng), variants().at(-1)!, name);
    assert.ok(res.fused, `${name}: fused (${res.reason})`);
  }
});

test('matvec: a corrupt chunk is rejected by its status word or its digest (decoded first: by decodeToGPU), never used', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(testSeed(816));
  const data = makeValues('BF16', 96 * 512, 'gaussian', rng);
  const x = vector(512, rng);
  for (const [version, cases] of [
    [4, [['a rANS stream word', 128 + 40, 0x10, 'CORRUPT_CHUNK'], ['a raw plane byte', -100, 0x01, 'CHECKSUM_MISMATCH']]],
    // Versions 1-3 code the BF16 sign-and-mantissa plane too: not lean, decoded first (decodeToGPU checks the CRC).
    [3, [['a stream byte', 128 + 40, 0x10, 'CORRUPT_CHUNK']]],
  ] as const) {
    const cp = await containerOf([{ name: 'w', shape: [96, 512], data }], { ...GPU_CHUNKS, formatVersion: version });
    const seg = cp.segmentOf(cp.tensors[0]);
    assert.equal(leanSpecOf(seg, 4096) !== undefined, version === 4, `version ${version}: lean`);
    const container = new Uint8Array(await cp.reader.source.read(0, cp.reader.source.size));
    const rec = seg.chunks[2];
    for (const [what, at, bits, code] of cases) {
      const bad = container.slice();
      bad[at >= 0 ? rec.offset + at : rec.offset + rec.bytes + at] ^= bits;
      const cpBad = await openContainer(new MemorySource(bad, 'bad.wcodec'));
      for (const lanes of variants()) {
        await assert.rejects(
          matvecFused(device, cpBad, 'w', x, { lanes }),
          (e: unknown) => e instanceof WcodecError && e.code === code && e.offset === rec.offset,
          `version ${version}, ${what} [${lanes}]`,
        );
      }
    }
    // The intact container passes.
    assert.equal((await matvecFused(device, cp, 'w', x)).fused, version === 4);
  }
});

test('matvec: every kernel compiles, the fused one in both lane variants', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(testSeed(817));
  const cp = await containerOf([{ name: 'w', shape: [256, 256], data: makeValues('BF16', 65536, 'gaussian', rng) }], GPU_CHUNKS);
  const lean = leanSpecOf(cp.segmentOf(cp.tensors[0]), 4096)!;
  const lanes: LaneVariant[] = device.features.has('subgroups') ? ['workgroup', 'subgroup'] : ['workgroup'];
  const sources: [string, string][] = [
    ['decoded', decodedKernelSource()],
    ['combine', kernelSource('matvec-combine.wgsl')],
  ];
  for (const v of lanes) {
    for (const overrides of [{}, { MATVEC_DIGESTS: 'false' }] as Record<string, string>[]) {
      sources.push([`fused ${v} ${JSON.stringify(overrides)}`, fusedKernelSource(lean, { lanes: v, groups: v === 'subgroup' ? 8 : 1, chunksPerGroup: 1, tableWords: 4096, overrides })]);
    }
  }
  for (const [what, code] of sources) {
    const info = await device.createShaderModule({ code }).getCompilationInfo();
    assert.deepEqual(info.messages.filter((m) => m.type === 'error').map((m) => m.message), [], what);
  }
});
