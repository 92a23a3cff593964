// Lossy tensors in the container (FORMAT.md §3.5.3.5, GROUP_QUANT, version 6): the writer's lossy option, the
// round-to-nearest presets, the digests of the dequantized bytes, the refusals, and the CLI's labels.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressBuffer, decompressBuffer, ContainerReader, MemorySource, type LossyOptions } from '../src/index.js';
import { decompressFile } from '../src/node.js';
import { dequantizeGroups, type QuantizedMatrix } from '../src/transform/group-quant.js';
import { lossyMetrics, readGroupQuantParams, TRANSFORM_GROUP_QUANT, widenFloats } from '../src/transform/group-quant-segment.js';
import { LOSSY_PRESETS, lossyPreset, quantizeRoundToNearest, roundToNearestQuantizer } from '../src/lossy/round-to-nearest.js';
import { quantizerFor } from '../src/lossy/presets.js';
import { editHeader, editFooter } from '../tools/vectors/surgery.js';
import { bf16Bits, f16Bits, f32Bits } from '../tools/float-bits.js';
import { buildSafetensors, type TensorInput } from './helpers/safetensors-builder.js';
import { Rng } from './helpers/prng.js';
import { wcodec } from './helpers/cli.js';
import { tinyConfig, writeTinyLlama } from './helpers/tiny-llama.js';
import { WcodecError } from '../src/errors.js';

const BITS: Record<string, (x: number) => number> = { BF16: bf16Bits, F16: f16Bits, F32: f32Bits };
const WIDTH: Record<string, number> = { BF16: 2, F16: 2, F32: 4 };

/** Little-endian bytes of `values` as `dtype`. */
function floats(dtype: string, values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * WIDTH[dtype]);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => (WIDTH[dtype] === 4 ? dv.setUint32(4 * i, BITS[dtype](v), true) : dv.setUint16(2 * i, BITS[dtype](v), true)));
  return out;
}

const gauss = (rng: Rng, n: number, sd: number): number[] => Array.from({ length: n }, () => rng.gaussian() * sd);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const count = (shape: number[]): number => shape.reduce((a, d) => a * d, 1);

/** A safetensors file of `tensors`, compressed with `lossy` (engine ts), and what it holds. */
async function roundTrip(tensors: TensorInput[], lossy: LossyOptions) {
  const file = buildSafetensors(tensors);
  const container = await compressBuffer(file.bytes, { name: 'm.safetensors', lossy, engine: 'ts' });
  const reader = await ContainerReader.open(new MemorySource(container, 'c'));
  const out = await decompressBuffer(container, { checkSha256: true, checkSegmentDigests: true });
  return { file, container, index: reader.index, out };
}

const seg = (index: Awaited<ReturnType<typeof roundTrip>>['index'], name: string) => index.members[0].segments.find((s) => s.name === name)!;

test('every preset on BF16, F16 and F32: decoded bytes = dequantizeGroups of the quantizer, header unchanged, digests of the dequantized bytes', async () => {
  const rng = new Rng(101);
  for (const preset of LOSSY_PRESETS) {
    for (const dtype of ['BF16', 'F16', 'F32']) {
      // Odd shapes: a row not a multiple of the group size, one row, a 3-D tensor, a row shorter than a group.
      const shapes: [string, number[]][] = [['odd', [5, 200]], ['one', [1, 77]], ['cube', [2, 3, 40]], ['short', [4, 9]]];
      const tensors = [...shapes.map(([name, shape]) => ({ name, dtype, shape, data: floats(dtype, gauss(rng, count(shape), 0.3)) })), { name: 'bias', dtype, shape: [9], data: floats(dtype, gauss(rng, 9, 1)) }];
      const { file, index, out, container } = await roundTrip(tensors, roundToNearestQuantizer(preset));
      assert.equal(container[8], 6, 'format version 6');
      assert.equal(out.length, file.bytes.length);
      assert.deepEqual(out.subarray(0, file.headerEnd), file.bytes.subarray(0, file.headerEnd), 'the safetensors header is the input\'s');
      for (const [name, shape] of shapes) {
        const [b, e] = file.offsets.get(name)!;
        const values = widenFloats(file.bytes.subarray(b, e), dtype);
        const cols = shape[shape.length - 1];
        const q = quantizeRoundToNearest(values, values.length / cols, cols, preset);
        const want = dequantizeGroups(q, dtype);
        assert.deepEqual(out.subarray(b, e), want, `${preset.name} ${dtype} ${name}`);
        const s = seg(index, name);
        assert.equal(s.transform?.code, TRANSFORM_GROUP_QUANT);
        assert.equal(Buffer.from(s.sha256).toString('hex'), sha(want));
        const p = readGroupQuantParams(s.transform!.params);
        assert.ok(typeof p !== 'string');
        assert.equal(p.label, preset.name);
        assert.equal(p.groupSize, Math.min(preset.groupSize, cols));
        for (const c of q.codes) assert.ok(Math.abs(c) <= preset.maxCode);
      }
      assert.equal(seg(index, 'bias').transform, undefined, '1-D tensors stay lossless');
      const [b, e] = file.offsets.get('bias')!;
      assert.deepEqual(out.subarray(b, e), file.bytes.subarray(b, e));
      assert.equal(Buffer.from(index.members[0].sha256).toString('hex'), sha(out), 'member digest of the decoded file');
    }
  }
});

