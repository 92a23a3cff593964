// Generated checkpoints with the structure real ones carry, built from llama-tiny's full-precision
// weights: quantized then dequantized into wide floats (INT8 per row, INT4 per group of 128), BF16 values held in
// F32, magnitude-pruned (sparse), tied embeddings, and quantized checkpoints as stored (I8 codes, packed INT4 bytes).
// Each case is one safetensors file, plus a manifest with its entropy bound (the integer
// codes' order-0 entropy plus the scales).
// Usage: node dist/tools/structured-cases.js [--from ../shared/corpus/llama-tiny/base-fp32] [-o bench/out/cases]

import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MemorySource } from '../src/io/byte-source.js';
import { readSafetensorsLayout } from '../src/safetensors/read-layout.js';
import { bf16Bits } from './float-bits.js';
import { buildSafetensors } from './vectors/inputs.js';

/** A tensor of the source model, as F32 values. */
interface SourceTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

/** A tensor of a generated case: its dtype and bytes. */
interface CaseTensor {
  name: string;
  dtype: 'BF16' | 'F32' | 'I8' | 'U8';
  shape: number[];
  data: Uint8Array;
}

/** How a case was made and the bound it is measured against. */
export interface CaseInfo {
  name: string;
  file: string;
  bytes: number;
  recipe: string;
  /** Bytes the structure-aware bound allows: codes at their order-0 entropy + scales raw + the rest at the plane bound. */
  boundBytes?: number;
  /** What the bound counts. */
  bound?: string;
}

/** Order-0 entropy in bits of the counts. */
function entropyBits(counts: Map<number, number> | Float64Array, n: number): number {
  let h = 0;
  for (const c of counts.values()) if (c > 0) h -= c * Math.log2(c / n);
  return h;
}

/** Order-0 plane bound in bytes of BF16 or F32 values (exponent | sign + mantissa bytes), as bench/bounds.ts. */
function planeBoundBytes(t: CaseTensor): number {
  const W = t.dtype === 'BF16' ? 2 : 4;
  const n = t.data.length / W;
  const planes = Array.from({ length: W }, () => new Float64Array(256));
  for (let i = 0; i < n; i++) {
    const hi = t.data[i * W + W - 1];
    const lo = t.data[i * W + W - 2];
    planes[0][((hi & 0x7f) << 1) | (lo >> 7)]++;
    planes[1][(hi & 0x80) | (lo & 0x7f)]++;
    for (let k = 0; k < W - 2; k++) planes[2 + k][t.data[i * W + k]]++;
  }
  return planes.reduce((a, p) => a + entropyBits(p, n), 0) / 8;
}

function encode(dtype: 'BF16' | 'F32', values: Float32Array): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = bf16Bits(values[i]);
  return new Uint8Array(out.buffer);
}

/**
 * Symmetric quantization of a matrix in groups along its rows (a group of `group` values, or the whole row):
 * scale = absmax / qmax (in F32, as real quantizers compute it), q = clamp(round(w / scale), qmin, qmax),
 * dequantized value = q × scale in F32, then cast to the output dtype.
 * @returns the dequantized values and the codes' histogram and scale count, for the bound
 */
function quantize(t: SourceTensor, bits: number, group: number | 'row'): { values: Float32Array; codes: Map<number, number>; scales: number; q: Int8Array; scale: Float32Array } {
  const cols = t.shape[1];
  const g = group === 'row' ? cols : group;
  if (cols % g !== 0) throw new RangeError(`${t.name}: ${cols} columns are not a multiple of the group ${g}`);
  const qmax = 2 ** (bits - 1) - 1;
  const qmin = bits === 8 ? -qmax : -qmax - 1; // INT8 per row: [-127, 127]; INT4: [-8, 7] as GPTQ-style kernels
  const out = new Float32Array(t.values.length);
  const codes = new Map<number, number>();
  let scales = 0;
  const qs = new Int8Array(t.values.length);
  const scale32 = new Float32Array(t.values.length / g);
  for (let at = 0; at < t.values.length; at += g) {
    let absmax = 0;
    for (let i = at; i < at + g; i++) absmax = Math.max(absmax, Math.abs(t.values[i]));
    const scale = Math.fround(absmax / qmax) || 1;
    scale32[scales] = scale;
    scales++;
    for (let i = at; i < at + g; i++) {
      const q = Math.min(qmax, Math.max(qmin, Math.round(t.values[i] / scale)));
      codes.set(q, (codes.get(q) ?? 0) + 1);
      qs[i] = q;
      out[i] = Math.fround(q * scale);
    }
  }
  return { values: out, codes, scales, q: qs, scale: scale32 };
}

