// Chunk decoding (FORMAT.md §6) on the WebAssembly kernels: CRC-32C, rANS with the plane merge fused in, raw
// planes (packed below 8 bits), and one fused kernel for the version 4 float layout. Accepts exactly what the
// TypeScript ChunkDecoder accepts: on any failure the kernel only reports that the stream is bad, and the reference
// decoder is run on the same chunk to raise its exact error.

import { ChunkDecoder, isHuffman, type ChunkCheck, type SegmentCoding } from '../entropy/chunk-codec.js';
import { buildHuffmanDecodeTable, buildHuffmanMultiTable, huffmanPad } from '../entropy/huffman.js';
import { RANS_LANES } from '../format/constants.js';
import { packedBytes, paddingBits } from '../transform/bit-pack.js';
import { depositLut, headBits, planeBits, type PlaneLayout, type PlaneSpec } from '../transform/planes.js';
import { KernelBlocks, STATE_BYTES } from './kernel-blocks.js';
import type { Kernels } from './kernels.js';
import { chunkDigestInKernel } from './kernel-digest.js';

/** Bytes of one slot record of a decode table (src/wasm/assembly/rans-decode.ts buildDecodeTable): entry, output, padding. */
const SLOT_BYTES = 8;

/**
 * Bytes kept readable after a chunk: one round of 32 lanes (64 bytes) plus one 8-byte word load may pass the stream's
 * end before the check, and the unpacking of a packed raw plane reads up to 7 bytes past it.
 */
const DECODE_PAD = 80;

/** Decodes the chunks of one segment; owns kernel memory until dispose(). */
export class WasmChunkDecoder {
  private readonly mem: KernelBlocks;
  private desc = 0;
  private coded = 0;
  /**
   * Planes whose symbols are bytes in memory before the merge, in plane order: raw planes and Huffman-coded planes
   * (decoded first). Each is a pointer to the plane's bit ranges (head plane, see depositRaw) or -1 - byteIndex (byte plane).
   */
  private raw: number[] = [];
  /** Width in bits of each of `raw`: 8, or 1 to 7 for a packed raw head plane (version 4). */
  private rawBits: number[] = [];
  /** Where each of `raw` comes from: -1 - j for the chunk's j-th raw plane, or h for the output of Huffman block h. */
  private rawSource: number[] = [];
  /** Width in bits of each raw plane stored in the chunk, in chunk order. */
  private chunkRawBits: number[] = [];
  /** Start of each raw plane of the chunk being decoded, from the start of the chunk. */
  private chunkRawAt: number[] = [];
  /**
   * The version 4 float layout on 32 lanes (one coded head plane, the packed 6-bit sign and low mantissa plane, for
   * W = 4 the raw byte planes 1 and 0), decoded by one fused kernel: the sign plane's position in `raw`, or undefined.
   */
  private readonly signPlane: number | undefined;
  /** Per Huffman-coded plane, in plane order: its multi-symbol and single-symbol lookup tables in kernel memory. */
  private huffman: { multi: number; single: number }[] = [];
  /** When exactly two planes are raw head planes of at most two ranges each: their positions in `raw` (one merge pass). */
  private readonly headPair: [number, number] | undefined;
  /** Whether headPair is the exponent | sign+mantissa split of the fast layouts (merged with constant shifts). */
  private readonly expSign: boolean;
  /** Where Huffman blocks decode to: maxValues bytes per Huffman-coded plane. */
  private huffOutPtr = 0;
  /** Bit ranges per raw head plane, by its pointer in `raw`. */
  private rangeCounts = new Map<number, number>();
  private reference: ChunkDecoder | undefined;
  private inPtr = 0;
  private inCap = 0;
  private headsPtr = 0;
  private outPtr = 0;
  private statePtr = 0;
  private readonly W: number;
  /** F32-shaped layouts (bytes 1 and 0 both raw) merge with one SIMD pass: their positions among the raw planes, or undefined. */
  private readonly w4Raw: [number, number] | undefined;

