// decodeToGPU on containers with transformed segments (FORMAT.md §3.5): DUPLICATE, XOR_DELTA and ZERO_FLAGS decode on
// the GPU (the duplicate's target's chunks into its place, or a copy of a place this decode holds; the XOR delta's
// stream by the kernel, XORed on the GPU into the uploaded reference tensor; the ZERO_FLAGS streams by the kernel, put
// together by the GPU inverse), byte for byte as the CPU decodes them, with the CPU's error codes for damaged streams,
// inconsistent streams and wrong references (QUANT_SCALE and INT_PREDICT: value-transforms.test.ts); Huffman-coded
// planes decode on the GPU too (huffman.test.ts). Runs on whatever WebGPU adapter Dawn finds; skipped with a reason when there is none.

import '../../src/io/node-sha256.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { compressBuffer } from '../../src/api/buffers.js';
import { openContainer, type Checkpoint } from '../../src/api/checkpoint.js';
import { referenceFromSafetensors } from '../../src/api/reference.js';
import type { TensorReference } from '../../src/format/tensor-reference.js';
import { WcodecError } from '../../src/errors.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { decodeToGPU } from '../../src/gpu/decode.js';
import type { GpuDecodeOptions } from '../../src/gpu/decode-options.js';
import { GpuDecodeJob } from '../../src/gpu/decode-job.js';
import { routeOf } from '../../src/gpu/transform-routes.js';
import { Prng, SPECIAL_BF16, SPECIAL_F32, SPECIAL_F64, bf16Bits, bf16s, f32Bits, buildSafetensors, le, sparseBf16, type TensorInput } from '../../tools/vectors/inputs.js';
import { zeroFlagsTransform } from '../../src/transform/zero-flags.js';
import type { TransformCandidate } from '../../src/transform/segment-transform.js';
import { zeroFlagsStreams } from '../helpers/zero-flags-streams.js';
import { codeOf, readBack, sameAsCpu } from '../helpers/gpu-compare.js';

let device: GPUDevice | undefined;
let skipReason = '';

before(async () => {
  const got = await requestDecodeDevice('wcodec transformed test');
  if (got.device) device = got.device;
  else skipReason = got.reason;
});

after(() => device?.destroy());

/** Values of `dtype` with the special bit patterns (NaN payloads, ±0, ±Inf, subnormals) first, then random ones. */
function values(dtype: string, n: number, rng: Prng): Uint8Array {
  if (dtype === 'BF16') return le(2, Array.from({ length: n }, (_, i) => (i < SPECIAL_BF16.length ? SPECIAL_BF16[i] : 0x3c00 + rng.below(0x800) + (rng.below(2) << 15))));
  if (dtype === 'F32') return le(4, Array.from({ length: n }, (_, i) => (i < SPECIAL_F32.length ? SPECIAL_F32[i] : (0x3c000000 + rng.below(0x1000000)) >>> 0)));
  return rng.bytes(n);
}

/** `ref` with about one value in three changed in its low byte (what a fine-tune does to a checkpoint). */
function perturb(ref: Uint8Array, W: number, rng: Prng): Uint8Array {
  const out = ref.slice();
  for (let i = 0; i < out.length; i += W) if (rng.below(3) === 0) out[i] ^= 1 + rng.below(255);
  return out;
}

