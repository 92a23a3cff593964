// FP8 levels, 2:4 sparsity and pruned presets (FORMAT.md §3.5.3.5, version 7), and mixed precision per tensor: the
// level tables and rounding, the masks, the presets through a container (decoded bytes against a rebuild written here
// from the spec's formula), the refusals of bad params and codes, and the command line.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressBuffer, decompressBuffer, ContainerReader, MemorySource, type LossyOptions } from '../src/index.js';
import { fp8CodeOf, fp8Levels, LEVELS_E4M3, LEVELS_E5M2, type GroupLevels } from '../src/transform/fp8-levels.js';
import { dequantizeGroups, groupQuantProblem, SPARSITY_2_4, type QuantizedMatrix } from '../src/transform/group-quant.js';
import { readGroupQuantParams, TRANSFORM_GROUP_QUANT, widenFloats, writeGroupQuantParams } from '../src/transform/group-quant-segment.js';
import { parseLossySpec, quantizerFor } from '../src/lossy/presets.js';
import { parsePrunePattern, pruneMask } from '../src/lossy/prune-mask.js';
import { quantizeFp8 } from '../src/lossy/quantize-fp8.js';
import { quantizeGptqBits } from '../src/lossy/quantize-gptq.js';
import { codeBits } from '../src/lossy/code-bits.js';
import { mixedBits, MIXED_SPREAD_BITS } from '../src/eval/tensor-sensitivity.js';
import { bf16Bits, f16Bits, f32Bits } from '../tools/float-bits.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng } from './helpers/prng.js';
import { wcodec } from './helpers/cli.js';
import { WcodecError } from '../src/errors.js';
import { editFooter, editHeader } from '../tools/vectors/surgery.js';

const BITS: Record<string, (x: number) => number> = { BF16: bf16Bits, F16: f16Bits, F32: f32Bits };
const WIDTH: Record<string, number> = { BF16: 2, F16: 2, F32: 4 };

function floats(dtype: string, values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * WIDTH[dtype]);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => (WIDTH[dtype] === 4 ? dv.setUint32(4 * i, BITS[dtype](v), true) : dv.setUint16(2 * i, BITS[dtype](v), true)));
  return out;
}
const gauss = (rng: Rng, n: number, sd: number): number[] => Array.from({ length: n }, () => rng.gaussian() * sd);
const count = (shape: number[]): number => shape.reduce((a, d) => a * d, 1);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The level of an FP8 pattern by FORMAT.md §3.5.3.5's formula (undefined where it has none), apart from fp8-levels.ts. */
function specLevel(q: number, levels: GroupLevels): number | undefined {
  const [E, M, bias] = levels === LEVELS_E4M3 ? [4, 3, 7] : [5, 2, 15];
  const s = q >> 7;
  const e = (q >> M) & ((1 << E) - 1);
  const m = q & ((1 << M) - 1);
  if (levels === LEVELS_E4M3 && e === 15 && m === 7) return undefined;
  if (levels === LEVELS_E5M2 && e === 31) return undefined;
  const mag = e === 0 ? 2 ** (1 - bias) * (m / 2 ** M) : 2 ** (e - bias) * (1 + m / 2 ** M);
  return s ? -mag : mag;
}

/** A matrix's bytes rebuilt by the spec's rule: fround(level × scale), then the dtype's bits (tools/float-bits.ts). */
function specRebuild(q: QuantizedMatrix, dtype: string): Uint8Array {
  const G = Math.ceil(q.cols / q.groupSize);
  const out = new Uint8Array(q.codes.length * WIDTH[dtype]);
  const dv = new DataView(out.buffer);
  for (let r = 0; r < q.rows; r++) {
    for (let c = 0; c < q.cols; c++) {
      const i = r * q.cols + c;
      const level = (q.levels ?? 0) === 0 ? q.codes[i] : specLevel(q.codes[i], q.levels!)!;
      const p = Math.fround(level * q.scales[r * G + Math.floor(c / q.groupSize)]);
      if (WIDTH[dtype] === 4) dv.setUint32(4 * i, f32Bits(p), true);
      else dv.setUint16(2 * i, BITS[dtype](p), true);
    }
  }
  return out;
}

