// Seeded synthetic transformer weights as a safetensors file (for benchmarks): layers of attention and MLP
// matrices whose rows are near-Gaussian with a per-row scale and rare outliers, plus RMS-norm vectors near 1.
// Usage: node dist/tools/synthetic-weights.js --dtype BF16|F16|F32 --bytes N [--seed S] -o out.safetensors

import { open, rename, rm } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { bf16Bits, f16Bits } from './float-bits.js';
import { Rng } from './seeded-rng.js';

/** Dtypes the generator writes. */
export type SyntheticDtype = 'BF16' | 'F16' | 'F32';

/** What to generate; the same parameters always give the same bytes. */
export interface SyntheticSpec {
  dtype: SyntheticDtype;
  /** Minimum tensor-data bytes: whole tensors, layer by layer, are added until the data reaches it. */
  bytes: number;
  /** PRNG seed (u32). */
  seed: number;
  /** Model width; matrices are [width, width] (attention) and [ffn, width] / [width, ffn] (MLP), ffn = 2.75 x width. */
  width?: number;
}

/**
 * Version of the generator's algorithm: part of every cache key, bumped whenever the output for the same
 * spec changes, so a stale cached file is never reused.
 */
export const SYNTHETIC_VERSION = 2;

/** Default model width: matrices of 1-3 M values, like a ~1B-parameter model's layers in shape class. */
const DEFAULT_WIDTH = 1024;

/** Outlier probability per value and its magnitude factor range (real layers have a few large weights). */
const OUTLIER_RATE = 2e-4;
const OUTLIER_GAIN_MIN = 8;
const OUTLIER_GAIN_MAX = 40;

/** Values generated per write: bounds memory (8 MiB of F32) whatever the file size. */
const BLOCK_VALUES = 2 * 1024 * 1024;

/** A file name that identifies the spec (used as the cache key). */
export function syntheticFileName(spec: SyntheticSpec): string {
  return `synthetic-v${SYNTHETIC_VERSION}-${spec.dtype}-${spec.bytes}B-w${spec.width ?? DEFAULT_WIDTH}-seed${spec.seed >>> 0}.safetensors`;
}

interface TensorPlan {
  name: string;
  shape: number[];
  kind: 'matrix' | 'norm';
}

/** The tensors of one layer, in file order. */
function layerTensors(layer: number, width: number): TensorPlan[] {
  const ffn = Math.round((width * 2.75) / 64) * 64;
  const p = `model.layers.${layer}`;
  return [
    { name: `${p}.input_layernorm.weight`, shape: [width], kind: 'norm' },
    { name: `${p}.self_attn.q_proj.weight`, shape: [width, width], kind: 'matrix' },
    { name: `${p}.self_attn.k_proj.weight`, shape: [width, width], kind: 'matrix' },
    { name: `${p}.self_attn.v_proj.weight`, shape: [width, width], kind: 'matrix' },
    { name: `${p}.self_attn.o_proj.weight`, shape: [width, width], kind: 'matrix' },
    { name: `${p}.post_attention_layernorm.weight`, shape: [width], kind: 'norm' },
    { name: `${p}.mlp.gate_proj.weight`, shape: [ffn, width], kind: 'matrix' },
    { name: `${p}.mlp.up_proj.weight`, shape: [ffn, width], kind: 'matrix' },
    { name: `${p}.mlp.down_proj.weight`, shape: [width, ffn], kind: 'matrix' },
  ];
}

const elementCount = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * One row of a synthetic matrix into `out` (its columns): near-Gaussian values with a log-normal per-row scale around
 * the fan-in initialisation scale 1/√cols, and rare outliers.
 */
export function syntheticRow(rng: Rng, out: Float64Array): void {
  const cols = out.length;
  const base = 1 / Math.sqrt(cols); // fan-in initialisation scale
  const scale = base * Math.exp(0.35 * rng.gaussian()); // per-row scale, log-normal
  for (let c = 0; c < cols; c++) {
    let x = scale * rng.gaussian();
    if (rng.float() < OUTLIER_RATE) x *= OUTLIER_GAIN_MIN + (OUTLIER_GAIN_MAX - OUTLIER_GAIN_MIN) * rng.float();
    out[c] = x;
  }
}

