// The tensor model (FORMAT.md §5.6) over this module's memory: the algorithm of src/entropy/tensor-model.ts, which is
// the reference, step for step; both must give the same bytes. Symbols are value-major u8 (plane k of value i at
// i × P + k); `desc` holds the P plane widths (u8), padded to an even count, then P × 256 u16 head deposit entries.
// The work area holds tensorModelWorkBytes(n, P) bytes; the rest of the state lives in module globals.

import { APM_BLOCK, ensureTables, hash, squash, stretch, updateCounter } from './byte-model';

const INPUTS: usize = 6;
/** Weight sets are padded to 8 i32 (32 bytes). */
const SET_WORDS: usize = 8;
const BIT_SETS: usize = 8;
const APM2_GROUPS: u32 = 4;
const COUNTER_LIMIT: u32 = 255;
const MIX_RATE: i32 = 12;
const MIX_WEIGHT_MAX: i32 = (1 << 20) - 1;
const MIX_WEIGHT_INIT: i32 = 1 << 14;
const APM_RATE: i32 = 7;
const C0_SPREAD: u32 = 0x9e3779b1;
const COUNTER_INIT: u32 = 0x80000000;
const MAX_TABLE_BITS: u32 = 16;

function tableBitsFor(n: u32, P: u32): u32 {
  const total = <u64>n * <u64>P;
  let lg: u32 = 0;
  while (lg < 40 && (<u64>1 << lg) < total) lg++;
  return min<u32>(MAX_TABLE_BITS, max<u32>(12, lg + 1));
}

// Work area parts, in order (byte offsets set by layoutWork).
let T0: usize = 0; // P × 256 counters
let T1: usize = 0; // 4 hashed tables of 2^bits counters each, back to back
let W1: usize = 0; // P × 8 weight sets
let W2: usize = 0; // P × 256 weight sets
let A1: usize = 0; // P × 256 rows × 33 u16
let A2: usize = 0; // 4 × 256 × 256 rows × 33 u16
let A2READY: usize = 0; // 4 × 256 bytes
let MAG: usize = 0; // n u16
let workEnd: usize = 0;
let tableBits: u32 = 12;

function layoutWork(work: usize, n: u32, P: u32): void {
  tableBits = tableBitsFor(n, P);
  T0 = work;
  T1 = T0 + <usize>P * 256 * 4;
  W1 = T1 + (<usize>4 << tableBits) * 4;
  W2 = W1 + <usize>P * BIT_SETS * SET_WORDS * 4;
  A1 = W2 + <usize>P * 256 * SET_WORDS * 4;
  A2 = A1 + <usize>P * 256 * 66;
  A2READY = A2 + <usize>APM2_GROUPS * 65536 * 66;
  MAG = A2READY + <usize>APM2_GROUPS * 256;
  workEnd = MAG + <usize>n * 2;
}

/** Bytes of work area the model needs for a chunk of `n` values of `P` planes. */
export function tensorModelWorkBytes(n: u32, P: u32): u32 {
  layoutWork(0, n, P);
  return <u32>workEnd;
}

// Model state (one model at a time per instance).
let nP: u32 = 0;
let R: u32 = 1;
let SY: usize = 0;
let DW: usize = 0; // plane widths
let DD: usize = 0; // deposit entries
let shift: u32 = 0;
let k: u32 = 0;
let c0: u32 = 1;
let j: u32 = 0;
let apmCtx: u32 = 0;
let h0: u32 = 0;
let h1: u32 = 0;
let h2: u32 = 0;
let h3: u32 = 0;
let sl0: usize = 0;
let sl1: usize = 0;
let sl2: usize = 0;
let sl3: usize = 0;
let x0: i32 = 0;
let x1i: i32 = 0;
let x2i: i32 = 0;
let x3i: i32 = 0;
let x4i: i32 = 0;
let set1: usize = 0;
let set2: usize = 0;
let p1: i32 = 2048;
let p2: i32 = 2048;
let apmAt1: usize = 0;
let apmAt2: usize = 0;