/** Zeroes the `fraction` of smallest-magnitude values (magnitude pruning), keeping the others exactly. */
function prune(t: SourceTensor, fraction: number): Float32Array {
  const mags = Float32Array.from(t.values, Math.abs).sort();
  const threshold = mags[Math.min(mags.length - 1, Math.floor(fraction * mags.length))];
  return t.values.map((v) => (Math.abs(v) < threshold ? 0 : v));
}

/** Reads every tensor of a folder's (or file's) safetensors as F32 values. */
async function readModel(path: string): Promise<SourceTensor[]> {
  const files = path.endsWith('.safetensors') ? [path] : (await readdir(path)).filter((f) => f.endsWith('.safetensors')).sort().map((f) => join(path, f));
  const out: SourceTensor[] = [];
  for (const f of files) {
    const bytes = new Uint8Array(await readFile(f));
    const layout = await readSafetensorsLayout(new MemorySource(bytes, f));
    for (const t of layout.tensors) {
      if (t.dtype !== 'F32') throw new RangeError(`${f}: ${t.name} is ${t.dtype}; the cases are built from F32 weights`);
      out.push({ name: t.name, shape: t.shape, values: new Float32Array(bytes.slice(t.begin, t.end).buffer) });
    }
  }
  return out;
}

/** Builds every case from `source` into `outDir`. @returns the manifest */
export async function buildCases(source: string, outDir: string): Promise<CaseInfo[]> {
  const model = await readModel(source);
  await mkdir(outDir, { recursive: true });
  const cases: CaseInfo[] = [];
  const emit = async (name: string, recipe: string, tensors: CaseTensor[], bound?: { bytes: number; what: string }): Promise<void> => {
    const file = buildSafetensors(tensors, { format: 'pt', generator: 'wcodec tools/structured-cases', recipe });
    const path = join(outDir, `${name}.safetensors`);
    await writeFile(path, file);
    const headerBytes = file.length - tensors.reduce((a, t) => a + t.data.length, 0);
    cases.push({ name, file: `${name}.safetensors`, bytes: file.length, recipe, ...(bound ? { boundBytes: bound.bytes + headerBytes, bound: bound.what } : {}) });
  };

  // Quantized then dequantized: matrices become codes × scales, vectors (norm gains) stay as they were.
  const quantCase = async (name: string, bits: number, group: number | 'row', dtype: 'BF16' | 'F32'): Promise<void> => {
    let bound = 0;
    const tensors: CaseTensor[] = [];
    for (const t of model) {
      if (t.shape.length !== 2) {
        const plain: CaseTensor = { name: t.name, dtype, shape: t.shape, data: encode(dtype, t.values) };
        bound += planeBoundBytes(plain);
        tensors.push(plain);
        continue;
      }
      const q = quantize(t, bits, group);
      bound += entropyBits(q.codes, t.values.length) / 8 + q.scales * 4; // scales raw as F32
      tensors.push({ name: t.name, dtype, shape: t.shape, data: encode(dtype, q.values) });
    }
    const recipe = `INT${bits} symmetric absmax per ${group === 'row' ? 'row' : `group of ${group}`}, scales F32, dequantized (q x scale in F32) into ${dtype}`;
    await emit(name, recipe, tensors, { bytes: bound, what: 'order-0 entropy of each matrix\'s codes + its F32 scales raw + vectors at their plane bound + header raw' });
  };
  await quantCase('int8-row-bf16', 8, 'row', 'BF16');
  await quantCase('int8-row-f32', 8, 'row', 'F32');
  await quantCase('int4-g128-bf16', 4, 128, 'BF16');

  // F32 tensors that hold BF16-exact values (a BF16 model saved in full precision): the low 16 bits are zero.
  {
    const tensors = model.map((t): CaseTensor => {
      const v = Float32Array.from(t.values, (x) => {
        const b = new Float32Array([0]);
        new Uint32Array(b.buffer)[0] = bf16Bits(x) << 16;
        return b[0];
      });
      return { name: t.name, dtype: 'F32', shape: t.shape, data: encode('F32', v) };
    });
    const bf16 = model.map((t): CaseTensor => ({ name: t.name, dtype: 'BF16', shape: t.shape, data: encode('BF16', t.values) }));
    await emit('bf16-in-f32', 'BF16-rounded weights stored as F32 (low 16 bits zero)', tensors, {
      bytes: bf16.reduce((a, t) => a + planeBoundBytes(t), 0),
      what: 'plane bound of the same values as BF16 + header raw',
    });
  }

  // Magnitude-pruned BF16: 86% of each matrix's values zeroed (the sparsity of a typically pruned model).
  {
    const tensors = model.map((t): CaseTensor => ({ name: t.name, dtype: 'BF16', shape: t.shape, data: encode('BF16', t.shape.length === 2 ? prune(t, 0.86) : t.values) }));
    await emit('sparse86-bf16', '86% of the smallest-magnitude values of every matrix set to +0, BF16', tensors);
  }

  // Tied embeddings: lm_head holds the same bytes as embed_tokens (as in tied-embedding models saved untied).
  {
    const embed = model.find((t) => t.name === 'model.embed_tokens.weight');
    const tensors = model.map((t): CaseTensor => ({ name: t.name, dtype: 'BF16', shape: t.shape, data: encode('BF16', t.name === 'lm_head.weight' && embed ? embed.values : t.values) }));
    await emit('tied-bf16', 'BF16 with lm_head.weight a copy of model.embed_tokens.weight', tensors);
  }

  // Quantized checkpoints as they are stored (no dequantization): integer codes plus F32 scales, vectors in BF16.
  // INT8 codes one per byte (I8); INT4 codes packed two per byte (U8, low nibble first, code + 8), as GPTQ/AWQ-style
  // files hold them. The bound is the codes' order-0 entropy (a plane coder's optimum), the scales raw.
  const storedCase = async (name: string, bits: number, group: number | 'row'): Promise<void> => {
    let bound = 0;
    const tensors: CaseTensor[] = [];
    for (const t of model) {
      if (t.shape.length !== 2) {
        const plain: CaseTensor = { name: t.name, dtype: 'BF16', shape: t.shape, data: encode('BF16', t.values) };
        bound += planeBoundBytes(plain);
        tensors.push(plain);
        continue;
      }
      const q = quantize(t, bits, group);
      bound += entropyBits(q.codes, t.values.length) / 8 + q.scales * 4;
      const [rows, cols] = t.shape;
      if (bits === 8) {
        tensors.push({ name: t.name, dtype: 'I8', shape: t.shape, data: new Uint8Array(q.q.buffer) });
      } else {
        const packed = new Uint8Array(q.q.length / 2);
        for (let i = 0; i < packed.length; i++) packed[i] = ((q.q[2 * i] + 8) & 0xf) | (((q.q[2 * i + 1] + 8) & 0xf) << 4);
        tensors.push({ name: t.name, dtype: 'U8', shape: [rows, cols / 2], data: packed });
      }
      const perRow = q.scale.length / rows;
      tensors.push({ name: `${t.name}_scale`, dtype: 'F32', shape: perRow === 1 ? [rows] : [rows, perRow], data: new Uint8Array(q.scale.buffer) });
    }
    const recipe = `INT${bits} symmetric absmax per ${group === 'row' ? 'row' : `group of ${group}`}, stored as ${bits === 8 ? 'I8 codes' : 'U8 bytes of two packed codes (low nibble first, code + 8)'} plus F32 scales; vectors BF16`;
    await emit(name, recipe, tensors, { bytes: bound, what: "order-0 entropy of each matrix's codes + its F32 scales raw + vectors at their plane bound + header raw" });
  };
  await storedCase('int8-row-codes', 8, 'row');
  await storedCase('int4-g128-packed', 4, 128);

  await writeFile(join(outDir, 'cases.json'), `${JSON.stringify({ source, cases }, null, 1)}\n`);
  return cases;
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string, fallback: string): string => {
    const i = argv.indexOf(name);
    return i >= 0 && argv[i + 1] ? argv[i + 1] : fallback;
  };
  const cases = await buildCases(arg('--from', '../shared/corpus/llama-tiny/base-fp32'), arg('-o', 'bench/out/cases'));
  for (const c of cases) {
    const bound = c.boundBytes ? `, bound x${(c.bytes / c.boundBytes).toFixed(3)}` : '';
    console.log(`${c.file}: ${c.bytes} bytes${bound} (${c.recipe})`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  });
}
