// Fused decoding of the version 4 float layout (FORMAT.md §4.3, §5.3, §6): one rANS-coded head plane over 32 lanes,
// whose slot records deposit its head bits, and the 6-bit raw plane (15,1),(0,5) (sign and the 5 low mantissa bits,
// packed), unpacked eight values at a time and ORed in; each head is stored once, straight into the values (W = 2) or
// interleaved with the raw byte planes 1 and 0 (W = 4).
// Invariants: as decodeRans (states in [2^16, 2^32) between symbols; the read position passes `end` by at most one
// round of 32 lanes plus one 8-byte load, checked after every round); reads of the raw plane go at most 4 bytes past it.

import { BAD_STATE, ENDS_EARLY, RANS_LANES, ROUTE, decodeSteps, initRoute, loadStates } from './rans-decode';
import { mergeW4 } from './planes';

/**
 * The heads' sign and low mantissa bits from eight packed 6-bit fields of the 16 bytes `v`. Lane k (u16) takes bytes
 * ⌊6k/8⌋ and ⌊6k/8⌋ + 1 of the group (`pairs`: the group at byte 0 or at byte 6 of `v`) and multiplies them by
 * 2^(10 − 6k mod 8): the field then fills lane bits 10-15 (its bit 5, the sign, at bit 15), the bits above it shifted
 * out. An arithmetic shift by 10 puts field bits 0-4 in place and copies the sign into bits 5-15, of which the mask
 * keeps bit 15.
 */
// @ts-ignore: decorator
@inline function signMantissa(v: v128, pairs: v128): v128 {
  const t = i16x8.mul(i8x16.swizzle(v, pairs), i16x8(1024, 16, 64, 256, 1024, 16, 64, 256));
  return v128.and(i16x8.shr_s(t, 10), i16x8.splat(<i16>0x801f));
}

/**
 * Eight lanes (two v128 of states) of the coded plane, for eight consecutive values: the arithmetic and word routing of
 * rans-decode.ts headGroup, the eight deposited outputs packed into one v128 and ORed with `raw` (their other head
 * bits), then stored as heads at `dst` (W = 2) or as whole F32 values with bytes b0[k], b1[k] below (`w4`).
 * @returns the read position after the eight lanes' words
 */
