// Interleaved static rANS over up to 32 lanes (FORMAT.md §5.3), after ryg_rans with lanes sharing one word stream.
// Invariants: every lane state x lies in [L, 2^32) between symbols (L = 2^16); decoding one symbol with
// probBits <= 16 leaves x >= 1, so at most one 16-bit word per symbol brings it back to [L, 2^32).
// Symbol order (normative), with K lanes: for step s, for coded plane p, for lane l: value i = K*s + l, if i < n.
// Decoders read words in that order; the encoder runs the exact reverse and so writes them back to front.

import { RANS_LANES, RANS_STATE_LOW } from '../format/constants.js';
import { makeError } from '../errors.js';
import { buildSlotTable, type FreqTable } from './freq-table.js';

/** Lane counts a stream may use: powers of two up to RANS_LANES (32). */
export function validLaneCount(lanes: number): boolean {
  return Number.isInteger(lanes) && lanes >= 1 && lanes <= RANS_LANES && (lanes & (lanes - 1)) === 0;
}

/**
 * Encodes `n` values' symbols, plane by plane, into one stream interleaved over `lanes` lanes:
 * the final lane states (u32 LE each) followed by the 16-bit renormalisation words (LE) in decode order.
 * @param planes one symbol array per coded plane, each of length >= n
 * @param tables the table of each plane; every symbol used must have freq > 0
 * @throws INPUT_CHANGED for a symbol of frequency 0 (the tables were counted from other bytes: the input changed)
 */
export function encodeRans(planes: Uint16Array[], tables: FreqTable[], n: number, lanes: number): Uint8Array {
  if (!validLaneCount(lanes)) throw new RangeError(`lane count ${lanes}`);
  const P = planes.length;
  const state = new Uint32Array(lanes).fill(RANS_STATE_LOW);
  // At most one word per symbol; words are produced last-first and reversed at the end.
  const words = new Uint16Array(n * P);
  let wn = 0;
  const steps = Math.ceil(n / lanes);
  // Per-plane renormalisation bounds: x must be < freq * 2^(32 - probBits) before coding a symbol.
  const bounds = tables.map((t) => {
    const b = new Float64Array(t.freqs.length);
    for (let s = 0; s < b.length; s++) b[s] = t.freqs[s] * 2 ** (32 - t.probBits);
    return b;
  });
  for (let s = steps - 1; s >= 0; s--) {
    const base = s * lanes;
    const active = Math.min(lanes, n - base);
    for (let p = P - 1; p >= 0; p--) {
      const t = tables[p];
      wn = encodeRound(planes[p], base, active, t.freqs, t.cum, bounds[p], 2 ** t.probBits, state, words, wn);
    }
  }
  const out = new Uint8Array(lanes * 4 + wn * 2);
  const dv = new DataView(out.buffer);
  for (let l = 0; l < lanes; l++) dv.setUint32(l * 4, state[l], true);
  for (let k = 0, o = lanes * 4; k < wn; k++, o += 2) {
    const w = words[wn - 1 - k];
    out[o] = w & 0xff;
    out[o + 1] = w >>> 8;
  }
  return out;
}

/** Codes one symbol per lane (lanes - 1 down to 0) of one plane; returns the new word count. */
function encodeRound(
  sym: Uint16Array,
  base: number,
  lanes: number,
  freqs: Uint32Array,
  cum: Uint32Array,
  bound: Float64Array,
  M: number,
  state: Uint32Array,
  words: Uint16Array,
  wn: number,
): number {
  for (let l = lanes - 1; l >= 0; l--) {
    const v = sym[base + l];
    const f = freqs[v];
    let x = state[l];
    if (x >= bound[v]) {
      if (f === 0) throw makeError('INPUT_CHANGED', `symbol ${v} has no frequency in the table counted from the input: the input changed between the encoder's passes`);
      words[wn++] = x & 0xffff;
      x >>>= 16;
    }
    const q = (x / f) >>> 0;
    state[l] = q * M + (x - q * f) + cum[v];
  }
  return wn;
}

/** A table prepared for decoding: the slot -> symbol lookup plus freq/cum. */
export interface DecodeTable {
  probBits: number;
  freqs: Uint32Array;
  cum: Uint32Array;
  slots: Uint16Array;
}

/** Prepares a decode table (once per tensor plane; shared by all its chunks). */
export function prepareDecodeTable(t: FreqTable): DecodeTable {
  return { probBits: t.probBits, freqs: t.freqs, cum: t.cum, slots: buildSlotTable(t) };
}

