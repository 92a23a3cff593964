// Group-wise integer quantization of a float matrix: what a lossy tensor stores (integer codes, one binary32 scale per
// group of values along a row) and the one way its values are rebuilt from them. The rebuild is exact IEEE arithmetic
// (one binary32 product, then one rounding to the tensor's dtype, ties to even), so every decoder — TypeScript,
// WebAssembly, NumPy, a GPU — gives the same bits. A code's level is the code itself (integer levels) or the value of
// its FP8 bit pattern (FP8 levels, fp8-levels.ts); either is exact in binary32.

import { bf16FromF32Bits, f16FromF32Bits, f32BitsOf } from './float-narrow.js';
import { fp8Levels, LEVELS_E4M3, LEVELS_E5M2, LEVELS_INTEGER, type GroupLevels } from './fp8-levels.js';

/** `sparsity` of a quantized matrix: nothing stated, or 2:4 (at least 2 zero levels in every 4 values of a row). */
export const SPARSITY_NONE = 0;
export const SPARSITY_2_4 = 1;
export type GroupSparsity = typeof SPARSITY_NONE | typeof SPARSITY_2_4;

/** The float dtypes a quantized matrix can be rebuilt as. */
export const GROUP_QUANT_DTYPES: readonly string[] = ['BF16', 'F16', 'F32'];

/** Largest magnitude of a code: codes and their products with a scale stay exact in binary32 (below 2^24). */
export const MAX_GROUP_QUANT_CODE = 32767;

/**
 * A tensor of `rows` × `cols` values (its last dimension is `cols`) stored as integer codes and per-group scales:
 * value (r, c) = code[r·cols + c] × scale[r·G + ⌊c / groupSize⌋], with G = ⌈cols / groupSize⌉ groups per row (the last
 * group of a row holds the rest of it).
 */
export interface QuantizedMatrix {
  rows: number;
  cols: number;
  /** Values per group along a row, 1 … cols. */
  groupSize: number;
  /** rows · cols codes: integers within ±MAX_GROUP_QUANT_CODE, or FP8 bit patterns 0 … 255 of finite values. */
  codes: Int16Array;
  /** rows · G binary32 scales, each finite. */
  scales: Float32Array;
  /** What a code stands for (default LEVELS_INTEGER: the integer itself; FP8 kinds need container version 7). */
  levels?: GroupLevels;
  /** A sparsity pattern the codes obey, which the container states and a decoder checks (default SPARSITY_NONE). */
  sparsity?: GroupSparsity;
}

/** The binary32 level of every code of `q` (a fresh array; integer codes are their own level). */
export function levelsOf(q: QuantizedMatrix): Float32Array {
  const out = new Float32Array(q.codes.length);
  const t = (q.levels ?? LEVELS_INTEGER) === LEVELS_INTEGER ? undefined : fp8Levels(q.levels!);
  for (let i = 0; i < out.length; i++) out[i] = t ? t[q.codes[i] & 0xff] : q.codes[i];
  return out;
}

/**
 * Where `level` (rows x cols levels, row-major) breaks 2:4 sparsity, or undefined: every run of 4 values of a row from
 * column 0 (columns 4k … 4k + 3) holds at least 2 zero levels, and a row's last run of k < 4 values at least ⌊k / 2⌋.
 */
export function sparsityBreak(level: Float32Array, rows: number, cols: number): { row: number; col: number } | undefined {
  for (let r = 0; r < rows; r++) {
    for (let c0 = 0; c0 < cols; c0 += 4) {
      const k = Math.min(4, cols - c0);
      let zeros = 0;
      for (let c = c0; c < c0 + k; c++) if (level[r * cols + c] === 0) zeros++;
      if (zeros < k >> 1) return { row: r, col: c0 };
    }
  }
  return undefined;
}

/** Groups per row. */
export function groupsPerRow(cols: number, groupSize: number): number {
  return Math.ceil(cols / groupSize);
}

