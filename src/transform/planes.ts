// Plane transform (FORMAT.md §4.2): each value's top min(8*W, 16) bits (the head) are split into head planes
// by bit ranges; each byte below the head is a byte plane. splitPlanes/mergePlanes are exact inverses.

import { MAX_CODED_SYMBOL_BITS, MAX_PLANES, MAX_RANGES } from '../format/constants.js';

/** A bit range of the head: `width` bits starting at bit `lo` (bit 0 = least significant bit of the head). */
export interface BitRange {
  lo: number;
  width: number;
}

/** One plane: either bit ranges of the head (first range most significant) or one byte below the head. */
export type PlaneSpec = { kind: 'head'; ranges: BitRange[] } | { kind: 'byte'; byteIndex: number };

/** The plane layout of one segment's values. */
export interface PlaneLayout {
  /** Bytes per value: 1, 2, 4 or 8. */
  valueBytes: number;
  planes: PlaneSpec[];
}

/** Bits in the head of a value of `valueBytes` bytes. */
export function headBits(valueBytes: number): number {
  return Math.min(valueBytes * 8, 16);
}

/** Symbol width of a plane in bits. */
export function planeBits(p: PlaneSpec): number {
  return p.kind === 'byte' ? 8 : p.ranges.reduce((a, r) => a + r.width, 0);
}

/**
 * Checks that a layout is well-formed: head planes partition the head's bits exactly, byte planes name
 * each byte below the head exactly once, and no plane is wider than 12 bits unless it is a raw byte plane.
 * @returns undefined when valid, otherwise the problem as text
 */
export function checkLayout(layout: PlaneLayout): string | undefined {
  const W = layout.valueBytes;
  if (W !== 1 && W !== 2 && W !== 4 && W !== 8) return `value width ${W} bytes is not 1, 2, 4 or 8`;
  if (layout.planes.length < 1 || layout.planes.length > MAX_PLANES) return `${layout.planes.length} planes`;
  const H = headBits(W);
  let headMask = 0;
  let byteMask = 0;
  for (const p of layout.planes) {
    if (p.kind === 'byte') {
      if (p.byteIndex >= W - H / 8) return `byte plane ${p.byteIndex} is not below the head`;
      if (byteMask & (1 << p.byteIndex)) return `byte plane ${p.byteIndex} appears twice`;
      byteMask |= 1 << p.byteIndex;
    } else {
      if (p.ranges.length < 1 || p.ranges.length > MAX_RANGES) return `head plane with ${p.ranges.length} ranges`;
      for (const r of p.ranges) {
        if (r.width < 1 || r.lo + r.width > H) return `bit range ${r.lo}+${r.width} outside a ${H}-bit head`;
        const m = ((1 << r.width) - 1) << r.lo;
        if (headMask & m) return `bit range ${r.lo}+${r.width} overlaps another`;
        headMask |= m;
      }
      if (planeBits(p) > 16) return `head plane of ${planeBits(p)} bits`;
    }
  }
  if (headMask !== (1 << H) - 1) return `head planes cover bits ${headMask.toString(2)} of ${H}`;
  if (byteMask !== (1 << (W - H / 8)) - 1) return `byte planes cover ${byteMask.toString(2)} of ${W - H / 8} bytes`;
  return undefined;
}

/** True when a plane may be rANS-coded (its alphabet fits the table limits). */
export function codablePlane(p: PlaneSpec): boolean {
  return planeBits(p) <= MAX_CODED_SYMBOL_BITS;
}

/**
 * Bound on cached lookup tables per kind. Layouts come from container indexes, so a hostile index can name
 * thousands of distinct ones: without a bound the cache (kept for the life of the process) would grow by
 * up to 128 KiB per layout. Real checkpoints use a handful of layouts.
 */
export const MAX_CACHED_LUTS = 64;

const extractCache = new Map<string, Uint16Array>();
const depositCache = new Map<string, Uint16Array>();

/** A key naming a head plane's ranges within a head of H bits (the lookup tables' caches use it). */
export const rangesKey = (ranges: BitRange[], H: number): string => `${H}:${ranges.map((r) => `${r.lo}.${r.width}`).join(',')}`;