  constructor(private kernels: Kernels, private coding: SegmentCoding, private maxValues: number) {
    this.mem = new KernelBlocks(kernels);
    const { layout, tables } = coding;
    const W = (this.W = layout.valueBytes);
    const H = headBits(W);
    const descs: number[] = [];
    const planeOfRaw: number[] = [];
    layout.planes.forEach((p, k) => {
      const t = tables[k];
      if (!t || isHuffman(t)) planeOfRaw.push(k);
      if (isHuffman(t)) {
        this.rawSource.push(this.huffman.length);
        this.huffman.push({
          multi: this.mem.keep(new Uint8Array(buildHuffmanMultiTable(t).buffer)),
          single: this.mem.keep(new Uint8Array(buildHuffmanDecodeTable(t).buffer)),
        });
      } else if (!t) {
        this.rawSource.push(-1 - this.chunkRawBits.length);
        this.chunkRawBits.push(planeBits(p));
      }
      if (!t || isHuffman(t)) {
        if (p.kind === 'head') {
          // (shift in the symbol, 2^width - 1, lo in the head) per range; the first range holds the top symbol bits.
          const triplets: number[] = [];
          let shift = planeBits(p);
          for (const r of p.ranges) {
            shift -= r.width;
            triplets.push(shift, (1 << r.width) - 1, r.lo);
          }
          const ptr = this.mem.keep(new Uint8Array(Uint32Array.from(triplets).buffer));
          this.rangeCounts.set(ptr, p.ranges.length);
          this.raw.push(ptr);
        } else this.raw.push(-1 - p.byteIndex);
        this.rawBits.push(planeBits(p));
        return;
      }
      const dep = p.kind === 'head' ? depositLut(p.ranges, H) : undefined;
      const alphabet = 1 << planeBits(p);
      const freqs = this.kernels.copyIn(new Uint8Array(t.freqs.buffer, t.freqs.byteOffset, alphabet * 4));
      const depPtr = dep ? this.kernels.copyIn(new Uint8Array(dep.buffer, dep.byteOffset, dep.byteLength)) : 0;
      const table = this.mem.own(SLOT_BYTES << t.probBits);
      this.kernels.k.buildDecodeTable(freqs, alphabet, t.probBits, depPtr, table);
      this.kernels.release(freqs, alphabet * 4);
      if (dep) this.kernels.release(depPtr, dep.byteLength);
      descs.push(table, 0, t.probBits, p.kind === 'head' ? 0 : 1, p.kind === 'byte' ? p.byteIndex : 0);
      this.coded++;
    });
    this.desc = this.mem.keep(new Uint8Array(Uint32Array.from(descs).buffer));
    const b1 = this.raw.indexOf(-2);
    const b0 = this.raw.indexOf(-1);
    this.w4Raw = W === 4 && b1 >= 0 && b0 >= 0 ? [b1, b0] : undefined;
    const rawHeads = this.raw.flatMap((r, j) => (r >= 0 ? [j] : []));
    const bytePairs = rawHeads.length === 2 && rawHeads.every((j) => this.rangeCounts.get(this.raw[j])! <= 2 && this.rawBits[j] === 8);
    this.headPair = bytePairs ? [rawHeads[0], rawHeads[1]] : undefined;
    this.expSign = this.headPair !== undefined && isExpSignPair(layout, this.headPair.map((j) => planeOfRaw[j]) as [number, number]);
    // The fused kernel: 32 lanes, one rANS-coded head plane, no Huffman plane, and as raw planes the sign plane alone
    // (W = 2) or with byte planes 1 and 0 (W = 4).
    const codedHead = this.coded === 1 && descs[3] === 0;
    const rawPlanes = W === 2 ? 1 : W === 4 && this.w4Raw ? 3 : 0;
    const fusable = coding.lanes === RANS_LANES && codedHead && this.huffman.length === 0 && rawHeads.length === 1 && this.raw.length === rawPlanes;
    this.signPlane = fusable && isSignMantissa6(layout.planes[planeOfRaw[rawHeads[0]]]) ? rawHeads[0] : undefined;
    if (this.huffman.length > 0) this.huffOutPtr = this.mem.own(this.huffman.length * maxValues);
    this.statePtr = this.mem.own(STATE_BYTES);
    this.outPtr = this.mem.own(maxValues * W);
    this.headsPtr = W === 2 ? this.outPtr : this.mem.own(maxValues * 2);
  }


