// The byte model (FORMAT.md §5.5) over this module's memory: the algorithm of src/entropy/byte-model.ts, which is the
// reference, step for step; both must give the same bytes. The caller lays out the bytes modelled (primer, then data)
// at `buf` and a work area of byteModelWorkBytes(total) bytes; all state lives in module globals and the work area.

const SQUASH_POINTS: usize = memory.data<i32>([
  1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546, 2048, 2550, 2994, 3349, 3608, 3785, 3902, 3976,
  4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095,
]);
const SQUASH: usize = memory.data(4096 * 4, 16);
const STRETCH: usize = memory.data(4096 * 4, 16);
const RECIPROCAL: usize = memory.data(1024 * 4, 16);
let tablesReady = false;
/** Which previous bytes' o1 and APM2 blocks are set up (one byte each). */
const O1_READY: usize = memory.data(256, 16);
/** 256 initial APM rows: one previous byte's block of APM2, copied in when that byte first occurs. */
export const APM_BLOCK: usize = memory.data(256 * 66, 16);

const HASHED: u32 = 7;
const INPUTS: u32 = 11;
const MATCH_MIN: u32 = 5;
const MATCH_VERIFY: u32 = 32;
const LIMIT_LOW: u32 = 1023;
const LIMIT_HIGH: u32 = 127;
const MIX_RATE_MIN: i32 = 16;
const MIX_RATE_START: i32 = 1024;
const MIX_WEIGHT_MAX: i32 = (1 << 20) - 1;
const MIX_WEIGHT_INIT: i32 = 1 << 14;
const COUNTER_INIT: u32 = 0x8000 << 16;

// Work area offsets (bytes), fixed part first.
const O0: usize = 0; // 256 counters
const O1: usize = O0 + 256 * 4; // 65536 counters
const MC: usize = O1 + 65536 * 4; // 64 match counters
// Weight sets are padded to SET_WORDS i32 (three v128), the last weight unused (its input is always 0).
const SET_WORDS: usize = 12;
const WEIGHTS: usize = MC + 64 * 4; // 1024 sets of SET_WORDS i32, 16-byte aligned
const WEIGHTS2: usize = WEIGHTS + 1024 * SET_WORDS * 4; // 1024 sets of SET_WORDS i32
const APM1: usize = WEIGHTS2 + 1024 * SET_WORDS * 4; // 256 x 33 u16
const APM2: usize = APM1 + 256 * 33 * 2; // 65536 x 33 u16
const BUCKETS: usize = APM2 + 65536 * 33 * 2; // 16 u32 per bucket

function initTables(): void {
  for (let d: i32 = -2048; d < 2048; d++) {
    const s = d + 2048;
    const lo = s >> 7;
    const w = s & 127;
    const v = (load<i32>(SQUASH_POINTS + (<usize>lo << 2)) * (128 - w) + load<i32>(SQUASH_POINTS + (<usize>(lo + 1) << 2)) * w + 64) >> 7;
    store<i32>(SQUASH + (<usize>s << 2), v);
  }
  let pi: i32 = 0;
  for (let d: i32 = -2047; d <= 2047; d++) {
    const v = squash(d);
    for (let j = pi; j <= v; j++) store<i32>(STRETCH + (<usize>j << 2), d);
    pi = v + 1;
  }
  for (let j = pi; j < 4096; j++) store<i32>(STRETCH + (<usize>j << 2), 2047);
  for (let n: i32 = 0; n < 1024; n++) store<i32>(RECIPROCAL + (<usize>n << 2), 65536 / (2 * n + 3));
  for (let r: usize = 0; r < 256; r++) {
    for (let j: usize = 0; j < 33; j++) store<u16>(APM_BLOCK + r * 66 + (j << 1), <u16>(squash((<i32>j - 16) * 128) * 16));
  }
  tablesReady = true;
}

/** squash(d) of FORMAT.md §5.5.1, d clamped to −2047 … 2047 (ensureTables first). */
@inline export function squash(d: i32): i32 {
  if (d > 2047) d = 2047;
  if (d < -2047) d = -2047;
  return load<i32>(SQUASH + (<usize>(d + 2048) << 2));
}

