// The byte model (FORMAT.md §5.5): a context-mixing coder for byte planes. Each byte is coded as 8 binary decisions,
// most significant bit first; 8 predictors (orders 0-4 and 6, a word context, a match model) are mixed in the
// logistic domain, refined by two adaptive probability maps and coded with a 32-bit binary arithmetic coder. Integer
// arithmetic only, so that every engine decodes the same bits. This is the reference; src/wasm/assembly/byte-model.ts
// is the same algorithm over WebAssembly memory and must produce the same bytes.

import type { ErrorPlace } from '../errors.js';
import { BinaryDecoder, BinaryEncoder } from './binary-coder.js';

/** Interpolation points of squash (FORMAT.md §5.5.1): 4096 / (1 + e^(-(i-16)/2)), rounded, clamped to 1 … 4095. */
export const SQUASH_POINTS = [
  1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546, 2048, 2550, 2994, 3349, 3608, 3785, 3902, 3976,
  4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095,
];

/** Logistic domain bound: stretch values lie in −2047 … 2047. */
const STRETCH_MAX = 2047;
/**
 * Hashed contexts: orders 2, 3, 4 and 6, the word context, and two for fixed-width records (the previous byte, and the
 * byte 4 back, each with the position mod 4).
 */
export const BYTE_MODEL_HASHED = 7;
/** Mixer inputs: order 0, order 1, the hashed contexts, the match model and a bias. */
export const BYTE_MODEL_INPUTS = 2 + BYTE_MODEL_HASHED + 2;
/** Smallest match the match model follows (bytes). */
export const MATCH_MIN = 5;
/** Longest match verified backwards when a candidate is found (bounds the work per byte). */
export const MATCH_VERIFY = 32;
/** Counter adaptation limits: the count saturates here, so the rate never falls below 1/(limit + 1.5). */
const LIMIT_LOW = 1023;
const LIMIT_HIGH = 127;
/**
 * Mixer learning rate (in 1/16384 steps): MIX_RATE_MIN + ⌊MIX_RATE_START / (8 + ⌊pos / 1024⌋)⌋, fast while the model
 * knows little and slower as it settles. Weight bound (16.16 fixed point): keeps each dot product below 2^36.
 */
const MIX_RATE_MIN = 16;
const MIX_RATE_START = 1024;
const MIX_WEIGHT_MAX = (1 << 20) - 1;
const MIX_WEIGHT_INIT = 1 << 14;
/** Adaptive probability maps: update shift. */
const APM_RATE = 7;
/** Largest bucket table (2^18 buckets of 64 bytes = 16 MiB) and match table (2^20 positions = 4 MiB). */
export const MAX_BUCKET_BITS = 18;
export const MAX_MATCH_BITS = 20;

function buildSquash(): Int32Array {
  const t = new Int32Array(4096);
  for (let d = -2048; d < 2048; d++) {
    const s = d + 2048;
    const lo = s >> 7;
    const w = s & 127;
    t[s] = (SQUASH_POINTS[lo] * (128 - w) + SQUASH_POINTS[lo + 1] * w + 64) >> 7;
  }
  return t;
}
/** squash(d) for d in −2048 … 2047, at index d + 2048. */
const SQUASH = buildSquash();
/** squash(d) (FORMAT.md §5.5.1), d clamped to −2047 … 2047 first: a probability 1 … 4095 (P(bit = 1) × 4096). */
export function squash(d: number): number {
  if (d > STRETCH_MAX) d = STRETCH_MAX;
  if (d < -STRETCH_MAX) d = -STRETCH_MAX;
  return SQUASH[d + 2048];
}
function buildStretch(): Int32Array {
  const t = new Int32Array(4096);
  let pi = 0;
  for (let d = -STRETCH_MAX; d <= STRETCH_MAX; d++) {
    const v = squash(d);
    for (let j = pi; j <= v; j++) t[j] = d;
    pi = v + 1;
  }
  for (let j = pi; j < 4096; j++) t[j] = STRETCH_MAX;
  return t;
}
/** stretch(p) for p in 0 … 4095: the inverse of squash (FORMAT.md §5.5.1). */
export const STRETCH = buildStretch();
/** Counter rate: ⌊32768 / (n + 1.5)⌋. */
const RECIPROCAL = (() => {
  const t = new Int32Array(1024);
  for (let n = 0; n < 1024; n++) t[n] = Math.floor(65536 / (2 * n + 3));
  return t;
})();

