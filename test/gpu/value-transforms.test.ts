// decodeToGPU on containers with QUANT_SCALE and INT_PREDICT segments (FORMAT.md §3.5.3.1, §3.5.3.3): their streams
// decoded by the kernel, the tensors rebuilt by the GPU inverses, byte for byte as the CPU decodes them, for every dtype
// each transform takes, odd and multi-chunk sizes, escaped NaN/Inf/−0 values, formats 2 and 4; damaged stream chunks
// and inconsistent streams failing with the CPU decoder's codes and messages; records the inverse rejects decoded on
// the CPU, which reports them. Runs on whatever WebGPU adapter Dawn finds; skipped with a reason when there is none.

import '../../src/io/node-sha256.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { compressBuffer } from '../../src/api/buffers.js';
import { openContainer, type Checkpoint } from '../../src/api/checkpoint.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { decodeToGPU } from '../../src/gpu/decode.js';
import type { GpuDecodeOptions } from '../../src/gpu/decode-options.js';
import { routeOf } from '../../src/gpu/transform-routes.js';
import { quantScaleTransform } from '../../src/transform/quant-scale.js';
import { intPredictTransform } from '../../src/transform/int-predict.js';
import type { SegmentTransform, TransformCandidate } from '../../src/transform/segment-transform.js';
import { bf16FromF32Bits, f16FromF32Bits, f32BitsOf, f32FromBits } from '../../src/transform/float-narrow.js';
import { WcodecError } from '../../src/errors.js';
import { Prng, SPECIAL_BF16, SPECIAL_F16, SPECIAL_F32, buildSafetensors, le, type TensorInput } from '../../tools/vectors/inputs.js';
import { codeOf, errorOf, readBack, sameAsCpu } from '../helpers/gpu-compare.js';

let device: GPUDevice | undefined;
let skipReason = '';

before(async () => {
  const got = await requestDecodeDevice('wcodec value transforms test');
  if (got.device) device = got.device;
  else skipReason = got.reason;
});

after(() => device?.destroy());

const FLOATS: { dtype: 'BF16' | 'F16' | 'F32'; W: 2 | 4; narrow: (b: number) => number; special: number[] }[] = [
  { dtype: 'BF16', W: 2, narrow: bf16FromF32Bits, special: SPECIAL_BF16 },
  { dtype: 'F16', W: 2, narrow: f16FromF32Bits, special: SPECIAL_F16 },
  { dtype: 'F32', W: 4, narrow: (b) => b, special: SPECIAL_F32 },
];

/**
 * `rows` × `cols` values quantized INT8 per row (codes × one binary32 scale a row, rounded to the dtype, as quantizers
 * leave them), with about one value in a hundred replaced by a special bit pattern (NaN, ±Inf, −0, …: escaped).
 */
function quantized(f: (typeof FLOATS)[number], rows: number, cols: number, rng: Prng): Uint8Array {
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    const s = Math.fround((0.5 + rng.uniform()) * 2 ** -(6 + rng.below(8)));
    for (let c = 0; c < cols; c++) {
      const q = Math.max(-127, Math.min(127, Math.round(rng.gauss() * 30)));
      out.push(rng.uniform() < 0.01 ? f.special[rng.below(f.special.length)] : f.narrow(f32BitsOf(Math.fround(q * s))));
    }
  }
  return le(f.W, out);
}