  /**
   * Checks the chunk's CRC-32C (versions 1-3), then decodes its `n` values into `out` (n * valueBytes bytes); in
   * version 4 (`check.digest` present) checks the digest of the decoded bytes before they are copied to `out`.
   * @returns false when the CRC or the digest does not match (nothing copied to `out`)
   * @throws CORRUPT_CHUNK exactly as ChunkDecoder.decode does
   */
  decode(chunk: Uint8Array, n: number, out: Uint8Array, check: ChunkCheck, file: string | undefined, offset: number): boolean {
    const K = this.kernels;
    const k = K.k;
    if (n > this.maxValues) throw new RangeError(`chunk of ${n} values, decoder sized for ${this.maxValues}`);
    const pad = DECODE_PAD + (this.huffman.length > 0 ? huffmanPad(n) : 0);
    if (chunk.length + pad > this.inCap) {
      if (this.inCap > 0) K.release(this.inPtr, this.inCap);
      this.inCap = chunk.length + pad;
      this.inPtr = K.alloc(this.inCap);
    }
    let mem = K.u8;
    mem.set(chunk, this.inPtr);
    if (check.digest === undefined && k.crc32cUpdate(0, this.inPtr, chunk.length) >>> 0 !== check.crc32c) return false;
    const W = this.W;
    // [rANS stream or Huffman blocks][raw planes]: the segment's coded planes are all of one kind (checked with the index).
    let rawStart = chunk.length;
    for (const b of this.chunkRawBits) rawStart -= packedBytes(n, b);
    const streamBytes = this.huffman.length > 0 ? 0 : rawStart;
    const lanes = this.coding.lanes;
    if (rawStart < 0 || (this.coded === 0 && streamBytes !== 0) || (this.coded > 0 && (streamBytes < lanes * 4 || (streamBytes - lanes * 4) % 2 !== 0))) {
      this.fail(chunk, n, out, file, offset);
    }
    let rawEnd = rawStart;
    this.chunkRawBits.forEach((b, j) => {
      this.chunkRawAt[j] = rawEnd;
      if (paddingBits(chunk, rawEnd, n, b) !== 0) this.fail(chunk, n, out, file, offset);
      rawEnd += packedBytes(n, b);
    });
    let at = 0;
    for (let h = 0; h < this.huffman.length; h++) {
      const { multi, single } = this.huffman[h];
      const size = k.decodeHuffman(this.inPtr + at, rawStart - at, n, multi, single, this.huffOutPtr + h * this.maxValues);
      if (size < 0) this.fail(chunk, n, out, file, offset);
      at += size;
    }
    if (this.huffman.length > 0 && at !== rawStart) this.fail(chunk, n, out, file, offset);
    const rawAt = (j: number): number => {
      const src = this.rawSource[j];
      return src < 0 ? this.inPtr + this.chunkRawAt[-1 - src] : this.huffOutPtr + src * this.maxValues;
    };
    const fused = this.signPlane !== undefined;
    // The first raw head plane initialises the heads; without one they start at zero. Coded planes OR into them.
    let first = true;
    const pair = this.headPair;
    if (fused) {
      // The version 4 float layout: one kernel decodes the stream, ORs in the unpacked sign plane and writes whole values.
      const [b1, b0] = this.w4Raw ? [rawAt(this.w4Raw[0]), rawAt(this.w4Raw[1])] : [0, 0];
      const rc = k.decodeRansPacked(this.inPtr, streamBytes, n, this.desc, rawAt(this.signPlane), this.statePtr, this.headsPtr, this.outPtr, W, b1, b0);
      if (rc !== 0) this.fail(chunk, n, out, file, offset);
    } else if (pair) {
      // Exactly two raw head planes of at most two ranges each (the fastDecode layouts): one pass.
      const [a, b] = pair;
      if (this.expSign) k.mergeExpSign(rawAt(a), rawAt(b), n, this.headsPtr);
      else k.depositRawPair(rawAt(a), this.raw[a], this.rangeCounts.get(this.raw[a])!, rawAt(b), this.raw[b], this.rangeCounts.get(this.raw[b])!, n, this.headsPtr);
      first = false;
    } else {
      this.raw.forEach((r, j) => {
        if (r < 0) return;
        const b = this.rawBits[j];
        if (b === 8) k.depositRaw(rawAt(j), n, r, this.rangeCounts.get(r)!, this.headsPtr, first);
        else k.depositPacked(rawAt(j), n, b, r, this.rangeCounts.get(r)!, this.headsPtr, first);
        first = false;
      });
    }
    // Without raw head planes the heads start empty: the kernel then stores the first coded head plane (or zeroes).
    if (this.coded === 0 && first) mem.fill(0, this.headsPtr, this.headsPtr + 2 * n);
    if (this.coded > 0 && !fused) {
      const rc = k.decodeRans(this.inPtr, streamBytes, n, lanes, this.desc, this.coded, this.headsPtr, this.outPtr, W, this.statePtr, !first);
      if (rc !== 0) this.fail(chunk, n, out, file, offset);
    }
    if (this.w4Raw && !fused) {
      k.mergeW4(this.headsPtr, rawAt(this.w4Raw[0]), rawAt(this.w4Raw[1]), n, this.outPtr);
    } else if (!fused) {
      if (W !== 2) k.storeHeads(this.headsPtr, n, this.outPtr, W);
      this.raw.forEach((r, j) => {
        if (r < 0 && W > 2) k.scatterBytes(rawAt(j), n, this.outPtr, W, -1 - r);
      });
    }
    if (check.digest !== undefined && chunkDigestInKernel(K, this.outPtr, n * W) !== check.digest) return false;
    mem = K.u8;
    out.set(mem.subarray(this.outPtr, this.outPtr + n * W));
    return true;
  }