test('FP8 levels: every pattern as the spec defines it; the largest levels, the NaN and infinity patterns, -0', () => {
  for (const levels of [LEVELS_E4M3, LEVELS_E5M2] as const) {
    const t = fp8Levels(levels);
    for (let q = 0; q < 256; q++) {
      const want = specLevel(q, levels);
      if (want === undefined) assert.ok(Number.isNaN(t[q]), `pattern ${q} has no level`);
      else assert.ok(Object.is(t[q], want), `pattern ${q}: ${t[q]} against ${want}`);
    }
  }
  assert.equal(fp8Levels(LEVELS_E4M3)[0x7e], 448);
  assert.equal(fp8Levels(LEVELS_E4M3)[0x01], 2 ** -9);
  assert.equal(fp8Levels(LEVELS_E5M2)[0x7b], 57344);
  assert.equal(fp8Levels(LEVELS_E5M2)[0x01], 2 ** -16);
  assert.ok(Object.is(fp8Levels(LEVELS_E4M3)[0x80], -0));
});

test('FP8 rounding: nearest level, ties to the even pattern, saturation, +0 for zero and for what rounds to zero', () => {
  for (const levels of [LEVELS_E4M3, LEVELS_E5M2] as const) {
    const t = fp8Levels(levels);
    const rng = new Rng(7);
    for (let k = 0; k < 2000; k++) {
      const x = rng.gaussian() * 2 ** (rng.int(30) - 15);
      const q = fp8CodeOf(x, levels);
      // No finite level is nearer.
      for (let p = 0; p < 256; p++) if (!Number.isNaN(t[p])) assert.ok(Math.abs(t[p] - x) >= Math.abs(t[q] - x), `${x}: ${t[q]} but ${t[p]}`);
    }
  }
  const t = fp8Levels(LEVELS_E4M3);
  // 1.0625 lies halfway between 1 (0x38) and 1.125 (0x39): the even pattern.
  assert.equal(fp8CodeOf(1.0625, LEVELS_E4M3), 0x38);
  assert.equal(fp8CodeOf(1.1875, LEVELS_E4M3), 0x3a);
  assert.equal(t[fp8CodeOf(1e6, LEVELS_E4M3)], 448);
  assert.equal(t[fp8CodeOf(-1e6, LEVELS_E4M3)], -448);
  assert.equal(fp8CodeOf(0, LEVELS_E4M3), 0);
  assert.equal(fp8CodeOf(-0, LEVELS_E4M3), 0);
  assert.equal(fp8CodeOf(-(2 ** -12), LEVELS_E4M3), 0, 'a value that rounds to zero gives +0');
  assert.throws(() => fp8CodeOf(NaN, LEVELS_E4M3), RangeError);
});

test('pruning masks: N% prunes exactly that share, the smallest first; 2:4 two of every run of 4 and floor(k/2) of a last run', () => {
  assert.deepEqual(parsePrunePattern('2:4'), { kind: '2:4' });
  assert.deepEqual(parsePrunePattern('30%'), { kind: 'unstructured', fraction: 0.3 });
  for (const bad of ['0%', '100%', '3:4', '30', '2.5%', '']) assert.throws(() => parsePrunePattern(bad), RangeError, bad);
  const rng = new Rng(11);
  const values = Float32Array.from(gauss(rng, 7 * 13, 1));
  const m = pruneMask(values, 7, 13, { kind: 'unstructured', fraction: 0.3 });
  const pruned = [...m].reduce((a, b) => a + b, 0);
  assert.equal(pruned, Math.round(0.3 * 91));
  let maxPruned = 0;
  let minKept = Infinity;
  m.forEach((f, i) => (f ? (maxPruned = Math.max(maxPruned, Math.abs(values[i]))) : (minKept = Math.min(minKept, Math.abs(values[i])))));
  assert.ok(maxPruned <= minKept);
  const m24 = pruneMask(values, 7, 13, { kind: '2:4' });
  for (let r = 0; r < 7; r++) {
    for (let c0 = 0; c0 < 13; c0 += 4) {
      const k = Math.min(4, 13 - c0);
      const run = Array.from({ length: k }, (_, j) => r * 13 + c0 + j);
      assert.equal(run.filter((i) => m24[i]).length, k >> 1, `row ${r} run ${c0}`);
      for (const i of run) for (const j of run) if (m24[i] && !m24[j]) assert.ok(Math.abs(values[i]) <= Math.abs(values[j]));
    }
  }
  // Input energy: a large weight on an input never seen is pruned before a small one on a busy input.
  const w = Float32Array.of(5, 1, 0.1, 0.2);
  assert.deepEqual([...pruneMask(w, 1, 4, { kind: '2:4' })], [0, 0, 1, 1]);
  assert.deepEqual([...pruneMask(w, 1, 4, { kind: '2:4' }, Float64Array.of(0, 1, 1e4, 1e4))], [1, 1, 0, 0]);
});

