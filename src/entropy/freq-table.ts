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

/** The symbols with a non-zero count (ascending) and the counts' sum: what normalizeFrequencies needs at every precision. */
export interface OccurringSymbols {
  symbols: Uint32Array;
  sum: number;
}

/** Lists the occurring symbols of `counts` and sums their counts (in ascending symbol order, so the sum is reproducible). */
export function occurringSymbols(counts: ArrayLike<number>): OccurringSymbols {
  let k = 0;
  for (let s = 0; s < counts.length; s++) if (counts[s] > 0) k++;
  const symbols = new Uint32Array(k);
  let sum = 0;
  k = 0;
  for (let s = 0; s < counts.length; s++) {
    if (counts[s] > 0) {
      sum += counts[s];
      symbols[k++] = s;
    }
  }
  return { symbols, sum };
}

/**
 * Scales `counts` to frequencies that sum to 2^probBits, every present symbol at least 1,
 * greedily moving units where they cost the fewest coded bits.
 * @throws RangeError when more symbols occur than 2^probBits slots can hold.
 */
export function normalizeFrequencies(counts: ArrayLike<number>, probBits: number, occurring: OccurringSymbols = occurringSymbols(counts)): FreqTable {
  return makeTable(probBits, normalizedFreqs(counts, probBits, occurring));
}

/**
 * The frequencies of normalizeFrequencies without the cumulative table: what costing a precision needs (an encoder
 * tries several and builds a table only for the one it keeps).
 * @throws RangeError when more symbols occur than 2^probBits slots can hold.
 */
export function normalizedFreqs(counts: ArrayLike<number>, probBits: number, occurring: OccurringSymbols = occurringSymbols(counts)): Uint32Array {
  const total = 1 << probBits;
  const { symbols, sum } = occurring;
  const present = symbols.length;
  const freqs = new Uint32Array(counts.length);
  if (present === 0) return freqs;
  if (present > total) throw new RangeError(`${present} symbols do not fit ${total} slots`);
  let assigned = 0;
  for (const s of symbols) {
    const f = Math.max(1, Math.floor((counts[s] * total) / sum));
    freqs[s] = f;
    assigned += f;
  }
  // Fix the sum: each step moves one unit where the change in total coded length,
  // count * log2(f'/f), is best. Ties break on the lower symbol, so the result is deterministic.
  // The direction never changes (assigned moves monotonically towards total) and a step changes only the
  // chosen symbol's gain, so a heap ordered by (gain desc, symbol asc) picks exactly what a full scan would,
  // in O(log present) per step instead of O(present): tables of 4096-symbol planes need thousands of steps.
  const up = assigned < total;
  // log2((f + 1) / f) from a table of the same Math.log2 values (f / (f − 1) is (f′ + 1) / f′ for f′ = f − 1).
  const steps = logSteps(total + 1);
  const gain = (s: number): number => {
    const f = freqs[s];
    return up ? counts[s] * steps[f] : -counts[s] * steps[f - 1];
  };
  const heap = new GainHeap(symbols.length);
  for (const s of symbols) if (up || freqs[s] > 1) heap.add(s, gain(s));
  heap.heapify();
  while (assigned !== total) {
    const best = heap.pop();
    freqs[best] += up ? 1 : -1;
    assigned += up ? 1 : -1;
    if (up || freqs[best] > 1) heap.push(best, gain(best));
  }
  return freqs;
}

/** LOG_STEPS[f] = Math.log2((f + 1) / f) for f ≥ 1 (index 0 unused), grown as larger tables ask. */
let LOG_STEPS = new Float64Array(0);

function logSteps(upTo: number): Float64Array {
  if (LOG_STEPS.length <= upTo) {
    const t = new Float64Array(Math.max(upTo + 1, 2 * LOG_STEPS.length));
    t.set(LOG_STEPS);
    for (let f = Math.max(1, LOG_STEPS.length); f < t.length; f++) t[f] = Math.log2((f + 1) / f);
    LOG_STEPS = t;
  }
  return LOG_STEPS;
}

/**
 * A binary max-heap of symbols by (gain desc, symbol asc): the order of normalizeFrequencies' greedy choice. That order
 * is total (ties break on the symbol), so pop() returns the same symbol however the heap was built.
 */
class GainHeap {
  private sym: Int32Array;
  private gain: Float64Array;
  private size = 0;

  constructor(capacity: number) {
    this.sym = new Int32Array(capacity);
    this.gain = new Float64Array(capacity);
  }

  private before(a: number, b: number): boolean {
    const ga = this.gain[a];
    const gb = this.gain[b];
    return ga > gb || (ga === gb && this.sym[a] < this.sym[b]);
  }

  private swap(a: number, b: number): void {
    const s = this.sym[a];
    this.sym[a] = this.sym[b];
    this.sym[b] = s;
    const g = this.gain[a];
    this.gain[a] = this.gain[b];
    this.gain[b] = g;
  }

  /** Appends without ordering; heapify() orders everything added so far. */
  add(s: number, g: number): void {
    const i = this.size++;
    this.sym[i] = s;
    this.gain[i] = g;
  }