function reset(work: usize, n: u32, P: u32, desc: usize, rowValues: u32, syms: usize): void {
  ensureTables();
  layoutWork(work, n, P);
  nP = P;
  R = rowValues;
  SY = syms;
  DW = desc;
  DD = desc + <usize>P + <usize>(P & 1);
  shift = 32 - tableBits;
  const counters: usize = <usize>P * 256 + (<usize>4 << tableBits);
  const init = i32x4.splat(<i32>COUNTER_INIT);
  // T0 and the hashed tables are contiguous and a multiple of 4 counters long.
  for (let i: usize = 0; i < counters; i += 4) v128.store(T0 + (i << 2), init);
  const winit = i32x4.splat(MIX_WEIGHT_INIT);
  const words: usize = <usize>P * (BIT_SETS + 256) * SET_WORDS;
  for (let i: usize = 0; i < words; i += 4) v128.store(W1 + (i << 2), winit);
  for (let r: usize = 0; r < <usize>P; r++) memory.copy(A1 + r * 256 * 66, APM_BLOCK, 256 * 66);
  memory.fill(A2READY, 0, <usize>APM2_GROUPS * 256);
}

@inline function sym(i: u32, q: u32): u32 {
  return <u32>load<u8>(SY + <usize>i * <usize>nP + <usize>q);
}

@inline function magAt(i: u32): i32 {
  return <i32>load<u16>(MAG + (<usize>i << 1));
}

function predictMagnitude(i: u32): u32 {
  const left = i >= 1 && i % R != 0;
  const up = i >= R;
  const a = left ? magAt(i - 1) : up ? magAt(i - R) : 0;
  const b = up ? magAt(i - R) : a;
  const c = left && up ? magAt(i - R - 1) : b;
  let p = a + b - c;
  if (p < 0) p = 0;
  if (p > 2047) p = 2047;
  return <u32>p;
}

function valueEnd(i: u32): void {
  let head: u32 = 0;
  for (let q: u32 = 0; q < nP; q++) head |= <u32>load<u16>(DD + ((<usize>q * 256 + <usize>sym(i, q)) << 1));
  store<u16>(MAG + (<usize>i << 1), <u16>((head & 0x7fff) >> 4));
}

function planeStart(i: u32, plane: u32, pred: u32): void {
  const prev: u32 = i >= 1 ? sym(i - 1, plane) : 0;
  const above: u32 = i >= R ? sym(i - R, plane) : 0;
  const first: u32 = plane >= 1 ? sym(i, 0) : 256;
  const earlier: u32 = plane == 0 ? 0 : plane == 1 ? sym(i, 0) : sym(i, 0) | (sym(i, 1) << 8);
  h0 = hash(plane, earlier, 0);
  h1 = hash(16 + plane, prev, 0);
  h2 = hash(32 + plane, above, 0);
  h3 = hash(48 + plane, pred >> 1, first);
  const g = min<u32>(plane, APM2_GROUPS - 1);
  apmCtx = plane == 0 ? prev : sym(i, 0);
  const block = <usize>(g * 256 + apmCtx);
  if (load<u8>(A2READY + block) == 0) {
    store<u8>(A2READY + block, 1);
    memory.copy(A2 + block * 256 * 66, APM_BLOCK, 256 * 66);
  }
  k = plane;
  c0 = 1;
  j = 0;
}

