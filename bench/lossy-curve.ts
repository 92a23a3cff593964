// The rate–distortion curve of lossy weights on llama-tiny: every wcodec preset (entropy-constrained uniform
// quantization, and GPTQ calibrated on a third text; FP8 with a scale per row or per tensor; 2:4 and unstructured
// pruning combined with them; mixed precision per tensor by measured sensitivity) and the baselines (RTN int8 per row, RTN int4 g128, FP8 E4M3 per
// tensor, llama.cpp's Q8_0, Q4_0 and Q4_K) applied to the F32 weights of base-fp32, each evaluated with the perplexity
// harness on gyp.py.txt (the corpus) and pyyaml.py.txt (bench/data/python-text), beside the lossless model.
// Bits per weight count every tensor: quantized tensors as the order-0 entropy of their codes per byte plane + 32 bits
// per binary32 scale + CODING_OVERHEAD (wcodec presets) or the layout's nominal bits (baselines), the 1-D tensors at
// their size in a wcodec container of them alone. Checks: every quantized matrix is valid and rebuilt through
// dequantizeGroups, every preset meets its bits, quantizing twice gives the same codes, the lossless loss on gyp.py.txt
// is within 2e-3 nats/byte of REFERENCE.json's BF16 model.
// Usage: npm run bench:lossy -- [--windows N] [--threads N] [--methods a,b,...] [--calibration-windows 8]
// Writes bench/results/lossy-curve.json and docs/lossy-curve.svg (full texts only) and prints a Markdown table.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { CORPUS_ROOT, REPO_ROOT } from './inputs.js';
import { loadLlama, type LlamaWeights } from '../src/eval/load-llama.js';
import { evaluatePerplexity } from '../src/eval/perplexity.js';
import { compressBuffer } from '../src/api/buffers.js';
import { dequantizeGroups, groupQuantProblem, type QuantizedMatrix } from '../src/transform/group-quant.js';
import { codeBits } from '../src/lossy/code-bits.js';
import { CODING_OVERHEAD, SCALE_BITS, parseLossySpec, quantizerFor, type QuantizerOptions } from '../src/lossy/presets.js';
import { INT4_GROUP_VALUES, applyLossyVariant, type LossyVariant } from '../src/lossy/reference-quantizers.js';
import { GGML_BITS_PER_WEIGHT, quantizeQ4_0, quantizeQ4_K, quantizeQ8_0 } from '../src/lossy/ggml-quants.js';
import { quantizeFp8 } from '../src/lossy/quantize-fp8.js';
import { calibrationHessians } from '../src/eval/calibration-hessians.js';
import { measureSensitivities, mixedBits, SENSITIVITY_BITS, SENSITIVITY_WINDOWS } from '../src/eval/tensor-sensitivity.js';
import { lossyChart } from './lossy-chart.js';
import { option } from './args.js';

const MODEL = join(CORPUS_ROOT, 'llama-tiny', 'base-fp32');
const TEXTS = [
  { name: 'gyp.py.txt', path: join(CORPUS_ROOT, 'llama-tiny', 'eval', 'gyp.py.txt') },
  { name: 'pyyaml.py.txt', path: join(REPO_ROOT, 'bench', 'data', 'python-text', 'pyyaml.py.txt') },
];
const CALIBRATION = join(REPO_ROOT, 'bench', 'data', 'python-text', 'six.py.txt');
/** Loss of the BF16 base model on gyp.py.txt; the F32 master weights must land near it. */
const REFERENCE_TOLERANCE = 2e-3;

/** A method: how it changes each 2-D tensor, and its stored bits for that tensor. */
interface Method {
  name: string;
  family: 'lossless' | 'wcodec uniform' | 'wcodec GPTQ' | 'wcodec GPTQ mixed' | 'wcodec FP8' | 'wcodec pruned' | 'RTN' | 'FP8' | 'llama.cpp';
  /** Target bits per weight (wcodec presets). */
  target?: number;
  apply(name: string, shape: number[], values: Float32Array): { values: Float32Array; bits: number };
}

const windows = option('windows') ? Number(option('windows')) : undefined;
const threads = Number(option('threads') ?? availableParallelism());
const calibrationWindows = Number(option('calibration-windows') ?? 8);
const only = option('methods')?.split(',');

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
const loadBefore = loadavg()[0];

const base = await loadLlama(MODEL);
const texts = TEXTS.map((t) => ({ ...t, bytes: new Uint8Array(readFileSync(t.path)) }));
let params = 0;
for (const v of base.tensors.values()) params += v.length;

