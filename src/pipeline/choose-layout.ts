// Encoder-side choice of plane layout and coding (not normative; FORMAT.md §4.3 describes the reference choice):
// count symbols over the whole segment, cost every candidate layout exactly (coded bits + tables + lane
// states per chunk), keep the cheapest. Same counts give the same choice on every machine.

import { codedBits, makeTable, normalizedFreqs, occurringSymbols, tableBytes, type FreqTable, type OccurringSymbols } from '../entropy/freq-table.js';
import { FORMAT_VERSION_DIGESTS, FORMAT_VERSION_IDENTITY, HUFFMAN_STREAMS, MAX_CODED_SYMBOL_BITS, MAX_PROB_BITS, RANS_LANES } from '../format/constants.js';
import { isHuffman, type PlaneTable, type SegmentCoding } from '../entropy/chunk-codec.js';
import { huffmanCodedBits, huffmanLengths, huffmanTableBytes, type HuffmanTable } from '../entropy/huffman.js';
import { packedBytes } from '../transform/bit-pack.js';
import { headBits, planeBits, type BitRange, type PlaneLayout, type PlaneSpec } from '../transform/planes.js';

/** Symbol counts of one segment: a histogram of value heads plus one per byte below the head. */
export class SegmentStats {
  readonly head: Float64Array;
  readonly low: Float64Array[];
  values = 0;
  private pending = new Uint8Array(8);
  private pendingLen = 0;
  /**
   * Bit h of word h >> 5 is set where head[h] > 0: the heads that occur are listed, and their bins zeroed, in one
   * pass over 2^16 / 32 words instead of 2^16 bins (most segments have few distinct heads).
   */
  protected occupied: Uint32Array;

  constructor(readonly valueBytes: number) {
    this.head = new Float64Array(1 << headBits(valueBytes));
    this.occupied = new Uint32Array(this.head.length >>> 5);
    this.low = Array.from({ length: valueBytes - headBits(valueBytes) / 8 }, () => new Float64Array(256));
  }

  /** Counts the values in `bytes`; a value split across calls is carried over. */
  add(bytes: Uint8Array): void {
    this.present = undefined;
    const W = this.valueBytes;
    let i = 0;
    if (this.pendingLen > 0) {
      const take = Math.min(W - this.pendingLen, bytes.length);
      this.pending.set(bytes.subarray(0, take), this.pendingLen);
      this.pendingLen += take;
      i = take;
      if (this.pendingLen < W) return;
      this.countValues(this.pending, 0, W);
      this.pendingLen = 0;
    }
    const whole = i + Math.floor((bytes.length - i) / W) * W;
    this.countValues(bytes, i, whole);
    if (whole < bytes.length) {
      this.pending.set(bytes.subarray(whole), 0);
      this.pendingLen = bytes.length - whole;
    }
  }

  /** Every head that occurs, ascending (kept until the counts change: the layout choice and its estimate both ask). */
  presentHeads(): Uint32Array {
    if (this.present) return this.present;
    const words = this.occupied;
    let k = 0;
    for (let w = 0; w < words.length; w++) k += popCount(words[w]);
    const out = new Uint32Array(k);
    k = 0;
    for (let w = 0; w < words.length; w++) {
      for (let bits = words[w]; bits !== 0; bits &= bits - 1) out[k++] = (w << 5) | (31 - Math.clz32(bits & -bits));
    }
    return (this.present = out);
  }

  /** presentHeads()' result while the counts are unchanged; cleared by add() and reset(). */
  private present: Uint32Array | undefined;

  /** Empties the counts for the next segment of the same value width (cheaper than a new object for small segments). */
  reset(): void {
    this.present = undefined;
    const words = this.occupied;
    const head = this.head;
    for (let w = 0; w < words.length; w++) {
      for (let bits = words[w]; bits !== 0; bits &= bits - 1) head[(w << 5) | (31 - Math.clz32(bits & -bits))] = 0;
    }
    words.fill(0);
    for (const l of this.low) l.fill(0);
    this.values = 0;
    this.pendingLen = 0;
  }