/** The table sizes for a chunk of `total` modelled bytes (primer included): FORMAT.md §5.5.2. */
export function byteModelSizes(total: number): { bucketBits: number; matchBits: number } {
  let lg = 0;
  while (lg < 30 && 2 ** lg < total) lg++;
  return { bucketBits: Math.min(MAX_BUCKET_BITS, Math.max(10, lg - 2)), matchBits: Math.min(MAX_MATCH_BITS, Math.max(10, lg)) };
}

/** Finaliser of the context hash (FORMAT.md §5.5.1): 32 bits of `order`, `a` and `b`. */
export function hash(order: number, a: number, b: number): number {
  let x = (Math.imul(a, 0x9e3779b1) + Math.imul(b, 0x85ebca77) + Math.imul(order + 1, 0xc2b2ae3d)) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x2c1b3c6d) >>> 0;
  return (x ^ (x >>> 13)) >>> 0;
}

/** The initial row of an adaptive probability map: entry j is squash((j − 16) × 128) × 16. */
export const APM_ROW = Uint16Array.from({ length: 33 }, (_, j) => squash((j - 16) * 128) * 16);

/** 256 initial rows: one previous byte's block of the order-1 map. */
const APM_BLOCK = new Uint16Array(256 * 33);

/** Fills a map of 33-entry rows with APM_ROW (doubling copies: the order-1 map has 65536 rows). */
function fillRows(t: Uint16Array): void {
  t.set(APM_ROW, 0);
  for (let filled = 33; filled < t.length; filled *= 2) t.copyWithin(filled, 0, Math.min(filled, t.length - filled));
}

fillRows(APM_BLOCK);

/** A counter is p (16 bits, P(bit = 1)) << 16 | n (adaptation count). */
export const COUNTER_INIT = 0x8000 << 16;

/** Updates counter `t[i]` with bit `y`; its count saturates at `limit` (FORMAT.md §5.5.2). */
export function updateCounter(t: Uint32Array, i: number, y: number, limit: number): void {
  const v = t[i];
  const p = v >>> 16;
  const n = v & 0xffff;
  const target = y ? 65535 : 0;
  const np = p + (((target - p) * RECIPROCAL[n]) >> 15);
  t[i] = ((np << 16) | (n < limit ? n + 1 : n)) >>> 0;
}

function isWordByte(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c >= 128;
}

/** Model state of one chunk (FORMAT.md §5.5.2). */
class Model {
  readonly o0 = new Uint32Array(256).fill(COUNTER_INIT);
  /** Order-1 counters and the order-1 map, by previous byte: each byte's block is set to its initial values when that
   * byte first occurs (the same values as filling them all at the start, for a fraction of the work on short input). */
  readonly o1 = new Uint32Array(65536);
  readonly o1Ready = new Uint8Array(256);
  readonly buckets: Uint32Array;
  readonly bucketShift: number;
  readonly matchTable: Int32Array;
  readonly matchShift: number;
  readonly matchCounters = new Uint32Array(64).fill(COUNTER_INIT);
  /** Two mixers: weight sets selected by (match state, c0) and by (position mod 4, previous byte). */
  readonly weights = new Int32Array(1024 * BYTE_MODEL_INPUTS).fill(MIX_WEIGHT_INIT);
  readonly weights2 = new Int32Array(1024 * BYTE_MODEL_INPUTS).fill(MIX_WEIGHT_INIT);
  readonly apm1 = new Uint16Array(256 * 33);
  readonly apm2 = new Uint16Array(65536 * 33);
  readonly inputs = new Int32Array(BYTE_MODEL_INPUTS);
  /** Context hashes of the current byte, and the bucket (word offset) each hashed context uses for this nibble. */
  readonly hashes = new Uint32Array(BYTE_MODEL_HASHED);
  readonly slots = new Int32Array(BYTE_MODEL_HASHED);
  c0 = 1;
  bit = 0;
  pos = 0;
  c4 = 0;
  c8 = 0;
  word = 0;
  matchPtr = 0;
  matchLen = 0;
  /** Whether the match model predicts the current bit, and which bit. */
  matchBit = -1;
  set = 0;
  set2 = 0;
  mixRate = 0;
  pMix1 = 2048;
  pMix2 = 2048;
  apmIndex1 = 0;
  apmIndex2 = 0;

