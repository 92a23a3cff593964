// One chunk's bytes (FORMAT.md §6): [rANS stream: lane states + words, present iff any plane is rANS-coded]
// [a Huffman block per Huffman-coded plane (version 2), in plane order] [each raw plane, in plane order: n bytes, or
// for a head plane of b < 8 bits (version 4) ⌈n·b/8⌉ bytes packed LSB-first]. A chunk decodes on its own given its
// segment's coding.

import { makeError } from '../errors.js';
import { decodeRans, encodeRans, prepareDecodeTable, type DecodeTable } from './rans.js';
import type { FreqTable } from './freq-table.js';
import { buildHuffmanDecodeTable, decodeHuffmanBlock, encodeHuffmanBlock, type HuffmanDecodeTable, type HuffmanTable } from './huffman.js';
import { plainTable } from './stored-tables.js';
import { packBits, packedBytes, paddingBits, unpackBits } from '../transform/bit-pack.js';
import { depositLut, headBits, mergePlanes, planeBits, splitPlanes, type PlaneLayout } from '../transform/planes.js';
import type { TensorModelShape } from './tensor-model.js';

/** A coded plane's table: rANS frequencies (FORMAT.md §5.2) or, in version 2, a Huffman code (§5.4). */
export type PlaneTable = FreqTable | HuffmanTable;

/** Whether a plane's table is a Huffman code (else rANS). */
export function isHuffman(t: PlaneTable | undefined): t is HuffmanTable {
  return t !== undefined && (t as HuffmanTable).kind === 'huffman';
}

/**
 * A segment coded with the byte model (version 8, FORMAT.md §3.4 plane coding 3, §5.5): `primer` 0 (none) or 1 (the
 * member's safetensors header primer, §4.4); `primerBytes` holds that primer once known (readers fill it from the
 * member's labels, writers from the tensors they split).
 */
export interface ByteModelCoding {
  primer: number;
  primerBytes?: Uint8Array;
}

/**
 * A segment coded with the tensor model (version 10, FORMAT.md §3.4 plane coding 4, §5.6): every plane, jointly, one
 * stream per chunk. `rowValues` is the row length the model's "value above" context uses.
 */
export interface TensorModelCoding {
  rowValues: number;
}

/**
 * How a segment's planes are stored: each plane rANS- or Huffman-coded with its table, or raw (table undefined). With
 * `byteModel` (version 8) the segment's single 8-bit plane is coded with the byte model, with `tensorModel` (version
 * 10) all its planes with the tensor model; their tables are undefined, and only the coders that createChunkDecoder /
 * createChunkEncoder (src/wasm/chunk-engines.ts) return may code its chunks.
 */
export interface SegmentCoding {
  layout: PlaneLayout;
  tables: (PlaneTable | undefined)[];
  /** rANS lanes per chunk: a power of two, 1 to 32 (fewer only for small chunks, to save lane states). */
  lanes: number;
  byteModel?: ByteModelCoding;
  tensorModel?: TensorModelCoding;
}

/** `coding` in a form that survives structured cloning (worker messages): tables read from an index become plain arrays. */
export function plainCoding(coding: SegmentCoding): SegmentCoding {
  const plain: SegmentCoding = { layout: coding.layout, tables: coding.tables.map(plainTable), lanes: coding.lanes };
  if (coding.byteModel) plain.byteModel = { primer: coding.byteModel.primer, primerBytes: coding.byteModel.primerBytes };
  if (coding.tensorModel) plain.tensorModel = { rowValues: coding.tensorModel.rowValues };
  return plain;
}

/**
 * The tensor model's view of a layout (FORMAT.md §5.6.1): each plane's width and the head bits of each symbol of each
 * head plane (zero for byte planes).
 * @throws RangeError for a plane wider than 8 bits
 */
export function tensorModelShape(layout: PlaneLayout, rowValues: number): TensorModelShape {
  const H = headBits(layout.valueBytes);
  const widths = layout.planes.map(planeBits);
  if (widths.some((b) => b > 8)) throw new RangeError(`tensor model planes of ${widths.join(', ')} bits: at most 8 each`);
  const deposit = new Uint16Array(layout.planes.length * 256);
  layout.planes.forEach((p, k) => {
    if (p.kind === 'head') deposit.set(depositLut(p.ranges, H).subarray(0, 1 << widths[k]), k * 256);
  });
  return { widths, deposit, rowValues };
}

/** Interleaves `n` values' plane symbols value-major (plane k of value i at i × planes + k), as the tensor model takes them. */
export function interleavePlanes(planes: Uint16Array[], n: number, out: Uint8Array): void {
  const P = planes.length;
  for (let k = 0; k < P; k++) {
    const src = planes[k];
    for (let i = 0; i < n; i++) out[i * P + k] = src[i];
  }
}

/** The inverse of interleavePlanes. */
export function deinterleavePlanes(syms: Uint8Array, n: number, planes: Uint16Array[]): void {
  const P = planes.length;
  for (let k = 0; k < P; k++) {
    const dst = planes[k];
    for (let i = 0; i < n; i++) dst[i] = syms[i * P + k];
  }
}

/**
 * What checks a chunk (its chunk record, FORMAT.md §3.4): versions 1-3 the CRC-32C of its stored bytes; version 4 the
 * chunk digest (§7.5) of its decoded bytes, when `digest` is present (the CRC is then not used).
 */
export interface ChunkCheck {
  crc32c: number;
  digest?: bigint;
}

/** A coded chunk with its check: the CRC-32C of `bytes`, or (version 4) 0 and the digest of the values it codes. */
export interface EncodedChunk extends ChunkCheck {
  bytes: Uint8Array;
}