/** Integer tensors with neighbour structure (what INT_PREDICT codes): ramps, index tensors, smooth matrices. */
function integerTensors(rng: Prng): TensorInput[] {
  const noise = () => rng.below(3) - 1;
  return [
    { name: 'g_idx', dtype: 'I32', shape: [16385], data: le(4, Array.from({ length: 16385 }, (_, i) => Math.floor(i / 128))) },
    { name: 'positions', dtype: 'U32', shape: [1, 4099], data: le(4, Array.from({ length: 4099 }, (_, i) => 0xfffff000 + i)) },
    { name: 'smooth_i16', dtype: 'I16', shape: [100, 257], data: le(2, Array.from({ length: 100 * 257 }, (_, i) => -30000 + 3 * Math.floor(i / 257) + 2 * (i % 257) + noise())) },
    { name: 'smooth_u16', dtype: 'U16', shape: [129, 65], data: le(2, Array.from({ length: 129 * 65 }, (_, i) => (65500 + 7 * Math.floor(i / 65) + (i % 65)) & 0xffff)) },
    { name: 'wrap_u8', dtype: 'U8', shape: [513, 7], data: le(1, Array.from({ length: 513 * 7 }, (_, i) => (Math.floor(i / 7) + 3 * (i % 7)) & 0xff)) },
    { name: 'ramp_i8', dtype: 'I8', shape: [3, 4099], data: le(1, Array.from({ length: 3 * 4099 }, (_, i) => (((i % 4099) >> 5) - 64 + Math.floor(i / 4099)) & 0xff)) },
    { name: 'cols_i32', dtype: 'I32', shape: [1000, 3], data: le(4, Array.from({ length: 3000 }, (_, i) => -5 * Math.floor(i / 3) + 1000 * (i % 3) + noise())) },
  ];
}

for (const formatVersion of [2, 4] as const) {
  test(`decodeToGPU: QUANT_SCALE and INT_PREDICT tensors decode on the GPU, byte for byte as on the CPU (version ${formatVersion})`, async (t) => {
    if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
    const rng = Prng.forName(`gpu-value-transforms-${formatVersion}`);
    const tensors: TensorInput[] = [];
    for (const f of FLOATS) {
      for (const [rows, cols] of [[7, 1024], [3, 999], [65, 256]]) tensors.push({ name: `q_${f.dtype}_${rows}x${cols}`, dtype: f.dtype, shape: [rows, cols], data: quantized(f, rows, cols, rng) });
    }
    tensors.push(...integerTensors(rng));
    tensors.push({ name: 'plain', dtype: 'BF16', shape: [77], data: rng.bytes(154) });
    const copy = tensors.find((x) => x.name === 'q_BF16_7x1024')!;
    tensors.push({ name: 'q_copy', dtype: 'BF16', shape: copy.shape, data: copy.data.slice() });
    const cp = await openContainer(new MemorySource(await compressBuffer(buildSafetensors(tensors), { formatVersion, chunkBytes: 1024 }), `value-v${formatVersion}.wcodec`));
    const byName = new Map(cp.tensors.map((x) => [x.name, x.transform]));
    // The writer keeps a transform only where it codes smaller: every integer tensor and most quantized ones here.
    for (const x of tensors) {
      if (x.name.startsWith('q_')) continue;
      const want = x.name === 'plain' ? '' : x.name === 'q_copy' ? 'dup' : 'int-predict';
      assert.equal(byName.get(x.name), want, `'${x.name}' is stored as ${want || 'plain'}`);
    }
    for (const f of FLOATS) {
      const q = tensors.filter((x) => x.name.startsWith(`q_${f.dtype}_`) && byName.get(x.name) === 'q-scale');
      assert.ok(q.length >= 2, `${f.dtype}: q-scale on ${q.map((x) => x.name).join(', ')}`);
    }
    const all = cp.tensors.map((x) => x.name);
    for (const [names, options] of [
      [all, {}],
      [all, { checkSha256: false }],
      [['q_copy'], {}],
      [['g_idx', 'q_F16_65x256', 'q_copy', 'g_idx'], { outputSlabBytes: 4096 }],
    ] as [string[], GpuDecodeOptions][]) {
      const notes = await sameAsCpu(device, cp, names, options, `version ${formatVersion}, ${names.length} tensors`);
      assert.deepEqual(notes, names.map(() => undefined), 'every tensor decodes on the GPU');
    }
  });
}

