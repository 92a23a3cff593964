// Canonical, length-limited Huffman coding of 8-bit planes (FORMAT.md §5.4, version 2): code lengths by
// package-merge (optimal for the length limit), the table's serialised form, and a chunk's block of
// HUFFMAN_STREAMS independent LSB-first bit streams. Huffman costs a little more than rANS (about 1.5% of the
// exponent plane of real BF16 weights) but decodes several symbols per table lookup, with no multiply.

import { makeError } from '../errors.js';
import { HUFFMAN_MAX_BITS, HUFFMAN_STREAMS } from '../format/constants.js';
import type { ByteReader, ByteWriter } from '../format/byte-cursor.js';
import { readVarint, writeVarint } from './freq-table.js';

/** A Huffman-coded plane's code: lengths[s] bits for symbol s (0 = cannot occur); at least two symbols, a complete code. */
export interface HuffmanTable {
  kind: 'huffman';
  /** 256 code lengths, 0 or 1 … HUFFMAN_MAX_BITS. */
  lengths: Uint8Array;
}

/** Bits and symbol of each HUFFMAN_MAX_BITS-bit window (LSB first): symbol | length << 8. */
export type HuffmanDecodeTable = Uint16Array;

/**
 * Optimal code lengths of at most `maxBits` for the symbols with a non-zero count (package-merge). Deterministic:
 * ties between equal weights go to the lower symbol, packages after leaves.
 * @throws RangeError unless 2 … 2^maxBits symbols occur
 */
export function huffmanLengths(counts: ArrayLike<number>, maxBits = HUFFMAN_MAX_BITS): Uint8Array {
  const leaves: { w: number; syms: number[] }[] = [];
  for (let s = 0; s < counts.length; s++) if (counts[s] > 0) leaves.push({ w: counts[s], syms: [s] });
  const n = leaves.length;
  if (n < 2 || n > 2 ** maxBits) throw new RangeError(`${n} symbols cannot take a Huffman code of at most ${maxBits} bits`);
  leaves.sort((a, b) => a.w - b.w || a.syms[0] - b.syms[0]);
  let list = leaves;
  for (let level = 1; level < maxBits; level++) {
    const packages: { w: number; syms: number[] }[] = [];
    for (let i = 0; i + 1 < list.length; i += 2) packages.push({ w: list[i].w + list[i + 1].w, syms: list[i].syms.concat(list[i + 1].syms) });
    const merged: { w: number; syms: number[] }[] = [];
    let a = 0;
    let b = 0;
    while (a < leaves.length || b < packages.length) {
      if (b >= packages.length || (a < leaves.length && leaves[a].w <= packages[b].w)) merged.push(leaves[a++]);
      else merged.push(packages[b++]);
    }
    list = merged;
  }
  const lengths = new Uint8Array(counts.length);
  for (let i = 0; i < 2 * n - 2; i++) for (const s of list[i].syms) lengths[s]++;
  return lengths;
}

/** Coded size in bits of `counts` with `lengths`. */
export function huffmanCodedBits(counts: ArrayLike<number>, lengths: Uint8Array): number {
  let bits = 0;
  for (let s = 0; s < counts.length; s++) if (counts[s] > 0) bits += counts[s] * lengths[s];
  return bits;
}

/** Serialised size of a table (u16 count, then a varint gap and a u8 length per symbol). */
export function huffmanTableBytes(lengths: Uint8Array): number {
  let bytes = 2;
  let prev = -1;
  for (let s = 0; s < lengths.length; s++) {
    if (lengths[s] === 0) continue;
    bytes += (s - prev - 1 < 0x80 ? 1 : 2) + 1;
    prev = s;
  }
  return bytes;
}

/** Canonical codes (FORMAT.md §5.4): by length, then symbol; each stored bit-reversed, as LSB-first streams read it. */
export function huffmanCodes(lengths: Uint8Array): Uint16Array {
  const codes = new Uint16Array(lengths.length);
  let code = 0;
  for (let len = 1; len <= HUFFMAN_MAX_BITS; len++) {
    for (let s = 0; s < lengths.length; s++) {
      if (lengths[s] !== len) continue;
      let rev = 0;
      for (let k = 0; k < len; k++) rev |= ((code >>> k) & 1) << (len - 1 - k);
      codes[s] = rev;
      code++;
    }
    code <<= 1;
  }
  return codes;
}