/** stretch(p) of FORMAT.md §5.5.1 for p in 0 … 4095 (ensureTables first). */
@inline export function stretch(p: u32): i32 {
  return load<i32>(STRETCH + (<usize>p << 2));
}

/** hash(order, a, b) of FORMAT.md §5.5.1. */
@inline export function hash(order: u32, a: u32, b: u32): u32 {
  let x = a * 0x9e3779b1 + b * 0x85ebca77 + (order + 1) * 0xc2b2ae3d;
  x ^= x >> 15;
  x *= 0x2c1b3c6d;
  return x ^ (x >> 13);
}

/** Updates the counter at `at` with bit `y`, its count saturating at `limit` (FORMAT.md §5.5.2). */
@inline export function updateCounter(at: usize, y: u32, limit: u32): void {
  const v = load<u32>(at);
  const p = <i32>(v >> 16);
  const n = v & 0xffff;
  const target: i32 = y ? 65535 : 0;
  const np = p + (((target - p) * load<i32>(RECIPROCAL + (<usize>n << 2))) >> 15);
  store<u32>(at, (<u32>np << 16) | (n < limit ? n + 1 : n));
}

function bucketBitsFor(total: u32): u32 {
  let lg: u32 = 0;
  while (lg < 30 && (<u64>1 << lg) < <u64>total) lg++;
  return min<u32>(18, max<u32>(10, lg >= 2 ? lg - 2 : 0));
}

function matchBitsFor(total: u32): u32 {
  let lg: u32 = 0;
  while (lg < 30 && (<u64>1 << lg) < <u64>total) lg++;
  return min<u32>(20, max<u32>(10, lg));
}

/** Bytes of work area the model needs for `total` modelled bytes. */
export function byteModelWorkBytes(total: u32): u32 {
  return <u32>BUCKETS + (64 << bucketBitsFor(total)) + (4 << matchBitsFor(total));
}

// Model state (one model at a time per instance).
let W: usize = 0;
let B: usize = 0;
let MT: usize = 0;
let bucketShift: u32 = 0;
let matchShift: u32 = 0;
let c0: u32 = 1;
let bitPos: u32 = 0;
let c4: u32 = 0;
let c8: u32 = 0;
let word: u32 = 0;
let matchPtr: u32 = 0;
let matchLen: u32 = 0;
let matchBit: i32 = -1;
let set: usize = 0;
let set2: usize = 0;
let pos0: u32 = 0;
let mixRate: i32 = 0;
let pMix1: i32 = 2048;
let pMix2: i32 = 2048;
let apmIndex1: usize = 0;
let apmIndex2: usize = 0;
const HASHES: usize = memory.data(7 * 4, 16);
// The bucket of each hashed context for the current nibble, and the mixer inputs as three v128 (x0-3, x4-7, x8-11:
// x11 always 0) kept in globals: building them in registers avoids a store-to-load stall per bit.
let s0: usize = 0;
let s1: usize = 0;
let s2: usize = 0;
let s3: usize = 0;
let s4: usize = 0;
let s5: usize = 0;
let s6: usize = 0;
let xa: v128 = i32x4.splat(0);
let xb: v128 = i32x4.splat(0);
let xc: v128 = i32x4.splat(0);

@inline function bucketOf(i: usize): usize {
  const hh = load<u32>(HASHES + (i << 2));
  const h = bitPos == 0 ? hh : hash(8, hh, c0);
  const b = B + (<usize>(h >> bucketShift) << 6);
  const tag = (h & 0xffff) | 0x10000;
  if (load<u32>(b) != tag) {
    const init = i32x4.splat(<i32>COUNTER_INIT);
    v128.store(b, init);
    v128.store(b, init, 16);
    v128.store(b, init, 32);
    v128.store(b, init, 48);
    store<u32>(b, tag);
  }
  return b;
}

