// Group-wise integer quantization of a float matrix: what a lossy tensor stores (integer codes, one binary32 scale per
// group of values along a row) and the one way its values are rebuilt from them. The rebuild is exact IEEE arithmetic
// (one binary32 product, then one rounding to the tensor's dtype, ties to even), so every decoder — TypeScript,
// WebAssembly, NumPy, a GPU — gives the same bits.

import { bf16FromF32Bits, f16FromF32Bits, f32BitsOf } from './float-narrow.js';

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
  /** rows · cols codes, each within ±MAX_GROUP_QUANT_CODE. */
  codes: Int16Array;
  /** rows · G binary32 scales, each finite. */
  scales: Float32Array;
}

/** Groups per row. */
export function groupsPerRow(cols: number, groupSize: number): number {
  return Math.ceil(cols / groupSize);
}

/**
 * The problem with `q` as text, or undefined when its sizes agree, its group size is 1 … cols, every code is within
 * ±MAX_GROUP_QUANT_CODE and every scale is finite.
 */
export function groupQuantProblem(q: QuantizedMatrix): string | undefined {
  const { rows, cols, groupSize } = q;
  if (!Number.isSafeInteger(rows) || !Number.isSafeInteger(cols) || rows < 0 || cols < 1) return `a matrix of ${rows} x ${cols}`;
  if (!Number.isSafeInteger(groupSize) || groupSize < 1 || groupSize > cols) return `group size ${groupSize} outside 1 … ${cols}`;
  if (q.codes.length !== rows * cols) return `${q.codes.length} codes for ${rows} x ${cols} values`;
  if (q.scales.length !== rows * groupsPerRow(cols, groupSize)) return `${q.scales.length} scales for ${rows} rows of ${groupsPerRow(cols, groupSize)} groups`;
  for (let i = 0; i < q.codes.length; i++) if (Math.abs(q.codes[i]) > MAX_GROUP_QUANT_CODE) return `code ${q.codes[i]} at ${i} beyond ±${MAX_GROUP_QUANT_CODE}`;
  for (let i = 0; i < q.scales.length; i++) if (!Number.isFinite(q.scales[i])) return `scale ${q.scales[i]} at ${i} is not finite`;
  return undefined;
}

/**
 * The values of `q` as `dtype` bytes (little-endian, rows · cols values): each the binary32 product code × scale,
 * rounded to the dtype (ties to even; F32 keeps the product).
 * @throws RangeError for a dtype not in GROUP_QUANT_DTYPES or a matrix that groupQuantProblem refuses
 */
export function dequantizeGroups(q: QuantizedMatrix, dtype: string): Uint8Array {
  const problem = groupQuantProblem(q);
  if (problem) throw new RangeError(`quantized matrix: ${problem}`);
  const { rows, cols, groupSize, codes, scales } = q;
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
        const v = Math.fround(codes[i] * scale);
        if (f32) f32[i] = v;
        else u16![i] = narrow!(f32BitsOf(v));
      }
    }
  }
  return out;
}