/** The 1-D tensors as a safetensors file, coded by wcodec: their stored bits in every method. */
async function losslessBits(filter: (shape: number[]) => boolean): Promise<number> {
  const header: Record<string, unknown> = {};
  const parts: Uint8Array[] = [];
  let at = 0;
  for (const [name, v] of base.tensors) {
    const shape = base.config && shapeOf(name);
    if (!filter(shape)) continue;
    const bytes = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    header[name] = { dtype: 'F32', shape, data_offsets: [at, at + bytes.length] };
    parts.push(bytes);
    at += bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const file = new Uint8Array(8 + json.length + at);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(new TextEncoder().encode(json), 8);
  let o = 8 + json.length;
  for (const p of parts) {
    file.set(p, o);
    o += p.length;
  }
  return (await compressBuffer(file)).length * 8;
}

const shapes = new Map<string, number[]>();
const { llamaTensorShapes } = await import('../src/eval/llama-config.js');
for (const [n, s] of llamaTensorShapes(base.config)) shapes.set(n, s);
function shapeOf(name: string): number[] {
  return shapes.get(name)!;
}

const oneDimBits = await losslessBits((s) => s.length === 1);
const allBits = await losslessBits(() => true);

/** The stored bits of a quantized matrix as the container will code it, checked and rebuilt. */
function storedMatrix(q: QuantizedMatrix): { values: Float32Array; bits: number } {
  const problem = groupQuantProblem(q);
  if (problem) throw new Error(`quantized matrix: ${problem}`);
  const out = dequantizeGroups(q, 'F32');
  return { values: new Float32Array(out.buffer), bits: (codeBits(q.codes) + SCALE_BITS * q.scales.length) * (1 + CODING_OVERHEAD) };
}

/** A preset's method, named `PRESET` without calibration and `PRESET GPTQ` with it. */
function presetMethod(preset: string, family: Method['family'], options: QuantizerOptions = {}, calibrated = false): Method {
  const quantize = quantizerFor(preset, options);
  return {
    name: calibrated ? `${preset} GPTQ` : preset,
    family,
    target: parseLossySpec(preset).bits,
    apply(name, shape, values) {
      const q = quantize(name, 'F32', shape, values)!;
      const r = storedMatrix(q);
      if (!calibrated) {
        const again = quantize(name, 'F32', shape, values)!;
        if (!again.codes.every((c, i) => c === q.codes[i]) || !again.scales.every((s, i) => s === q.scales[i])) throw new Error(`${preset}: ${name} quantized twice differs`);
      }
      return r;
    },
  };
}

function referenceMethod(variant: LossyVariant, family: Method['family'], bitsPerWeight: (rows: number, cols: number) => number): Method {
  return { name: variant, family, apply: (_n, [rows, cols], values) => ({ values: applyLossyVariant(variant, values, rows, cols), bits: bitsPerWeight(rows, cols) * rows * cols }) };
}

function ggmlMethod(name: string, f: (v: Float32Array, r: number, c: number) => Float32Array, bpw: number): Method {
  return { name, family: 'llama.cpp', apply: (_n, [rows, cols], values) => ({ values: f(values, rows, cols), bits: bpw * rows * cols }) };
}

const wanted = (name: string): boolean => (only ? only.includes(name) : true);
const uniformPresets = ['q8', 'q4', 'bits=3.4'];
const gptqPresets = ['q8', 'q4', 'bits=3.45', 'bits=3.4', 'bits=3'];
const mixedPresets = ['q4+mixed', 'bits=3.45+mixed'];
const fp8Presets = ['fp8', 'fp8-e5m2'];
const fp8GptqPresets = ['fp8'];
const prunedPresets = ['q8+2:4'];
const prunedGptqPresets = ['q8+2:4', 'q4+2:4', 'q8+30%', 'q4+30%', 'fp8+2:4'];
let hessians: Map<string, Float64Array> | undefined;
let calibrationSeconds = 0;
if ([...gptqPresets, ...mixedPresets, ...fp8GptqPresets, ...prunedGptqPresets].map((p) => `${p} GPTQ`).some(wanted)) {
  const t0 = performance.now();
  hessians = calibrationHessians(base, new Uint8Array(readFileSync(CALIBRATION)), calibrationWindows, 512);
  calibrationSeconds = (performance.now() - t0) / 1000;
  process.stderr.write(`calibration: ${calibrationWindows} windows of six.py.txt, ${calibrationSeconds.toFixed(1)} s\n`);
}

/** Sensitivity of each 2-D tensor for the `+mixed` presets (src/eval/tensor-sensitivity.ts), on the calibration text. */
let sensitivities: Awaited<ReturnType<typeof measureSensitivities>> = [];
let sensitivitySeconds = 0;
if (mixedPresets.some((p) => wanted(`${p} GPTQ`))) {
  const t0 = performance.now();
  sensitivities = await measureSensitivities(base, new Uint8Array(readFileSync(CALIBRATION)), threads);
  sensitivitySeconds = (performance.now() - t0) / 1000;
  process.stderr.write(`sensitivity: ${sensitivities.length} tensors, ${sensitivitySeconds.toFixed(1)} s\n`);
}

/** FP8 E4M3 with one scale per row: against `fp8`'s one scale per tensor. */
function fp8RowScaleMethod(): Method {
  return { name: 'fp8 (scale per row)', family: 'wcodec FP8', apply: (_n, [rows, cols], values) => storedMatrix(quantizeFp8(values, rows, cols, { scale: 'row' })) };
}

const methods: Method[] = [
  ...uniformPresets.map((p) => presetMethod(p, 'wcodec uniform')),
  ...gptqPresets.map((p) => presetMethod(p, 'wcodec GPTQ', { hessians }, true)),
  ...mixedPresets.map((p) => presetMethod(p, 'wcodec GPTQ mixed', { hessians, bitsOverride: sensitivities.length ? mixedBits(sensitivities, parseLossySpec(p).bits!) : undefined }, true)),
  ...fp8Presets.map((p) => presetMethod(p, 'wcodec FP8')),
  fp8RowScaleMethod(),
  ...fp8GptqPresets.map((p) => presetMethod(p, 'wcodec FP8', { hessians }, true)),
  ...prunedPresets.map((p) => presetMethod(p, 'wcodec pruned')),
  ...prunedGptqPresets.map((p) => presetMethod(p, 'wcodec pruned', { hessians }, true)),
  referenceMethod('int8_per_row_rtn', 'RTN', (_r, c) => 8 + 32 / c),
  referenceMethod('int4_g128_rtn', 'RTN', (_r, c) => 4 + 32 / Math.min(c, INT4_GROUP_VALUES)),
  referenceMethod('fp8_e4m3_per_tensor', 'FP8', (r, c) => 8 + 32 / (r * c)),
  ggmlMethod('Q8_0', quantizeQ8_0, GGML_BITS_PER_WEIGHT.q8_0),
  ggmlMethod('Q4_0', quantizeQ4_0, GGML_BITS_PER_WEIGHT.q4_0),
  ggmlMethod('Q4_K', quantizeQ4_K, GGML_BITS_PER_WEIGHT.q4_k),
].filter((m) => wanted(m.name));

interface Row {
  method: string;
  family: string;
  target?: number;
  bitsPerWeight: number;
  quantizeSeconds: number;
  quantizeCpuSeconds: number;
  texts: { text: string; natsPerByte: number; increasePercent: number; evalSeconds: number; evalCpuSeconds: number }[];
}

async function evaluate(weights: LlamaWeights): Promise<{ natsPerByte: number; evalSeconds: number; evalCpuSeconds: number }[]> {
  const out = [];
  for (const t of texts) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await evaluatePerplexity(weights, t.bytes, { threads, maxWindows: windows });
    const c = process.cpuUsage(c0);
    out.push({ natsPerByte: r.natsPerByte, evalSeconds: (performance.now() - t0) / 1000, evalCpuSeconds: (c.user + c.system) / 1e6 });
  }
  return out;
}