/**
 * The problem with `q` as text, or undefined when its sizes agree, its group size is 1 … cols, every code is within
 * ±MAX_GROUP_QUANT_CODE (integer levels) or an FP8 pattern of a finite value (FP8 levels), every scale is finite and
 * the codes obey the stated sparsity.
 */
export function groupQuantProblem(q: QuantizedMatrix): string | undefined {
  const { rows, cols, groupSize } = q;
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 1) return `a matrix of ${rows} x ${cols}`;
  if (!Number.isSafeInteger(groupSize) || groupSize < 1 || groupSize > cols) return `group size ${groupSize} outside 1 … ${cols}`;
  if (q.codes.length !== rows * cols) return `${q.codes.length} codes for ${rows} x ${cols} values`;
  if (q.scales.length !== rows * groupsPerRow(cols, groupSize)) return `${q.scales.length} scales for ${rows} rows of ${groupsPerRow(cols, groupSize)} groups`;
  const levels = q.levels ?? LEVELS_INTEGER;
  if (levels === LEVELS_INTEGER) {
    for (let i = 0; i < q.codes.length; i++) if (Math.abs(q.codes[i]) > MAX_GROUP_QUANT_CODE) return `code ${q.codes[i]} at ${i} beyond ±${MAX_GROUP_QUANT_CODE}`;
  } else {
    if (levels !== LEVELS_E4M3 && levels !== LEVELS_E5M2) return `levels ${String(levels)} is not 0, 1 or 2`;
    const t = fp8Levels(levels);
    for (let i = 0; i < q.codes.length; i++) if (q.codes[i] < 0 || q.codes[i] > 255 || Number.isNaN(t[q.codes[i]])) return `FP8 code ${q.codes[i]} at ${i} is not the pattern of a finite value`;
  }
  for (let i = 0; i < q.scales.length; i++) if (!Number.isFinite(q.scales[i])) return `scale ${q.scales[i]} at ${i} is not finite`;
  if ((q.sparsity ?? SPARSITY_NONE) === SPARSITY_2_4) {
    const b = sparsityBreak(levelsOf(q), rows, cols);
    if (b) return `row ${b.row} has fewer than 2 zeros of 4 at column ${b.col}, breaking the 2:4 sparsity it states`;
  } else if (q.sparsity !== undefined && q.sparsity !== SPARSITY_NONE) return `sparsity ${q.sparsity} is not 0 or 1`;
  return undefined;
}

/**
 * The values of `q` as `dtype` bytes (little-endian, rows · cols values): each the binary32 product level × scale,
 * rounded to the dtype (ties to even; F32 keeps the product).
 * @throws RangeError for a dtype not in GROUP_QUANT_DTYPES or a matrix that groupQuantProblem refuses
 */
export function dequantizeGroups(q: QuantizedMatrix, dtype: string): Uint8Array {
  const problem = groupQuantProblem(q);
  if (problem) throw new RangeError(`quantized matrix: ${problem}`);
  const { rows, cols, groupSize, scales } = q;
  const level = levelsOf(q);
  const G = groupsPerRow(cols, groupSize);
  const n = rows * cols;
  const out = new Uint8Array(n * (dtype === 'F32' ? 4 : 2));
  const f32 = dtype === 'F32' ? new Float32Array(out.buffer) : undefined;
  const u16 = dtype === 'F32' ? undefined : new Uint16Array(out.buffer);
  const narrow = dtype === 'BF16' ? bf16FromF32Bits : dtype === 'F16' ? f16FromF32Bits : undefined;
  if (!f32 && !narrow) throw new RangeError(`dtype ${dtype} is not one of ${GROUP_QUANT_DTYPES.join(', ')}`);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < G; g++) {
      const scale = scales[r * G + g];
      const end = Math.min(cols, (g + 1) * groupSize);
      for (let c = g * groupSize; c < end; c++) {
        const i = r * cols + c;
        const v = Math.fround(level[i] * scale);
        if (f32) f32[i] = v;
        else u16![i] = narrow!(f32BitsOf(v));
      }
    }
  }
  return out;
}