/**
 * A container whose tensor 't' of `dtype` is stored as `candidate` of `transform` (forced: its forward returns it), the
 * tensor's bytes those the candidate's CPU inverse gives when it has one (`data`), else random bytes (so that the
 * candidate codes smaller and the writer keeps it).
 */
async function forced(transform: SegmentTransform, dtype: string, shape: number[], data: Uint8Array, candidate: TransformCandidate, formatVersion: 2 | 4): Promise<Checkpoint> {
  const file = buildSafetensors([{ name: 't', dtype, shape, data }]);
  const mutable = transform as { forward: SegmentTransform['forward'] };
  const forward = mutable.forward;
  mutable.forward = () => candidate;
  try {
    return await openContainer(new MemorySource(await compressBuffer(file, { formatVersion, chunkBytes: 1024 }), `forced-${dtype}.wcodec`));
  } finally {
    mutable.forward = forward;
  }
}

/** QUANT_SCALE params for G values a scale. */
function qParams(G: number): Uint8Array {
  const p = new Uint8Array(8);
  new DataView(p.buffer).setUint32(4, G, true);
  return p;
}

/** The QUANT_SCALE candidate of codes, scales and exceptions (codes, scales and exceptions coded as I8, F32, the dtype). */
function qCandidate(G: number, codes: Uint8Array, scales: Uint8Array, exceptions: Uint8Array, dtype: string, W: number): TransformCandidate {
  return { code: 3, params: qParams(G), streams: [{ bytes: codes, dtype: 'I8', valueBytes: 1 }, { bytes: scales, dtype: 'F32', valueBytes: 4 }, { bytes: exceptions, dtype, valueBytes: W }] };
}

test('decodeToGPU: QUANT_SCALE on one scale for 65 537 values, scales of every kind, every code (forced), as on the CPU', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-q-scale-forced');
  const stored: string[] = [];
  for (const f of FLOATS) {
    for (const [n, G, scale] of [[65537, 65537, 0x3c010000], [4096, 16, -1], [2048, 2048, 0x00000003], [1024, 256, 0xff000000]] as [number, number, number][]) {
      const codes = Uint8Array.from({ length: n }, (_, i) => (rng.uniform() < 0.02 ? 0x80 : (i * 37) % 255 - 127) & 0xff);
      const escapes = codes.filter((c) => c === 0x80).length;
      // scale −1: a random finite scale per group, every exponent (subnormal, overflowing, negative, zero) among them.
      const scales = le(4, Array.from({ length: n / G }, () => (scale !== -1 ? scale : ((rng.below(2) << 31) | (rng.below(255) << 23) | rng.below(1 << 23)) >>> 0)));
      const exceptions = le(f.W, Array.from({ length: escapes }, () => f.special[rng.below(f.special.length)]));
      const candidate = qCandidate(G, codes, scales, exceptions, f.dtype, f.W);
      const data = new Uint8Array(n * f.W);
      quantScaleTransform.inverse(candidate.params, candidate.streams.map((s) => s.bytes), f.dtype, [n], data, { offset: 0 });
      const cp = await forced(quantScaleTransform, f.dtype, [n], data, candidate, 4);
      const what = `${f.dtype} x ${n}, G ${G}, scale ${scale}`;
      // The writer keeps another coding where it costs less (overflowed or underflowed values are mostly ±Inf or
      // zeros); then there is no QUANT_SCALE to compare.
      if (cp.tensors[0].transform !== 'q-scale') continue;
      stored.push(what);
      const notes = await sameAsCpu(device, cp, ['t'], {}, what);
      assert.deepEqual(notes, [undefined], what);
    }
  }
  for (const f of FLOATS) assert.ok(stored.some((w) => w.startsWith(`${f.dtype} x `)), `${f.dtype}: QUANT_SCALE kept for ${stored.join('; ')}`);
});