  protected countValues(b: Uint8Array, from: number, to: number): void {
    const W = this.valueBytes;
    const head = this.head;
    const occupied = this.occupied;
    this.values += (to - from) / W;
    const step = W === 1 ? 1 : W;
    for (let j = from + (W === 1 ? 0 : W - 2); j < to; j += step) {
      const h = W === 1 ? b[j] : b[j] | (b[j + 1] << 8);
      if (head[h]++ === 0) occupied[h >>> 5] |= 1 << (h & 31);
    }
    if (W === 1) return;
    for (let k = 0; k < this.low.length; k++) {
      const h = this.low[k];
      for (let j = from + k; j < to; j += W) h[b[j]]++;
    }
  }
}

/** Set bits of a 32-bit word. */
function popCount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

const r = (lo: number, width: number): BitRange => ({ lo, width });
const headPlanes = (...planes: BitRange[][]): PlaneSpec[] => planes.map((ranges) => ({ kind: 'head', ranges }));

/** Candidate head splits for each dtype family (bit 15 = sign for floats). */
function headCandidates(dtype: string, valueBytes: number): PlaneSpec[][] {
  const bytesSplit = valueBytes === 1 ? headPlanes([r(0, 8)]) : headPlanes([r(8, 8)], [r(0, 8)]);
  switch (dtype) {
    case 'BF16':
    case 'F32': // the top 16 bits of an F32 are a BF16: sign, 8 exponent bits, 7 mantissa bits
      return [
        headPlanes([r(7, 8)], [r(15, 1), r(0, 7)]),
        headPlanes([r(7, 8), r(6, 1)], [r(15, 1), r(0, 6)]),
        headPlanes([r(7, 8), r(5, 2)], [r(15, 1), r(0, 5)]),
        headPlanes([r(7, 8), r(4, 3)], [r(15, 1), r(0, 4)]),
        bytesSplit,
      ];
    case 'F16': // sign, 5 exponent bits, 10 mantissa bits
      return [
        headPlanes([r(10, 5), r(7, 3)], [r(15, 1), r(0, 7)]),
        headPlanes([r(10, 5), r(5, 5)], [r(15, 1), r(0, 5)]),
        headPlanes([r(10, 5), r(3, 7)], [r(15, 1), r(0, 3)]),
        bytesSplit,
      ];
    case 'F64': // sign, 11 exponent bits, then the top 4 mantissa bits complete the head
      return [headPlanes([r(4, 11)], [r(15, 1), r(0, 4)]), headPlanes([r(4, 12)], [r(0, 4)]), bytesSplit];
    default:
      return [bytesSplit];
  }
}

/**
 * The version 4 candidate of each float dtype (FORMAT.md §4.3): a 10-bit head plane, rANS-coded, of the exponent and the
 * top mantissa bits, and a 6-bit head plane of the sign and the 5 low mantissa bits, stored raw and packed (§6). One
 * coded symbol per value instead of two: the WebAssembly decoder runs it about 1.7x as fast.
 */
function packedCandidate(dtype: string): PlaneSpec[] | undefined {
  switch (dtype) {
    case 'BF16':
    case 'F32':
      return headPlanes([r(7, 8), r(5, 2)], [r(15, 1), r(0, 5)]);
    case 'F16':
      return headPlanes([r(10, 5), r(5, 5)], [r(15, 1), r(0, 5)]);
    default:
      return undefined;
  }
}

/**
 * How much smaller, as a fraction of the segment's original bytes, another candidate must be for the encoder to prefer
 * it to the version 4 packed candidate. On the BF16 and F32 matrices measured (FORMAT.md §4.3) the packed candidate
 * is never more than 0.016 % larger than the best other one, so the margin keeps the fast layout on all of them; where
 * it loses more (tensors too small for its 10-bit table, F16 weights whose 10-bit plane has hundreds of symbols) the
 * smaller layout is kept.
 */
const PACKED_MARGIN = 0.0005;

/** Histogram of a head plane's symbols, derived from the head histogram (over the heads that occur); counted into
 * `into` (zeroed, 2^bits bins) where given. */