  constructor(readonly buf: Uint8Array, total: number) {
    const { bucketBits, matchBits } = byteModelSizes(total);
    this.buckets = new Uint32Array(16 << bucketBits);
    this.bucketShift = 32 - bucketBits;
    this.matchTable = new Int32Array(1 << matchBits);
    this.matchShift = 32 - matchBits;
    fillRows(this.apm1);
    this.byteStart(0);
  }

  /** Selects the bucket of each hashed context for the nibble that starts now (bit 0 or bit 4). */
  private selectBuckets(): void {
    for (let i = 0; i < BYTE_MODEL_HASHED; i++) {
      const h = this.bit === 0 ? this.hashes[i] : hash(8, this.hashes[i], this.c0);
      const b = (h >>> this.bucketShift) * 16;
      const tag = (h & 0xffff) | 0x10000;
      const t = this.buckets;
      if (t[b] !== tag) {
        t[b] = tag;
        for (let j = 1; j < 16; j++) t[b + j] = COUNTER_INIT;
      }
      this.slots[i] = b;
    }
  }

  /** Context updates once byte `pos − 1` is known (pos = bytes modelled so far). */
  byteStart(pos: number): void {
    const buf = this.buf;
    this.pos = pos;
    this.mixRate = MIX_RATE_MIN + Math.floor(MIX_RATE_START / (8 + (pos >>> 10)));
    if (pos > 0) {
      const c = buf[pos - 1];
      this.c8 = ((this.c8 << 8) | (this.c4 >>> 24)) >>> 0;
      this.c4 = ((this.c4 << 8) | c) >>> 0;
      this.word = isWordByte(c) ? Math.imul(this.word + (c | 32) + 1, 0x01000193) >>> 0 : 0;
      if (this.matchLen > 0) {
        if (buf[this.matchPtr] === c) {
          this.matchPtr++;
          if (this.matchLen < 65535) this.matchLen++;
        } else this.matchLen = 0;
      }
      if (pos >= MATCH_MIN) {
        const hm = hash(9, this.c4, this.c8 & 0xff) >>> this.matchShift;
        if (this.matchLen === 0) {
          const cand = this.matchTable[hm];
          if (cand > 0) {
            let len = 0;
            while (len < MATCH_VERIFY && len < cand && buf[cand - 1 - len] === buf[pos - 1 - len]) len++;
            if (len >= MATCH_MIN) {
              this.matchLen = len;
              this.matchPtr = cand;
            }
          }
        }
        this.matchTable[hm] = pos;
      }
    }
    const c4 = this.c4;
    const c1 = c4 & 0xff;
    if (!this.o1Ready[c1]) {
      this.o1Ready[c1] = 1;
      this.o1.fill(COUNTER_INIT, c1 << 8, (c1 + 1) << 8);
      this.apm2.set(APM_BLOCK, c1 * 256 * 33);
    }
    this.hashes[0] = hash(2, c4 & 0xffff, 0);
    this.hashes[1] = hash(3, c4 & 0xffffff, 0);
    this.hashes[2] = hash(4, c4, 0);
    this.hashes[3] = hash(6, c4, this.c8 & 0xffff);
    this.hashes[4] = hash(7, this.word, 0);
    this.hashes[5] = hash(10, c4 & 0xff, pos & 3);
    this.hashes[6] = hash(11, c4 >>> 24, pos & 3);
    this.c0 = 1;
    this.bit = 0;
    this.selectBuckets();
  }