const lossless = await evaluate(base);
const reference = JSON.parse(readFileSync(join(CORPUS_ROOT, 'llama-tiny', 'eval', 'REFERENCE.json'), 'utf8')) as { loss_nats_per_byte: Record<string, number> };
if (windows === undefined && !(Math.abs(lossless[0].natsPerByte - reference.loss_nats_per_byte.base_bf16) < REFERENCE_TOLERANCE)) {
  throw new Error(`lossless: ${lossless[0].natsPerByte} nats/byte on gyp.py.txt, REFERENCE.json's BF16 model ${reference.loss_nats_per_byte.base_bf16}`);
}
const rows: Row[] = [
  { method: 'lossless', family: 'lossless', bitsPerWeight: allBits / params, quantizeSeconds: 0, quantizeCpuSeconds: 0, texts: lossless.map((r, i) => ({ text: texts[i].name, increasePercent: 0, ...r })) },
];
process.stderr.write(`lossless: ${(allBits / params).toFixed(3)} bpw, ${lossless.map((r) => r.natsPerByte.toFixed(6)).join(' / ')} nats/byte\n`);

for (const m of methods) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const tensors = new Map<string, Float32Array>();
  let bits = oneDimBits;
  let quantizedBits = 0;
  let quantizedParams = 0;
  for (const [name, values] of base.tensors) {
    const shape = shapeOf(name);
    if (shape.length === 1) {
      tensors.set(name, values);
      continue;
    }
    const r = m.apply(name, shape, values);
    if (r.values.length !== values.length || !r.values.every(Number.isFinite)) throw new Error(`${m.name}: ${name} rebuilt badly`);
    tensors.set(name, r.values);
    bits += r.bits;
    quantizedBits += r.bits;
    quantizedParams += values.length;
  }
  const c = process.cpuUsage(c0);
  const quantizeSeconds = (performance.now() - t0) / 1000;
  const bpw = bits / params;
  if (m.target !== undefined && !(quantizedBits / quantizedParams <= m.target)) throw new Error(`${m.name}: ${quantizedBits / quantizedParams} bits per quantized weight above its ${m.target}`);
  const res = await evaluate({ config: base.config, tensors });
  const row: Row = {
    method: m.name,
    family: m.family,
    target: m.target,
    bitsPerWeight: bpw,
    quantizeSeconds,
    quantizeCpuSeconds: (c.user + c.system) / 1e6,
    texts: res.map((r, i) => ({ text: texts[i].name, increasePercent: (Math.exp(r.natsPerByte - lossless[i].natsPerByte) - 1) * 100, ...r })),
  };
  rows.push(row);
  process.stderr.write(`${m.name}: ${bpw.toFixed(3)} bpw, ${row.texts.map((t) => `${t.increasePercent.toFixed(3)} %`).join(' / ')}, quantize ${quantizeSeconds.toFixed(1)} s\n`);
}