export function headPlaneCounts(head: Float64Array, present: Uint32Array, ranges: BitRange[], into?: Float64Array): Float64Array {
  const bits = ranges.reduce((a, x) => a + x.width, 0);
  const out = into ?? new Float64Array(1 << bits);
  // Every candidate plane has one or two ranges: those run without the inner loop (a third of the encoder's
  // per-tensor cost on files of small tensors).
  if (ranges.length === 1) {
    const lo = ranges[0].lo;
    const mask = (1 << ranges[0].width) - 1;
    for (let j = 0; j < present.length; j++) out[(present[j] >>> lo) & mask] += head[present[j]];
    return out;
  }
  if (ranges.length === 2) {
    const [a, b] = ranges;
    const maskA = (1 << a.width) - 1;
    const maskB = (1 << b.width) - 1;
    for (let j = 0; j < present.length; j++) {
      const h = present[j];
      out[(((h >>> a.lo) & maskA) << b.width) | ((h >>> b.lo) & maskB)] += head[h];
    }
    return out;
  }
  for (let j = 0; j < present.length; j++) {
    const h = present[j];
    let s = 0;
    for (const x of ranges) s = (s << x.width) | ((h >>> x.lo) & ((1 << x.width) - 1));
    out[s] += head[h];
  }
  return out;
}

/**
 * Head-plane histograms of one segment, each counted once: a plane whose bits are all bits of a plane counted already
 * is summed from that plane's histogram (at most 2^12 bins) instead of from the present heads (up to 2^16) where that
 * histogram has fewer bins than there are present heads, by mapping each of its symbols to the bits the new plane keeps. The sums are of the same integer counts, so every histogram
 * equals headPlaneCounts' exactly.
 */
export class PlaneCountCache {
  private counted: CountedPlane[] = [];
  constructor(private head: Float64Array, private present: Uint32Array) {}

  /**
   * Returns every histogram to the pool, zeroed at its occurring symbols: neither this cache nor a histogram it gave
   * out may be used afterwards (chooseCoding keeps none past its return).
   */
  release(): void {
    for (const p of this.counted) {
      const c = p.counts;
      if (!c) continue;
      const frozen = frozenPlanes.get(c);
      if (frozen) for (const s of frozen.occurring.symbols) c[s] = 0;
      else c.fill(0);
      frozenPlanes.delete(c);
      (countsPool[p.bits] ??= []).push(c);
    }
    this.counted = [];
  }

  /** headPlaneCounts(head, present, ranges). */
  of(ranges: BitRange[]): Float64Array {
    const planned = this.plan(ranges, this.counted);
    if (!planned.counts) this.fill([planned]);
    return planned.counts!;
  }

  /**
   * Counts every plane of `list` in this order, as of() one by one would, except that the planes counted from the
   * present heads are counted together, in one pass over them (each head's count read once, not once per plane).
   */
  ofAll(list: BitRange[][]): void {
    const planned: CountedPlane[] = [];
    for (const ranges of list) {
      const p = this.plan(ranges, [...this.counted, ...planned]);
      if (!p.counts && !planned.includes(p)) planned.push(p);
    }
    const direct = planned.filter((p) => !p.from);
    if (direct.length > 0) {
      for (const p of direct) p.counts = takeCounts(p.bits);
      countPlanes(this.head, this.present, direct);
      for (const p of direct) frozenPlanes.set(p.counts!, { occurring: occurringSymbols(p.counts!) });
    }
    this.fill(planned.filter((p) => p.from));
  }

  /** The plane of `ranges`: counted already, or to be summed from the smallest plane of `among` that holds its bits
   * and has fewer bins than there are present heads (summing visits bins; counting visits present heads), or else to
   * be counted from the present heads. A plane to count is appended to this.counted. */
  private plan(ranges: BitRange[], among: CountedPlane[]): CountedPlane {
    const key = rangesKey(ranges);
    let from: CountedPlane | undefined;
    for (const c of among) {
      if (c.key === key) return c;
      if (fieldsWithin(ranges, c.ranges) && (!from || c.bits < from.bits)) from = c;
    }
    const bits = ranges.reduce((a, x) => a + x.width, 0);
    const p: CountedPlane = { ranges, key, bits, from: from && (1 << from.bits) < this.present.length ? from : undefined };
    this.counted.push(p);
    return p;
  }

  /** Counts planned planes in order: each summed from its source, or counted from the present heads. */
  private fill(planes: CountedPlane[]): void {
    for (const p of planes) {
      p.counts = p.from ? derivedCounts(p.from.counts!, p.from.ranges, p.ranges, p.bits, takeCounts(p.bits)) : headPlaneCounts(this.head, this.present, p.ranges, takeCounts(p.bits));
      frozenPlanes.set(p.counts, { occurring: occurringSymbols(p.counts) });
    }
  }
}

