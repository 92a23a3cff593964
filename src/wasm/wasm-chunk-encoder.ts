// Chunk encoding (FORMAT.md §6) on the WebAssembly kernels: heads, rANS over the coded planes (symbols taken
// straight from the values) or a Huffman block per Huffman-coded plane, raw planes (packed below 8 bits), CRC-32C. Produces exactly the bytes of encodeChunk + crc32c; a kernel
// failure (a symbol of frequency 0) defers to the reference, which raises its error.

import { isHuffman, ChunkScratch, encodeChunk, type SegmentCoding } from '../entropy/chunk-codec.js';
import { crc32c } from '../format/crc32c.js';
import { chunkDigest } from '../format/chunk-digest.js';
import type { EncodedChunk } from '../entropy/chunk-codec.js';
import { HUFFMAN_STREAMS } from '../format/constants.js';
import { buildHuffmanEncodeTable } from '../entropy/huffman.js';
import { packedBytes } from '../transform/bit-pack.js';
import { extractLut, headBits, planeBits, rangesKey } from '../transform/planes.js';
import { KernelBlocks, STATE_BYTES } from './kernel-blocks.js';
import type { Kernels } from './kernels.js';
import { chunkDigestInKernel } from './kernel-digest.js';


/** Encodes the chunks of one segment; owns kernel memory until dispose(). */
export class WasmChunkEncoder {
  private readonly mem: KernelBlocks;
  private desc = 0;
  private coded = 0;
  /** Raw planes in plane order: an extract table pointer (head plane) or -1 - byteIndex (byte plane). */
  private raw: number[] = [];
  /** Width in bits of each of `raw`: 8, or 1 to 7 for a packed head plane (version 4). */
  private rawBits: number[] = [];
  /** Huffman-coded planes in plane order: the plane as in `raw`, and its code table (buildHuffmanEncodeTable). */
  private huffman: { plane: number; codes: number }[] = [];
  /** A plane's symbols, one byte each, for the Huffman encoder. */
  private symbolsPtr = 0;
  private inPtr: number;
  private headsPtr: number;
  private wordsPtr: number;
  private statePtr: number;
  private readonly W: number;

  constructor(private kernels: Kernels, private coding: SegmentCoding, private maxValues: number, private readonly digests = false) {
    this.mem = new KernelBlocks(kernels);
    const { layout, tables } = coding;
    const W = (this.W = layout.valueBytes);
    const H = headBits(W);
    const descs: number[] = [];
    layout.planes.forEach((p, k) => {
      const t = tables[k];
      // The head -> symbol table (2^H entries) is shared by every encoder of the kernels, or copied where too many are.
      const ext = p.kind === 'head' ? (kernels.resident(`extract ${rangesKey(p.ranges, H)}`, () => asBytes(extractLut(p.ranges, H))) ?? this.mem.keep(asBytes(extractLut(p.ranges, H)))) : -1;
      if (!t) {
        this.raw.push(p.kind === 'head' ? ext : -1 - p.byteIndex);
        this.rawBits.push(planeBits(p));
        return;
      }
      if (isHuffman(t)) {
        this.huffman.push({ plane: p.kind === 'head' ? ext : -1 - p.byteIndex, codes: this.mem.keep(asBytes(buildHuffmanEncodeTable(t))) });
        return;
      }
      const alphabet = 1 << planeBits(p);
      // Per symbol: freq | cum << 16 (both < 2^16: freq <= 2^15, cum < 2^15) and floor((2^32 - 1) / freq) for the division.
      const info = new Uint32Array(2 * alphabet);
      for (let s = 0; s < alphabet; s++) {
        info[2 * s] = (t.freqs[s] | (t.cum[s] << 16)) >>> 0;
        info[2 * s + 1] = t.freqs[s] > 0 ? Math.floor(0xffffffff / t.freqs[s]) : 0;
      }
      descs.push(this.mem.keep(asBytes(info)), t.probBits, p.kind === 'head' ? 0 : 1, p.kind === 'head' ? ext : p.byteIndex);
      this.coded++;
    });
    this.desc = this.mem.keep(asBytes(Uint32Array.from(descs)));
    this.statePtr = this.mem.own(STATE_BYTES);
    this.inPtr = this.mem.own(maxValues * W);
    this.headsPtr = this.mem.own(maxValues * 2);
    this.wordsPtr = this.mem.own(this.wordsBytes(maxValues));
    if (this.huffman.length > 0) this.symbolsPtr = this.mem.own(maxValues);
  }