function selectBuckets(): void {
  s0 = bucketOf(0);
  s1 = bucketOf(1);
  s2 = bucketOf(2);
  s3 = bucketOf(3);
  s4 = bucketOf(4);
  s5 = bucketOf(5);
  s6 = bucketOf(6);
}

function byteStart(buf: usize, pos: u32): void {
  pos0 = pos;
  mixRate = MIX_RATE_MIN + MIX_RATE_START / <i32>(8 + (pos >> 10));
  if (pos > 0) {
    const c = <u32>load<u8>(buf + <usize>pos - 1);
    c8 = (c8 << 8) | (c4 >> 24);
    c4 = (c4 << 8) | c;
    const isWord = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c >= 128;
    word = isWord ? (word + (c | 32) + 1) * 0x01000193 : 0;
    if (matchLen > 0) {
      if (<u32>load<u8>(buf + <usize>matchPtr) == c) {
        matchPtr++;
        if (matchLen < 65535) matchLen++;
      } else matchLen = 0;
    }
    if (pos >= MATCH_MIN) {
      const hm = MT + (<usize>(hash(9, c4, c8 & 0xff) >> matchShift) << 2);
      if (matchLen == 0) {
        const cand = load<u32>(hm);
        if (cand > 0) {
          let len: u32 = 0;
          while (len < MATCH_VERIFY && len < cand && load<u8>(buf + <usize>(cand - 1 - len)) == load<u8>(buf + <usize>(pos - 1 - len))) len++;
          if (len >= MATCH_MIN) {
            matchLen = len;
            matchPtr = cand;
          }
        }
      }
      store<u32>(hm, pos);
    }
  }
  const c1 = <usize>(c4 & 0xff);
  if (!load<u8>(O1_READY + c1)) {
    store<u8>(O1_READY + c1, 1);
    for (let i: usize = 0; i < 256; i++) store<u32>(W + O1 + ((c1 << 8 | i) << 2), COUNTER_INIT);
    memory.copy(W + APM2 + c1 * 256 * 66, APM_BLOCK, 256 * 66);
  }
  store<u32>(HASHES, hash(2, c4 & 0xffff, 0));
  store<u32>(HASHES + 4, hash(3, c4 & 0xffffff, 0));
  store<u32>(HASHES + 8, hash(4, c4, 0));
  store<u32>(HASHES + 12, hash(6, c4, c8 & 0xffff));
  store<u32>(HASHES + 16, hash(7, word, 0));
  store<u32>(HASHES + 20, hash(10, c4 & 0xff, pos & 3));
  store<u32>(HASHES + 24, hash(11, c4 >> 24, pos & 3));
  c0 = 1;
  bitPos = 0;
  selectBuckets();
}

@inline function nodeOf(): usize {
  return bitPos < 4 ? <usize>c0 : <usize>((c0 & ((1 << (bitPos - 4)) - 1)) | (1 << (bitPos - 4)));
}