test('presets: BASE[+2:4|+N%][+mixed|+uniform] parsed, their container version; bad combinations refused', () => {
  assert.deepEqual(parseLossySpec('q4+2:4'), { text: 'q4+2:4', base: 'q4', bits: 4.4, levels: undefined, prune: { kind: '2:4' }, mixed: false, uniform: false, formatVersion: 7 });
  assert.equal(parseLossySpec('q8+30%').formatVersion, 6);
  assert.equal(parseLossySpec('fp8').levels, LEVELS_E4M3);
  assert.equal(parseLossySpec('fp8-e5m2').levels, LEVELS_E5M2);
  assert.equal(parseLossySpec('fp8').formatVersion, 7);
  assert.equal(parseLossySpec('bits=3.45+mixed').mixed, true);
  assert.equal(parseLossySpec('bits=3+2:4+mixed').bits, 3);
  assert.equal(parseLossySpec('q4+2:4+uniform').uniform, true);
  for (const bad of ['fp8+mixed', 'fp8+uniform', 'q4+mixed+uniform', 'q4+2:4+30%', 'q4+mixed+mixed', 'q4+', 'fp16', 'q4+1:4', 'fp8-e4m3']) assert.throws(() => parseLossySpec(bad), RangeError, bad);
});

test('every new preset on BF16, F16 and F32 with odd and 3-D shapes: decoded bytes are the spec rebuild of the quantizer, labels, 1-D exact', async () => {
  const rng = new Rng(201);
  for (const preset of ['fp8', 'fp8-e5m2', 'fp8+2:4', 'q4+2:4', 'q8+30%', 'bits=3+2:4']) {
    const spec = parseLossySpec(preset);
    for (const dtype of ['BF16', 'F16', 'F32']) {
      const shapes: [string, number[]][] = [['odd', [5, 203]], ['one', [1, 77]], ['cube', [2, 3, 41]], ['tiny', [3, 2]]];
      const tensors = [...shapes.map(([name, shape]) => ({ name, dtype, shape, data: floats(dtype, gauss(rng, count(shape), 0.05)) })), { name: 'norm', dtype, shape: [64], data: floats(dtype, gauss(rng, 64, 1)) }];
      const quantize = quantizerFor(preset);
      const file = buildSafetensors(tensors);
      const container = await compressBuffer(file.bytes, { name: 'm.safetensors', lossy: { label: preset, quantize, formatVersion: spec.formatVersion }, engine: 'ts' });
      assert.equal(container[8], spec.formatVersion, `${preset}: format version`);
      const out = await decompressBuffer(container, { checkSha256: true, checkSegmentDigests: true });
      const index = (await ContainerReader.open(new MemorySource(container, 'c'))).index;
      for (const [name, shape] of shapes) {
        const [b, e] = file.offsets.get(name)!;
        const q = quantize(name, dtype, shape, widenFloats(file.bytes.subarray(b, e), dtype))!;
        assert.equal(groupQuantProblem(q), undefined);
        const want = specRebuild(q, dtype);
        assert.deepEqual(out.subarray(b, e), want, `${preset} ${dtype} ${name}`);
        assert.deepEqual(dequantizeGroups(q, dtype), want);
        const decoded = widenFloats(out.subarray(b, e), dtype);
        const cols = shape[shape.length - 1];
        if (spec.prune?.kind === '2:4') {
          for (let r = 0; r < decoded.length / cols; r++) {
            for (let c0 = 0; c0 < cols; c0 += 4) {
              const k = Math.min(4, cols - c0);
              let zeros = 0;
              for (let c = c0; c < c0 + k; c++) if (decoded[r * cols + c] === 0) zeros++;
              assert.ok(zeros >= k >> 1, `${preset} ${dtype} ${name}: row ${r} run ${c0}`);
            }
          }
        }
        if (spec.prune?.kind === 'unstructured') assert.ok(decoded.filter((x) => x === 0).length >= Math.round(0.3 * decoded.length), `${preset} ${name}: 30 % zeros`);
        const seg = index.members[0].segments.find((s) => s.name === name)!;
        const p = readGroupQuantParams(seg.transform!.params);
        assert.ok(typeof p !== 'string');
        assert.equal(p.label, preset);
        assert.equal(p.levels, spec.levels ?? 0);
        assert.equal(p.sparsity, spec.prune?.kind === '2:4' ? 1 : 0);
      }
      const [b, e] = file.offsets.get('norm')!;
      assert.deepEqual(out.subarray(b, e), file.bytes.subarray(b, e), '1-D tensors stay exact');
      assert.equal(Buffer.from(index.members[0].sha256).toString('hex'), sha(out));
    }
  }
});