test('decodeToGPU: damaged QUANT_SCALE and INT_PREDICT stream chunks fail with the CPU decoder\'s codes', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-value-transforms-damaged');
  for (const formatVersion of [2, 4] as const) {
    const tensors: TensorInput[] = [{ name: 'q', dtype: 'BF16', shape: [9, 1024], data: quantized(FLOATS[0], 9, 1024, rng) }, { name: 'p', dtype: 'I16', shape: [20, 257], data: le(2, Array.from({ length: 20 * 257 }, (_, i) => 3 * Math.floor(i / 257) + 2 * (i % 257) + rng.below(3))) }];
    const container = await compressBuffer(buildSafetensors(tensors), { formatVersion, chunkBytes: 1024 });
    const cp = await openContainer(new MemorySource(container, 'damaged.wcodec'));
    assert.deepEqual(cp.tensors.map((x) => x.transform), ['q-scale', 'int-predict']);
    for (const info of cp.tensors) {
      const streams = cp.segmentOf(info).transform!.streams;
      for (const [k, st] of streams.entries()) {
        if (st.chunks.length === 0) continue;
        const chunk = st.chunks[st.chunks.length > 1 ? 1 : 0];
        for (const at of [chunk.offset, chunk.offset + Math.floor(chunk.bytes / 2), chunk.offset + chunk.bytes - 1]) {
          const bad = container.slice();
          bad[at] ^= 0x5a;
          const cpBad = await openContainer(new MemorySource(bad, 'bad.wcodec'));
          const cpu = await codeOf(cpBad.read(info.name));
          assert.notEqual(cpu, 'none', `the CPU decode notices byte ${at} of stream ${k} of '${info.name}'`);
          assert.equal(await codeOf(decodeToGPU(cpBad, [info.name], device)), cpu, `GPU, '${info.name}' stream ${k} damaged at ${at}, version ${formatVersion}`);
        }
      }
    }
  }
});