  /** Room for the stream (states, 8 bytes for the kernel's stores below the write position, at most one word per symbol) and the raw planes (n bytes each bounds a packed plane and its packer's group stores). */
  private wordsBytes(n: number): number {
    return STATE_BYTES + 8 + 2 * n * this.coded + n * this.raw.length + this.huffman.length * (2 * n + 6 * HUFFMAN_STREAMS);
  }


  /**
   * Encodes `n` values held in `bytes`; returns the chunk with its CRC-32C, or (`digests`, version 4) with 0 for the CRC
   * and the chunk digest of the n * W input bytes.
   */
  encode(bytes: Uint8Array, n: number): EncodedChunk {
    if (n > this.maxValues) throw new RangeError(`chunk of ${n} values, encoder sized for ${this.maxValues}`);
    const K = this.kernels;
    const k = K.k;
    const W = this.W;
    K.u8.set(bytes.subarray(0, n * W), this.inPtr);
    k.loadHeads(this.inPtr, n, W, this.headsPtr);
    const top = this.wordsPtr + STATE_BYTES + 8 + 2 * n * this.coded;
    let len = 0;
    if (this.coded > 0) {
      len = k.encodeRans(this.inPtr, n, W, this.coding.lanes, this.desc, this.coded, this.headsPtr, top, this.statePtr);
      if (len < 0) {
        // Only a symbol missing from its table gets here: the reference throws the same error.
        const chunk = encodeChunk(bytes, n, this.coding, new ChunkScratch(n, this.coding.layout.planes.length));
        return this.checked(chunk, bytes.subarray(0, n * W));
      }
    }
    // Huffman blocks (a segment has them or rANS planes, never both), then the raw planes.
    let at = top;
    for (const h of this.huffman) {
      if (h.plane >= 0) k.extractBytes(this.headsPtr, n, h.plane, this.symbolsPtr);
      else k.gatherBytes(this.inPtr, n, W, -1 - h.plane, this.symbolsPtr);
      const size = k.encodeHuffman(this.symbolsPtr, n, h.codes, at);
      if (size < 0) {
        // Only a symbol without a code gets here: the reference throws the same error.
        const chunk = encodeChunk(bytes, n, this.coding, new ChunkScratch(n, this.coding.layout.planes.length));
        return this.checked(chunk, bytes.subarray(0, n * W));
      }
      at += size;
    }
    let dst = at;
    this.raw.forEach((r, j) => {
      const bits = this.rawBits[j];
      if (r < 0) k.gatherBytes(this.inPtr, n, W, -1 - r, dst);
      else if (bits === 8) k.extractBytes(this.headsPtr, n, r, dst);
      else k.packHeadBits(this.headsPtr, n, r, bits, dst);
      dst += packedBytes(n, bits);
    });
    const start = top - len;
    const total = dst - start;
    if (this.digests) return { bytes: K.u8.slice(start, start + total), crc32c: 0, digest: chunkDigestInKernel(K, this.inPtr, n * W) };
    const crc = k.crc32cUpdate(0, start, total) >>> 0;
    return { bytes: K.u8.slice(start, start + total), crc32c: crc };
  }

  /** The check of a chunk coded by the reference: its CRC-32C, or the digest of its input `values`. */
  private checked(chunk: Uint8Array, values: Uint8Array): EncodedChunk {
    return this.digests ? { bytes: chunk, crc32c: 0, digest: chunkDigest(values) } : { bytes: chunk, crc32c: crc32c(chunk) };
  }

  /** Returns the encoder's kernel memory. */
  dispose(): void {
    this.mem.releaseAll();
  }
}

function asBytes(a: Uint16Array | Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}
