// Tensor segments whose chunks are built here, plane by plane, in the chunk format of FORMAT.md §6 with raw head
// planes of 1 to 8 bits packed LSB-first (format version 4): rANS-coded planes through encodeRans, each raw plane
// ⌈n·b/8⌉ bytes. For testing decoders of that format before and independently of the container writer.

import { encodeRans } from '../../src/entropy/rans.js';
import { normalizeFrequencies, type FreqTable } from '../../src/entropy/freq-table.js';
import { crc32c } from '../../src/format/crc32c.js';
import { sha256 } from '../../src/format/sha256.js';
import { planeBits, splitPlanes, type PlaneLayout } from '../../src/transform/planes.js';
import type { ChunkRecord, SegmentRecord } from '../../src/pipeline/index-codec.js';

/** Symbols `src[0..n)` of `bits` bits each, LSB-first: symbol i in bits i·bits … of the result; padding bits zero. */
export function packLsbFirst(src: Uint16Array, n: number, bits: number): Uint8Array {
  const out = new Uint8Array(Math.ceil((n * bits) / 8));
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < bits; k++) {
      const j = i * bits + k;
      if ((src[i] >> k) & 1) out[j >> 3] |= 1 << (j & 7);
    }
  }
  return out;
}

/** A segment to build: its values, plane layout, which planes are rANS-coded, and how it is chunked. */
export interface PackedSegmentSpec {
  name: string;
  dtype: string;
  /** n × layout.valueBytes bytes. */
  bytes: Uint8Array;
  layout: PlaneLayout;
  /** Per plane: rANS-coded (true) or raw (false; a head plane of any 1 to 8 bits is packed). */
  coded: boolean[];
  lanes: number;
  chunkValues: number;
  /** Chunk records carry a CRC-32C of the stored bytes (versions 1-3; default true) or none (version 4). */
  withCrc?: boolean;
}

/** One chunk's stored bytes: the rANS stream of the coded planes, then each raw plane packed, in plane order. */
function buildChunk(bytes: Uint8Array, n: number, layout: PlaneLayout, tables: (FreqTable | undefined)[], lanes: number): Uint8Array {
  const planes = layout.planes.map(() => new Uint16Array(Math.max(1, n)));
  splitPlanes(bytes, n, layout, planes, new Uint16Array(Math.max(1, n)));
  const codedPlanes = planes.filter((_, p) => tables[p]);
  const parts: Uint8Array[] = codedPlanes.length > 0 ? [encodeRans(codedPlanes, tables.filter((t) => t) as FreqTable[], n, lanes)] : [];
  layout.planes.forEach((plane, p) => {
    if (!tables[p]) parts.push(packLsbFirst(planes[p], n, planeBits(plane)));
  });
  const out = new Uint8Array(parts.reduce((a, x) => a + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/**
 * Builds the segments of `specs` and a container-like byte string holding their chunks (each chunk after a gap of
 * `gap` bytes, so that chunks start at every alignment).
 * @returns the bytes (to read through a MemorySource) and each spec's SegmentRecord
 */
export function buildPackedSegments(specs: PackedSegmentSpec[], gap = 3): { bytes: Uint8Array; segments: SegmentRecord[] } {
  const pieces: Uint8Array[] = [];
  let at = 0;
  const segments = specs.map((s): SegmentRecord => {
    const W = s.layout.valueBytes;
    const values = s.bytes.length / W;
    const planes = s.layout.planes.map(() => new Uint16Array(Math.max(1, values)));
    splitPlanes(s.bytes, values, s.layout, planes, new Uint16Array(Math.max(1, values)));
    const tables = s.layout.planes.map((plane, p) => {
      if (!s.coded[p] || values === 0) return undefined;
      const counts = new Float64Array(1 << planeBits(plane));
      for (let i = 0; i < values; i++) counts[planes[p][i]]++;
      return normalizeFrequencies(counts, 14);
    });
    const chunks: ChunkRecord[] = [];
    for (let c = 0; c * s.chunkValues < values; c++) {
      const n = Math.min(s.chunkValues, values - c * s.chunkValues);
      const chunk = buildChunk(s.bytes.subarray(c * s.chunkValues * W, (c * s.chunkValues + n) * W), n, s.layout, tables, s.lanes);
      at += gap;
      pieces.push(new Uint8Array(gap), chunk);
      const rec = { offset: at, bytes: chunk.length, crc32c: crc32c(chunk) };
      if (s.withCrc === false) delete (rec as { crc32c?: number }).crc32c;
      chunks.push(rec);
      at += chunk.length;
    }
    return {
      kind: 'tensor',
      name: s.name,
      dtype: s.dtype,
      shape: [values],
      originalBytes: s.bytes.length,
      sha256: sha256(s.bytes),
      coding: { layout: s.layout, tables, lanes: s.lanes },
      chunkValues: s.chunkValues,
      chunks,
    };
  });
  pieces.push(new Uint8Array(gap));
  const bytes = new Uint8Array(at + gap);
  let o = 0;
  for (const p of pieces) {
    bytes.set(p, o);
    o += p.length;
  }
  return { bytes, segments };
}