/** `map.get(key)`, or `make()` stored under `key`, evicting the oldest entry beyond MAX_CACHED_LUTS. */
function cached(map: Map<string, Uint16Array>, key: string, make: () => Uint16Array): Uint16Array {
  let lut = map.get(key);
  if (lut) return lut;
  lut = make();
  if (map.size >= MAX_CACHED_LUTS) map.delete(map.keys().next().value as string);
  map.set(key, lut);
  return lut;
}

/** head -> symbol of one head plane (2^H entries; used by the encoder). */
export function extractLut(ranges: BitRange[], H: number): Uint16Array {
  return cached(extractCache, rangesKey(ranges, H), () => {
    const extract = new Uint16Array(1 << H);
    for (let h = 0; h < 1 << H; h++) {
      let s = 0;
      for (const r of ranges) s = (s << r.width) | ((h >>> r.lo) & ((1 << r.width) - 1));
      extract[h] = s;
    }
    return extract;
  });
}

/**
 * symbol -> head bits of one head plane (2^bits entries, at most 2^16 and 2^12 for a coded plane). Built from
 * the symbols, not the heads, so a decoder's cost per layout is bounded by its alphabet, not by 2^H.
 */
export function depositLut(ranges: BitRange[], H: number): Uint16Array {
  return cached(depositCache, rangesKey(ranges, H), () => {
    const bits = ranges.reduce((a, r) => a + r.width, 0);
    const deposit = new Uint16Array(1 << bits);
    for (let s = 0; s < 1 << bits; s++) {
      // The first range holds the most significant symbol bits.
      let h = 0;
      let shift = bits;
      for (const r of ranges) {
        shift -= r.width;
        h |= ((s >>> shift) & ((1 << r.width) - 1)) << r.lo;
      }
      deposit[s] = h;
    }
    return deposit;
  });
}

/** Reads the head of every value (the top 1 or 2 bytes, little-endian). */
export function readHeads(bytes: Uint8Array, n: number, W: number, out: Uint16Array): void {
  if (W === 1) {
    for (let i = 0; i < n; i++) out[i] = bytes[i];
    return;
  }
  for (let i = 0, j = W - 2; i < n; i++, j += W) out[i] = bytes[j] | (bytes[j + 1] << 8);
}

/**
 * Splits `n` values (little-endian, `layout.valueBytes` each) into one symbol array per plane.
 * @param out one array of length >= n per plane
 */
export function splitPlanes(bytes: Uint8Array, n: number, layout: PlaneLayout, out: Uint16Array[], heads: Uint16Array): void {
  const W = layout.valueBytes;
  const H = headBits(W);
  readHeads(bytes, n, W, heads);
  layout.planes.forEach((p, k) => {
    const o = out[k];
    if (p.kind === 'byte') {
      for (let i = 0, j = p.byteIndex; i < n; i++, j += W) o[i] = bytes[j];
    } else {
      const extract = extractLut(p.ranges, H);
      for (let i = 0; i < n; i++) o[i] = extract[heads[i]];
    }
  });
}

/** Rebuilds `n` values from their planes; the exact inverse of splitPlanes. */
export function mergePlanes(planes: Uint16Array[], n: number, layout: PlaneLayout, out: Uint8Array, heads: Uint16Array): void {
  const W = layout.valueBytes;
  const H = headBits(W);
  heads.fill(0, 0, n);
  layout.planes.forEach((p, k) => {
    const src = planes[k];
    if (p.kind === 'byte') {
      for (let i = 0, j = p.byteIndex; i < n; i++, j += W) out[j] = src[i];
    } else {
      const deposit = depositLut(p.ranges, H);
      for (let i = 0; i < n; i++) heads[i] |= deposit[src[i]];
    }
  });
  if (W === 1) {
    for (let i = 0; i < n; i++) out[i] = heads[i];
  } else {
    for (let i = 0, j = W - 2; i < n; i++, j += W) {
      const h = heads[i];
      out[j] = h & 0xff;
      out[j + 1] = h >>> 8;
    }
  }
}