  /** Raises the reference decoder's error for a chunk the kernel rejected. */
  private fail(chunk: Uint8Array, n: number, out: Uint8Array, file: string | undefined, offset: number): never {
    this.reference ??= new ChunkDecoder(this.coding, this.maxValues);
    this.reference.decode(chunk, n, out, file, offset);
    throw new Error(`internal: the WebAssembly decoder rejected a chunk at ${offset} that the reference accepts`);
  }

  /** Returns the decoder's kernel memory. */
  dispose(): void {
    this.mem.releaseAll();
    if (this.inCap > 0) this.kernels.release(this.inPtr, this.inCap);
    this.inCap = 0;
  }
}

/** Whether a plane is the 6-bit sign and low mantissa plane (15,1),(0,5) of the version 4 float layouts. */
function isSignMantissa6(p: PlaneSpec): boolean {
  return p.kind === 'head' && p.ranges.length === 2 && p.ranges[0].lo === 15 && p.ranges[0].width === 1 && p.ranges[1].lo === 0 && p.ranges[1].width === 5;
}

/** Whether planes a and b of `layout` are head bits 7-14 (as (7,8) or (10,5)+(7,3)) and the sign with bits 0-6 ((15,1)+(0,7)). */
function isExpSignPair(layout: PlaneLayout, [a, b]: [number, number]): boolean {
  const ranges = (k: number): string => {
    const p = layout.planes[k];
    return p.kind === 'head' ? p.ranges.map((r) => `${r.lo}+${r.width}`).join(' ') : '';
  };
  return layout.valueBytes >= 2 && ['7+8', '10+5 7+3'].includes(ranges(a)) && ranges(b) === '15+1 0+7';
}