  /** P(next bit = 1), 12 bits, 1 … 4095. */
  predict(): number {
    const c0 = this.c0;
    const x = this.inputs;
    const c1 = this.c4 & 0xff;
    x[0] = STRETCH[this.o0[c0] >>> 20];
    x[1] = STRETCH[this.o1[(c1 << 8) | c0] >>> 20];
    const node = this.bit < 4 ? c0 : (c0 & ((1 << (this.bit - 4)) - 1)) | (1 << (this.bit - 4));
    for (let i = 0; i < BYTE_MODEL_HASHED; i++) x[2 + i] = STRETCH[this.buckets[this.slots[i] + node] >>> 20];
    let mlb = 0;
    this.matchBit = -1;
    if (this.matchLen > 0) {
      const e = this.buf[this.matchPtr] | 256;
      if (e >>> (8 - this.bit) === c0) {
        this.matchBit = (e >>> (7 - this.bit)) & 1;
        const len = this.matchLen;
        mlb = len < 16 ? 1 : len < 32 ? 2 : 3;
        x[2 + BYTE_MODEL_HASHED] = STRETCH[this.matchCounters[(Math.min(len, 31) << 1) | this.matchBit] >>> 20];
      } else x[2 + BYTE_MODEL_HASHED] = 0;
    } else x[2 + BYTE_MODEL_HASHED] = 0;
    x[3 + BYTE_MODEL_HASHED] = 256;
    this.set = ((mlb << 8) | c0) * BYTE_MODEL_INPUTS;
    this.set2 = (((this.pos & 3) << 8) | c1) * BYTE_MODEL_INPUTS;
    const w = this.weights;
    const w2 = this.weights2;
    let dot = 0;
    let dot2 = 0;
    for (let i = 0; i < BYTE_MODEL_INPUTS; i++) {
      dot += w[this.set + i] * x[i];
      dot2 += w2[this.set2 + i] * x[i];
    }
    let d1 = Math.floor(dot / 65536);
    let d2 = Math.floor(dot2 / 65536);
    if (d1 > STRETCH_MAX) d1 = STRETCH_MAX;
    if (d1 < -STRETCH_MAX) d1 = -STRETCH_MAX;
    if (d2 > STRETCH_MAX) d2 = STRETCH_MAX;
    if (d2 < -STRETCH_MAX) d2 = -STRETCH_MAX;
    this.pMix1 = squash(d1);
    this.pMix2 = squash(d2);
    const p = squash((d1 + d2) >> 1);
    const s = STRETCH[p] + 2048;
    const lo = s >> 7;
    const wt = s & 127;
    this.apmIndex1 = c0 * 33 + lo + (wt >> 6);
    this.apmIndex2 = ((c1 << 8) | c0) * 33 + lo + (wt >> 6);
    const a1 = (this.apm1[c0 * 33 + lo] * (128 - wt) + this.apm1[c0 * 33 + lo + 1] * wt) >> 11;
    const b = ((c1 << 8) | c0) * 33 + lo;
    const a2 = (this.apm2[b] * (128 - wt) + this.apm2[b + 1] * wt) >> 11;
    let pf = (p + a1 + 2 * a2 + 2) >> 2;
    if (pf < 1) pf = 1;
    if (pf > 4095) pf = 4095;
    return pf;
  }