/** A checkpoint with plain tensors, duplicates and XOR deltas of `dtype` (sizes 1, odd, multi-chunk) and its reference. */
async function deltaCheckpoint(dtype: 'BF16' | 'F32' | 'U8', formatVersion: 2 | 4): Promise<{ cp: Checkpoint; reference: TensorReference; refFile: Uint8Array; file: Uint8Array; container: Uint8Array }> {
  const rng = Prng.forName(`gpu-transformed-${dtype}-${formatVersion}`);
  const W = dtype === 'F32' ? 4 : dtype === 'BF16' ? 2 : 1;
  const ref: TensorInput[] = [];
  const cur: TensorInput[] = [];
  for (const n of [1, 7, 1001, 4099]) {
    const data = values(dtype, n, rng);
    ref.push({ name: `x${n}`, dtype, shape: [n], data });
    cur.push({ name: `x${n}`, dtype, shape: [n], data: perturb(data, W, rng) });
  }
  const a = values(dtype, 3001, rng);
  cur.push({ name: 'a', dtype, shape: [3001], data: a });
  cur.push({ name: 'a_copy', dtype, shape: [3001], data: a.slice() });
  cur.push({ name: 'x4099_copy', dtype, shape: [4099], data: cur[3].data.slice() });
  cur.push({ name: 'plain', dtype, shape: [77], data: values(dtype, 77, rng) });
  const refFile = buildSafetensors(ref);
  const file = buildSafetensors(cur);
  const reference = await referenceFromSafetensors([new MemorySource(refFile, 'ref.safetensors')], 'ref.safetensors');
  const container = await compressBuffer(file, { chunkBytes: 1024, reference, formatVersion });
  return { cp: await openContainer(new MemorySource(container, `${dtype}-v${formatVersion}.wcodec`)), reference, refFile, file, container };
}

test('decodeToGPU: DUPLICATE and XOR_DELTA tensors decode on the GPU, byte for byte as on the CPU', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  for (const formatVersion of [2, 4] as const) {
    for (const dtype of ['BF16', 'F32', 'U8'] as const) {
      const { cp, reference } = await deltaCheckpoint(dtype, formatVersion);
      const what = `${dtype}, version ${formatVersion}`;
      const byName = new Map(cp.tensors.map((x) => [x.name, x.transform]));
      assert.deepEqual([byName.get('x4099'), byName.get('a_copy'), byName.get('x4099_copy'), byName.get('a')], ['xor-delta', 'dup', 'dup', ''], what);
      await assert.rejects(GpuDecodeJob.create(device, cp, cp.tensors), RangeError);
      const all = cp.tensors.map((x) => x.name);
      for (const [names, options] of [
        [all, { reference }],
        [all, { reference, checkSha256: true }],
        [all, { reference, checkSha256: false }],
        // A duplicate alone decodes its target's chunks into its own place, an XOR delta's duplicate its target's stream.
        [['a_copy'], { reference }],
        [['x4099_copy', 'x1'], { reference }],
        // The same bytes twice in one decode: the second place is a copy of the first (within one output buffer).
        [['x4099', 'a', 'x4099_copy', 'a_copy', 'a'], { reference, outputSlabBytes: 1 << 20 }],
        // ... and across output buffers.
        [['a', 'x4099', 'a_copy', 'x4099_copy'], { reference, outputSlabBytes: 4096 }],
      ] as [string[], GpuDecodeOptions][]) {
        const notes = await sameAsCpu(device, cp, names, options, `${what}, ${names.join(',')}`);
        assert.deepEqual(notes, names.map(() => undefined), `${what}: every tensor decodes on the GPU`);
      }
    }
  }
});