/** Zeroed plane histograms of each width (index: bits), kept between segments: a 12-bit one is 32 KiB to allocate and zero. */
const countsPool: Float64Array[][] = [];

/** A zeroed histogram of 2^bits bins. */
const takeCounts = (bits: number): Float64Array => countsPool[bits]?.pop() ?? new Float64Array(1 << bits);

/** A plane histogram of PlaneCountCache: counted (counts set), or planned, from a source plane or the present heads. */
interface CountedPlane {
  ranges: BitRange[];
  key: string;
  bits: number;
  from?: CountedPlane;
  counts?: Float64Array;
}

/** headPlaneCounts of several planes in one pass over the present heads; each plane's counts are zero on entry. */
function countPlanes(head: Float64Array, present: Uint32Array, planes: CountedPlane[]): void {
  // Four planes a pass, each's symbol ((h >>> loA) & maskA) << widthB | ((h >>> loB) & maskB) (maskB = 0 for one
  // range); unused slots count into a scratch bin. Planes of more ranges are counted on their own.
  const fused = planes.filter((p) => p.ranges.length <= 2);
  for (const p of planes) if (p.ranges.length > 2) p.counts = headPlaneCounts(head, present, p.ranges);
  for (let at = 0; at < fused.length; at += 4) {
    const group = fused.slice(at, at + 4);
    const par = (k: number): [number, number, number, number, number, Float64Array] => {
      const p = group[k];
      if (!p) return [0, 0, 0, 0, 0, new Float64Array(1)];
      const [a, b] = p.ranges;
      return [a.lo, (1 << a.width) - 1, b ? b.width : 0, b ? b.lo : 0, b ? (1 << b.width) - 1 : 0, p.counts!];
    };
    const [a0, m0, w0, b0, n0, o0] = par(0);
    const [a1, m1, w1, b1, n1, o1] = par(1);
    const [a2, m2, w2, b2, n2, o2] = par(2);
    const [a3, m3, w3, b3, n3, o3] = par(3);
    for (let j = 0; j < present.length; j++) {
      const h = present[j];
      const c = head[h];
      o0[(((h >>> a0) & m0) << w0) | ((h >>> b0) & n0)] += c;
      o1[(((h >>> a1) & m1) << w1) | ((h >>> b1) & n1)] += c;
      o2[(((h >>> a2) & m2) << w2) | ((h >>> b2) & n2)] += c;
      o3[(((h >>> a3) & m3) << w3) | ((h >>> b3) & n3)] += c;
    }
  }
}

/**
 * The occurring symbols, and once asked for the coded lower bound (occurringLowerBound), of the histograms of
 * PlaneCountCache, which never change once counted: comparing candidates asks for each several times.
 */
const frozenPlanes = new WeakMap<Float64Array, { occurring: OccurringSymbols; bound?: number }>();

const occurringOf = (counts: Float64Array): OccurringSymbols => frozenPlanes.get(counts)?.occurring ?? occurringSymbols(counts);

const rangesKey = (ranges: BitRange[]): string => ranges.map((x) => `${x.lo}:${x.width}`).join(',');

/**
 * Where each field of `target` lies in a symbol of `source` (as shift and width within it), or undefined unless every
 * field lies within one field of `source`. A plane's symbol holds its fields in list order, the first most significant.
 */
function fieldsWithin(target: BitRange[], source: BitRange[]): { srcShift: number; width: number }[] | undefined {
  const at: { srcShift: number; width: number }[] = [];
  for (const t of target) {
    let below = source.reduce((a, x) => a + x.width, 0);
    let found: { srcShift: number; width: number } | undefined;
    for (const f of source) {
      below -= f.width;
      if (t.lo >= f.lo && t.lo + t.width <= f.lo + f.width) found = { srcShift: below + (t.lo - f.lo), width: t.width };
    }
    if (!found) return undefined;
    at.push(found);
  }
  return at;
}

/** The histogram of plane `target` summed from that of plane `source`, whose fields hold every bit of target's;
 * summed into `into` (zeroed, 2^bits bins) where given. */