test('FP8 scale per row and per tensor; NaN and infinity tensors stay lossless; deterministic containers', async () => {
  const rng = new Rng(202);
  const rows = 6;
  const cols = 50;
  const v = Float32Array.from(gauss(rng, rows * cols, 1).map((x, i) => x * (1 + Math.floor(i / cols) * 10)));
  const perRow = quantizeFp8(v, rows, cols, { scale: 'row' });
  const perTensor = quantizeFp8(v, rows, cols);
  for (let r = 0; r < rows; r++) {
    let amax = 0;
    for (let c = 0; c < cols; c++) amax = Math.max(amax, Math.abs(v[r * cols + c]));
    assert.equal(perRow.scales[r], Math.fround(amax / 448));
    assert.equal(perTensor.scales[r], perTensor.scales[0]);
  }
  const nan = gauss(rng, 64, 1);
  nan[3] = NaN;
  const inf = gauss(rng, 64, 1);
  inf[9] = Infinity;
  const tensors = [
    { name: 'nan', dtype: 'F16', shape: [8, 8], data: floats('F16', nan) },
    { name: 'inf', dtype: 'BF16', shape: [8, 8], data: floats('BF16', inf) },
    { name: 'w', dtype: 'F32', shape: [8, 8], data: floats('F32', gauss(rng, 64, 1)) },
  ];
  const file = buildSafetensors(tensors);
  const lossy: LossyOptions = { label: 'fp8+2:4', quantize: quantizerFor('fp8+2:4'), formatVersion: 7 };
  const a = await compressBuffer(file.bytes, { name: 'm.safetensors', lossy, engine: 'ts' });
  const b = await compressBuffer(file.bytes, { name: 'm.safetensors', lossy, engine: 'ts' });
  assert.equal(sha(a), sha(b));
  const out = await decompressBuffer(a);
  for (const name of ['nan', 'inf']) {
    const [s, e] = file.offsets.get(name)!;
    assert.deepEqual(out.subarray(s, e), file.bytes.subarray(s, e), name);
  }
  const index = (await ContainerReader.open(new MemorySource(a, 'c'))).index;
  assert.equal(index.members[0].segments.find((s) => s.name === 'w')!.transform?.code, TRANSFORM_GROUP_QUANT);
});

