// Chooses how a segment's chunks are coded: the WebAssembly kernels when loaded, else the TypeScript reference.
// Both give identical bytes and identical errors (tested); callers see one interface and dispose of it after the segment.

import { ChunkDecoder, ChunkScratch, encodeChunk, type SegmentCoding } from '../entropy/chunk-codec.js';
import { crc32c } from '../format/crc32c.js';
import type { Kernels } from './kernels.js';
import { WasmChunkDecoder } from './wasm-chunk-decoder.js';
import { WasmChunkEncoder } from './wasm-chunk-encoder.js';

/** Decodes the chunks of one segment. */
export interface ChunkDecoding {
  /**
   * Checks the chunk's CRC-32C against `crc`, then decodes `n` values into `out`.
   * @returns false when the CRC does not match (nothing decoded)
   * @throws CORRUPT_CHUNK for an inconsistent chunk
   */
  decode(chunk: Uint8Array, n: number, out: Uint8Array, crc: number, file: string | undefined, offset: number): boolean;
  dispose(): void;
}

/** Encodes the chunks of one segment. */
export interface ChunkEncoding {
  /** Encodes `n` values held in `bytes`; returns the chunk and its CRC-32C. */
  encode(bytes: Uint8Array, n: number): { bytes: Uint8Array; crc32c: number };
  dispose(): void;
}

/** A decoder for chunks of at most `maxValues` values of a segment coded with `coding`. */
export function createChunkDecoder(coding: SegmentCoding, maxValues: number, kernels: Kernels | undefined): ChunkDecoding {
  if (kernels) return new WasmChunkDecoder(kernels, coding, maxValues);
  const decoder = new ChunkDecoder(coding, maxValues);
  return {
    decode(chunk, n, out, crc, file, offset) {
      if (crc32c(chunk) !== crc) return false;
      decoder.decode(chunk, n, out, file, offset);
      return true;
    },
    dispose() {},
  };
}

/** An encoder for chunks of at most `maxValues` values of a segment coded with `coding`. */
export function createChunkEncoder(coding: SegmentCoding, maxValues: number, kernels: Kernels | undefined): ChunkEncoding {
  if (kernels) return new WasmChunkEncoder(kernels, coding, maxValues);
  const scratch = new ChunkScratch(maxValues, coding.layout.planes.length);
  return {
    encode(bytes, n) {
      const chunk = encodeChunk(bytes, n, coding, scratch);
      return { bytes: chunk, crc32c: crc32c(chunk) };
    },
    dispose() {},
  };
}