  /** Learns bit `y` and advances to the next bit. */
  update(y: number): void {
    const c0 = this.c0;
    const c1 = this.c4 & 0xff;
    const err = ((y << 12) - this.pMix1) * this.mixRate;
    const err2 = ((y << 12) - this.pMix2) * this.mixRate;
    const w = this.weights;
    const w2 = this.weights2;
    const x = this.inputs;
    for (let i = 0; i < BYTE_MODEL_INPUTS; i++) {
      let v = w[this.set + i] + ((x[i] * err) >> 14);
      if (v > MIX_WEIGHT_MAX) v = MIX_WEIGHT_MAX;
      if (v < -MIX_WEIGHT_MAX) v = -MIX_WEIGHT_MAX;
      w[this.set + i] = v;
      let v2 = w2[this.set2 + i] + ((x[i] * err2) >> 14);
      if (v2 > MIX_WEIGHT_MAX) v2 = MIX_WEIGHT_MAX;
      if (v2 < -MIX_WEIGHT_MAX) v2 = -MIX_WEIGHT_MAX;
      w2[this.set2 + i] = v2;
    }
    const target = y ? 65535 : 0;
    this.apm1[this.apmIndex1] += (target - this.apm1[this.apmIndex1]) >> APM_RATE;
    this.apm2[this.apmIndex2] += (target - this.apm2[this.apmIndex2]) >> APM_RATE;
    updateCounter(this.o0, c0, y, LIMIT_LOW);
    updateCounter(this.o1, (c1 << 8) | c0, y, LIMIT_LOW);
    const node = this.bit < 4 ? c0 : (c0 & ((1 << (this.bit - 4)) - 1)) | (1 << (this.bit - 4));
    for (let i = 0; i < BYTE_MODEL_HASHED; i++) updateCounter(this.buckets, this.slots[i] + node, y, LIMIT_HIGH);
    if (this.matchBit >= 0) {
      updateCounter(this.matchCounters, (Math.min(this.matchLen, 31) << 1) | this.matchBit, y, LIMIT_LOW);
      if (this.matchBit !== y) this.matchLen = 0;
    }
    this.c0 = (c0 << 1) | y;
    this.bit++;
    if (this.bit === 4) this.selectBuckets();
  }
}

/** Feeds `count` known bytes starting at `from` through the model without coding them. */
function learn(m: Model, from: number, count: number): void {
  const buf = m.buf;
  for (let i = from; i < from + count; i++) {
    const c = buf[i];
    for (let k = 7; k >= 0; k--) {
      m.predict();
      m.update((c >> k) & 1);
    }
    m.byteStart(i + 1);
  }
}

/**
 * Codes `data` with the byte model, after priming it with `primer` (FORMAT.md §5.5).
 * @param data the bytes to code (at most MAX_CHUNK_VALUES in a container)
 * @param primer bytes the decoder also knows (for example a generated safetensors header), or empty
 * @returns the coded stream
 */
export function encodeByteModel(data: Uint8Array, primer: Uint8Array = new Uint8Array(0)): Uint8Array {
  const total = primer.length + data.length;
  const buf = new Uint8Array(total);
  buf.set(primer, 0);
  buf.set(data, primer.length);
  const m = new Model(buf, total);
  learn(m, 0, primer.length);
  const coder = new BinaryEncoder(data.length + (data.length >> 3) + 16);
  for (let i = primer.length; i < total; i++) {
    const c = buf[i];
    for (let k = 7; k >= 0; k--) {
      const y = (c >> k) & 1;
      coder.encode(y, m.predict());
      m.update(y);
    }
    m.byteStart(i + 1);
  }
  return coder.finish();
}

/**
 * Decodes `n` bytes of a byte-model stream (FORMAT.md §5.5) into `out`.
 * @param stream the coded stream (exactly one chunk's)
 * @param n bytes to decode
 * @param primer the bytes the encoder primed the model with
 * @param out receives the n bytes
 * @throws CORRUPT_CHUNK (at `place.offset` plus the stream position) when the stream ends early, has bytes left
 *   over, or does not end in the state the encoder flushed
 */
export function decodeByteModel(stream: Uint8Array, n: number, primer: Uint8Array, out: Uint8Array, place: ErrorPlace = {}): void {
  const coder = new BinaryDecoder(stream, 'byte-model', `its ${n} bytes`, place);
  const total = primer.length + n;
  const buf = new Uint8Array(total);
  buf.set(primer, 0);
  const m = new Model(buf, total);
  learn(m, 0, primer.length);
  for (let i = primer.length; i < total; i++) {
    let c = 0;
    for (let k = 0; k < 8; k++) {
      const y = coder.decode(m.predict());
      m.update(y);
      c = (c << 1) | y;
    }
    buf[i] = c;
    m.byteStart(i + 1);
  }
  coder.finish();
  out.set(buf.subarray(primer.length), 0);
}
