// A lossy tensor segment (FORMAT.md §3.5.3.5, transform GROUP_QUANT, version 6; FP8 levels and a 2:4 sparsity claim,
// version 7): a BF16/F16/F32 tensor of rank >= 2 stored as a QuantizedMatrix (codes and one binary32 scale per group
// along a row), its params carrying the quantizer's label and the encoder's error metrics. The inverse is dequantizeGroups: the segment's bytes (and its
// SHA-256) are the dequantized values, not the values the encoder was given.

import { FormatError } from '../errors.js';
import { dequantizeGroups, GROUP_QUANT_DTYPES, groupQuantProblem, groupsPerRow, levelsOf, MAX_GROUP_QUANT_CODE, sparsityBreak, SPARSITY_2_4, SPARSITY_NONE, type GroupSparsity, type QuantizedMatrix } from './group-quant.js';
import { fp8Levels, LEVELS_E4M3, LEVELS_E5M2, LEVELS_INTEGER, type GroupLevels } from './fp8-levels.js';
import { FORMAT_VERSION_LOSSY_LEVELS } from '../format/constants.js';
import { f32FromBits, f32FromF16Bits } from './float-narrow.js';
import type { SegmentTransform, TransformCandidate } from './segment-transform.js';

/** Transform code of GROUP_QUANT (FORMAT.md §3.5.3.5). */
export const TRANSFORM_GROUP_QUANT = 7;
/** Bytes of the params before the label: version, codeBytes, levels, sparsity, groupSize u32, four binary64 metrics, labelBytes. */
const FIXED_PARAM_BYTES = 41;
/** Longest label in bytes: a short name of the quantizer ("q8", "bits=3.5"), shown in one column of `info`. */
export const MAX_LOSSY_LABEL_BYTES = 32;

/** What an encoder measured of a lossy tensor against the values it was given (binary64; FORMAT.md §3.5.3.5). */
export interface LossyMetrics {
  /** Largest |x - y| over the tensor. */
  maxAbsError: number;
  /** Mean of |x - y|. */
  meanAbsError: number;
  /** ||x - y||₂ / ||x||₂ (0 when the error is 0, +Infinity when x is all zeros and the error is not). */
  relL2Error: number;
  /** 10·log10(||x||₂² / ||x - y||₂²) in dB (+Infinity when the error is 0, -Infinity when x is zero and the error is not). */
  snrDb: number;
}

/** The params of a GROUP_QUANT segment, as stored. */
export interface GroupQuantParams extends LossyMetrics {
  /** Bytes per stored code: 1 (an I8 stream, or U8 for FP8 levels) or 2 (I16). */
  codeBytes: 1 | 2;
  /** What a code stands for: LEVELS_INTEGER (0), or FP8 E4M3 (1) or E5M2 (2) bit patterns (version 7). */
  levels: GroupLevels;
  /** SPARSITY_NONE (0), or SPARSITY_2_4 (1): the codes keep 2 zero levels in every 4 values of a row (version 7). */
  sparsity: GroupSparsity;
  groupSize: number;
  /** The quantizer's label: 1 … MAX_LOSSY_LABEL_BYTES printable ASCII characters (0x20 … 0x7e). */
  label: string;
}

/** Why `label` cannot be a GROUP_QUANT label, or undefined when it can. */
export function lossyLabelProblem(label: string): string | undefined {
  if (label.length < 1 || label.length > MAX_LOSSY_LABEL_BYTES) return `label of ${label.length} characters, not 1 … ${MAX_LOSSY_LABEL_BYTES}`;
  if (!/^[\x20-\x7e]+$/.test(label)) return `label ${JSON.stringify(label)} is not printable ASCII`;
  return undefined;
}

/** Serialises GROUP_QUANT params (little-endian; FORMAT.md §3.5.3.5). @throws RangeError for a label lossyLabelProblem refuses */
export function writeGroupQuantParams(p: GroupQuantParams): Uint8Array {
  const problem = lossyLabelProblem(p.label);
  if (problem) throw new RangeError(`GROUP_QUANT: ${problem}`);
  const out = new Uint8Array(FIXED_PARAM_BYTES + p.label.length);
  const dv = new DataView(out.buffer);
  dv.setUint8(0, 0);
  dv.setUint8(1, p.codeBytes);
  dv.setUint8(2, p.levels);
  dv.setUint8(3, p.sparsity);
  dv.setUint32(4, p.groupSize, true);
  dv.setFloat64(8, p.maxAbsError, true);
  dv.setFloat64(16, p.meanAbsError, true);
  dv.setFloat64(24, p.relL2Error, true);
  dv.setFloat64(32, p.snrDb, true);
  dv.setUint8(40, p.label.length);
  for (let i = 0; i < p.label.length; i++) out[FIXED_PARAM_BYTES + i] = p.label.charCodeAt(i);
  return out;
}