@inline function predict(buf: usize): u32 {
  const c1 = c4 & 0xff;
  const node = nodeOf() << 2;
  let va = i32x4.splat(stretch(load<u32>(W + O0 + (<usize>c0 << 2)) >> 20));
  va = i32x4.replace_lane(va, 1, stretch(load<u32>(W + O1 + (<usize>((c1 << 8) | c0) << 2)) >> 20));
  va = i32x4.replace_lane(va, 2, stretch(load<u32>(s0 + node) >> 20));
  va = i32x4.replace_lane(va, 3, stretch(load<u32>(s1 + node) >> 20));
  let vb = i32x4.splat(stretch(load<u32>(s2 + node) >> 20));
  vb = i32x4.replace_lane(vb, 1, stretch(load<u32>(s3 + node) >> 20));
  vb = i32x4.replace_lane(vb, 2, stretch(load<u32>(s4 + node) >> 20));
  vb = i32x4.replace_lane(vb, 3, stretch(load<u32>(s5 + node) >> 20));
  let vc = i32x4.splat(0);
  vc = i32x4.replace_lane(vc, 0, stretch(load<u32>(s6 + node) >> 20));
  let mlb: u32 = 0;
  matchBit = -1;
  let xm: i32 = 0;
  if (matchLen > 0) {
    const e = <u32>load<u8>(buf + <usize>matchPtr) | 256;
    if (e >> (8 - bitPos) == c0) {
      matchBit = <i32>((e >> (7 - bitPos)) & 1);
      mlb = matchLen < 16 ? 1 : matchLen < 32 ? 2 : 3;
      xm = stretch(load<u32>(W + MC + (<usize>((min<u32>(matchLen, 31) << 1) | <u32>matchBit) << 2)) >> 20);
    }
  }
  vc = i32x4.replace_lane(vc, 1, xm);
  vc = i32x4.replace_lane(vc, 2, 256);
  xa = va;
  xb = vb;
  xc = vc;
  set = W + WEIGHTS + (<usize>((mlb << 8) | c0) * SET_WORDS << 2);
  set2 = W + WEIGHTS2 + (<usize>(((pos0 & 3) << 8) | c1) * SET_WORDS << 2);
  // |weight| < 2^20 and |input| < 2^11: each product fits an i32 lane; the sums are taken in i64 lanes.
  const pa = i32x4.mul(v128.load(set), va);
  const pb = i32x4.mul(v128.load(set, 16), vb);
  const pc = i32x4.mul(v128.load(set, 32), vc);
  const qa = i32x4.mul(v128.load(set2), va);
  const qb = i32x4.mul(v128.load(set2, 16), vb);
  const qc = i32x4.mul(v128.load(set2, 32), vc);
  const acc = i64x2.add(
    i64x2.add(i64x2.add(i64x2.extend_low_i32x4_s(pa), i64x2.extend_high_i32x4_s(pa)), i64x2.add(i64x2.extend_low_i32x4_s(pb), i64x2.extend_high_i32x4_s(pb))),
    i64x2.add(i64x2.extend_low_i32x4_s(pc), i64x2.extend_high_i32x4_s(pc)),
  );
  const acc2 = i64x2.add(
    i64x2.add(i64x2.add(i64x2.extend_low_i32x4_s(qa), i64x2.extend_high_i32x4_s(qa)), i64x2.add(i64x2.extend_low_i32x4_s(qb), i64x2.extend_high_i32x4_s(qb))),
    i64x2.add(i64x2.extend_low_i32x4_s(qc), i64x2.extend_high_i32x4_s(qc)),
  );
  const dot = i64x2.extract_lane(acc, 0) + i64x2.extract_lane(acc, 1);
  const dot2 = i64x2.extract_lane(acc2, 0) + i64x2.extract_lane(acc2, 1);
  const d1 = <i32>min<i64>(2047, max<i64>(-2047, dot >> 16));
  const d2 = <i32>min<i64>(2047, max<i64>(-2047, dot2 >> 16));
  pMix1 = squash(d1);
  pMix2 = squash(d2);
  const p = squash((d1 + d2) >> 1);
  const s = stretch(<u32>p) + 2048;
  const lo = <usize>(s >> 7);
  const wt = s & 127;
  const r1 = W + APM1 + ((<usize>c0 * 33 + lo) << 1);
  const r2 = W + APM2 + ((<usize>((c1 << 8) | c0) * 33 + lo) << 1);
  apmIndex1 = r1 + (<usize>(wt >> 6) << 1);
  apmIndex2 = r2 + (<usize>(wt >> 6) << 1);
  const a1 = (<i32>load<u16>(r1) * (128 - wt) + <i32>load<u16>(r1 + 2) * wt) >> 11;
  const a2 = (<i32>load<u16>(r2) * (128 - wt) + <i32>load<u16>(r2 + 2) * wt) >> 11;
  let pf = (p + a1 + 2 * a2 + 2) >> 2;
  if (pf < 1) pf = 1;
  if (pf > 4095) pf = 4095;
  return <u32>pf;
}