test('GPTQ with a pruning mask: pruned codes are 0, the budget holds; a matrix that needs version 7 is refused in version 6', async () => {
  const rng = new Rng(203);
  const rows = 12;
  const cols = 16;
  const v = Float32Array.from(gauss(rng, rows * cols, 1));
  const h = new Float64Array(cols * cols);
  for (let t = 0; t < 40; t++) {
    const x = gauss(rng, cols, 1);
    for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) h[a * cols + b] += x[a] * x[b];
  }
  const mask = pruneMask(v, rows, cols, { kind: '2:4' });
  const q = quantizeGptqBits(v, rows, cols, h, { bitsPerValue: 3, mask });
  mask.forEach((f, i) => f && assert.equal(q.codes[i], 0, `pruned ${i}`));
  assert.ok(codeBits(q.codes) / q.codes.length <= 3);
  const fp8 = quantizeFp8(v, rows, cols, { hessian: h, mask });
  mask.forEach((f, i) => f && assert.equal(fp8.codes[i], 0, `pruned FP8 ${i}`));
  assert.equal(groupQuantProblem({ ...fp8, sparsity: SPARSITY_2_4 }), undefined);
  assert.match(groupQuantProblem({ ...fp8, codes: fp8.codes.map(() => 0x38), sparsity: SPARSITY_2_4 })!, /breaking the 2:4 sparsity/);
  assert.match(groupQuantProblem({ ...fp8, codes: fp8.codes.map((c, i) => (i === 5 ? 0x7f : c)) })!, /FP8 code 127 at 5/);
  const file = buildSafetensors([{ name: 'w', dtype: 'F32', shape: [rows, cols], data: floats('F32', [...v]) }]);
  await assert.rejects(compressBuffer(file.bytes, { name: 'm.safetensors', lossy: { label: 'fp8', quantize: () => fp8 }, engine: 'ts' }), /need formatVersion 7/);
});

test('params: levels and sparsity read back; refused in version 6, out of range, FP8 with i16 codes', () => {
  const base = { codeBytes: 1 as const, groupSize: 4, maxAbsError: 0, meanAbsError: 0, relL2Error: 0, snrDb: Infinity, label: 'fp8' };
  const p = writeGroupQuantParams({ ...base, levels: 2, sparsity: 1 });
  assert.equal(p[2], 2);
  assert.equal(p[3], 1);
  const r = readGroupQuantParams(p, 7);
  assert.ok(typeof r !== 'string' && r.levels === 2 && r.sparsity === 1);
  assert.match(readGroupQuantParams(p, 6) as string, /levels 2 and sparsity 1 in a version 6 container/);
  const bad = (at: number, v: number): Uint8Array => Uint8Array.from(p, (x, i) => (i === at ? v : x));
  assert.match(readGroupQuantParams(bad(2, 3), 7) as string, /levels 3/);
  assert.match(readGroupQuantParams(bad(3, 2), 7) as string, /sparsity 2/);
  assert.match(readGroupQuantParams(bad(1, 2), 7) as string, /FP8 levels with codeBytes 2/);
});

test('mixed precision: bits per tensor within the band around the budget, their weighted mean at most the budget, more to the more sensitive', () => {
  const t = [
    { name: 'a', weights: 1000, sensitivity: 1e-2 },
    { name: 'b', weights: 4000, sensitivity: 1e-4 },
    { name: 'c', weights: 2000, sensitivity: 1e-3 },
  ];
  const bits = mixedBits(t, 3.5);
  let mean = 0;
  for (const x of t) {
    const b = bits.get(x.name)!;
    assert.ok(b >= 3.5 - MIXED_SPREAD_BITS.below - 1e-9 && b <= 3.5 + MIXED_SPREAD_BITS.above + 1e-9, `${x.name}: ${b}`);
    mean += b * x.weights;
  }
  assert.ok(mean / 7000 <= 3.5 + 1e-9);
  assert.ok(bits.get('a')! > bits.get('c')! && bits.get('c')! > bits.get('b')!);
});