/** A synthetic BF16 matrix [rows, cols] (rows as syntheticRow makes them), little-endian bytes. */
export function syntheticMatrixBF16(rows: number, cols: number, seed: number): Uint8Array {
  const rng = new Rng(seed);
  const bits = new Uint16Array(rows * cols);
  const row = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    syntheticRow(rng, row);
    for (let c = 0; c < cols; c++) bits[r * cols + c] = bf16Bits(row[c]);
  }
  return new Uint8Array(bits.buffer);
}

/**
 * Writes the synthetic safetensors file for `spec` to `path` (through a temporary name, renamed when complete).
 * @returns the file size in bytes
 * @throws RangeError for a bad spec; file-system errors as Node raises them
 */
export async function writeSyntheticWeights(path: string, spec: SyntheticSpec): Promise<number> {
  const width = spec.width ?? DEFAULT_WIDTH;
  if (!Number.isSafeInteger(spec.bytes) || spec.bytes < 1) throw new RangeError(`bytes ${spec.bytes} must be a positive integer`);
  if (!Number.isSafeInteger(width) || width < 8) throw new RangeError(`width ${width} must be an integer >= 8`);
  const W = spec.dtype === 'F32' ? 4 : 2;
  const tensors: TensorPlan[] = [];
  let dataBytes = 0;
  for (let layer = 0; dataBytes < spec.bytes; layer++) {
    for (const t of layerTensors(layer, width)) {
      if (dataBytes >= spec.bytes) break;
      tensors.push(t);
      dataBytes += elementCount(t.shape) * W;
    }
  }
  const header: Record<string, unknown> = {
    __metadata__: { format: 'pt', generator: `wcodec tools/synthetic-weights v${SYNTHETIC_VERSION}`, seed: String(spec.seed >>> 0) },
  };
  let at = 0;
  for (const t of tensors) {
    const n = elementCount(t.shape) * W;
    header[t.name] = { dtype: spec.dtype, shape: t.shape, data_offsets: [at, at + n] };
    at += n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8); // data starts 8-aligned, as the reference writer does
  const tmp = `${path}.${process.pid}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    await fh.write(len);
    await fh.write(Buffer.from(json));
    const rng = new Rng(spec.seed);
    const block = spec.dtype === 'F32' ? new Float32Array(BLOCK_VALUES) : new Uint16Array(BLOCK_VALUES);
    const put =
      spec.dtype === 'F32'
        ? (i: number, x: number): void => {
            (block as Float32Array)[i] = x;
          }
        : spec.dtype === 'BF16'
          ? (i: number, x: number): void => {
              block[i] = bf16Bits(x);
            }
          : (i: number, x: number): void => {
              block[i] = f16Bits(x);
            };
    let fill = 0;
    const flushIfFull = async (): Promise<void> => {
      if (fill === BLOCK_VALUES) {
        await fh.write(new Uint8Array(block.buffer, 0, fill * W));
        fill = 0;
      }
    };
    for (const t of tensors) {
      if (t.kind === 'norm') {
        // RMS-norm gains: near 1 with a small spread, as trained models have.
        for (let i = 0; i < t.shape[0]; i++) {
          put(fill++, 1 + 0.05 * rng.gaussian());
          await flushIfFull();
        }
        continue;
      }
      const [rows, cols] = t.shape;
      const row = new Float64Array(cols);
      for (let r = 0; r < rows; r++) {
        syntheticRow(rng, row);
        for (let c = 0; c < cols; c++) {
          put(fill++, row[c]);
          if (fill === BLOCK_VALUES) await flushIfFull();
        }
      }
    }
    if (fill > 0) await fh.write(new Uint8Array(block.buffer, 0, fill * W));
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
  return 8 + Buffer.byteLength(json) + dataBytes;
}

async function main(argv: string[]): Promise<void> {
  const arg = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const dtype = (arg('--dtype') ?? 'BF16') as SyntheticDtype;
  if (!['BF16', 'F16', 'F32'].includes(dtype)) throw new RangeError(`--dtype ${dtype}: expected BF16, F16 or F32`);
  const out = arg('-o');
  if (!out) throw new RangeError('missing -o OUTPUT');
  const spec: SyntheticSpec = { dtype, bytes: Number(arg('--bytes') ?? 256 * 1024 * 1024), seed: Number(arg('--seed') ?? 1) };
  const size = await writeSyntheticWeights(out, spec);
  console.log(`${out}: ${size} bytes (${syntheticFileName(spec)})`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((e) => {
    console.error((e as Error).message);
    process.exitCode = 1;
  });
}