test('decodeToGPU: damaged XOR_DELTA streams and DUPLICATE targets, and wrong references, fail with the CPU decoder\'s codes', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  for (const formatVersion of [2, 4] as const) {
    const { cp, reference, container } = await deltaCheckpoint('BF16', formatVersion);
    const seg = (name: string) => cp.segmentOf(cp.tensors.find((x) => x.name === name)!);
    // Wrong references: none, no such tensor (both reported by the CPU decode, after the stream's checks), other bytes.
    const changed = (await reference.read('x4099')).slice();
    changed[100] ^= 1;
    const other = await referenceFromSafetensors([new MemorySource(buildSafetensors([{ name: 'x4099', dtype: 'BF16', shape: [4099], data: changed }]), 'other.safetensors')], 'other.safetensors');
    for (const [what, ref, code] of [['no reference', undefined, 'REFERENCE_MISSING'], ['other bytes', other, 'REFERENCE_MISMATCH']] as const) {
      assert.equal(await codeOf(cp.read('x4099', { reference: ref })), code, `CPU, ${what}`);
      assert.equal(await codeOf(decodeToGPU(cp, ['a', 'x4099'], device, { reference: ref })), code, `GPU, ${what}, version ${formatVersion}`);
    }
    // A damaged byte in the XOR stream's chunks, in the DUPLICATE target's chunks: each decoded alone, as on the CPU.
    for (const [name, chunk] of [['x4099', seg('x4099').transform!.streams[0].chunks[1]], ['a_copy', seg('a').chunks[0]], ['x4099_copy', seg('x4099').transform!.streams[0].chunks[0]]] as const) {
      for (const at of [chunk.offset, chunk.offset + Math.floor(chunk.bytes / 2), chunk.offset + chunk.bytes - 1]) {
        const bad = container.slice();
        bad[at] ^= 0x5a;
        const cpBad = await openContainer(new MemorySource(bad, 'bad.wcodec'));
        const cpu = await codeOf(cpBad.read(name, { reference }));
        assert.notEqual(cpu, 'none', `the CPU decode notices byte ${at} of '${name}'`);
        assert.equal(await codeOf(decodeToGPU(cpBad, [name], device, { reference })), cpu, `GPU, '${name}' damaged at ${at}, version ${formatVersion}`);
      }
    }
  }
});

test('decodeToGPU: QUANT_SCALE, ZERO_FLAGS and plain tensors of one container all decode on the GPU', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-value-transforms');
  const tensors = [
    { name: 'sparse', dtype: 'BF16', shape: [5003], data: bf16s(Array.from({ length: 5003 }, () => (rng.uniform() < 0.05 ? rng.gauss() : 0))) },
    { name: 'grid', dtype: 'BF16', shape: [20000], data: sparseBf16(rng, 20000, 0.3) },
    { name: 'dense', dtype: 'BF16', shape: [3000], data: bf16s(Array.from({ length: 3000 }, () => rng.gauss() * 0.02)) },
  ];
  const cp = await openContainer(new MemorySource(await compressBuffer(buildSafetensors(tensors)), 'value.wcodec'));
  assert.deepEqual(cp.tensors.map((x) => x.transform), ['zero-flags', 'q-scale', '']);
  const notes = await sameAsCpu(device, cp, ['sparse', 'grid', 'dense'], {}, 'value transforms');
  assert.deepEqual(notes, [undefined, undefined, undefined]);
});

/** The bits of the binary64 `x`. */
function f64Bits(x: number): bigint {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setFloat64(0, x, true);
  return dv.getBigUint64(0, true);
}

/**
 * Widths, special values (NaN payloads, -0, infinities, subnormals: none of them a zero) and typical non-zero values of
 * the ZERO_FLAGS tests.
 */
const ZF_DTYPES: { dtype: string; W: 1 | 2 | 4 | 8; special: (number | bigint)[]; value: (rng: Prng) => number | bigint }[] = [
  { dtype: 'U8', W: 1, special: [1, 2, 0x80, 0xff], value: (rng) => 1 + rng.below(255) },
  { dtype: 'BF16', W: 2, special: SPECIAL_BF16.slice(1), value: (rng) => bf16Bits(rng.gauss() * 0.02) || 1 },
  { dtype: 'F32', W: 4, special: SPECIAL_F32.slice(1), value: (rng) => f32Bits(rng.gauss() * 0.02) || 1 },
  { dtype: 'F64', W: 8, special: SPECIAL_F64.slice(1), value: (rng) => f64Bits(rng.gauss() * 0.02) || 1n },
];

/** n values of width W: each zero with probability `zeros`, else one of `special` (one in ten) or `value`. */
function zeroMix(rng: Prng, W: 1 | 2 | 4 | 8, special: (number | bigint)[], value: (rng: Prng) => number | bigint, n: number, zeros: number): Uint8Array {
  const zero = W === 8 ? 0n : 0;
  return le(W, Array.from({ length: n }, () => (rng.uniform() < zeros ? zero : rng.uniform() < 0.1 ? special[rng.below(special.length)] : value(rng))));
}