@inline function predict(): u32 {
  x0 = stretch(load<u32>(T0 + ((<usize>k * 256 + <usize>c0) << 2)) >> 20);
  const spread = c0 * C0_SPREAD;
  const size: usize = <usize>1 << tableBits;
  sl0 = T1 + (<usize>((h0 + spread) >> shift) << 2);
  sl1 = T1 + ((size + <usize>((h1 + spread) >> shift)) << 2);
  sl2 = T1 + ((2 * size + <usize>((h2 + spread) >> shift)) << 2);
  sl3 = T1 + ((3 * size + <usize>((h3 + spread) >> shift)) << 2);
  x1i = stretch(load<u32>(sl0) >> 20);
  x2i = stretch(load<u32>(sl1) >> 20);
  x3i = stretch(load<u32>(sl2) >> 20);
  x4i = stretch(load<u32>(sl3) >> 20);
  set1 = W1 + ((<usize>k * BIT_SETS + <usize>j) * SET_WORDS << 2);
  set2 = W2 + ((<usize>k * 256 + <usize>c0) * SET_WORDS << 2);
  const dot1: i64 =
    <i64>load<i32>(set1) * <i64>x0 + <i64>load<i32>(set1, 4) * <i64>x1i + <i64>load<i32>(set1, 8) * <i64>x2i +
    <i64>load<i32>(set1, 12) * <i64>x3i + <i64>load<i32>(set1, 16) * <i64>x4i + <i64>load<i32>(set1, 20) * 256;
  const dot2: i64 =
    <i64>load<i32>(set2) * <i64>x0 + <i64>load<i32>(set2, 4) * <i64>x1i + <i64>load<i32>(set2, 8) * <i64>x2i +
    <i64>load<i32>(set2, 12) * <i64>x3i + <i64>load<i32>(set2, 16) * <i64>x4i + <i64>load<i32>(set2, 20) * 256;
  let d1 = <i32>(dot1 >> 16);
  let d2 = <i32>(dot2 >> 16);
  if (d1 > 2047) d1 = 2047;
  if (d1 < -2047) d1 = -2047;
  if (d2 > 2047) d2 = 2047;
  if (d2 < -2047) d2 = -2047;
  p1 = squash(d1);
  p2 = squash(d2);
  const pm = squash((d1 + d2) >> 1);
  const s = stretch(<u32>pm) + 2048;
  const lo = <usize>(s >> 7);
  const w = s & 127;
  const r1 = A1 + (((<usize>k * 256 + <usize>c0) * 33 + lo) << 1);
  const g = <usize>min<u32>(k, APM2_GROUPS - 1);
  const r2 = A2 + ((((g * 256 + <usize>apmCtx) * 256 + <usize>c0) * 33 + lo) << 1);
  apmAt1 = r1 + (<usize>(w >> 6) << 1);
  apmAt2 = r2 + (<usize>(w >> 6) << 1);
  const a1 = (<i32>load<u16>(r1) * (128 - w) + <i32>load<u16>(r1, 2) * w) >> 11;
  const a2 = (<i32>load<u16>(r2) * (128 - w) + <i32>load<u16>(r2, 2) * w) >> 11;
  let p = (pm + a1 + 2 * a2 + 2) >> 2;
  if (p < 1) p = 1;
  if (p > 4095) p = 4095;
  return <u32>p;
}

@inline function learnWeight(at: usize, x: i32, e: i32): void {
  let v = load<i32>(at) + ((x * e) >> 14);
  if (v > MIX_WEIGHT_MAX) v = MIX_WEIGHT_MAX;
  if (v < -MIX_WEIGHT_MAX) v = -MIX_WEIGHT_MAX;
  store<i32>(at, v);
}

@inline function learnApm(at: usize, target: i32): void {
  const e = <i32>load<u16>(at);
  store<u16>(at, <u16>(e + ((target - e) >> APM_RATE)));
}

@inline function update(y: u32): void {
  const e1 = ((<i32>y << 12) - p1) * MIX_RATE;
  const e2 = ((<i32>y << 12) - p2) * MIX_RATE;
  learnWeight(set1, x0, e1);
  learnWeight(set1 + 4, x1i, e1);
  learnWeight(set1 + 8, x2i, e1);
  learnWeight(set1 + 12, x3i, e1);
  learnWeight(set1 + 16, x4i, e1);
  learnWeight(set1 + 20, 256, e1);
  learnWeight(set2, x0, e2);
  learnWeight(set2 + 4, x1i, e2);
  learnWeight(set2 + 8, x2i, e2);
  learnWeight(set2 + 12, x3i, e2);
  learnWeight(set2 + 16, x4i, e2);
  learnWeight(set2 + 20, 256, e2);
  const target: i32 = y ? 65535 : 0;
  learnApm(apmAt1, target);
  learnApm(apmAt2, target);
  updateCounter(T0 + ((<usize>k * 256 + <usize>c0) << 2), y, COUNTER_LIMIT);
  updateCounter(sl0, y, COUNTER_LIMIT);
  updateCounter(sl1, y, COUNTER_LIMIT);
  updateCounter(sl2, y, COUNTER_LIMIT);
  updateCounter(sl3, y, COUNTER_LIMIT);
  c0 = (c0 << 1) | y;
  j++;
}

