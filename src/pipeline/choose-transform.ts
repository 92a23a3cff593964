// Encoder-side choice between a tensor's plain coding and its transformed forms (not normative; FORMAT.md §4.5):
// every stream is costed with the same model as chooseCoding (coded bits, tables, lane states, chunk records), the
// plain path likewise, and the smallest wins; a transform must save bytes to be kept.

import { isHuffman, type SegmentCoding } from '../entropy/chunk-codec.js';
import { huffmanCodedBits, huffmanTableBytes } from '../entropy/huffman.js';
import { codedBits, occurringSymbols, tableBytes } from '../entropy/freq-table.js';
import { planeBits } from '../transform/planes.js';
import { headPlaneCounts, packedPlaneBytes, type SegmentStats } from './choose-layout.js';

/** Bytes of one chunk record in the index (bytes u32, crc32c u32). */
const CHUNK_RECORD_BYTES = 8;
/** Bytes of a coding record without its planes: valueBytes, planeCount, lanes, chunkValues, chunkCount. */
const CODING_RECORD_BYTES = 11;
/** Bytes of one plane record without its ranges and table: kind, range count or byte index, coding. */
const PLANE_RECORD_BYTES = 3;

/**
 * Estimated container bytes of `stats.values` values stored with `coding` in chunks of `chunkValues`: coded bits of
 * every rANS plane under its table, raw planes at ⌈m·b/8⌉ bytes per chunk of m values (a byte a value for 8-bit planes),
 * serialised tables, lane states per chunk, the coding record and chunk table. Deterministic (the same counts give the
 * same figure).
 */
export function estimateCodedBytes(coding: SegmentCoding, stats: SegmentStats, chunkValues: number): number {
  const n = stats.values;
  const chunks = n === 0 ? 0 : Math.ceil(n / chunkValues);
  const present = stats.presentHeads();
  let bytes = CODING_RECORD_BYTES + chunks * CHUNK_RECORD_BYTES;
  let anyCoded = false;
  coding.layout.planes.forEach((p, k) => {
    bytes += PLANE_RECORD_BYTES + (p.kind === 'head' ? 2 * p.ranges.length : 0);
    const t = coding.tables[k];
    if (!t) {
      bytes += packedPlaneBytes(n, chunkValues, planeBits(p));
      return;
    }
    anyCoded = true;
    const counts = p.kind === 'byte' ? stats.low[p.byteIndex] : headPlaneCounts(stats.head, present, p.ranges);
    const occurring = occurringSymbols(counts);
    bytes += isHuffman(t) ? huffmanCodedBits(counts, t.lengths) / 8 + huffmanTableBytes(t.lengths) : codedBits(counts, t, occurring) / 8 + tableBytes(t, occurring);
  });
  return bytes + (anyCoded ? chunks * coding.lanes * 4 : 0);
}