function derivedCounts(counts: Float64Array, source: BitRange[], target: BitRange[], bits: number, into?: Float64Array): Float64Array {
  const at = fieldsWithin(target, source)!;
  const out = into ?? new Float64Array(1 << bits);
  for (let t = 0; t < counts.length; t++) {
    const c = counts[t];
    if (c === 0) continue;
    let s = 0;
    for (const f of at) s = (s << f.width) | ((t >>> f.srcShift) & ((1 << f.width) - 1));
    out[s] += c;
  }
  return out;
}

/**
 * Float dtypes whose first candidate is [exponent (+ mantissa bits) in 8 bits] + [sign and mantissa in 8 bits]: with
 * fastDecode the second plane is stored raw, so decoding costs one rANS symbol per value instead of two; with
 * huffman the first plane is Huffman-coded (format version 2): one table lookup per two or three values.
 */
const FAST_DECODE_DTYPES = new Set(['BF16', 'F32', 'F16']);

/** The largest table precision the reference encoder tries (the format allows up to MAX_PROB_BITS). */
const ENCODER_PROB_BITS = 12;

/** Tables live in the index, which is itself rANS-coded: there they take about this fraction of their serialised size. */
const TABLE_COST_IN_INDEX = 0.75;

/**
 * The cheapest way to store one plane of `values` symbols of `bits` bits: raw (8-bit planes only) or rANS with the best
 * table. With `exact`, every table precision from the smallest that holds the symbols up to ENCODER_PROB_BITS is
 * normalised and costed; otherwise the precisions are tried upwards until the cost has risen twice in a row (it falls
 * while finer frequencies save more coded bits than their table bytes cost, then rises: on small planes the first
 * precision or two are the cheapest, and the finer ones, the costliest to normalise, are skipped).
 */
export function bestPlaneCoding(counts: Float64Array, bits: number, values: number, exact = true): { bytes: number; table?: FreqTable } {
  // Listed once for the up to seven precisions tried (alphabets reach 4096 symbols; small tensors use few).
  const occurring = occurringOf(counts);
  const present = occurring.symbols.length;
  let best: { bytes: number; table?: FreqTable } = { bytes: bits === 8 ? values : Infinity };
  if (bits > MAX_CODED_SYMBOL_BITS) return best;
  // No table can beat raw bytes when the plane's entropy and least table already cost as much: the same choice as
  // costing every precision (most planes of tiny tensors), without normalising a table.
  if (bits === 8 && occurringLowerBound(counts, occurring) >= values) return best;
  const minBits = Math.max(8, Math.ceil(Math.log2(Math.max(present, 1))));
  // Prefer the smallest table precision within 0.01% of the best: smaller slot tables decode faster. At most
  // ENCODER_PROB_BITS: a decoder's table of 2^12 8-byte slot records stays in a 32 KiB L1 cache (kernel decode
  // ~10% faster than 2^14 slots), for ~0.03% of the output on real BF16 and F32 weights.
  const options: { bytes: number; probBits: number; freqs: Uint32Array }[] = [];
  let rises = 0;
  for (let pb = minBits; pb <= Math.min(MAX_PROB_BITS, Math.max(minBits, ENCODER_PROB_BITS)); pb++) {
    const t = { probBits: pb, freqs: normalizedFreqs(counts, pb, occurring) };
    options.push({ bytes: codedBits(counts, t, occurring) / 8 + TABLE_COST_IN_INDEX * tableBytes(t, occurring), ...t });
    const k = options.length - 1;
    rises = k > 0 && options[k].bytes > options[k - 1].bytes ? rises + 1 : 0;
    if (!exact && rises === 2) break;
  }
  const min = Math.min(...options.map((o) => o.bytes));
  const pick = options.find((o) => o.bytes <= min * 1.0001 + 1)!;
  if (pick.bytes < best.bytes) best = { bytes: pick.bytes, table: makeTable(pick.probBits, pick.freqs) };
  return best;
}

/** Fraction taken off a lower bound, so that rounding in its logarithms never lifts it above an exact cost. */
const BOUND_SLACK = 1e-9;

/**
 * A lower bound of bestPlaneCoding(counts, bits, values).bytes: the plane raw (8-bit planes), or its order-0 entropy
 * (no table's coded bits go below it: Gibbs' inequality) plus the bytes of a table that every precision shares:
 * header, symbol gaps, and at least one byte per frequency.
 */