@inline function update(y: u32): void {
  const c1 = c4 & 0xff;
  const err = ((<i32>(y << 12)) - pMix1) * mixRate;
  const err2 = ((<i32>(y << 12)) - pMix2) * mixRate;
  // |input × err| ≤ 2047 × 4095 × 144 < 2^31: exact in i32 lanes.
  const e1 = i32x4.splat(err);
  const e2 = i32x4.splat(err2);
  const hi = i32x4.splat(MIX_WEIGHT_MAX);
  const lo = i32x4.splat(-MIX_WEIGHT_MAX);
  v128.store(set, i32x4.max_s(lo, i32x4.min_s(hi, i32x4.add(v128.load(set), i32x4.shr_s(i32x4.mul(xa, e1), 14)))));
  v128.store(set, i32x4.max_s(lo, i32x4.min_s(hi, i32x4.add(v128.load(set, 16), i32x4.shr_s(i32x4.mul(xb, e1), 14)))), 16);
  v128.store(set, i32x4.max_s(lo, i32x4.min_s(hi, i32x4.add(v128.load(set, 32), i32x4.shr_s(i32x4.mul(xc, e1), 14)))), 32);
  v128.store(set2, i32x4.max_s(lo, i32x4.min_s(hi, i32x4.add(v128.load(set2), i32x4.shr_s(i32x4.mul(xa, e2), 14)))));
  v128.store(set2, i32x4.max_s(lo, i32x4.min_s(hi, i32x4.add(v128.load(set2, 16), i32x4.shr_s(i32x4.mul(xb, e2), 14)))), 16);
  v128.store(set2, i32x4.max_s(lo, i32x4.min_s(hi, i32x4.add(v128.load(set2, 32), i32x4.shr_s(i32x4.mul(xc, e2), 14)))), 32);
  const target: i32 = y ? 65535 : 0;
  const a1 = <i32>load<u16>(apmIndex1);
  store<u16>(apmIndex1, <u16>(a1 + ((target - a1) >> 7)));
  const a2 = <i32>load<u16>(apmIndex2);
  store<u16>(apmIndex2, <u16>(a2 + ((target - a2) >> 7)));
  updateCounter(W + O0 + (<usize>c0 << 2), y, LIMIT_LOW);
  updateCounter(W + O1 + (<usize>((c1 << 8) | c0) << 2), y, LIMIT_LOW);
  const node = nodeOf() << 2;
  updateCounter(s0 + node, y, LIMIT_HIGH);
  updateCounter(s1 + node, y, LIMIT_HIGH);
  updateCounter(s2 + node, y, LIMIT_HIGH);
  updateCounter(s3 + node, y, LIMIT_HIGH);
  updateCounter(s4 + node, y, LIMIT_HIGH);
  updateCounter(s5 + node, y, LIMIT_HIGH);
  updateCounter(s6 + node, y, LIMIT_HIGH);
  if (matchBit >= 0) {
    updateCounter(W + MC + (<usize>((min<u32>(matchLen, 31) << 1) | <u32>matchBit) << 2), y, LIMIT_LOW);
    if (<u32>matchBit != y) matchLen = 0;
  }
  c0 = (c0 << 1) | y;
  bitPos++;
  if (bitPos == 4) selectBuckets();
}

/** Builds squash, stretch, the counter rates and the initial APM rows once per instance (the tensor model shares them). */
export function ensureTables(): void {
  if (!tablesReady) initTables();
}

function reset(work: usize, total: u32): void {
  if (!tablesReady) initTables();
  W = work;
  const bb = bucketBitsFor(total);
  const mb = matchBitsFor(total);
  B = work + BUCKETS;
  MT = B + (<usize>64 << bb);
  bucketShift = 32 - bb;
  matchShift = 32 - mb;
  // o1 and APM2 are set up block by block as each previous byte first occurs (byteStart): o0 and the match counters here.
  for (let i: usize = 0; i < 256; i++) store<u32>(work + O0 + (i << 2), COUNTER_INIT);
  for (let i: usize = 0; i < 64; i++) store<u32>(work + MC + (i << 2), COUNTER_INIT);
  memory.fill(O1_READY, 0, 256);
  for (let i: usize = 0; i < 2 * 1024 * SET_WORDS; i++) store<i32>(work + WEIGHTS + (i << 2), MIX_WEIGHT_INIT);

  for (let j: usize = 0; j < 33; j++) store<u16>(work + APM1 + (j << 1), <u16>(squash((<i32>j - 16) * 128) * 16));
  for (let c: usize = 1; c < 256; c++) memory.copy(work + APM1 + c * 66, work + APM1, 66);
  memory.fill(B, 0, (<usize>64 << bb) + (<usize>4 << mb));
  c0 = 1;
  bitPos = 0;
  c4 = 0;
  c8 = 0;
  word = 0;
  matchPtr = 0;
  matchLen = 0;
  matchBit = -1;
  byteStart(0, 0);
}