/**
 * Reads GROUP_QUANT params, or returns the problem as text: a size other than 41 + labelBytes, a version not zero,
 * codeBytes not 1 or 2, levels above 2 or sparsity above 1, either not zero in a container below version 7, FP8
 * levels with codeBytes 2, a label that is not 1 … 32 printable ASCII bytes, a NaN metric or a negative error.
 * @param containerVersion the container's version (default FORMAT_VERSION_LOSSY_LEVELS, for params already checked)
 */
export function readGroupQuantParams(params: Uint8Array, containerVersion: number = FORMAT_VERSION_LOSSY_LEVELS): GroupQuantParams | string {
  if (params.length < FIXED_PARAM_BYTES) return `params of ${params.length} bytes, fewer than ${FIXED_PARAM_BYTES}`;
  const dv = new DataView(params.buffer, params.byteOffset, params.byteLength);
  if (dv.getUint8(0) !== 0) return `params version ${dv.getUint8(0)}, not 0`;
  const codeBytes = dv.getUint8(1);
  if (codeBytes !== 1 && codeBytes !== 2) return `codeBytes ${codeBytes}, not 1 or 2`;
  const levels = dv.getUint8(2);
  const sparsity = dv.getUint8(3);
  if (containerVersion < FORMAT_VERSION_LOSSY_LEVELS && (levels !== 0 || sparsity !== 0)) return `levels ${levels} and sparsity ${sparsity} in a version ${containerVersion} container, where both are reserved and 0 (they are version ${FORMAT_VERSION_LOSSY_LEVELS})`;
  if (levels !== LEVELS_INTEGER && levels !== LEVELS_E4M3 && levels !== LEVELS_E5M2) return `levels ${levels}, not 0 (integer), 1 (E4M3) or 2 (E5M2)`;
  if (sparsity !== SPARSITY_NONE && sparsity !== SPARSITY_2_4) return `sparsity ${sparsity}, not 0 (none) or 1 (2:4)`;
  if (levels !== LEVELS_INTEGER && codeBytes !== 1) return `FP8 levels with codeBytes ${codeBytes}, not 1`;
  const labelBytes = dv.getUint8(40);
  if (params.length !== FIXED_PARAM_BYTES + labelBytes) return `params of ${params.length} bytes for a ${labelBytes}-byte label (${FIXED_PARAM_BYTES + labelBytes} expected)`;
  const label = String.fromCharCode(...params.subarray(FIXED_PARAM_BYTES));
  const labelProblem = lossyLabelProblem(label);
  if (labelProblem) return labelProblem;
  const p: GroupQuantParams = {
    codeBytes,
    levels,
    sparsity,
    groupSize: dv.getUint32(4, true),
    maxAbsError: dv.getFloat64(8, true),
    meanAbsError: dv.getFloat64(16, true),
    relL2Error: dv.getFloat64(24, true),
    snrDb: dv.getFloat64(32, true),
    label,
  };
  for (const k of ['maxAbsError', 'meanAbsError', 'relL2Error'] as const) if (!(p[k] >= 0)) return `${k} ${p[k]} is not a non-negative number`;
  if (Number.isNaN(p.snrDb)) return 'snrDb is NaN';
  return p;
}

/** Rows and columns of a tensor of `shape` viewed as a matrix (columns: the last dimension), or undefined below rank 2. */
export function matrixOf(shape: readonly number[]): { rows: number; cols: number } | undefined {
  if (shape.length < 2) return undefined;
  return { rows: shape.slice(0, -1).reduce((a, d) => a * d, 1), cols: shape[shape.length - 1] };
}

/**
 * The values of `data` (little-endian BF16, F16 or F32) widened to binary32 (exact).
 * @throws RangeError for another dtype
 */
