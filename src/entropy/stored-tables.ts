// Plane tables of an index (FORMAT.md §5.2, §5.4) kept as their serialised bytes: a 12-bit rANS table is ~10 bytes in
// the index but 32 KiB as arrays, so an index reader keeps each table as a position in its copy of the index and
// builds the arrays on first use. Built arrays live in one cache of at most MAX_BUILT_TABLE_BYTES; an evicted table is
// rebuilt (identically) from its bytes when it is used again. Memory for an index thus stays proportional to its size.

import { ByteReader } from '../format/byte-cursor.js';
import { makeTable, readFreqs, type FreqTable } from './freq-table.js';
import { readHuffmanTable, type HuffmanTable } from './huffman.js';

/**
 * Bound on the bytes of built table arrays held at once, over every index read in this thread: enough for the tables
 * of many segments in use together (a 12-bit rANS table takes 32 KiB, a Huffman table 256 bytes).
 */
export const MAX_BUILT_TABLE_BYTES = 16 * 1024 * 1024;

/** A rANS table of an index: probBits at hand, freqs and cum built from the index bytes on first use. */
export class StoredFreqTable implements FreqTable {
  // Private fields: structured cloning drops them, so a table never drags its index copy into a worker message
  // (plainTable makes the form that travels).
  readonly #index: Uint8Array;
  readonly #at: number;
  readonly #symbolBits: number;
  #freqs: Uint32Array | undefined;
  #cum: Uint32Array | undefined;

  /**
   * @param index the bytes the table was read from (already checked there by checkFreqTable)
   * @param at the table's position in `index`
   */
  constructor(index: Uint8Array, at: number, symbolBits: number, readonly probBits: number) {
    this.#index = index;
    this.#at = at;
    this.#symbolBits = symbolBits;
  }

  get freqs(): Uint32Array {
    return this.build();
  }

  /** Built on first use apart from freqs: the WebAssembly decoder needs only the frequencies. */
  get cum(): Uint32Array {
    this.#cum ??= makeTable(this.probBits, this.build()).cum;
    return this.#cum;
  }

  private build(): Uint32Array {
    if (this.#freqs) return this.#freqs;
    const r = new ByteReader(this.#index, 0, undefined, 'CORRUPT_INDEX');
    r.pos = this.#at;
    const { freqs } = readFreqs(r, this.#symbolBits);
    this.#freqs = freqs;
    remember(this, 8 * freqs.length);
    return freqs;
  }

  /** Drops the built arrays (the cache evicted them). */
  forget(): void {
    this.#freqs = undefined;
    this.#cum = undefined;
  }
}

/** A Huffman table of an index: code lengths built from the index bytes on first use. */
export class StoredHuffmanTable implements HuffmanTable {
  readonly kind = 'huffman';
  readonly #index: Uint8Array;
  readonly #at: number;
  #built: Uint8Array | undefined;

  /** @param index the bytes the table was read from (already checked there by checkHuffmanTable); `at` its position */
  constructor(index: Uint8Array, at: number) {
    this.#index = index;
    this.#at = at;
  }

  get lengths(): Uint8Array {
    if (this.#built) return this.#built;
    const r = new ByteReader(this.#index, 0, undefined, 'CORRUPT_INDEX');
    r.pos = this.#at;
    this.#built = readHuffmanTable(r).lengths;
    remember(this, this.#built.length);
    return this.#built;
  }

  /** Drops the built lengths (the cache evicted them). */
  forget(): void {
    this.#built = undefined;
  }
}

/** Tables holding built arrays, oldest first from `builtHead` on, and their bytes in all. */
const builtTables: { table: StoredFreqTable | StoredHuffmanTable; bytes: number }[] = [];
let builtHead = 0;
let builtBytes = 0;

/** Records a table's new arrays, evicting the oldest (never the newest) beyond MAX_BUILT_TABLE_BYTES. */
function remember(table: StoredFreqTable | StoredHuffmanTable, bytes: number): void {
  builtTables.push({ table, bytes });
  builtBytes += bytes;
  while (builtBytes > MAX_BUILT_TABLE_BYTES && builtHead < builtTables.length - 1) {
    const old = builtTables[builtHead++];
    old.table.forget();
    builtBytes -= old.bytes;
  }
  // Drop the evicted entries once they are half the list: amortised O(1) per table.
  if (builtHead > 64 && builtHead * 2 > builtTables.length) {
    builtTables.splice(0, builtHead);
    builtHead = 0;
  }
}

/**
 * A table in a form that survives structured cloning (worker messages): a stored table's arrays copied into a plain
 * object; a plain table as it is.
 */
export function plainTable<T extends FreqTable | HuffmanTable | undefined>(t: T): T {
  if (t instanceof StoredFreqTable) return { probBits: t.probBits, freqs: t.freqs, cum: t.cum } as T;
  if (t instanceof StoredHuffmanTable) return { kind: 'huffman', lengths: t.lengths } as T;
  return t;
}