test('the command line presets (q8, q4, bits=3.5) on BF16, F16 and F32: decoded bytes = dequantizeGroups of the preset quantizer, one scale per row, digests of the dequantized bytes', async () => {
  const rng = new Rng(103);
  for (const preset of ['q8', 'q4', 'bits=3.5']) {
    for (const dtype of ['BF16', 'F16', 'F32']) {
      const shapes: [string, number[]][] = [['odd', [5, 200]], ['one', [1, 77]], ['cube', [2, 3, 40]], ['square', [64, 64]]];
      const tensors = [...shapes.map(([name, shape]) => ({ name, dtype, shape, data: floats(dtype, gauss(rng, count(shape), 0.05)) })), { name: 'norm', dtype, shape: [64], data: floats(dtype, gauss(rng, 64, 1)) }];
      const quantize = quantizerFor(preset);
      const { file, index, out, container } = await roundTrip(tensors, { label: preset, quantize });
      assert.equal(container[8], 6, 'format version 6');
      for (const [name, shape] of shapes) {
        const [b, e] = file.offsets.get(name)!;
        const values = widenFloats(file.bytes.subarray(b, e), dtype);
        const q = quantize(name, dtype, shape, values)!;
        assert.equal(q.groupSize, shape[shape.length - 1], 'one scale per row');
        const want = dequantizeGroups(q, dtype);
        assert.deepEqual(out.subarray(b, e), want, `${preset} ${dtype} ${name}`);
        const s = seg(index, name);
        assert.equal(Buffer.from(s.sha256).toString('hex'), sha(want));
        const p = readGroupQuantParams(s.transform!.params);
        assert.ok(typeof p !== 'string');
        assert.equal(p.label, preset);
      }
      const [b, e] = file.offsets.get('norm')!;
      assert.deepEqual(out.subarray(b, e), file.bytes.subarray(b, e), '1-D tensors stay exact');
      assert.equal(Buffer.from(index.members[0].sha256).toString('hex'), sha(out));
    }
  }
});

test('a tensor holding NaN or an infinity stays lossless; the quantizer may keep any tensor lossless', async () => {
  const rng = new Rng(102);
  const nan = gauss(rng, 64, 1);
  nan[5] = NaN;
  const inf = gauss(rng, 64, 1);
  inf[60] = -Infinity;
  const asked: string[] = [];
  const q8 = roundToNearestQuantizer(lossyPreset('q8')!);
  const lossy: LossyOptions = { label: 'q8', quantize: (name, dtype, shape, values) => (asked.push(name), name === 'kept' ? undefined : q8.quantize(name, dtype, shape, values)) };
  const tensors = [
    { name: 'nan', dtype: 'BF16', shape: [8, 8], data: floats('BF16', nan) },
    { name: 'inf', dtype: 'F32', shape: [8, 8], data: floats('F32', inf) },
    { name: 'kept', dtype: 'F16', shape: [8, 8], data: floats('F16', gauss(rng, 64, 1)) },
    { name: 'int', dtype: 'I32', shape: [8, 8], data: new Uint8Array(256) },
    { name: 'lossy', dtype: 'F16', shape: [8, 8], data: floats('F16', gauss(rng, 64, 1)) },
  ];
  const { file, index, out } = await roundTrip(tensors, lossy);
  assert.deepEqual(asked, ['kept', 'lossy'], 'only finite float tensors of rank >= 2 are offered');
  for (const name of ['nan', 'inf', 'kept', 'int']) {
    assert.notEqual(seg(index, name).transform?.code, TRANSFORM_GROUP_QUANT, name);
    const [b, e] = file.offsets.get(name)!;
    assert.deepEqual(out.subarray(b, e), file.bytes.subarray(b, e), name);
  }
  assert.equal(seg(index, 'lossy').transform?.code, TRANSFORM_GROUP_QUANT);
});