/** Writes a table: u16 symbol count, then per symbol in increasing order a varint gap (§5.2) and a u8 code length. */
export function writeHuffmanTable(w: ByteWriter, t: HuffmanTable): void {
  let present = 0;
  for (const l of t.lengths) if (l > 0) present++;
  w.u16(present);
  let prev = -1;
  for (let s = 0; s < t.lengths.length; s++) {
    if (t.lengths[s] === 0) continue;
    writeVarint(w, s - prev - 1);
    w.u8(t.lengths[s]);
    prev = s;
  }
}

/**
 * Reads and validates a table for an 8-bit plane: 2 … 256 symbols, each inside the alphabet, lengths 1 … HUFFMAN_MAX_BITS,
 * and a complete code (Kraft sum exactly 1), so that every bit pattern decodes to exactly one symbol.
 * @throws CORRUPT_INDEX (through `r`)
 */
export function readHuffmanTable(r: ByteReader): HuffmanTable {
  const lengths = new Uint8Array(256);
  scanHuffmanTable(r, lengths);
  return { kind: 'huffman', lengths };
}

/** Checks a table as readHuffmanTable does and skips it, allocating nothing (see checkFreqTable). @throws CORRUPT_INDEX (through `r`) */
export function checkHuffmanTable(r: ByteReader): void {
  scanHuffmanTable(r, undefined);
}

/** Reads and checks a table's fields, storing the code lengths in `lengths` (all zero, 256 long) when given. */
function scanHuffmanTable(r: ByteReader, lengths: Uint8Array | undefined): void {
  const at = r.pos;
  const present = r.u16('Huffman symbol count');
  if (present < 2 || present > 256) r.fail(`Huffman table lists ${present} symbols, not 2..256`, at);
  let s = -1;
  let kraft = 0;
  for (let k = 0; k < present; k++) {
    s += readVarint(r, 'symbol gap') + 1;
    if (s > 255) r.fail(`Huffman symbol ${s} outside the 8-bit alphabet`);
    const len = r.u8('code length');
    if (len < 1 || len > HUFFMAN_MAX_BITS) r.fail(`code length ${len} outside 1..${HUFFMAN_MAX_BITS}`);
    if (lengths) lengths[s] = len;
    kraft += 1 << (HUFFMAN_MAX_BITS - len);
  }
  if (kraft !== 1 << HUFFMAN_MAX_BITS) r.fail(`Huffman code lengths are not a complete code (Kraft sum ${kraft} / 2^${HUFFMAN_MAX_BITS})`, at);
}

/** The single-symbol lookup table: entry v (the next HUFFMAN_MAX_BITS stream bits) = symbol | length << 8. */
export function buildHuffmanDecodeTable(t: HuffmanTable): HuffmanDecodeTable {
  const table = new Uint16Array(1 << HUFFMAN_MAX_BITS);
  const codes = huffmanCodes(t.lengths);
  for (let s = 0; s < 256; s++) {
    const len = t.lengths[s];
    if (len === 0) continue;
    for (let v = codes[s]; v < table.length; v += 1 << len) table[v] = s | (len << 8);
  }
  return table;
}

/** Values per stream of a block of `n` symbols: stream k holds symbols k·q … min(n, (k+1)·q) − 1. */
export function huffmanStreamSymbols(n: number): number {
  return Math.ceil(n / HUFFMAN_STREAMS);
}

/**
 * Encodes `n` symbols (each < 256, all with a code) as a block: HUFFMAN_STREAMS u32 stream sizes, then the streams.
 * Each stream packs its symbols' codes LSB first, the last byte padded with zero bits.
 * @throws INPUT_CHANGED for a symbol without a code (the table was made from other bytes: the input changed)
 */
export function encodeHuffmanBlock(symbols: ArrayLike<number>, n: number, t: HuffmanTable): Uint8Array {
  const codes = huffmanCodes(t.lengths);
  const q = huffmanStreamSymbols(n);
  let bits = 0;
  for (let i = 0; i < n; i++) {
    const len = t.lengths[symbols[i]];
    if (len === 0) throw makeError('INPUT_CHANGED', `symbol ${symbols[i]} at ${i} has no code in the Huffman table made from the input: the input changed between the encoder's passes`);
    bits += len;
  }
  const out = new Uint8Array(4 * HUFFMAN_STREAMS + Math.ceil(bits / 8) + HUFFMAN_STREAMS);
  const dv = new DataView(out.buffer);
  let o = 4 * HUFFMAN_STREAMS;
  for (let k = 0; k < HUFFMAN_STREAMS; k++) {
    const start = o;
    let acc = 0;
    let have = 0;
    for (let i = k * q; i < Math.min(n, (k + 1) * q); i++) {
      const s = symbols[i];
      acc |= codes[s] << have;
      have += t.lengths[s];
      while (have >= 8) {
        out[o++] = acc & 0xff;
        acc >>>= 8;
        have -= 8;
      }
    }
    if (have > 0) out[o++] = acc & 0xff;
    dv.setUint32(4 * k, o - start, true);
  }
  return out.subarray(0, o);
}

