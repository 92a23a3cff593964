// The tensor model (FORMAT.md §5.6): a context-mixing coder for the planes of a tensor's values (plane coding 4,
// version 10). Each value's plane symbols are coded in plane order, most significant bit first; five predictors (the
// plane position, this value's earlier planes, the previous value's and the value one row above's same plane, and a
// planar prediction of the log magnitude) are mixed in the logistic domain by two mixers, refined by two adaptive
// probability maps and coded with the byte model's binary arithmetic coder (§5.5.5). Integer arithmetic only. This is
// the reference; src/wasm/assembly/tensor-model.ts is the same algorithm over WebAssembly memory.

import type { ErrorPlace } from '../errors.js';
import { APM_ROW, COUNTER_INIT, hash, squash, STRETCH, updateCounter } from './byte-model.js';
import { BinaryDecoder, BinaryEncoder } from './binary-coder.js';

/** Mixer inputs: five counters and a bias. */
export const TENSOR_MODEL_INPUTS = 6;
/** Widest plane the tensor model codes (bits): the partial symbol `c0` stays below 256. */
export const TENSOR_MODEL_MAX_PLANE_BITS = 8;
/** Largest hashed table: 2^16 counters (256 KiB each, four of them), so that the tables stay in a core's cache: larger ones code real tensors no smaller and decode at about half the speed. */
export const TENSOR_MODEL_MAX_TABLE_BITS = 16;
/** Counter adaptation limit: the rate never falls below 1/256.5, so counters follow a drifting distribution. */
const COUNTER_LIMIT = 255;
/** Mixer learning rate (the error is scaled by it, then the update shifted by 14). */
const MIX_RATE = 12;
/** Weight bound (16.16 fixed point): keeps every product below 2^31 and each dot product below 2^34. */
const MIX_WEIGHT_MAX = (1 << 20) - 1;
const MIX_WEIGHT_INIT = 1 << 14;
/** Weight sets of mixer 1 per plane: one per bit index of the plane (at most 8). */
const BIT_SETS = 8;
/** APM2 groups: planes 0, 1, 2, and every later plane share group 3 (low mantissa bytes, near uniform). */
const APM2_GROUPS = 4;
const APM_RATE = 7;
/** Multiplier that spreads the partial symbol over a hashed table. */
const C0_SPREAD = 0x9e3779b1;

/** The hashed table size for a chunk of `n` values of `planes` planes (FORMAT.md §5.6.2): 2^12 … 2^16 counters. */
export function tensorModelTableBits(n: number, planes: number): number {
  let lg = 0;
  while (lg < 40 && 2 ** lg < n * planes) lg++;
  return Math.min(TENSOR_MODEL_MAX_TABLE_BITS, Math.max(12, lg + 1));
}

/**
 * What the model knows of a segment's layout: each plane's width and, per head plane, the head bits each symbol
 * stands for (FORMAT.md §4.2 `mergePlanes` of that plane alone; zero for byte planes).
 */
export interface TensorModelShape {
  /** Width in bits of each plane, 1 … 8, in plane order. */
  widths: number[];
  /** planes × 256 entries: the head bits of symbol s of plane k at k × 256 + s. */
  deposit: Uint16Array;
  /** Values per row (the last dimension): the value one row above value i is value i − rowValues. */
  rowValues: number;
}

/** The state of one chunk's model (FORMAT.md §5.6.2). */
class Model {
  readonly P: number;
  readonly t0: Uint32Array;
  readonly t: Uint32Array[];
  readonly shift: number;
  readonly w1: Int32Array;
  readonly w2: Int32Array;
  readonly apm1: Uint16Array;
  readonly apm2: Uint16Array;
  readonly apm2Ready: Uint8Array;
  /** Log magnitudes of the chunk's values so far: (head & 0x7FFF) >> 4. */
  readonly mag: Uint16Array;
  readonly x = new Int32Array(TENSOR_MODEL_INPUTS);
  readonly h = new Uint32Array(4);
  readonly slot = new Int32Array(4);
  k = 0;
  c0 = 1;
  j = 0;
  apmCtx = 0;
  set1 = 0;
  set2 = 0;
  p1 = 2048;
  p2 = 2048;
  apmAt1 = 0;
  apmAt2 = 0;