test('deterministic: the same input and quantizer give the same container; without lossy the container is as before', async () => {
  const rng = new Rng(103);
  const tensors = [{ name: 'w', dtype: 'BF16', shape: [16, 130], data: floats('BF16', gauss(rng, 16 * 130, 0.1)) }];
  const a = await roundTrip(tensors, roundToNearestQuantizer(lossyPreset('q4')!));
  const b = await roundTrip(tensors, roundToNearestQuantizer(lossyPreset('q4')!));
  assert.equal(sha(a.container), sha(b.container));
  const plain = await compressBuffer(a.file.bytes, { name: 'm.safetensors', engine: 'ts' });
  // Never lossy (6 or 7): version 11, as its header is coded with the byte model, and version 4 without the byte model.
  assert.equal(plain[8], 11, 'a container without a quantizer is lossless: version 11');
  assert.equal((await compressBuffer(a.file.bytes, { name: 'm.safetensors', engine: 'ts', byteModel: false }))[8], 4, 'and version 4 without the byte model');
  assert.deepEqual(await decompressBuffer(plain), a.file.bytes);
});

test('metrics: a hand-computed case', async () => {
  // One row [1, -2, 0.3, 4] with q = [1, -2, 0, 4] and scale 1 (F32): errors 0, 0, 0.3 (binary32), 0.
  const x = new Float32Array([1, -2, 0.3, 4]);
  const q: QuantizedMatrix = { rows: 1, cols: 4, groupSize: 4, codes: new Int16Array([1, -2, 0, 4]), scales: new Float32Array([1]) };
  const e = Math.fround(0.3);
  const m = lossyMetrics(x, widenFloats(dequantizeGroups(q, 'F32'), 'F32'));
  assert.equal(m.maxAbsError, e);
  assert.equal(m.meanAbsError, e / 4);
  const signal = 1 + 4 + e * e + 16;
  assert.equal(m.relL2Error, Math.sqrt(e * e) / Math.sqrt(signal));
  assert.equal(m.snrDb, 10 * Math.log10(signal / (e * e)));
  assert.deepEqual(lossyMetrics(x, x), { maxAbsError: 0, meanAbsError: 0, relL2Error: 0, snrDb: Infinity });
  // The same numbers stored in the segment's params.
  const { index } = await roundTrip([{ name: 'w', dtype: 'F32', shape: [1, 4], data: floats('F32', [1, -2, 0.3, 4]) }], { label: 'hand', quantize: () => q });
  const p = readGroupQuantParams(seg(index, 'w').transform!.params);
  assert.ok(typeof p !== 'string');
  assert.deepEqual({ ...p }, { codeBytes: 1, levels: 0, sparsity: 0, groupSize: 4, label: 'hand', ...m });
});

test('i16 codes when a code leaves -128 … 127; a quantizer whose matrix does not fit the tensor is a RangeError', async () => {
  const q: QuantizedMatrix = { rows: 2, cols: 3, groupSize: 2, codes: new Int16Array([1000, -1000, 3, 0, 1, -32767]), scales: new Float32Array([0.001, 0.5, 0.25, 1e-4]) };
  const { index, file, out } = await roundTrip([{ name: 'w', dtype: 'F32', shape: [2, 3], data: floats('F32', [1, -1, 1.5, 0, 0.25, -3.2767]) }], { label: 'wide', quantize: () => q });
  assert.equal(seg(index, 'w').transform!.params[1], 2);
  const [b, e] = file.offsets.get('w')!;
  assert.deepEqual(out.subarray(b, e), dequantizeGroups(q, 'F32'));
  const bad = (m: QuantizedMatrix) => compressBuffer(file.bytes, { name: 'm.safetensors', lossy: { label: 'x', quantize: () => m } });
  await assert.rejects(bad({ ...q, rows: 3, codes: new Int16Array(9), scales: new Float32Array(6) }), RangeError);
  await assert.rejects(bad({ ...q, scales: new Float32Array([NaN, 1, 1, 1]) }), RangeError);
  await assert.rejects(compressBuffer(file.bytes, { name: 'm.safetensors', lossy: { label: 'x', quantize: () => q }, formatVersion: 5 }), RangeError);
  await assert.rejects(compressBuffer(file.bytes, { name: 'm.safetensors', lossy: { label: 'é', quantize: () => q } }), RangeError);
});