/** Decodes one symbol per lane (0 up to lanes - 1) of one plane; returns the new read position, or -1 if the words run out. */
function decodeRound(
  o: Uint16Array,
  base: number,
  lanes: number,
  freqs: Uint32Array,
  cum: Uint32Array,
  slots: Uint16Array,
  probBits: number,
  state: Uint32Array,
  stream: Uint8Array,
  wp: number,
  end: number,
): number {
  const mask = (1 << probBits) - 1;
  for (let l = 0; l < lanes; l++) {
    let x = state[l];
    const slot = x & mask;
    const v = slots[slot];
    x = freqs[v] * (x >>> probBits) + slot - cum[v];
    if (x < RANS_STATE_LOW) {
      if (wp >= end) return -1;
      x = ((x << 16) | stream[wp] | (stream[wp + 1] << 8)) >>> 0;
      wp += 2;
    }
    state[l] = x;
    o[base + l] = v;
  }
  return wp;
}

/** Where a stream sits, for error messages. */
export interface StreamPlace {
  file?: string;
  offset: number;
}

/**
 * Decodes `n` values' symbols from `stream` into `out[p]` (length >= n each).
 * Rejects the stream (CORRUPT_CHUNK) unless every initial state is in [L, 2^32), every needed word
 * exists, and at the end every lane is back at L with all words consumed.
 */
export function decodeRans(
  stream: Uint8Array,
  n: number,
  tables: DecodeTable[],
  out: Uint16Array[],
  lanes: number,
  place: StreamPlace,
): void {
  const fail = (problem: string, at: number): never => {
    throw makeError('CORRUPT_CHUNK', problem, { file: place.file, offset: place.offset + at });
  };
  const stateBytes = lanes * 4;
  if (stream.length < stateBytes || (stream.length - stateBytes) % 2 !== 0) {
    fail(`rANS stream of ${stream.length} bytes is not ${stateBytes} + 2k`, 0);
  }
  const dv = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const state = new Uint32Array(lanes);
  for (let l = 0; l < lanes; l++) {
    const x = dv.getUint32(l * 4, true);
    if (x < RANS_STATE_LOW) fail(`lane ${l} starts in state ${x} < 2^16`, l * 4);
    state[l] = x;
  }
  const end = stream.length;
  let wp = stateBytes;
  const P = tables.length;
  const steps = Math.ceil(n / lanes);
  for (let s = 0; s < steps; s++) {
    const base = s * lanes;
    const active = Math.min(lanes, n - base);
    for (let p = 0; p < P; p++) {
      const t = tables[p];
      wp = decodeRound(out[p], base, active, t.freqs, t.cum, t.slots, t.probBits, state, stream, wp, end);
      if (wp < 0) fail(`rANS stream ends early (step ${s}, plane ${p})`, end);
    }
  }
  if (wp !== end) fail(`${(end - wp) / 2} rANS words left unread`, wp);
  for (let l = 0; l < lanes; l++) {
    if (state[l] !== RANS_STATE_LOW) fail(`lane ${l} ends in state ${state[l]}, not 2^16`, l * 4);
  }
}

/**
 * decodeRans for one lane and one plane of byte symbols (a coded index, FORMAT.md §3.0), into bytes: the same
 * stream, checks and errors, in one loop without per-symbol calls or a 16-bit copy of the output.
 * @param table a table for symbols of at most 8 bits
 * @throws CORRUPT_CHUNK as decodeRans with lanes = 1
 */
export function decodeRansBytes(stream: Uint8Array, n: number, table: FreqTable, place: StreamPlace): Uint8Array {
  const fail = (problem: string, at: number): never => {
    throw makeError('CORRUPT_CHUNK', problem, { file: place.file, offset: place.offset + at });
  };
  if (table.freqs.length > 256) throw new RangeError(`decodeRansBytes takes byte symbols, not an alphabet of ${table.freqs.length}`);
  if (stream.length < 4 || (stream.length - 4) % 2 !== 0) fail(`rANS stream of ${stream.length} bytes is not 4 + 2k`, 0);
  let x = (stream[0] | (stream[1] << 8) | (stream[2] << 16) | (stream[3] << 24)) >>> 0;
  if (x < RANS_STATE_LOW) fail(`lane 0 starts in state ${x} < 2^16`, 0);
  const { probBits, freqs, cum } = table;
  const slots = buildSlotTable(table);
  const mask = (1 << probBits) - 1;
  const out = new Uint8Array(n);
  const end = stream.length;
  let wp = 4;
  // x stays below 2^32, so the product and sum are exact in 32-bit arithmetic (Math.imul, then >>> 0): the loop
  // runs on integers, not doubles.
  for (let i = 0; i < n; i++) {
    const slot = x & mask;
    const v = slots[slot];
    x = (Math.imul(freqs[v], x >>> probBits) + slot - cum[v]) >>> 0;
    if (x < RANS_STATE_LOW) {
      if (wp >= end) fail(`rANS stream ends early (step ${i}, plane 0)`, end);
      x = ((x << 16) | stream[wp] | (stream[wp + 1] << 8)) >>> 0;
      wp += 2;
    }
    out[i] = v;
  }
  if (wp !== end) fail(`${(end - wp) / 2} rANS words left unread`, wp);
  if (x !== RANS_STATE_LOW) fail(`lane 0 ends in state ${x}, not 2^16`, 0);
  return out;
}