  /** Orders the heap in O(n): each parent, from the last to the root, sifted down. */
  heapify(): void {
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i, this.size);
  }

  private siftDown(i: number, size: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < size && this.before(l, m)) m = l;
      if (r < size && this.before(r, m)) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  push(s: number, g: number): void {
    let i = this.size++;
    this.sym[i] = s;
    this.gain[i] = g;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** Removes and returns the best symbol (the heap is never empty here: a sum short of or above 2^probBits always has a movable symbol). */
  pop(): number {
    const top = this.sym[0];
    const last = --this.size;
    this.swap(0, last);
    this.siftDown(0, last);
    return top;
  }
}

/** Bits needed to code `counts` with `table` (excluding the table and lane states). */
export function codedBits(counts: ArrayLike<number>, table: Pick<FreqTable, 'probBits' | 'freqs'>, occurring: OccurringSymbols = occurringSymbols(counts)): number {
  let bits = 0;
  for (const s of occurring.symbols) bits += counts[s] * (table.probBits - Math.log2(table.freqs[s]));
  return bits;
}

/** Writes `v` (< 2^28) as an unsigned LEB128 varint in its shortest form (FORMAT.md §5.2). */
export function writeVarint(w: ByteWriter, v: number): void {
  while (v >= 0x80) {
    w.u8((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  w.u8(v);
}

/**
 * Reads an unsigned LEB128 varint of at most 4 bytes (FORMAT.md §5.2).
 * @throws CORRUPT_INDEX (through `r`) for a longer one or one past the end
 */
export function readVarint(r: ByteReader, what: string): number {
  let v = 0;
  for (let shift = 0; shift < 28; shift += 7) {
    const b = r.u8(what);
    v |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return v >>> 0;
  }
  return r.fail(`${what}: varint longer than 4 bytes`);
}

/** Serialised size of a table in bytes (used when choosing a transform by total cost). */
export function tableBytes(table: Pick<FreqTable, 'probBits' | 'freqs'>, occurring?: OccurringSymbols): number {
  let bytes = 3;
  let prev = -1;
  if (occurring) {
    // The occurring symbols are exactly those with a non-zero frequency in a table normalised from them.
    for (const s of occurring.symbols) {
      bytes += varintBytes(s - prev - 1) + varintBytes(table.freqs[s] - 1);
      prev = s;
    }
    return bytes;
  }
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
 * @throws CORRUPT_INDEX (through `r`)
 */
export function readFreqTable(r: ByteReader, symbolBits: number): FreqTable {
  const { probBits, freqs } = readFreqs(r, symbolBits);
  return makeTable(probBits, freqs);
}

/**
 * readFreqTable without the cumulative array, for a decoder that builds its own slot table from the frequencies.
 * @throws CORRUPT_INDEX (through `r`)
 */
export function readFreqs(r: ByteReader, symbolBits: number): { probBits: number; freqs: Uint32Array } {
  const freqs = new Uint32Array(2 ** Math.min(Math.max(symbolBits, 0), MAX_CODED_SYMBOL_BITS));
  return { probBits: scanFreqTable(r, symbolBits, freqs), freqs };
}

/**
 * Checks a table as readFreqTable does and skips it, allocating nothing: an index reader validates every table up
 * front and builds the arrays (2 x 4 bytes per alphabet symbol) only when a chunk is decoded.
 * @returns the table's probBits
 * @throws CORRUPT_INDEX (through `r`)
 */
export function checkFreqTable(r: ByteReader, symbolBits: number): number {
  return scanFreqTable(r, symbolBits, undefined);
}

/** Reads and checks a table's fields, storing the frequencies in `freqs` (all zero, 2^symbolBits long) when given. */
function scanFreqTable(r: ByteReader, symbolBits: number, freqs: Uint32Array | undefined): number {
  const at = r.pos;
  if (symbolBits < 1 || symbolBits > MAX_CODED_SYMBOL_BITS) r.fail(`coded plane of ${symbolBits} bits`);
  const probBits = r.u8('probBits');
  if (probBits < MIN_PROB_BITS || probBits > MAX_PROB_BITS) {
    r.fail(`probBits ${probBits} outside ${MIN_PROB_BITS}..${MAX_PROB_BITS}`, at);
  }
  const alphabet = 1 << symbolBits;
  const present = r.u16('present symbols');
  if (present < 1 || present > alphabet) r.fail(`table lists ${present} symbols, alphabet has ${alphabet}`, at);
  let s = -1;
  let sum = 0;
  for (let k = 0; k < present; k++) {
    s += readVarint(r, 'symbol gap') + 1;
    if (s >= alphabet) r.fail(`table symbol ${s} outside alphabet of ${alphabet}`);
    const f = readVarint(r, 'frequency') + 1;
    sum += f;
    if (sum > 1 << probBits) r.fail(`frequencies exceed 2^${probBits}`);
    if (freqs) freqs[s] = f;
  }
  if (sum !== 1 << probBits) r.fail(`frequencies sum to ${sum}, not 2^${probBits}`, at);
  return probBits;
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