export function widenFloats(data: Uint8Array, dtype: string): Float32Array {
  if (dtype === 'F32') return new Float32Array(data.slice().buffer);
  if (dtype !== 'BF16' && dtype !== 'F16') throw new RangeError(`dtype ${dtype} is not BF16, F16 or F32`);
  const n = data.length >> 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const h = data[2 * i] | (data[2 * i + 1] << 8);
    out[i] = dtype === 'BF16' ? f32FromBits(h << 16) : f32FromF16Bits(h);
  }
  return out;
}

/**
 * The error metrics of `approx` against `exact` (equal lengths, at least one value, all finite): binary64 sums in
 * index order.
 */
export function lossyMetrics(exact: Float32Array, approx: Float32Array): LossyMetrics {
  let maxAbs = 0;
  let sumAbs = 0;
  let sumSq = 0;
  let sumSig = 0;
  for (let i = 0; i < exact.length; i++) {
    const d = exact[i] - approx[i];
    const a = Math.abs(d);
    if (a > maxAbs) maxAbs = a;
    sumAbs += a;
    sumSq += d * d;
    sumSig += exact[i] * exact[i];
  }
  const relL2Error = sumSq === 0 ? 0 : sumSig === 0 ? Infinity : Math.sqrt(sumSq) / Math.sqrt(sumSig);
  const snrDb = sumSq === 0 ? Infinity : sumSig === 0 ? -Infinity : 10 * Math.log10(sumSig / sumSq);
  return { maxAbsError: maxAbs, meanAbsError: sumAbs / exact.length, relL2Error, snrDb };
}

/**
 * The GROUP_QUANT form of a tensor: `q` checked against the tensor's shape, dequantized to `dtype` (the segment's
 * bytes), measured against `values`, and its streams (codes as I8 when every code fits -128 … 127, else I16; scales
 * as F32).
 * @param values the tensor's original values widened to binary32
 * @returns the transform candidate, the dequantized bytes and the metrics
 * @throws RangeError for a dtype not in GROUP_QUANT_DTYPES, a shape below rank 2, a matrix whose rows or columns
 *   differ from the shape's, one that groupQuantProblem refuses, or a label that lossyLabelProblem refuses
 */
export function groupQuantCandidate(q: QuantizedMatrix, dtype: string, shape: readonly number[], values: Float32Array, label: string): { candidate: TransformCandidate; dequantized: Uint8Array; metrics: LossyMetrics } {
  if (!GROUP_QUANT_DTYPES.includes(dtype)) throw new RangeError(`GROUP_QUANT: dtype ${dtype} is not one of ${GROUP_QUANT_DTYPES.join(', ')}`);
  const m = matrixOf(shape);
  if (!m) throw new RangeError(`GROUP_QUANT: shape [${shape.join(',')}] is below rank 2`);
  if (q.rows !== m.rows || q.cols !== m.cols) throw new RangeError(`GROUP_QUANT: a ${q.rows} x ${q.cols} matrix for shape [${shape.join(',')}] (${m.rows} x ${m.cols})`);
  const problem = groupQuantProblem(q);
  if (problem) throw new RangeError(`GROUP_QUANT: ${problem}`);
  const dequantized = dequantizeGroups(q, dtype);
  const metrics = lossyMetrics(values, widenFloats(dequantized, dtype));
  const levels = q.levels ?? LEVELS_INTEGER;
  const fp8 = levels !== LEVELS_INTEGER;
  let narrow = true;
  for (let i = 0; i < q.codes.length && narrow && !fp8; i++) narrow = q.codes[i] >= -128 && q.codes[i] <= 127;
  const codeBytes: 1 | 2 = narrow ? 1 : 2;
  const codes = fp8 ? Uint8Array.from(q.codes) : narrow ? new Uint8Array(Int8Array.from(q.codes).buffer) : new Uint8Array(q.codes.slice().buffer);
  const params = writeGroupQuantParams({ codeBytes, levels, sparsity: q.sparsity ?? SPARSITY_NONE, groupSize: q.groupSize, label, ...metrics });
  return {
    candidate: {
      code: TRANSFORM_GROUP_QUANT,
      params,
      streams: [
        { bytes: codes, dtype: fp8 ? 'U8' : narrow ? 'I8' : 'I16', valueBytes: codeBytes },
        { bytes: new Uint8Array(q.scales.slice().buffer), dtype: 'F32', valueBytes: 4 },
      ],
    },
    dequantized,
    metrics,
  };
}

/**
 * Why stream `k` of a GROUP_QUANT segment with `streamCount` streams cannot hold values of `valueBytes` bytes, or
 * undefined: two streams, the codes' width 1 or 2 bytes, the scales' 4 (FORMAT.md §3.5.3.5).
 */