  constructor(readonly shape: TensorModelShape, n: number) {
    const P = shape.widths.length;
    this.P = P;
    const bits = tensorModelTableBits(n, P);
    this.shift = 32 - bits;
    this.t0 = new Uint32Array(P * 256).fill(COUNTER_INIT);
    this.t = Array.from({ length: 4 }, () => new Uint32Array(1 << bits).fill(COUNTER_INIT));
    this.w1 = new Int32Array(P * BIT_SETS * TENSOR_MODEL_INPUTS).fill(MIX_WEIGHT_INIT);
    this.w2 = new Int32Array(P * 256 * TENSOR_MODEL_INPUTS).fill(MIX_WEIGHT_INIT);
    this.apm1 = new Uint16Array(P * 256 * 33);
    for (let r = 0; r < P * 256; r++) this.apm1.set(APM_ROW, r * 33);
    this.apm2 = new Uint16Array(APM2_GROUPS * 256 * 256 * 33);
    this.apm2Ready = new Uint8Array(APM2_GROUPS * 256);
    this.mag = new Uint16Array(n);
  }

  /**
   * Context hashes of plane k of value i, whose earlier planes' symbols are known (`syms` value-major).
   * `pred` is the value's planar magnitude prediction.
   */
  planeStart(syms: Uint8Array, i: number, k: number, pred: number): void {
    const P = this.P;
    const R = this.shape.rowValues;
    const prev = i >= 1 ? syms[(i - 1) * P + k] : 0;
    const above = i >= R ? syms[(i - R) * P + k] : 0;
    const first = k >= 1 ? syms[i * P] : 256;
    const earlier = k === 0 ? 0 : k === 1 ? syms[i * P] : syms[i * P] | (syms[i * P + 1] << 8);
    this.h[0] = hash(k, earlier, 0);
    this.h[1] = hash(16 + k, prev, 0);
    this.h[2] = hash(32 + k, above, 0);
    this.h[3] = hash(48 + k, pred >> 1, first);
    const g = Math.min(k, APM2_GROUPS - 1);
    this.apmCtx = k === 0 ? prev : syms[i * P];
    const block = g * 256 + this.apmCtx;
    if (!this.apm2Ready[block]) {
      this.apm2Ready[block] = 1;
      for (let r = 0; r < 256; r++) this.apm2.set(APM_ROW, (block * 256 + r) * 33);
    }
    this.k = k;
    this.c0 = 1;
    this.j = 0;
  }

  /** P(next bit = 1), 12 bits, 1 … 4095. */
  predict(): number {
    const { k, c0, x } = this;
    x[0] = STRETCH[this.t0[k * 256 + c0] >>> 20];
    const spread = Math.imul(c0, C0_SPREAD);
    for (let q = 0; q < 4; q++) {
      const s = ((this.h[q] + spread) >>> 0) >>> this.shift;
      this.slot[q] = s;
      x[1 + q] = STRETCH[this.t[q][s] >>> 20];
    }
    x[5] = 256;
    const set1 = (k * BIT_SETS + this.j) * TENSOR_MODEL_INPUTS;
    const set2 = (k * 256 + c0) * TENSOR_MODEL_INPUTS;
    this.set1 = set1;
    this.set2 = set2;
    let dot1 = 0;
    let dot2 = 0;
    for (let q = 0; q < TENSOR_MODEL_INPUTS; q++) {
      dot1 += this.w1[set1 + q] * x[q];
      dot2 += this.w2[set2 + q] * x[q];
    }
    let d1 = Math.floor(dot1 / 65536);
    let d2 = Math.floor(dot2 / 65536);
    if (d1 > 2047) d1 = 2047;
    if (d1 < -2047) d1 = -2047;
    if (d2 > 2047) d2 = 2047;
    if (d2 < -2047) d2 = -2047;
    this.p1 = squash(d1);
    this.p2 = squash(d2);
    const pm = squash((d1 + d2) >> 1);
    const s = STRETCH[pm] + 2048;
    const lo = s >> 7;
    const w = s & 127;
    const r1 = (k * 256 + c0) * 33 + lo;
    const r2 = ((Math.min(k, APM2_GROUPS - 1) * 256 + this.apmCtx) * 256 + c0) * 33 + lo;
    this.apmAt1 = r1 + (w >> 6);
    this.apmAt2 = r2 + (w >> 6);
    const a1 = (this.apm1[r1] * (128 - w) + this.apm1[r1 + 1] * w) >> 11;
    const a2 = (this.apm2[r2] * (128 - w) + this.apm2[r2 + 1] * w) >> 11;
    let p = (pm + a1 + 2 * a2 + 2) >> 2;
    if (p < 1) p = 1;
    if (p > 4095) p = 4095;
    return p;
  }

