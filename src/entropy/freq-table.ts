// Static frequency tables for rANS (FORMAT.md §5.2): counts -> normalised frequencies summing to 2^probBits,
// their serialised form, and the slot -> symbol table a decoder uses. Deterministic: integer and IEEE-double
// arithmetic only, so every machine derives the same table from the same counts.

import { MAX_CODED_SYMBOL_BITS, MAX_PROB_BITS, MIN_PROB_BITS } from '../format/constants.js';
import type { ByteReader, ByteWriter } from '../format/byte-cursor.js';

/** A normalised table: freqs[s] > 0 for every symbol that occurs, sum(freqs) = 2^probBits. */
export interface FreqTable {
  probBits: number;
  /** Frequency of each symbol of the alphabet (length 2^symbolBits). */
  freqs: Uint32Array;
  /** cum[s] = sum of freqs[t] for t < s. */
  cum: Uint32Array;
}

/** Builds `cum` from `freqs`. */
export function makeTable(probBits: number, freqs: Uint32Array): FreqTable {
  const cum = new Uint32Array(freqs.length);
  let c = 0;
  for (let s = 0; s < freqs.length; s++) {
    cum[s] = c;
    c += freqs[s];
  }
  return { probBits, freqs, cum };
}

/**
 * Scales `counts` to frequencies that sum to 2^probBits, every present symbol at least 1,
 * greedily moving units where they cost the fewest coded bits.
 * @throws RangeError when more symbols occur than 2^probBits slots can hold.
 */
export function normalizeFrequencies(counts: ArrayLike<number>, probBits: number): FreqTable {
  const total = 1 << probBits;
  const n = counts.length;
  let sum = 0;
  let present = 0;
  for (let s = 0; s < n; s++) {
    if (counts[s] > 0) {
      sum += counts[s];
      present++;
    }
  }
  const freqs = new Uint32Array(n);
  if (present === 0) return makeTable(probBits, freqs);
  if (present > total) throw new RangeError(`${present} symbols do not fit ${total} slots`);
  const symbols: number[] = [];
  let assigned = 0;
  for (let s = 0; s < n; s++) {
    if (counts[s] > 0) {
      const f = Math.max(1, Math.floor((counts[s] * total) / sum));
      freqs[s] = f;
      assigned += f;
      symbols.push(s);
    }
  }
  // Fix the sum: each step moves one unit where the change in total coded length,
  // count * log2(f'/f), is best. Ties break on the lower symbol, so the result is deterministic.
  while (assigned !== total) {
    let best = -1;
    let bestGain = -Infinity;
    const up = assigned < total;
    for (const s of symbols) {
      const f = freqs[s];
      if (!up && f === 1) continue;
      const g = up ? counts[s] * Math.log2((f + 1) / f) : -counts[s] * Math.log2(f / (f - 1));
      if (g > bestGain) {
        bestGain = g;
        best = s;
      }
    }
    freqs[best] += up ? 1 : -1;
    assigned += up ? 1 : -1;
  }
  return makeTable(probBits, freqs);
}

/** Bits needed to code `counts` with `table` (excluding the table and lane states). */
export function codedBits(counts: ArrayLike<number>, table: FreqTable): number {
  let bits = 0;
  for (let s = 0; s < counts.length; s++) {
    if (counts[s] > 0) bits += counts[s] * (table.probBits - Math.log2(table.freqs[s]));
  }
  return bits;
}

function writeVarint(w: ByteWriter, v: number): void {
  while (v >= 0x80) {
    w.u8((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  w.u8(v);
}

function readVarint(r: ByteReader, what: string): number {
  let v = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    const b = r.u8(what);
    v |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return v >>> 0;
  }
  return r.fail(`${what}: varint longer than 4 bytes`);
}

/** Serialised size of a table in bytes (used when choosing a transform by total cost). */
export function tableBytes(table: FreqTable): number {
  let bytes = 3;
  let prev = -1;
  for (let s = 0; s < table.freqs.length; s++) {
    const f = table.freqs[s];
    if (f === 0) continue;
    bytes += varintBytes(s - prev - 1) + varintBytes(f - 1);
    prev = s;
  }
  return bytes;
}

function varintBytes(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : 4;
}

/** Writes a table: probBits u8, present-symbol count u16, then (symbol gap, freq - 1) varint pairs. */
export function writeFreqTable(w: ByteWriter, table: FreqTable): void {
  w.u8(table.probBits);
  let present = 0;
  for (let s = 0; s < table.freqs.length; s++) if (table.freqs[s] > 0) present++;
  w.u16(present);
  let prev = -1;
  for (let s = 0; s < table.freqs.length; s++) {
    const f = table.freqs[s];
    if (f === 0) continue;
    writeVarint(w, s - prev - 1);
    writeVarint(w, f - 1);
    prev = s;
  }
}

/**
 * Reads and validates a table for symbols of `symbolBits` bits: probBits in range, symbols
 * inside the alphabet, frequencies summing to exactly 2^probBits.
 */
export function readFreqTable(r: ByteReader, symbolBits: number): FreqTable {
  const at = r.pos;
  if (symbolBits < 1 || symbolBits > MAX_CODED_SYMBOL_BITS) r.fail(`coded plane of ${symbolBits} bits`);
  const probBits = r.u8('probBits');
  if (probBits < MIN_PROB_BITS || probBits > MAX_PROB_BITS) {
    r.fail(`probBits ${probBits} outside ${MIN_PROB_BITS}..${MAX_PROB_BITS}`, at);
  }
  const alphabet = 1 << symbolBits;
  const present = r.u16('present symbols');
  if (present < 1 || present > alphabet) r.fail(`table lists ${present} symbols, alphabet has ${alphabet}`, at);
  const freqs = new Uint32Array(alphabet);
  let s = -1;
  let sum = 0;
  for (let k = 0; k < present; k++) {
    s += readVarint(r, 'symbol gap') + 1;
    if (s >= alphabet) r.fail(`table symbol ${s} outside alphabet of ${alphabet}`);
    const f = readVarint(r, 'frequency') + 1;
    sum += f;
    if (sum > 1 << probBits) r.fail(`frequencies exceed 2^${probBits}`);
    freqs[s] = f;
  }
  if (sum !== 1 << probBits) r.fail(`frequencies sum to ${sum}, not 2^${probBits}`, at);
  return makeTable(probBits, freqs);
}

/** slot -> symbol table of 2^probBits entries, the decoder's lookup. */
export function buildSlotTable(table: FreqTable): Uint16Array {
  const slots = new Uint16Array(1 << table.probBits);
  for (let s = 0; s < table.freqs.length; s++) {
    const f = table.freqs[s];
    if (f > 0) slots.fill(s, table.cum[s], table.cum[s] + f);
  }
  return slots;
}