/**
 * Codes the symbols of `n` values (value-major at `syms`) with the tensor model; `work` holds
 * tensorModelWorkBytes(n, P) bytes. Writes the stream at `out` (capacity `cap`).
 * @returns the stream's length, or −1 when it would exceed `cap`
 */
export function encodeTensorModel(syms: usize, n: u32, P: u32, desc: usize, rowValues: u32, work: usize, out: usize, cap: u32): i32 {
  reset(work, n, P, desc, rowValues, syms);
  let o: u32 = 0;
  let x1: u32 = 0;
  let x2: u32 = 0xffffffff;
  for (let i: u32 = 0; i < n; i++) {
    const pred = predictMagnitude(i);
    for (let q: u32 = 0; q < P; q++) {
      planeStart(i, q, pred);
      const s = sym(i, q);
      for (let b: i32 = <i32>load<u8>(DW + <usize>q) - 1; b >= 0; b--) {
        const y = (s >> <u32>b) & 1;
        const p = predict();
        const r = x2 - x1;
        const xmid = x1 + (r >> 12) * p + (((r & 4095) * p) >> 12);
        if (y) x2 = xmid;
        else x1 = xmid + 1;
        update(y);
        while (((x1 ^ x2) & 0xff000000) == 0) {
          if (o >= cap) return -1;
          store<u8>(out + <usize>o, <u8>(x2 >> 24));
          o++;
          x1 <<= 8;
          x2 = (x2 << 8) | 255;
        }
      }
    }
    valueEnd(i);
  }
  if (o + 4 > cap) return -1;
  store<u8>(out + <usize>o, <u8>(x1 >> 24));
  store<u8>(out + <usize>o + 1, <u8>(x1 >> 16));
  store<u8>(out + <usize>o + 2, <u8>(x1 >> 8));
  store<u8>(out + <usize>o + 3, <u8>x1);
  return <i32>(o + 4);
}

let errorAt: u32 = 0;

/**
 * Decodes the symbols of `n` values into `syms` (value-major) from the stream of `len` bytes at `src`; `work` holds
 * tensorModelWorkBytes(n, P) bytes.
 * @returns 0 when the stream is valid; −1 when it ends before the values are decoded, −2 when decoding ends before
 *   its end, −3 when the final state is not the flushed one (tensorModelErrorAt gives the stream offset)
 */
export function decodeTensorModel(syms: usize, n: u32, P: u32, desc: usize, rowValues: u32, work: usize, src: usize, len: u32): i32 {
  errorAt = 0;
  if (len < 4) return -1;
  reset(work, n, P, desc, rowValues, syms);
  let pos: u32 = 4;
  let x: u32 = bswap<u32>(load<u32>(src));
  let x1: u32 = 0;
  let x2: u32 = 0xffffffff;
  for (let i: u32 = 0; i < n; i++) {
    const pred = predictMagnitude(i);
    for (let q: u32 = 0; q < P; q++) {
      planeStart(i, q, pred);
      let s: u32 = 0;
      for (let b: i32 = <i32>load<u8>(DW + <usize>q) - 1; b >= 0; b--) {
        const p = predict();
        const r = x2 - x1;
        const xmid = x1 + (r >> 12) * p + (((r & 4095) * p) >> 12);
        const y: u32 = x <= xmid ? 1 : 0;
        if (y) x2 = xmid;
        else x1 = xmid + 1;
        update(y);
        s = (s << 1) | y;
        while (((x1 ^ x2) & 0xff000000) == 0) {
          if (pos >= len) {
            errorAt = len;
            return -1;
          }
          x1 <<= 8;
          x2 = (x2 << 8) | 255;
          x = (x << 8) | <u32>load<u8>(src + <usize>pos);
          pos++;
        }
      }
      store<u8>(SY + <usize>i * <usize>P + <usize>q, <u8>s);
    }
    valueEnd(i);
  }
  if (pos != len) {
    errorAt = pos;
    return -2;
  }
  if (x != x1) {
    errorAt = pos - 4;
    return -3;
  }
  return 0;
}

/** The stream offset of the last decodeTensorModel failure. */
export function tensorModelErrorAt(): u32 {
  return errorAt;
}