  /** Learns bit `y` and advances to the next bit of the plane. */
  update(y: number): void {
    const { x, w1, w2, set1, set2 } = this;
    const e1 = ((y << 12) - this.p1) * MIX_RATE;
    const e2 = ((y << 12) - this.p2) * MIX_RATE;
    for (let q = 0; q < TENSOR_MODEL_INPUTS; q++) {
      let v = w1[set1 + q] + ((x[q] * e1) >> 14);
      if (v > MIX_WEIGHT_MAX) v = MIX_WEIGHT_MAX;
      if (v < -MIX_WEIGHT_MAX) v = -MIX_WEIGHT_MAX;
      w1[set1 + q] = v;
      v = w2[set2 + q] + ((x[q] * e2) >> 14);
      if (v > MIX_WEIGHT_MAX) v = MIX_WEIGHT_MAX;
      if (v < -MIX_WEIGHT_MAX) v = -MIX_WEIGHT_MAX;
      w2[set2 + q] = v;
    }
    const target = y ? 65535 : 0;
    this.apm1[this.apmAt1] += (target - this.apm1[this.apmAt1]) >> APM_RATE;
    this.apm2[this.apmAt2] += (target - this.apm2[this.apmAt2]) >> APM_RATE;
    updateCounter(this.t0, this.k * 256 + this.c0, y, COUNTER_LIMIT);
    for (let q = 0; q < 4; q++) updateCounter(this.t[q], this.slot[q], y, COUNTER_LIMIT);
    this.c0 = (this.c0 << 1) | y;
    this.j++;
  }

  /** The planar prediction of value i's log magnitude from its left, upper and upper-left neighbours (§5.6.3). */
  predictMagnitude(i: number): number {
    const R = this.shape.rowValues;
    const mag = this.mag;
    const left = i >= 1 && i % R !== 0;
    const up = i >= R;
    const a = left ? mag[i - 1] : up ? mag[i - R] : 0;
    const b = up ? mag[i - R] : a;
    const c = left && up ? mag[i - R - 1] : b;
    const p = a + b - c;
    return p < 0 ? 0 : p > 2047 ? 2047 : p;
  }

  /** Records value i's log magnitude once all its planes are known. */
  valueEnd(syms: Uint8Array, i: number): void {
    let head = 0;
    for (let k = 0; k < this.P; k++) head |= this.shape.deposit[k * 256 + syms[i * this.P + k]];
    this.mag[i] = (head & 0x7fff) >> 4;
  }
}

/** Checks the shape's widths, deposit table and row length (a caller's error, not the file's). */
function checkShape(shape: TensorModelShape, symbols: number, n: number): void {
  const P = shape.widths.length;
  if (P < 1 || P > 16 || shape.widths.some((b) => !(b >= 1 && b <= TENSOR_MODEL_MAX_PLANE_BITS))) throw new RangeError(`tensor model planes of ${shape.widths.join(', ')} bits: 1 to 16 planes of 1 to 8 bits`);
  if (shape.deposit.length !== P * 256) throw new RangeError(`deposit table of ${shape.deposit.length} entries for ${P} planes`);
  if (!(Number.isSafeInteger(shape.rowValues) && shape.rowValues >= 1)) throw new RangeError(`row of ${shape.rowValues} values`);
  if (symbols < n * P) throw new RangeError(`${symbols} symbols for ${n} values of ${P} planes`);
}