/** The ZERO_FLAGS candidate of `data` (n values of W bytes), whatever its share of zeros. */
function zeroFlagsCandidate(data: Uint8Array, W: number, dtype: string): TransformCandidate {
  const [flags, values] = zeroFlagsStreams(data, W);
  return { code: 4, params: new Uint8Array(0), streams: [{ bytes: flags, dtype: 'U8', valueBytes: 1 }, { bytes: values, dtype, valueBytes: W }] };
}

/**
 * A container whose tensor 't' (random bytes, which no transform codes better than ZERO_FLAGS' `streams`) is stored as
 * `streams`: it decodes to what they give, which is not its recorded SHA-256.
 */
async function forcedZeroFlags(dtype: string, n: number, W: number, streams: TransformCandidate, formatVersion: 2 | 4): Promise<Checkpoint> {
  const rng = Prng.forName(`forced-zero-flags-${dtype}-${n}`);
  const file = buildSafetensors([{ name: 't', dtype, shape: [n], data: rng.bytes(n * W) }]);
  const forward = zeroFlagsTransform.forward;
  const mutable = zeroFlagsTransform as { forward: typeof forward };
  mutable.forward = () => streams;
  try {
    const cp = await openContainer(new MemorySource(await compressBuffer(file, { formatVersion, chunkBytes: 1024 }), `forced-${dtype}-${n}.wcodec`));
    assert.equal(cp.tensors[0].transform, 'zero-flags', `forced ${dtype} x ${n}`);
    return cp;
  } finally {
    mutable.forward = forward;
  }
}

test('decodeToGPU: ZERO_FLAGS tensors decode on the GPU, byte for byte as on the CPU (odd sizes, several scan levels, NaN and -0 values)', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  for (const formatVersion of [2, 4] as const) {
    for (const { dtype, W, special, value } of ZF_DTYPES) {
      const rng = Prng.forName(`gpu-zero-flags-${dtype}-${formatVersion}`);
      const sizes = [9, 31, 33, 101, 257, 1001, 4099, 40000];
      const tensors: TensorInput[] = sizes.map((n) => ({ name: `z${n}`, dtype, shape: [n], data: zeroMix(rng, W, special, value, n, 0.7) }));
      // All zeros: plain constant planes code it smaller than ZERO_FLAGS (the forced test below covers that inverse).
      tensors.push({ name: 'zeros', dtype, shape: [3, 333], data: new Uint8Array(999 * W) });
      tensors.push({ name: 'sparse', dtype, shape: [2049], data: zeroMix(rng, W, special, value, 2049, 0.97) });
      tensors.push({ name: 'sparse_copy', dtype, shape: [2049], data: tensors[tensors.length - 1].data.slice() });
      const cp = await openContainer(new MemorySource(await compressBuffer(buildSafetensors(tensors), { formatVersion, chunkBytes: 1024 }), `zf-${dtype}.wcodec`));
      const what = `${dtype}, version ${formatVersion}`;
      const byName = new Map(cp.tensors.map((x) => [x.name, x.transform]));
      // Floats: ZERO_FLAGS codes the sparse tensors smaller (z40000 has 1250 flag words: two levels of scan blocks); U8:
      // flags and values cost about what plain planes do, and the writer's choice varies.
      const zf = cp.tensors.filter((x) => x.transform === 'zero-flags').map((x) => x.name);
      assert.ok(zf.length >= 3, `${what}: ZERO_FLAGS on ${zf.join(', ')}`);
      if (W > 1) for (const name of ['z1001', 'z4099', 'z40000', 'sparse']) assert.equal(byName.get(name), 'zero-flags', `${what}: '${name}'`);
      assert.equal(byName.get('sparse_copy'), 'dup', what);
      // A tensor larger than the device's bindings still decodes on the GPU (its inverse works in windows).
      const big = cp.segmentOf(cp.tensors.find((x) => x.name === 'z40000')!);
      assert.equal(routeOf(big, cp.reader.index, undefined, 16384).kind, big.transform ? 'zero-flags' : 'plain', what);
      const all = cp.tensors.map((x) => x.name);
      for (const [names, options] of [
        [all, {}],
        [all, { checkSha256: false }],
        [['sparse_copy'], {}],
        [['sparse', 'z40000', 'sparse_copy', 'sparse'], { outputSlabBytes: 4096 }],
      ] as [string[], GpuDecodeOptions][]) {
        const notes = await sameAsCpu(device, cp, names, options, `${what}, ${names.join(',')}`);
        assert.deepEqual(notes, names.map(() => undefined), `${what}: every tensor decodes on the GPU`);
      }
    }
  }
});