// @ts-ignore: decorator
@inline function octet(sp: usize, ent: usize, pb: u32, src: usize, wp: u32, raw: v128, dst: usize, w4: bool, b1: usize, b0: usize): u32 {
  const mask = (<u32>1 << pb) - 1;
  let xa = v128.load(sp);
  let xb = v128.load(sp, 16);
  const s0 = <usize>(load<u32>(sp) & mask);
  const s1 = <usize>(load<u32>(sp, 4) & mask);
  const s2 = <usize>(load<u32>(sp, 8) & mask);
  const s3 = <usize>(load<u32>(sp, 12) & mask);
  const s4 = <usize>(load<u32>(sp, 16) & mask);
  const s5 = <usize>(load<u32>(sp, 20) & mask);
  const s6 = <usize>(load<u32>(sp, 24) & mask);
  const s7 = <usize>(load<u32>(sp, 28) & mask);
  // Slot records (entry u32, output u16, zero u16), two per vector; entries and outputs picked out as u32 lanes.
  const r01 = v128.load64_lane(ent + (s1 << 3), v128.load64_zero(ent + (s0 << 3)), 1);
  const r23 = v128.load64_lane(ent + (s3 << 3), v128.load64_zero(ent + (s2 << 3)), 1);
  const r45 = v128.load64_lane(ent + (s5 << 3), v128.load64_zero(ent + (s4 << 3)), 1);
  const r67 = v128.load64_lane(ent + (s7 << 3), v128.load64_zero(ent + (s6 << 3)), 1);
  const ea = i8x16.shuffle(r01, r23, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
  const eb = i8x16.shuffle(r45, r67, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
  const oa = i8x16.shuffle(r01, r23, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  const ob = i8x16.shuffle(r45, r67, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
  // Outputs are < 2^16 with zero high halves: the saturating narrow is exact.
  const h = v128.or(i16x8.narrow_i32x4_u(oa, ob), raw);
  const low = i32x4.splat(0xffff);
  const zero = i32x4.splat(0);
  xa = i32x4.add(i32x4.mul(v128.and(ea, low), i32x4.shr_u(xa, pb)), i32x4.shr_u(ea, 16));
  xb = i32x4.add(i32x4.mul(v128.and(eb, low), i32x4.shr_u(xb, pb)), i32x4.shr_u(eb, 16));
  // x < 2^16 exactly when its top half is zero; lanes 0-3 take their words first, in lane order.
  const na = i32x4.eq(i32x4.shr_u(xa, 16), zero);
  const ma = i32x4.bitmask(na);
  v128.store(sp, v128.bitselect(v128.or(i32x4.shl(xa, 16), i8x16.swizzle(v128.load64_zero(src + wp), v128.load(ROUTE + (<usize>ma << 4)))), xa, na));
  wp += popcnt<u32>(ma) << 1;
  const nb = i32x4.eq(i32x4.shr_u(xb, 16), zero);
  const mb = i32x4.bitmask(nb);
  v128.store(sp, v128.bitselect(v128.or(i32x4.shl(xb, 16), i8x16.swizzle(v128.load64_zero(src + wp), v128.load(ROUTE + (<usize>mb << 4)))), xb, nb), 16);
  wp += popcnt<u32>(mb) << 1;
  if (w4) {
    // b0[k] | b1[k] << 8 per u16 lane, then interleaved with the heads: values [b0, b1, head lo, head hi].
    const lo = i8x16.shuffle(v128.load64_zero(b0), v128.load64_zero(b1), 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    v128.store(dst, i8x16.shuffle(lo, h, 0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23));
    v128.store(dst, i8x16.shuffle(lo, h, 8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31), 16);
  } else v128.store(dst, h);
  return wp;
}

/**
 * Steps 0 … full/32 − 1: per step four octets, whose raw fields (24 bytes a step) come from two 16-byte loads.
 * @returns the read position after the last full step, or minus a failure code
 */
// @ts-ignore: decorator
@inline function fusedSteps(src: usize, end: u32, full: u32, ent: usize, pb: u32, raw: usize, state: usize, out: usize, w4: bool, b1: usize, b0: usize, wp: u32): i64 {
  const fieldsLo = i8x16(0, 1, 0, 1, 1, 2, 2, 3, 3, 4, 3, 4, 4, 5, 5, 6);
  const fieldsHi = i8x16(6, 7, 6, 7, 7, 8, 8, 9, 9, 10, 9, 10, 10, 11, 11, 12);
  const vb: usize = w4 ? 4 : 2;
  for (let base: u32 = 0; base < full; base += RANS_LANES) {
    const rp = raw + (<usize>(base >> 2)) * 3;
    const ra = v128.load(rp);
    const rb = v128.load(rp, 12);
    const d = out + <usize>base * vb;
    const q1 = b1 + <usize>base;
    const q0 = b0 + <usize>base;
    wp = octet(state, ent, pb, src, wp, signMantissa(ra, fieldsLo), d, w4, q1, q0);
    wp = octet(state + 32, ent, pb, src, wp, signMantissa(ra, fieldsHi), d + 8 * vb, w4, q1 + 8, q0 + 8);
    wp = octet(state + 64, ent, pb, src, wp, signMantissa(rb, fieldsLo), d + 16 * vb, w4, q1 + 16, q0 + 16);
    wp = octet(state + 96, ent, pb, src, wp, signMantissa(rb, fieldsHi), d + 24 * vb, w4, q1 + 24, q0 + 24);
    if (wp > end) return -<i64>ENDS_EARLY;
  }
  return <i64>wp;
}

/**
 * Decodes a chunk of the version 4 float layout: the 32-lane rANS stream (`end` bytes at `src`) of one coded head plane
 * (`desc` as for decodeRans), the packed 6-bit raw plane (15,1),(0,5) at `raw`, and for W = 4 the raw byte planes at
 * `b1` and `b0`, into `n` values at `out`. `heads`: n u16 of scratch for the last partial step (for W = 2, `out`).
 * @returns 0, or a failure code (the stream is corrupt)
 */
export function decodeRansPacked(src: usize, end: u32, n: u32, desc: usize, raw: usize, state: usize, heads: usize, out: usize, W: u32, b1: usize, b0: usize): i32 {
  initRoute();
  if (!loadStates(src, RANS_LANES, state)) return BAD_STATE;
  const ent = <usize>load<u32>(desc);
  const pb = load<u32>(desc, 8);
  const full = n & ~(RANS_LANES - 1);
  const r = W == 4 ? fusedSteps(src, end, full, ent, pb, raw, state, out, true, b1, b0, RANS_LANES << 2) : fusedSteps(src, end, full, ent, pb, raw, state, out, false, 0, 0, RANS_LANES << 2);
  if (r < 0) return <i32>-r;
  // The last partial step: heads from the raw fields, the coded plane ORed in by the general loop.
  for (let i = full; i < n; i++) {
    const bit = <usize>i * 6;
    const v = (<u32>load<u16>(raw + (bit >> 3)) >>> <u32>(bit & 7)) & 0x3f;
    store<u16>(heads + (<usize>i << 1), <u16>(((v & 0x20) << 10) | (v & 0x1f)));
  }
  const rc = decodeSteps(src, end, n, full, RANS_LANES, desc, 1, heads, out, W, state, <u32>r);
  if (rc != 0) return rc;
  if (W == 4) mergeW4(heads + (<usize>full << 1), b1 + <usize>full, b0 + <usize>full, n - full, out + (<usize>full << 2));
  return 0;
}