/**
 * Decodes a block of `n` symbols at `chunk[at]` into `out` (the reference decoder: one symbol per lookup, every
 * read checked). Each stream MUST decode exactly its symbols within its size, end in its last byte, and pad with zeros.
 * @returns the block's size in bytes
 * @throws CORRUPT_CHUNK
 */
export function decodeHuffmanBlock(chunk: Uint8Array, at: number, end: number, n: number, table: HuffmanDecodeTable, out: Uint16Array, where: { file?: string; offset: number }): number {
  const bad = (problem: string): never => {
    throw makeError('CORRUPT_CHUNK', `Huffman block: ${problem}`, { file: where.file, offset: where.offset });
  };
  if (end - at < 4 * HUFFMAN_STREAMS) bad(`${end - at} bytes cannot hold the ${HUFFMAN_STREAMS} stream sizes`);
  const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const q = huffmanStreamSymbols(n);
  let p = at + 4 * HUFFMAN_STREAMS;
  const mask = (1 << HUFFMAN_MAX_BITS) - 1;
  for (let k = 0; k < HUFFMAN_STREAMS; k++) {
    const size = dv.getUint32(at + 4 * k, true);
    if (size > end - p) bad(`stream ${k} of ${size} bytes passes the chunk's end`);
    const stop = p + size;
    let bit = 0;
    for (let i = k * q; i < Math.min(n, (k + 1) * q); i++) {
      // The next HUFFMAN_MAX_BITS bits, zeros past the stream's end (a code that needs them fails the check below).
      const byte = p + (bit >>> 3);
      let w = 0;
      for (let b = 0; b < 3; b++) if (byte + b < stop) w |= chunk[byte + b] << (8 * b);
      const e = table[(w >>> (bit & 7)) & mask];
      bit += e >>> 8;
      if (bit > size * 8) bad(`stream ${k} ends inside symbol ${i}`);
      out[i] = e & 0xff;
    }
    if (Math.ceil(bit / 8) !== size) bad(`stream ${k} holds ${size} bytes, its symbols take ${bit} bits`);
    if (bit & 7 && chunk[stop - 1] >>> (bit & 7) !== 0) bad(`stream ${k} pads its last byte with non-zero bits`);
    p = stop;
  }
  return p - at;
}

/**
 * The multi-symbol lookup table of the WebAssembly decoder: entry v (the next HUFFMAN_MAX_BITS bits) holds the symbols
 * whose codes lie whole in those bits, up to three: sym0 | sym1 << 8 | sym2 << 16 | count << 24 | bits << 28.
 */
export function buildHuffmanMultiTable(t: HuffmanTable): Uint32Array {
  const single = buildHuffmanDecodeTable(t);
  const mask = (1 << HUFFMAN_MAX_BITS) - 1;
  const multi = new Uint32Array(1 << HUFFMAN_MAX_BITS);
  for (let v = 0; v < multi.length; v++) {
    let used = 0;
    let count = 0;
    let syms = 0;
    while (count < 3) {
      const e = single[(v >>> used) & mask];
      if (used + (e >>> 8) > HUFFMAN_MAX_BITS) break; // the next code runs past the window: not known yet
      syms |= (e & 0xff) << (8 * count);
      used += e >>> 8;
      count++;
    }
    multi[v] = (syms | (count << 24) | (used << 28)) >>> 0;
  }
  return multi;
}

/**
 * Readable bytes a decoder keeps after a chunk with Huffman blocks of `n` symbols: a corrupt stream advances at most
 * HUFFMAN_MAX_BITS bits per symbol before its end is checked, and every read takes 8 bytes.
 */
export function huffmanPad(n: number): number {
  return Math.ceil((huffmanStreamSymbols(n) * HUFFMAN_MAX_BITS) / 8) + 16;
}

/** The WebAssembly encoder's code table: 256 u32 entries, the bit-reversed code | length << 16 (0 for no code). */
export function buildHuffmanEncodeTable(t: HuffmanTable): Uint32Array {
  const codes = huffmanCodes(t.lengths);
  const out = new Uint32Array(256);
  for (let s = 0; s < 256; s++) out[s] = t.lengths[s] > 0 ? (codes[s] | (t.lengths[s] << 16)) >>> 0 : 0;
  return out;
}