test('decodeToGPU: ZERO_FLAGS inverse on streams with no zero, all zeros and specials (forced), as on the CPU', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  for (const { dtype, W, special } of ZF_DTYPES) {
    const rng = Prng.forName(`gpu-zero-flags-forced-${dtype}`);
    // Sizes at which the forced streams code smaller than the random bytes they stand for, so the writer keeps them.
    for (const n of [101, 1027, 5003]) {
      for (const [mix, zeros] of [['no zero', 0], ['all zero', 1], ['half', 0.5]] as const) {
        const target = zeroMix(rng, W, special.slice(0, 3), () => special[0], n, zeros);
        const what = `${dtype} x ${n}, ${mix}`;
        // Version 2 without SHA-256 checks: the bytes are the inverse's alone (they are not the tensor's recorded ones).
        const cp = await forcedZeroFlags(dtype, n, W, zeroFlagsCandidate(target, W, dtype), 2);
        const res = await decodeToGPU(cp, ['t'], device, { checkSha256: false });
        assert.equal(res.backend, 'gpu');
        if (res.backend !== 'gpu') continue;
        try {
          assert.equal(res.tensors[0].cpuDecoded, undefined, what);
          const gpu = await readBack(device, res.tensors[0].buffer, res.tensors[0].offset, res.tensors[0].byteLength);
          assert.ok(Buffer.compare(gpu, target) === 0, `${what}: GPU bytes differ from the streams' inverse`);
          assert.ok(Buffer.compare((await cp.read('t', { checkSha256: false })).bytes, target) === 0, `${what}: CPU`);
        } finally {
          for (const b of res.buffers) b.destroy();
        }
        // With the SHA-256 check (the default in version 2, always for a value transform in version 4): both reject.
        for (const formatVersion of [2, 4] as const) {
          const checked = formatVersion === 2 ? cp : await forcedZeroFlags(dtype, n, W, zeroFlagsCandidate(target, W, dtype), 4);
          assert.equal(await codeOf(checked.read('t')), 'CHECKSUM_MISMATCH', `CPU, ${what}, version ${formatVersion}`);
          assert.equal(await codeOf(decodeToGPU(checked, ['t'], device)), 'CHECKSUM_MISMATCH', `GPU, ${what}, version ${formatVersion}`);
        }
      }
    }
  }
});