/** Working arrays reused across chunks of up to `maxValues` values. */
export class ChunkScratch {
  planes: Uint16Array[];
  heads: Uint16Array;
  constructor(readonly maxValues: number, planeCount: number) {
    this.planes = Array.from({ length: planeCount }, () => new Uint16Array(maxValues));
    this.heads = new Uint16Array(maxValues);
  }
}

/** Encodes `n` values held in `bytes` (n * valueBytes bytes) as one chunk. */
export function encodeChunk(bytes: Uint8Array, n: number, coding: SegmentCoding, scratch: ChunkScratch): Uint8Array {
  const { layout, tables } = coding;
  splitPlanes(bytes, n, layout, scratch.planes, scratch.heads);
  const codedPlanes: Uint16Array[] = [];
  const codedTables: FreqTable[] = [];
  const blocks: Uint8Array[] = [];
  let rawBytes = 0;
  tables.forEach((t, k) => {
    if (isHuffman(t)) blocks.push(encodeHuffmanBlock(scratch.planes[k], n, t));
    else if (t) {
      codedPlanes.push(scratch.planes[k]);
      codedTables.push(t);
    } else rawBytes += packedBytes(n, planeBits(layout.planes[k]));
  });
  const stream = codedPlanes.length > 0 ? encodeRans(codedPlanes, codedTables, n, coding.lanes) : new Uint8Array(0);
  const blockBytes = blocks.reduce((a, b) => a + b.length, 0);
  const out = new Uint8Array(stream.length + blockBytes + rawBytes);
  out.set(stream, 0);
  let o = stream.length;
  for (const b of blocks) {
    out.set(b, o);
    o += b.length;
  }
  tables.forEach((t, k) => {
    if (t) return;
    const src = scratch.planes[k];
    const bits = planeBits(layout.planes[k]);
    if (bits === 8) for (let i = 0; i < n; i++) out[o + i] = src[i];
    else packBits(src, n, bits, out, o);
    o += packedBytes(n, bits);
  });
  return out;
}

/** Decodes chunks of one segment; built once per segment so tables are prepared once. */
export class ChunkDecoder {
  private decodeTables: DecodeTable[] = [];
  private codedOut: Uint16Array[] = [];
  private huffman: { table: HuffmanDecodeTable; plane: number }[] = [];
  private rawPlaneIndex: number[] = [];
  /** Width in bits of each of rawPlaneIndex's planes: 8, or 1 to 8 for a head plane (packed below 8, version 4). */
  private rawBits: number[] = [];
  private scratch: ChunkScratch;

  constructor(private coding: SegmentCoding, maxValues: number) {
    this.scratch = new ChunkScratch(maxValues, coding.layout.planes.length);
    coding.tables.forEach((t, k) => {
      if (isHuffman(t)) this.huffman.push({ table: buildHuffmanDecodeTable(t), plane: k });
      else if (t) {
        this.decodeTables.push(prepareDecodeTable(t));
        this.codedOut.push(this.scratch.planes[k]);
      } else {
        this.rawPlaneIndex.push(k);
        this.rawBits.push(planeBits(coding.layout.planes[k]));
      }
    });
  }

  /**
   * Decodes one chunk of `n` values into `out` (n * valueBytes bytes).
   * @throws CORRUPT_CHUNK when the chunk's size, a packed raw plane's padding bits, rANS stream or Huffman blocks are
   *   inconsistent
   */
  decode(chunk: Uint8Array, n: number, out: Uint8Array, file: string | undefined, offset: number): void {
    const rawBytes = this.rawBits.reduce((a, b) => a + packedBytes(n, b), 0);
    // A segment's coded planes are all rANS or all Huffman (checked with the index): with Huffman planes, their
    // blocks fill the chunk up to the raw planes, each sized by its own header.
    const blocksEnd = chunk.length - rawBytes;
    const blockBytes = this.huffman.length > 0 ? blocksEnd : 0;
    const streamBytes = blocksEnd - blockBytes;
    const coded = this.decodeTables.length > 0;
    if (streamBytes < 0 || (!coded && streamBytes !== 0) || (coded && streamBytes < this.coding.lanes * 4)) {
      throw makeError('CORRUPT_CHUNK', `chunk of ${chunk.length} bytes cannot hold ${n} values in this layout`, { file, offset });
    }
    let o = blocksEnd;
    for (const bits of this.rawBits) {
      const size = packedBytes(n, bits);
      if (paddingBits(chunk, o, n, bits) !== 0) {
        throw makeError('CORRUPT_CHUNK', `raw ${bits}-bit plane of ${n} values: padding bits of its last byte are not zero`, { file, offset: offset + o + size - 1 });
      }
      o += size;
    }
    if (coded) decodeRans(chunk.subarray(0, streamBytes), n, this.decodeTables, this.codedOut, this.coding.lanes, { file, offset });
    let at = streamBytes;
    for (const h of this.huffman) at += decodeHuffmanBlock(chunk, at, blocksEnd, n, h.table, this.scratch.planes[h.plane], { file, offset });
    if (at !== blocksEnd) throw makeError('CORRUPT_CHUNK', `Huffman blocks end at byte ${at} of the chunk, the raw planes start at ${blocksEnd}`, { file, offset });
    o = blocksEnd;
    this.rawPlaneIndex.forEach((k, j) => {
      const dst = this.scratch.planes[k];
      const bits = this.rawBits[j];
      if (bits === 8) for (let i = 0; i < n; i++) dst[i] = chunk[o + i];
      else unpackBits(chunk, o, n, bits, dst);
      o += packedBytes(n, bits);
    });
    mergePlanes(this.scratch.planes, n, this.coding.layout, out, this.scratch.heads);
  }
}
