// Which segments the native decoder of this folder (decode-v4.c) and the kernel-only rows of wasm-decode.ts handle:
// those in the version 4 float layout that one fused kernel decodes (FORMAT.md §4.3, §6).

import { isHuffman } from '../../src/entropy/chunk-codec.js';
import { RANS_LANES } from '../../src/format/constants.js';
import type { SegmentRecord } from '../../src/pipeline/index-codec.js';
import type { PlaneSpec } from '../../src/transform/planes.js';

/** Alphabet of the coded 10-bit head plane (7,8),(5,2). */
export const FUSED_ALPHABET = 1024;

const describe = (p: PlaneSpec): string => (p.kind === 'head' ? p.ranges.map((r) => `${r.lo}+${r.width}`).join(' ') : `byte ${p.byteIndex}`);

/**
 * Whether a segment is in the fused layout: 32 lanes; the head plane (7,8),(5,2) rANS-coded; the head plane (15,1),(0,5)
 * raw (packed); for W = 4 the raw byte planes 1 then 0; nothing else.
 */
export function isFusedLayout(seg: SegmentRecord): boolean {
  const { layout, tables, lanes } = seg.coding;
  const W = layout.valueBytes;
  const want = W === 2 ? ['7+8 5+2', '15+1 0+5'] : W === 4 ? ['7+8 5+2', '15+1 0+5', 'byte 1', 'byte 0'] : undefined;
  if (!want || seg.transform || lanes !== RANS_LANES || layout.planes.length !== want.length) return false;
  if (!layout.planes.every((p, k) => describe(p) === want[k])) return false;
  const t = tables[0];
  return t !== undefined && !isHuffman(t) && t.freqs.length === FUSED_ALPHABET && tables.slice(1).every((u) => u === undefined);
}
