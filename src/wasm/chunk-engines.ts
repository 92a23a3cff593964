// Chooses how a segment's chunks are coded: the WebAssembly kernels when loaded, else the TypeScript reference.
// Both give identical bytes and identical errors (tested); callers see one interface and dispose of it after the segment.

import { ChunkDecoder, ChunkScratch, deinterleavePlanes, encodeChunk, interleavePlanes, tensorModelShape, type ChunkCheck, type EncodedChunk, type SegmentCoding } from '../entropy/chunk-codec.js';
import { mergePlanes, splitPlanes } from '../transform/planes.js';
import { chunkDigest } from '../format/chunk-digest.js';
import { crc32c } from '../format/crc32c.js';
import type { Kernels } from './kernels.js';
import { WasmChunkDecoder } from './wasm-chunk-decoder.js';
import { decodeByteModel, encodeByteModel } from './wasm-byte-model.js';
import { WasmChunkEncoder } from './wasm-chunk-encoder.js';
import { decodeTensorModel, encodeTensorModel } from './wasm-tensor-model.js';

/** Decodes the chunks of one segment. */
export interface ChunkDecoding {
  /**
   * Decodes `n` values of `chunk` into `out`, checked by `check`: the chunk's CRC-32C before decoding (versions
   * 1-3), or the digest of the decoded bytes after it (version 4).
   * @returns false when the CRC or the digest does not match (`out` then holds nothing to use)
   * @throws CORRUPT_CHUNK for an inconsistent chunk
   */
  decode(chunk: Uint8Array, n: number, out: Uint8Array, check: ChunkCheck, file: string | undefined, offset: number): boolean;
  dispose(): void;
}

/** Encodes the chunks of one segment. */
export interface ChunkEncoding {
  /** Encodes `n` values held in `bytes`; returns the chunk with its CRC-32C, or with the digest of the values (version 4). */
  encode(bytes: Uint8Array, n: number): EncodedChunk;
  dispose(): void;
}

/** A decoder for chunks of at most `maxValues` values of a segment coded with `coding`. */
export function createChunkDecoder(coding: SegmentCoding, maxValues: number, kernels: Kernels | undefined): ChunkDecoding {
  if (coding.byteModel) return byteModelDecoder(coding, kernels);
  if (coding.tensorModel) return tensorModelDecoder(coding, maxValues, kernels);
  if (kernels) return new WasmChunkDecoder(kernels, coding, maxValues);
  const decoder = new ChunkDecoder(coding, maxValues);
  return {
    decode(chunk, n, out, check, file, offset) {
      if (check.digest === undefined && crc32c(chunk) !== check.crc32c) return false;
      decoder.decode(chunk, n, out, file, offset);
      return check.digest === undefined || chunkDigest(out.subarray(0, n * coding.layout.valueBytes)) === check.digest;
    },
    dispose() {},
  };
}

/** An encoder for chunks of at most `maxValues` values of a segment coded with `coding`; `digests`: version 4 chunk digests instead of CRCs. */
export function createChunkEncoder(coding: SegmentCoding, maxValues: number, kernels: Kernels | undefined, digests = false): ChunkEncoding {
  if (coding.byteModel) return byteModelEncoder(coding, kernels, digests);
  if (coding.tensorModel) return tensorModelEncoder(coding, maxValues, kernels, digests);
  if (kernels) return new WasmChunkEncoder(kernels, coding, maxValues, digests);
  const scratch = new ChunkScratch(maxValues, coding.layout.planes.length);
  return {
    encode(bytes, n) {
      const chunk = encodeChunk(bytes, n, coding, scratch);
      return digests ? { bytes: chunk, crc32c: 0, digest: chunkDigest(bytes.subarray(0, n * coding.layout.valueBytes)) } : { bytes: chunk, crc32c: crc32c(chunk) };
    },
    dispose() {},
  };
}

/** The primer of a byte-model segment (FORMAT.md §5.5): empty, or the bytes a reader or writer filled in. */
function primerOf(coding: SegmentCoding): Uint8Array {
  const m = coding.byteModel!;
  if (m.primer === 0) return new Uint8Array(0);
  if (!m.primerBytes) throw new Error('internal: a primed byte-model segment without its primer');
  return m.primerBytes;
}

/** Chunks of a byte-model segment (version 8, one 8-bit plane): each chunk is one byte-model stream (FORMAT.md §5.5, §6). */
function byteModelDecoder(coding: SegmentCoding, kernels: Kernels | undefined): ChunkDecoding {
  return {
    decode(chunk, n, out, check, file, offset) {
      if (check.digest === undefined && crc32c(chunk) !== check.crc32c) return false;
      decodeByteModel(kernels, chunk, n, primerOf(coding), out, { file, offset });
      return check.digest === undefined || chunkDigest(out.subarray(0, n)) === check.digest;
    },
    dispose() {},
  };
}

function byteModelEncoder(coding: SegmentCoding, kernels: Kernels | undefined, digests: boolean): ChunkEncoding {
  return {
    encode(bytes, n) {
      const chunk = encodeByteModel(kernels, bytes.subarray(0, n), primerOf(coding));
      return digests ? { bytes: chunk, crc32c: 0, digest: chunkDigest(bytes.subarray(0, n)) } : { bytes: chunk, crc32c: crc32c(chunk) };
    },
    dispose() {},
  };
}

/** Chunks of a tensor-model segment (version 10): each chunk is one tensor-model stream of all its planes (FORMAT.md §5.6, §6). */
function tensorModelDecoder(coding: SegmentCoding, maxValues: number, kernels: Kernels | undefined): ChunkDecoding {
  const shape = tensorModelShape(coding.layout, coding.tensorModel!.rowValues);
  const scratch = new ChunkScratch(maxValues, coding.layout.planes.length);
  const syms = new Uint8Array(maxValues * coding.layout.planes.length);
  const W = coding.layout.valueBytes;
  return {
    decode(chunk, n, out, check, file, offset) {
      if (check.digest === undefined && crc32c(chunk) !== check.crc32c) return false;
      decodeTensorModel(kernels, chunk, n, shape, syms, { file, offset });
      deinterleavePlanes(syms, n, scratch.planes);
      mergePlanes(scratch.planes, n, coding.layout, out, scratch.heads);
      return check.digest === undefined || chunkDigest(out.subarray(0, n * W)) === check.digest;
    },
    dispose() {},
  };
}

function tensorModelEncoder(coding: SegmentCoding, maxValues: number, kernels: Kernels | undefined, digests: boolean): ChunkEncoding {
  const shape = tensorModelShape(coding.layout, coding.tensorModel!.rowValues);
  const scratch = new ChunkScratch(maxValues, coding.layout.planes.length);
  const syms = new Uint8Array(maxValues * coding.layout.planes.length);
  const W = coding.layout.valueBytes;
  return {
    encode(bytes, n) {
      splitPlanes(bytes, n, coding.layout, scratch.planes, scratch.heads);
      interleavePlanes(scratch.planes, n, syms);
      const chunk = encodeTensorModel(kernels, syms, n, shape);
      return digests ? { bytes: chunk, crc32c: 0, digest: chunkDigest(bytes.subarray(0, n * W)) } : { bytes: chunk, crc32c: crc32c(chunk) };
    },
    dispose() {},
  };
}