function planeLowerBound(counts: Float64Array, bits: number, values: number): number {
  const raw = bits === 8 ? values : Infinity;
  if (bits > MAX_CODED_SYMBOL_BITS) return raw;
  const frozen = frozenPlanes.get(counts);
  if (!frozen) return Math.min(raw, occurringLowerBound(counts, occurringSymbols(counts)));
  frozen.bound ??= occurringLowerBound(counts, frozen.occurring);
  return Math.min(raw, frozen.bound);
}

/** planeLowerBound's coded part (a plane of at most MAX_CODED_SYMBOL_BITS bits) from its occurring symbols. */
function occurringLowerBound(counts: Float64Array, occurring: OccurringSymbols): number {
  const { symbols, sum } = occurring;
  let h = 0;
  let table = 3;
  let prev = -1;
  for (let k = 0; k < symbols.length; k++) {
    const s = symbols[k];
    const c = counts[s];
    h += c * Math.log2(sum / c);
    const gap = s - prev - 1;
    table += (gap < 0x80 ? 1 : gap < 0x4000 ? 2 : 3) + 1;
    prev = s;
  }
  return (h / 8 + TABLE_COST_IN_INDEX * table) * (1 - BOUND_SLACK);
}

/**
 * Chooses the layout and coding that store a segment in the fewest bytes.
 * @param dtype safetensors dtype (or 'bytes' for byte segments)
 * @param stats symbol counts over every value of the segment
 * @param chunkValues values per chunk (lane states cost 128 bytes per chunk with any coded plane)
 * @param exact cost every candidate layout with its built tables (the reference search, FORMAT.md §4.3); otherwise
 *   the layout is chosen from entropy estimates and only its tables are built
 * @param version the container version written: from FORMAT_VERSION_DIGESTS (4) float segments also have the packed
 *   candidate, preferred unless another is smaller by more than PACKED_MARGIN (with `fastDecode`, always)
 */
export function chooseCoding(
  dtype: string,
  stats: SegmentStats,
  chunkValues: number,
  fastDecode = false,
  forcedLanes?: number,
  huffman = false,
  exact = false,
  version = FORMAT_VERSION_IDENTITY,
): SegmentCoding {
  // Every candidate's head planes from one cache, whose histograms go back to the pool when the choice is made.
  const cache = new PlaneCountCache(stats.head, stats.presentHeads());
  try {
    return chooseWith(cache, dtype, stats, chunkValues, fastDecode, forcedLanes, huffman, exact, version);
  } finally {
    cache.release();
  }
}