/**
 * Codes the plane symbols of `n` values with the tensor model (FORMAT.md §5.6).
 * @param syms the symbols value-major: plane k of value i at i × planes + k, each below 2^widths[k]
 * @param n values
 * @param shape plane widths, head deposit table and row length
 * @returns the coded stream (at least 4 bytes)
 * @throws RangeError for a shape the model does not take
 */
export function encodeTensorModel(syms: Uint8Array, n: number, shape: TensorModelShape): Uint8Array {
  checkShape(shape, syms.length, n);
  const P = shape.widths.length;
  const m = new Model(shape, n);
  const coder = new BinaryEncoder(n * P + ((n * P) >> 3) + 16);
  for (let i = 0; i < n; i++) {
    const pred = m.predictMagnitude(i);
    for (let k = 0; k < P; k++) {
      m.planeStart(syms, i, k, pred);
      const s = syms[i * P + k];
      for (let b = shape.widths[k] - 1; b >= 0; b--) {
        const y = (s >> b) & 1;
        coder.encode(y, m.predict());
        m.update(y);
      }
    }
    m.valueEnd(syms, i);
  }
  return coder.finish();
}

/**
 * Decodes the plane symbols of `n` values from a tensor-model stream (FORMAT.md §5.6).
 * @param stream exactly one chunk's stream
 * @param n values
 * @param shape plane widths, head deposit table and row length, as the segment's record gives them
 * @param syms receives n × planes symbols, value-major
 * @param place the chunk's file and offset, for errors
 * @throws CORRUPT_CHUNK (at `place.offset` plus the stream position) when the stream is shorter than 4 bytes, ends
 *   early, has bytes left over, or does not end in the state the encoder flushed
 */
export function decodeTensorModel(stream: Uint8Array, n: number, shape: TensorModelShape, syms: Uint8Array, place: ErrorPlace = {}): void {
  checkShape(shape, syms.length, n);
  const coder = new BinaryDecoder(stream, 'tensor-model', `its ${n} values`, place);
  const P = shape.widths.length;
  const m = new Model(shape, n);
  for (let i = 0; i < n; i++) {
    const pred = m.predictMagnitude(i);
    for (let k = 0; k < P; k++) {
      m.planeStart(syms, i, k, pred);
      let s = 0;
      for (let b = shape.widths[k] - 1; b >= 0; b--) {
        const y = coder.decode(m.predict());
        m.update(y);
        s = (s << 1) | y;
      }
      syms[i * P + k] = s;
    }
    m.valueEnd(syms, i);
  }
  coder.finish();
}

/**
 * The probabilities (P(bit = 1) × 4096) with which the first `count` bits of `syms` are coded: what FORMAT.md §5.6.6
 * lists, for checking an implementation step by step.
 * @throws RangeError for a shape the model does not take
 */
export function tensorModelProbabilities(syms: Uint8Array, n: number, shape: TensorModelShape, count: number): number[] {
  checkShape(shape, syms.length, n);
  const P = shape.widths.length;
  const m = new Model(shape, n);
  const ps: number[] = [];
  for (let i = 0; i < n && ps.length < count; i++) {
    const pred = m.predictMagnitude(i);
    for (let k = 0; k < P; k++) {
      m.planeStart(syms, i, k, pred);
      for (let b = shape.widths[k] - 1; b >= 0; b--) {
        const p = m.predict();
        if (ps.length < count) ps.push(p);
        m.update((syms[i * P + k] >> b) & 1);
      }
    }
    m.valueEnd(syms, i);
  }
  return ps;
}