export function groupQuantStreamProblem(streamCount: number, k: number, valueBytes: number): string | undefined {
  if (streamCount !== 2) return `GROUP_QUANT segment with ${streamCount} streams, not 2`;
  if (k === 0 && valueBytes !== 1 && valueBytes !== 2) return `GROUP_QUANT codes of ${valueBytes}-byte values, not 1 (I8) or 2 (I16)`;
  if (k === 1 && valueBytes !== 4) return `GROUP_QUANT scales of ${valueBytes}-byte values, not 4 (F32)`;
  return undefined;
}

/**
 * GROUP_QUANT: lossy, so never an exact rewrite of a tensor's bytes (forward declines every tensor; the writer builds
 * the segment with groupQuantCandidate from a quantizer it is given). The inverse is dequantizeGroups.
 */
export const groupQuantTransform: SegmentTransform = {
  code: TRANSFORM_GROUP_QUANT,
  name: 'lossy',

  forward(): TransformCandidate | undefined {
    return undefined;
  },

  inverse(params, streams, dtype, shape, out, where): void {
    const bad = (problem: string): FormatError => new FormatError('CORRUPT_TRANSFORM', `group-quant: ${problem}`, { file: where.file, offset: where.offset });
    if (!GROUP_QUANT_DTYPES.includes(dtype)) throw bad(`dtype ${dtype} is not one of ${GROUP_QUANT_DTYPES.join(', ')}`);
    const m = matrixOf(shape);
    if (!m) throw bad(`shape [${shape.join(',')}] is below rank 2`);
    const p = readGroupQuantParams(params);
    if (typeof p === 'string') throw bad(p);
    const { rows, cols } = m;
    if (cols < 1) throw bad(`a last dimension of ${cols}`);
    if (p.groupSize < 1 || p.groupSize > cols) throw bad(`group size ${p.groupSize} outside 1 … ${cols}`);
    if (streams.length !== 2) throw bad(`${streams.length} streams, not 2`);
    const [codeBytes, scaleBytes] = streams;
    const n = rows * cols;
    if (codeBytes.length !== n * p.codeBytes) throw bad(`${codeBytes.length} code bytes for ${n} codes of ${p.codeBytes} bytes`);
    const G = groupsPerRow(cols, p.groupSize);
    if (scaleBytes.length !== rows * G * 4) throw bad(`${scaleBytes.length} scale bytes for ${rows} rows of ${G} groups`);
    const codes = new Int16Array(n);
    const cv = new DataView(codeBytes.buffer, codeBytes.byteOffset, codeBytes.byteLength);
    if (p.levels === LEVELS_INTEGER) {
      for (let i = 0; i < n; i++) {
        const c = p.codeBytes === 1 ? cv.getInt8(i) : cv.getInt16(2 * i, true);
        if (Math.abs(c) > MAX_GROUP_QUANT_CODE) throw bad(`code ${c} at ${i} beyond ±${MAX_GROUP_QUANT_CODE}`);
        codes[i] = c;
      }
    } else {
      const t = fp8Levels(p.levels);
      for (let i = 0; i < n; i++) {
        const c = cv.getUint8(i);
        if (Number.isNaN(t[c])) throw bad(`FP8 code 0x${c.toString(16)} at ${i} is not the pattern of a finite value`);
        codes[i] = c;
      }
    }
    const scales = new Float32Array(rows * G);
    const sv = new DataView(scaleBytes.buffer, scaleBytes.byteOffset, scaleBytes.byteLength);
    for (let g = 0; g < scales.length; g++) {
      scales[g] = sv.getFloat32(4 * g, true);
      if (!Number.isFinite(scales[g])) throw bad(`scale ${scales[g]} at ${g} is not finite`);
    }
    const q: QuantizedMatrix = { rows, cols, groupSize: p.groupSize, codes, scales, levels: p.levels };
    if (p.sparsity === SPARSITY_2_4) {
      const b = sparsityBreak(levelsOf(q), rows, cols);
      if (b) throw bad(`row ${b.row} has fewer than 2 zero levels of 4 at column ${b.col}, breaking the 2:4 sparsity its params state`);
    }
    const bytes = dequantizeGroups(q, dtype);
    if (bytes.length !== out.length) throw bad(`${bytes.length} dequantized bytes for a ${out.length}-byte segment`);
    out.set(bytes);
  },
};