test('decodeToGPU: damaged and inconsistent ZERO_FLAGS streams fail with the CPU decoder\'s codes', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-zero-flags-damaged');
  for (const formatVersion of [2, 4] as const) {
    // Damaged chunks of either stream: CORRUPT_CHUNK or CHECKSUM_MISMATCH, as the CPU reports each.
    const { special, value } = ZF_DTYPES[1];
    const data = zeroMix(rng, 2, special, value, 6001, 0.8);
    const container = await compressBuffer(buildSafetensors([{ name: 'z', dtype: 'BF16', shape: [6001], data }]), { formatVersion, chunkBytes: 1024 });
    const cp = await openContainer(new MemorySource(container, 'zf.wcodec'));
    assert.equal(cp.tensors[0].transform, 'zero-flags');
    const streams = cp.segmentOf(cp.tensors[0]).transform!.streams;
    for (const [k, chunk] of [[0, streams[0].chunks[0]], [1, streams[1].chunks[1]], [1, streams[1].chunks[streams[1].chunks.length - 1]]] as const) {
      for (const at of [chunk.offset, chunk.offset + Math.floor(chunk.bytes / 2), chunk.offset + chunk.bytes - 1]) {
        const bad = container.slice();
        bad[at] ^= 0x5a;
        const cpBad = await openContainer(new MemorySource(bad, 'bad.wcodec'));
        const cpu = await codeOf(cpBad.read('z'));
        assert.notEqual(cpu, 'none', `the CPU decode notices byte ${at} of stream ${k}`);
        assert.equal(await codeOf(decodeToGPU(cpBad, ['z'], device)), cpu, `GPU, stream ${k} damaged at ${at}, version ${formatVersion}`);
      }
    }
    // Streams whose chunks are intact but which the inverse rejects: CORRUPT_TRANSFORM, after the chunk checks.
    for (const n of [101, 1001]) {
      const target = zeroMix(rng, 2, special.slice(0, 3), () => special[0], n, 0.5);
      const good = zeroFlagsCandidate(target, 2, 'BF16');
      const [flags, values] = good.streams;
      const withFlags = (f: Uint8Array, v: Uint8Array): TransformCandidate => ({ ...good, streams: [{ ...flags, bytes: f }, { ...values, bytes: v }] });
      const stray = flags.bytes.slice();
      stray[stray.length - 1] |= 0x80;
      const cases: [string, TransformCandidate][] = [
        ['a flag past the last value', withFlags(stray, values.bytes)],
        ['a value too many', withFlags(flags.bytes, Uint8Array.from([...values.bytes, 1, 2]))],
        ['a value too few', withFlags(flags.bytes, values.bytes.slice(0, values.bytes.length - 2))],
        ['a flag byte too many', withFlags(Uint8Array.from([...flags.bytes, 0]), values.bytes)],
      ];
      for (const [what, candidate] of cases) {
        const cpBad = await forcedZeroFlags('BF16', n, 2, candidate, formatVersion);
        const cpu = await cpBad.read('t').then(() => undefined, (e: unknown) => e);
        assert.ok(cpu instanceof WcodecError && cpu.code === 'CORRUPT_TRANSFORM', `CPU, ${what}, n = ${n}: ${cpu}`);
        await assert.rejects(decodeToGPU(cpBad, ['t'], device), (e: unknown) => e instanceof WcodecError && e.code === cpu.code && e.message === cpu.message, `GPU, ${what}, n = ${n}, version ${formatVersion}`);
      }
    }
  }
});

test('decodeToGPU: tensors with Huffman-coded planes (the huffman option) decode on the GPU', async (t) => {
  if (!device) return t.skip(`no WebGPU device: ${skipReason}`);
  const rng = Prng.forName('gpu-huffman');
  const tensors = [
    { name: 'a', dtype: 'BF16', shape: [5000], data: bf16s(Array.from({ length: 5000 }, () => rng.gauss() * 0.02)) },
    { name: 'b', dtype: 'BF16', shape: [3], data: bf16s([1, -2, 0.5]) },
  ];
  const cp = await openContainer(new MemorySource(await compressBuffer(buildSafetensors(tensors), { huffman: true }), 'huff.wcodec'));
  const res = await decodeToGPU(cp, ['a', 'b'], device, { checkDigests: true });
  assert.equal(res.backend, 'gpu');
  if (res.backend !== 'gpu') return;
  try {
    // 'a' has a Huffman exponent plane (transcoded on the GPU); 'b' is too small to code and is stored raw.
    assert.ok(cp.segmentOf(cp.tensors[0]).coding.tables.some((x) => x !== undefined && 'kind' in x && x.kind === 'huffman'));
    assert.equal(res.tensors[0].cpuDecoded, undefined);
    assert.equal(res.tensors[1].cpuDecoded, undefined);
    for (const [k, g] of res.tensors.entries()) {
      const bytes = await readBack(device, g.buffer, g.offset, g.byteLength);
      assert.ok(Buffer.compare(bytes, tensors[k].data) === 0, `${g.info.name}: GPU buffer differs from the original`);
    }
  } finally {
    for (const b of res.buffers) b.destroy();
  }
});