test('CLI: --lossy fp8, q4+2:4 and q8+30%: info and JSON show levels, sparsity and labels; --lossless-only refuses; bad presets are usage errors', async () => {
  const rng = new Rng(204);
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-fp8-cli-'));
  try {
    await mkdir(dir, { recursive: true });
    const input = join(dir, 'm.safetensors');
    const file = buildSafetensors([
      { name: 'w', dtype: 'BF16', shape: [8, 256], data: floats('BF16', gauss(rng, 2048, 0.05)) },
      { name: 'norm', dtype: 'BF16', shape: [256], data: floats('BF16', gauss(rng, 256, 1)) },
    ]);
    await writeFile(input, file.bytes);
    for (const [preset, version, levels, sparsity] of [['fp8', 7, 'fp8-e4m3', null], ['fp8-e5m2', 7, 'fp8-e5m2', null], ['q4+2:4', 7, 'integer', '2:4'], ['q8+30%', 6, 'integer', null]] as const) {
      const out = join(dir, `${preset.replace(/[:%+]/g, '_')}.wcodec`);
      const c = wcodec('compress', input, '-o', out, '--lossy', preset, '--json');
      assert.equal(c.status, 0, c.stderr);
      assert.deepEqual(JSON.parse(c.stdout).lossy.labels, [preset]);
      const info = JSON.parse(wcodec('info', '--json', out).stdout);
      assert.equal(info.formatVersion, version, preset);
      const w = info.tensors.find((t: { name: string }) => t.name === 'w');
      assert.deepEqual([w.lossy.label, w.lossy.levels, w.lossy.sparsity], [preset, levels, sparsity]);
      const text = wcodec('info', out).stdout;
      assert.match(text, new RegExp(`LOSSY \\(${preset.replace('+', '\\+')}\\)`));
      assert.match(text, /preset +levels/);
      const refused = wcodec('decompress', out, '-o', join(dir, 'x.safetensors'), '--lossless-only', '--json');
      assert.equal(refused.status, 1);
      assert.equal(JSON.parse(refused.stdout).code, 'LOSSY_REFUSED');
      assert.equal(existsSync(join(dir, 'x.safetensors')), false);
      const restored = join(dir, `${preset.replace(/[:%+]/g, '_')}.safetensors`);
      const d = wcodec('decompress', out, '-o', restored, '-q');
      assert.equal(d.status, 0, d.stderr);
      assert.deepEqual(new Uint8Array(await readFile(restored)), await decompressBuffer(new Uint8Array(await readFile(out))));
      assert.equal(wcodec('verify', out).status, 0);
    }
    for (const bad of ['fp8+mixed', 'q4+3:4', 'q4+0%', 'fp4']) {
      const r = wcodec('compress', input, '-o', join(dir, 'bad.wcodec'), '--lossy', bad);
      assert.equal(r.status, 1, bad);
      assert.match(r.stderr, /--lossy takes a preset/, bad);
    }
    assert.match(wcodec('compress', input, '-o', join(dir, 'bad.wcodec'), '--lossy', 'q4+mixed').stderr, /sensitivity on the --calibrate text/);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('a matrix that breaks its 2:4 claim is refused by the writer; version 7 params read as version 6 are CORRUPT_TRANSFORM with an offset', async () => {
  const rng = new Rng(205);
  const file = buildSafetensors([{ name: 'w', dtype: 'F16', shape: [4, 8], data: floats('F16', gauss(rng, 32, 1)) }]);
  // The writer refuses a matrix whose codes break the 2:4 sparsity it states (the decoder's check of such codes is what
  // the v7-sparsity-break vector exercises).
  const dense: QuantizedMatrix = { rows: 4, cols: 8, groupSize: 8, codes: new Int16Array(32).fill(0x38), scales: new Float32Array(4).fill(1), levels: LEVELS_E4M3, sparsity: SPARSITY_2_4 };
  await assert.rejects(compressBuffer(file.bytes, { name: 'm.safetensors', lossy: { label: 'x', quantize: () => dense, formatVersion: 7 }, engine: 'ts' }), /breaking the 2:4 sparsity/);
  const ok = await compressBuffer(file.bytes, { name: 'm.safetensors', lossy: { label: 'x', quantize: quantizerFor('fp8'), formatVersion: 7 }, engine: 'ts' });
  // Relabelled version 6: its params' levels byte is reserved there.
  const relabelled = editFooter(editHeader(ok, (dv) => dv.setUint16(8, 6, true), true), (dv) => dv.setUint16(20, 6, true), true);
  await assert.rejects(decompressBuffer(relabelled), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_TRANSFORM' && typeof e.offset === 'number' && /levels 1 and sparsity 0 in a version 6 container/.test(e.message));
});