function learn(buf: usize, count: u32): void {
  for (let i: u32 = 0; i < count; i++) {
    const c = <u32>load<u8>(buf + <usize>i);
    for (let k: i32 = 7; k >= 0; k--) {
      predict(buf);
      update((c >> <u32>k) & 1);
    }
    byteStart(buf, i + 1);
  }
}

/**
 * Codes bytes primerLen … total − 1 of `buf` after learning bytes 0 … primerLen − 1; `work` holds
 * byteModelWorkBytes(total) bytes. Writes the stream at `out` (capacity `cap`).
 * @returns the stream's length, or −1 when it would exceed `cap`
 */
export function encodeByteModel(buf: usize, primerLen: u32, total: u32, work: usize, out: usize, cap: u32): i32 {
  reset(work, total);
  learn(buf, primerLen);
  let o: u32 = 0;
  let x1: u32 = 0;
  let x2: u32 = 0xffffffff;
  for (let i = primerLen; i < total; i++) {
    const c = <u32>load<u8>(buf + <usize>i);
    for (let k: i32 = 7; k >= 0; k--) {
      const y = (c >> <u32>k) & 1;
      const p = predict(buf);
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
    byteStart(buf, i + 1);
  }
  if (o + 4 > cap) return -1;
  store<u8>(out + <usize>o, <u8>(x1 >> 24));
  store<u8>(out + <usize>o + 1, <u8>(x1 >> 16));
  store<u8>(out + <usize>o + 2, <u8>(x1 >> 8));
  store<u8>(out + <usize>o + 3, <u8>x1);
  return <i32>(o + 4);
}

/**
 * Decodes bytes primerLen … total − 1 of `buf` (bytes before them hold the primer) from the stream of `len` bytes at
 * `src`; `work` holds byteModelWorkBytes(total) bytes.
 * @returns 0 when the stream is valid; −1 − p when it ends before the bytes are decoded (p: its length); −2 − p when
 *   decoding ends at stream byte p before its end; or −3 − p when the final state is not the flushed one
 *   (the caller tells these apart by the stored end position, see byteModelErrorAt)
 */
export function decodeByteModel(buf: usize, primerLen: u32, total: u32, work: usize, src: usize, len: u32): i32 {
  errorAt = 0;
  if (len < 4) {
    errorAt = 0;
    return -1;
  }
  reset(work, total);
  learn(buf, primerLen);
  let pos: u32 = 4;
  let x: u32 = bswap<u32>(load<u32>(src));
  let x1: u32 = 0;
  let x2: u32 = 0xffffffff;
  for (let i = primerLen; i < total; i++) {
    let c: u32 = 0;
    for (let k = 0; k < 8; k++) {
      const p = predict(buf);
      const r = x2 - x1;
      const xmid = x1 + (r >> 12) * p + (((r & 4095) * p) >> 12);
      const y: u32 = x <= xmid ? 1 : 0;
      if (y) x2 = xmid;
      else x1 = xmid + 1;
      update(y);
      c = (c << 1) | y;
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
    store<u8>(buf + <usize>i, <u8>c);
    byteStart(buf, i + 1);
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

let errorAt: u32 = 0;

/** The stream offset of the last decodeByteModel failure. */
export function byteModelErrorAt(): u32 {
  return errorAt;
}