const results = {
  commit: dirty ? `${commit} (with uncommitted changes)` : commit,
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), loadAverageBefore: loadBefore, loadAverageAfter: loadavg()[0] },
  runtime: { node: process.version, v8: process.versions.v8 },
  data: {
    model: MODEL,
    parameters: params,
    texts: texts.map((t) => ({ name: t.name, bytes: t.bytes.length, sha256: sha(t.bytes) })),
    calibration: { path: CALIBRATION, sha256: sha(readFileSync(CALIBRATION)), windows: calibrationWindows, seconds: calibrationSeconds },
    sensitivity: { bits: SENSITIVITY_BITS, windows: SENSITIVITY_WINDOWS, seconds: sensitivitySeconds, tensors: sensitivities },
  },
  options: { windows: windows ?? 'all', threads, oneDimensionalBits: oneDimBits, codingOverhead: CODING_OVERHEAD },
  rows,
};
if (windows === undefined && !only) {
  await writeFile(join(REPO_ROOT, 'bench', 'results', 'lossy-curve.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFile(join(REPO_ROOT, 'docs', 'lossy-curve.svg'), lossyChart(rows));
}

const pct = (x: number): string => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)} %`;
console.log(`commit ${results.commit}, ${results.machine.cpu} (${results.machine.cores} cores), Node ${process.version}, ${threads} threads, load average ${loadBefore.toFixed(2)} before, ${results.machine.loadAverageAfter.toFixed(2)} after`);
console.log(
  [
    `| method | bits/weight | ${texts.map((t) => `${t.name} nats/byte | increase`).join(' | ')} | quantize s (CPU) | evaluation s (CPU, both texts) |`,
    `| --- | --- | ${texts.map(() => '--- | ---').join(' | ')} | --- | --- |`,
    ...rows.map(
      (r) =>
        `| ${r.method} | ${r.bitsPerWeight.toFixed(3)} | ${r.texts.map((t) => `${t.natsPerByte.toFixed(5)} | ${r.method === 'lossless' ? '' : pct(t.increasePercent)}`).join(' | ')} | ${r.quantizeSeconds.toFixed(1)} (${r.quantizeCpuSeconds.toFixed(1)}) | ${r.texts.reduce((a, t) => a + t.evalSeconds, 0).toFixed(1)} (${r.texts.reduce((a, t) => a + t.evalCpuSeconds, 0).toFixed(1)}) |`,
    ),
  ].join('\n'),
);