test('decodeToGPU: inconsistent QUANT_SCALE and INT_PREDICT streams fail with the CPU\'s code and message; records the inverse rejects decode on the CPU', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-value-transforms-inconsistent');
  const n = 1001;
  const codes = Uint8Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 0x80 : rng.below(7) - 3) & 0xff);
  const scales = le(4, Array.from({ length: 7 }, () => f32BitsOf(0.01)));
  const exceptions = le(2, Array.from({ length: 101 }, () => 0x7fc0));
  const withScale = (g: number, bits: number): Uint8Array => {
    const s = scales.slice();
    new DataView(s.buffer).setUint32(4 * g, bits, true);
    return s;
  };
  const tiles = Math.ceil(40 / 8) * Math.ceil(50 / 16);
  const predictors = Uint8Array.from({ length: tiles }, () => rng.below(5));
  const residuals = Uint8Array.from({ length: 2000 }, () => rng.below(4));
  const badPredictors = predictors.slice();
  badPredictors[11] = 9;
  badPredictors[12] = 5;
  const pParams = le(4, [8, 16]);
  const pCandidate = (p: Uint8Array, r: Uint8Array, params = pParams): TransformCandidate => ({ code: 5, params, streams: [{ bytes: p, dtype: 'U8', valueBytes: 1 }, { bytes: r, dtype: 'U8', valueBytes: 1 }] });
  const cases: [string, SegmentTransform, string, number[], TransformCandidate, boolean][] = [
    ['an exception too few', quantScaleTransform, 'BF16', [n], qCandidate(143, codes, scales, exceptions.subarray(2), 'BF16', 2), true],
    ['an exception too many', quantScaleTransform, 'BF16', [n], qCandidate(143, codes, scales, Uint8Array.from([...exceptions, 1, 2]), 'BF16', 2), true],
    ['a NaN scale', quantScaleTransform, 'BF16', [n], qCandidate(143, codes, withScale(3, 0x7fc00000), exceptions, 'BF16', 2), true],
    ['an infinite scale', quantScaleTransform, 'BF16', [n], qCandidate(143, codes, withScale(6, 0xff800000), exceptions, 'BF16', 2), true],
    ['a predictor above 4', intPredictTransform, 'U8', [40, 50], pCandidate(badPredictors, residuals), true],
    // Records the CPU inverse rejects before it reads a stream's bytes: routed to the CPU, which reports them.
    ['a group that does not divide the values', quantScaleTransform, 'BF16', [n], qCandidate(10, codes, scales, exceptions, 'BF16', 2), false],
    ['a code too many', quantScaleTransform, 'BF16', [n], qCandidate(143, Uint8Array.from([...codes, 0]), scales, exceptions, 'BF16', 2), false],
    ['a predictor too many', intPredictTransform, 'U8', [40, 50], pCandidate(Uint8Array.from([...predictors, 0]), residuals), false],
    ['a tile of no rows', intPredictTransform, 'U8', [40, 50], pCandidate(predictors, residuals, le(4, [0, 16])), false],
  ];
  for (const formatVersion of [2, 4] as const) {
    for (const [what, transform, dtype, shape, candidate, onGpu] of cases) {
      const W = dtype === 'BF16' ? 2 : 1;
      const cp = await forced(transform, dtype, shape, rng.bytes(shape.reduce((a, d) => a * d, W)), candidate, formatVersion);
      assert.equal(cp.tensors[0].transform, transform.name, `${what}: forced`);
      assert.equal(routeOf(cp.segmentOf(cp.tensors[0]), cp.reader.index, undefined).kind !== 'cpu', onGpu, `${what}: routed to the ${onGpu ? 'GPU' : 'CPU'}`);
      const cpu = await errorOf(cp.read('t'));
      assert.ok(cpu?.code === 'CORRUPT_TRANSFORM', `CPU, ${what}: ${cpu}`);
      const gpu = await errorOf(decodeToGPU(cp, ['t'], device));
      assert.ok(gpu instanceof WcodecError, `GPU, ${what}: no error`);
      assert.equal(gpu.code, cpu.code, `GPU, ${what}, version ${formatVersion}`);
      assert.equal(gpu.message, cpu.message, `GPU, ${what}, version ${formatVersion}`);
      assert.equal(gpu.offset, cpu.offset, `GPU, ${what}, version ${formatVersion}`);
    }
  }
  // A rejected record is routed to the CPU (which then reports it); a consistent one of the same shape to the GPU.
  const rejected = await forced(quantScaleTransform, 'BF16', [n], rng.bytes(2 * n), qCandidate(10, codes, scales, exceptions, 'BF16', 2), 2);
  const route = routeOf(rejected.segmentOf(rejected.tensors[0]), rejected.reader.index, undefined);
  assert.ok(route.kind === 'cpu' && /a q-scale tensor whose record its inverse rejects/.test(route.reason), JSON.stringify(route));
  const good = await forced(quantScaleTransform, 'BF16', [n], rng.bytes(2 * n), qCandidate(143, codes, scales, exceptions, 'BF16', 2), 2);
  assert.equal(routeOf(good.segmentOf(good.tensors[0]), good.reader.index, undefined).kind, 'quant-scale');
  const ok = await decodeToGPU(good, ['t'], device, { checkSha256: false });
  assert.equal(ok.backend, 'gpu');
  if (ok.backend !== 'gpu') return;
  try {
    assert.equal(ok.tensors[0].cpuDecoded, undefined);
    const bytes = await readBack(device, ok.tensors[0].buffer, ok.tensors[0].offset, ok.tensors[0].byteLength);
    assert.ok(Buffer.compare(bytes, (await good.read('t', { checkSha256: false })).bytes) === 0);
    // Escaped NaNs and 0.01 × small codes: the values the streams give.
    assert.equal(new DataView(bytes.buffer).getUint16(0, true), 0x7fc0);
    assert.equal(new DataView(bytes.buffer).getUint16(2, true), bf16FromF32Bits(f32BitsOf(Math.fround(((codes[1] << 24) >> 24) * f32FromBits(f32BitsOf(0.01))))));
  } finally {
    for (const b of ok.buffers) b.destroy();
  }
});