/** chooseCoding with the plane histograms of `cache` (which counts from stats' head histogram). */
function chooseWith(
  cache: PlaneCountCache,
  dtype: string,
  stats: SegmentStats,
  chunkValues: number,
  fastDecode: boolean,
  forcedLanes: number | undefined,
  huffman: boolean,
  exact: boolean,
  version: number,
): SegmentCoding {
  const W = stats.valueBytes;
  const n = stats.values;
  const chunks = Math.max(1, Math.ceil(n / chunkValues));
  const lowPlanes: PlaneSpec[] = stats.low.map((_, k) => ({ kind: 'byte', byteIndex: k }));
  const raw: { bytes: number; table?: FreqTable } = { bytes: n };
  // fastDecode: at most one rANS symbol per float value (the exponent's plane); the other 8-bit planes stay raw.
  // huffman: the same layout with the exponent's plane Huffman-coded (format version 2).
  const fast = (fastDecode || huffman) && FAST_DECODE_DTYPES.has(dtype);
  const lowCodings = stats.low.map((c) => (fast ? raw : bestPlaneCoding(c, 8, n, exact)));
  // forcedLanes: the encoder's `lanes` option (32 with small chunks suits GPU decoders); else by chunk size.
  const lanes = forcedLanes ?? laneCount(Math.min(chunkValues, n), version);
  let best: { bytes: number; coding: SegmentCoding } | undefined;
  const lowBytes = lowCodings.reduce((a, c) => a + c.bytes, 0);
  let candidates = fast ? headCandidates(dtype, W).slice(0, 1) : headCandidates(dtype, W);
  // The widest planes first, so that narrower planes are summed from them.
  if (!fast) {
    const planes = headCandidates(dtype, W).flat().filter((p): p is Extract<PlaneSpec, { kind: 'head' }> => p.kind === 'head');
    cache.ofAll([...planes].sort((a, b) => planeBits(b) - planeBits(a)).filter((p) => planeBits(p) <= 12).map((p) => p.ranges));
  }
  let countsOf = (heads: PlaneSpec[]): Float64Array[] => heads.map((p) => cache.of(p.kind === 'head' ? p.ranges : []));
  // What another candidate must cost less than to replace the best so far: the packed candidate keeps its place
  // unless beaten by more than the margin.
  let margin = 0;
  const packed = version >= FORMAT_VERSION_DIGESTS && !huffman ? packedCandidate(dtype) : undefined;
  if (packed && !fast && !exact) {
    // Every plane raw is what a segment gets when nothing built beats it; where no layout's lower bound goes below the
    // raw bytes (most tiny tensors), that is decided without normalising a table.
    const rawBytes = n * W;
    const boundOf = (heads: PlaneSpec[]): number => lowBytes + countsOf(heads).reduce((a, c, k) => a + planeLowerBound(c, planeBits(heads[k]), n), 0);
    const packedBound = boundOf(packed.slice(0, 1)) + packedPlaneBytes(n, chunkValues, planeBits(packed[1])) + chunks * lanes * 4;
    if (packedBound >= rawBytes && candidates.every((heads) => boundOf(heads) >= rawBytes)) return rawCoding(W);
  }
  if (packed) {
    const [expCounts] = countsOf(packed.slice(0, 1));
    const codings = [bestPlaneCoding(expCounts, planeBits(packed[0]), n, exact), { bytes: packedPlaneBytes(n, chunkValues, planeBits(packed[1])) }, ...[...lowCodings].reverse()];
    const bytes = codings.reduce((a, c) => a + c.bytes, 0) + chunks * lanes * 4;
    const planes = [...packed, ...[...lowPlanes].reverse()];
    best = { bytes, coding: { layout: { valueBytes: W, planes }, tables: codings.map((c) => c.table), lanes } };
    margin = PACKED_MARGIN * n * W;
    if (fastDecode) candidates = [];
  }
  const bar = (): number => (best ? best.bytes - margin : Infinity);
  if (!fast && !exact && candidates.length > 1) {
    // Estimated choice: each candidate costed from its planes' entropies and table sizes (planeLowerBound), and only
    // the cheapest one's tables built. Table quantisation adds about the same few bytes to every candidate, so this
    // picks the exact search's layout on almost every segment, at a fraction of its work.
    let pick = 0;
    let pickCost = Infinity;
    let pickCounts: Float64Array[] = [];
    candidates.forEach((heads, c) => {
      const counts = countsOf(heads);
      const planeCosts = counts.map((cs, k) => planeLowerBound(cs, planeBits(heads[k]), n));
      const anyCoded = planeCosts.some((b, k) => b < (planeBits(heads[k]) === 8 ? n : Infinity)) || lowCodings.some((x) => x.table !== undefined);
      const cost = lowBytes + planeCosts.reduce((a, b) => a + b, 0) + (anyCoded ? chunks * lanes * 4 : 0);
      if (cost < pickCost) {
        pick = c;
        pickCost = cost;
        pickCounts = counts;
      }
    });
    // The packed candidate's exact cost is known: a pick whose lower bound cannot beat it by the margin is not built.
    candidates = pickCost >= bar() ? [] : [candidates[pick]];
    countsOf = () => pickCounts;
  }
  for (const heads of candidates) {
    // Most significant planes first: head planes, then the bytes below from high to low.
    const planes = [...heads, ...[...lowPlanes].reverse()];
    const headCounts = countsOf(heads);
    // Only a strictly smaller cost replaces the best, so a candidate whose lower bound reaches the best cost so far
    // cannot be chosen: its tables are not built (the same choice, at a fraction of the work on small tensors).
    if (best && !fast && lowBytes + headCounts.reduce((a, c, k) => a + planeLowerBound(c, planeBits(heads[k]), n), 0) >= bar()) continue;
    const codings: { bytes: number; table?: PlaneTable }[] = [
      ...heads.map((p, k) => {
        const counts = headCounts[k];
        if (fast && k > 0) return raw;
        return fast && huffman ? huffmanPlaneCoding(counts, n) : bestPlaneCoding(counts, planeBits(p), n, exact);
      }),
      ...[...lowCodings].reverse(),
    ];
    const anyRans = codings.some((c) => c.table && !isHuffman(c.table));
    const huffmanPlanes = codings.filter((c) => isHuffman(c.table)).length;
    const bytes = codings.reduce((a, c) => a + c.bytes, 0) + (anyRans ? chunks * lanes * 4 : 0) + chunks * huffmanPlanes * HUFFMAN_STREAMS * 4;
    if (!best || bytes < bar()) {
      // The lane count is unused without rANS planes: writers then write 1 (FORMAT.md §3.4).
      best = { bytes, coding: { layout: { valueBytes: W, planes }, tables: codings.map((c) => c.table), lanes: anyRans ? lanes : 1 } };
      margin = 0;
    }
  }
  // Storing every plane raw can beat coding a tiny segment once lane states are counted.
  if (best!.bytes >= n * W) return rawCoding(W);
  return best!.coding;
}