test('losslessOnly refuses a lossy container (LOSSY_REFUSED) before writing; GROUP_QUANT is refused in version 5, read alike in 7', async () => {
  const rng = new Rng(104);
  const { container } = await roundTrip([{ name: 'w', dtype: 'BF16', shape: [4, 64], data: floats('BF16', gauss(rng, 256, 1)) }], roundToNearestQuantizer(lossyPreset('q8')!));
  await assert.rejects(decompressBuffer(container, { losslessOnly: true }), (e: unknown) => e instanceof WcodecError && e.code === 'LOSSY_REFUSED');
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-lossy-'));
  try {
    const input = join(dir, 'm.safetensors.wcodec');
    await writeFile(input, container);
    await assert.rejects(decompressFile(input, join(dir, 'out.safetensors'), { losslessOnly: true }), (e: unknown) => e instanceof WcodecError && e.code === 'LOSSY_REFUSED');
    assert.equal(existsSync(join(dir, 'out.safetensors')), false, 'nothing written');
  } finally {
    await rm(dir, { recursive: true });
  }
  // Relabelled version 5: GROUP_QUANT is refused in it.
  const v5 = editFooter(editHeader(container, (dv) => dv.setUint16(8, 5, true), true), (dv) => dv.setUint16(20, 5, true), true);
  await assert.rejects(decompressBuffer(v5), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_TRANSFORM');
  // Relabelled version 7: its GROUP_QUANT params (levels 0, sparsity 0) mean the same there.
  const v7 = editFooter(editHeader(container, (dv) => dv.setUint16(8, 7, true), true), (dv) => dv.setUint16(20, 7, true), true);
  assert.deepEqual(await decompressBuffer(v7), await decompressBuffer(container));
  // A version this decoder does not know.
  const v200 = editFooter(editHeader(container, (dv) => dv.setUint16(8, 200, true), true), (dv) => dv.setUint16(20, 200, true), true);
  await assert.rejects(decompressBuffer(v200), (e: unknown) => e instanceof WcodecError && e.code === 'UNSUPPORTED_VERSION');
});

test('CLI: compress --lossy, info, verify and decompress say lossy; --lossless-only refuses; an unknown preset is a usage error', async () => {
  const rng = new Rng(105);
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-lossy-cli-'));
  try {
    const input = join(dir, 'm.safetensors');
    const file = buildSafetensors([
      { name: 'w', dtype: 'BF16', shape: [8, 256], data: floats('BF16', gauss(rng, 2048, 0.05)) },
      { name: 'norm', dtype: 'BF16', shape: [256], data: floats('BF16', gauss(rng, 256, 1)) },
    ]);
    await writeFile(input, file.bytes);
    const usage = wcodec('compress', input, '--lossy', 'q3');
    assert.equal(usage.status, 1);
    assert.match(usage.stderr, /--lossy takes a preset: q8 .*q4 .*bits=B.*not 'q3'/);
    assert.equal(wcodec('compress', input, '--lossy', 'bits=0.5').status, 1);
    assert.match(wcodec('compress', input, '--calibrate', input).stderr, /--calibrate goes with --lossy/);
    const bits = wcodec('compress', input, '-o', join(dir, 'b.wcodec'), '--lossy', 'bits=3.5', '--json');
    assert.equal(bits.status, 0, bits.stderr);
    assert.deepEqual(JSON.parse(bits.stdout).lossy.labels, ['bits=3.5']);
    const out = join(dir, 'm.wcodec');
    const c = wcodec('compress', input, '-o', out, '--lossy', 'q4', '--json');
    assert.equal(c.status, 0, c.stderr);
    const cj = JSON.parse(c.stdout);
    assert.deepEqual(cj.lossy.labels, ['q4']);
    assert.equal(cj.lossy.tensorCount, 1);
    assert.equal(cj.lossy.parameters, 2048 + 256);
    assert.equal(cj.lossy.bitsPerWeight, (cj.compressedBytes * 8) / (2048 + 256));
    const text = wcodec('compress', input, '-o', join(dir, 'n.wcodec'), '--lossy', 'q8');
    assert.match(text.stderr, /LOSSY \(q8\): 1 tensor\(s\) hold dequantized values, not the original; \d+\.\d{3} bits per weight/);
    const info = JSON.parse(wcodec('info', '--json', out).stdout);
    assert.equal(info.formatVersion, 6);
    const w = info.tensors.find((t: { name: string }) => t.name === 'w');
    assert.equal(w.transform, 'lossy');
    assert.equal(w.lossy.label, 'q4');
    assert.equal(w.lossy.groupSize, 256); // the presets keep one scale per row
    for (const k of ['bitsPerWeight', 'maxAbsError', 'meanAbsError', 'relL2Error', 'snrDb']) assert.equal(typeof w.lossy[k], 'number', k);
    assert.equal(info.tensors.find((t: { name: string }) => t.name === 'norm').lossy, null);
    const infoText = wcodec('info', out).stdout;
    assert.match(infoText, /LOSSY \(q4\)/);
    assert.match(infoText, /Lossy tensors/);
    for (const line of infoText.split('\n')) assert.ok(line.length <= 100 || line.startsWith(out), `wider than 100: ${line}`);
    const v = wcodec('verify', out);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /OK .*\n.*LOSSY \(q4\).*dequantized/);
    assert.deepEqual(JSON.parse(wcodec('verify', '--json', out).stdout).lossy.labels, ['q4']);
    const refused = wcodec('decompress', out, '-o', join(dir, 'x.safetensors'), '--lossless-only', '--json');
    assert.equal(refused.status, 1);
    assert.equal(JSON.parse(refused.stdout).code, 'LOSSY_REFUSED');
    assert.equal(existsSync(join(dir, 'x.safetensors')), false);
    const d = wcodec('decompress', out, '-o', join(dir, 'y.safetensors'), '-q');
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stderr, /LOSSY \(q4\)/, 'said even with -q');
    const y = await readFile(join(dir, 'y.safetensors'));
    assert.deepEqual(y.subarray(0, file.headerEnd), Buffer.from(file.bytes.subarray(0, file.headerEnd)));
    const plain = join(dir, 'p.wcodec');
    assert.equal(wcodec('compress', input, '-o', plain).status, 0);
    assert.equal(JSON.parse(wcodec('info', '--json', plain).stdout).lossy, null);
    assert.equal(wcodec('decompress', plain, '-o', join(dir, 'p.safetensors'), '--lossless-only').status, 0);
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('CLI: compress --lossy q4 --calibrate TEXT on a Llama folder quantizes with GPTQ and bits per tensor by sensitivity (labelled so; +uniform: one budget) and restores a valid model', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-gptq-'));
  try {
    const model = join(dir, 'model');
    await mkdir(model);
    await writeTinyLlama(model, tinyConfig(), { seed: 5, dtype: 'F32' });
    const text = join(dir, 'calibration.txt');
    await writeFile(text, Buffer.from('def f(x):\n    return x * 2\n'.repeat(200)));
    const out = join(dir, 'model.wcodec');
    const c = wcodec('compress', model, '-o', out, '--lossy', 'q4', '--calibrate', text, '--json');
    assert.equal(c.status, 0, c.stderr);
    const cj = JSON.parse(c.stdout);
    assert.deepEqual(cj.lossy.labels, ['q4+mixed gptq'], 'bits per tensor by sensitivity, the default with calibration');
    assert.ok(cj.lossy.tensorCount > 0);
    const d = wcodec('decompress', out, '-o', join(dir, 'restored'), '-q');
    assert.equal(d.status, 0, d.stderr);
    assert.match(d.stderr, /LOSSY \(q4\+mixed gptq\)/);
    const uniform = wcodec('compress', model, '-o', join(dir, 'uniform.wcodec'), '--lossy', 'q4+uniform', '--calibrate', text, '--json');
    assert.equal(uniform.status, 0, uniform.stderr);
    assert.deepEqual(JSON.parse(uniform.stdout).lossy.labels, ['q4+uniform gptq']);
    // A folder that is not a Llama model cannot be calibrated: a typed error, nothing written.
    const notLlama = wcodec('compress', join(dir, 'calibration.txt'), '-o', join(dir, 'x.wcodec'), '--lossy', 'q4', '--calibrate', text);
    assert.notEqual(notLlama.status, 0);
    assert.ok(!existsSync(join(dir, 'x.wcodec')));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