/** Bytes of a raw plane of `bits` bits over a segment of `values` values in chunks of `chunkValues`: each chunk's plane is packed on its own (FORMAT.md §6). */
export function packedPlaneBytes(values: number, chunkValues: number, bits: number): number {
  const full = Math.floor(values / chunkValues);
  return full * packedBytes(chunkValues, bits) + packedBytes(values - full * chunkValues, bits);
}

/**
 * An 8-bit plane Huffman-coded (FORMAT.md §5.4), or raw where that is no larger (or fewer than two symbols occur):
 * the `huffman` encoder option's coding of the exponent plane.
 */
function huffmanPlaneCoding(counts: Float64Array, values: number): { bytes: number; table?: HuffmanTable } {
  const raw = { bytes: values };
  let present = 0;
  for (const c of counts) if (c > 0) present++;
  if (present < 2) return raw;
  const lengths = huffmanLengths(counts);
  const bytes = huffmanCodedBits(counts, lengths) / 8 + TABLE_COST_IN_INDEX * huffmanTableBytes(lengths);
  return bytes < raw.bytes ? { bytes, table: { kind: 'huffman', lengths } } : raw;
}

/** Chunks of at least this many values always use all 32 lanes (lane states then cost under ~0.2%). */
const FULL_LANES_MIN_VALUES = 64 * 1024;
/**
 * Version 4: from this many values (lane states then cost under ~0.3% of a BF16 chunk), so that chunks of 32 Ki to
 * 64 Ki values take the full-width kernels instead of the 4-lane loop, which decodes them about 4x slower per byte.
 */
const FULL_LANES_MIN_VALUES_V4 = 32 * 1024;
/** Smaller chunks use one lane per this many values (at least one): their lane states would otherwise dominate. */
const SMALL_CHUNK_VALUES_PER_LANE = 8192;

/** Lanes for chunks of `chunkN` values: 32 for large chunks, a power of two by size for small ones (FORMAT.md §4.3). */
export function laneCount(chunkN: number, version = FORMAT_VERSION_IDENTITY): number {
  if (chunkN >= (version >= FORMAT_VERSION_DIGESTS ? FULL_LANES_MIN_VALUES_V4 : FULL_LANES_MIN_VALUES)) return RANS_LANES;
  let lanes = 1;
  while (lanes < RANS_LANES && lanes * 2 * SMALL_CHUNK_VALUES_PER_LANE <= chunkN) lanes *= 2;
  return lanes;
}

/** The layout used for zero-length segments and for storing without coding. */
export function rawCoding(valueBytes: number): SegmentCoding {
  const heads: PlaneSpec[] = valueBytes === 1 ? headPlanes([r(0, 8)]) : headPlanes([r(8, 8)], [r(0, 8)]);
  const low: PlaneSpec[] = Array.from({ length: valueBytes - headBits(valueBytes) / 8 }, (_, k) => ({ kind: 'byte', byteIndex: k }));
  const planes: PlaneLayout['planes'] = [...heads, ...low];
  return { layout: { valueBytes, planes }, tables: planes.map(() => undefined), lanes: 1 };
}
