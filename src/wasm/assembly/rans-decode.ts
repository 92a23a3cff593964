// Interleaved rANS decoding of one chunk (FORMAT.md §5.3, §6) with the plane merge of §4.2 fused in.
// Same symbol order as src/entropy/rans.ts: for step s, for coded plane p, for lane l < active. Lanes read the
// shared word stream in lane order ("Lockstep decoding on GPU and SIMD lanes"): four lanes at a time in one
// v128, the words of a group are 8 bytes loaded at the read position and routed to the renormalising lanes by a
// shuffle chosen by the lanes' renormalise mask (its prefix sums), and the read position advances by 2 x popcount.
// Invariants: between symbols every state is in [2^16, 2^32); the read position never passes `end` by more than
// one round (32 lanes x 2 bytes) plus one 8-byte load (checked after every round), so the caller keeps DECODE_PAD
// readable bytes after the stream.

/** Failure codes; the caller re-runs the reference decoder to raise the exact error. */
export const BAD_STATE: i32 = 1;
export const ENDS_EARLY: i32 = 2;
const WORDS_LEFT: i32 = 3;
const BAD_FINAL_STATE: i32 = 4;

/** Lanes of a full-width stream (FORMAT.md §5.3); the specialised loops handle exactly this many. */
export const RANS_LANES: u32 = 32;

/**
 * For each 4-bit renormalise mask m (bit l = lane l needs a word): a swizzle of the 8 word bytes that gives
 * lane l the word at index popcount(m & ((1 << l) - 1)) as a u32, and 0 for lanes that do not renormalise.
 */
export const ROUTE: usize = memory.data(16 * 16, 16);
let routeReady = false;

/** Fills ROUTE on first use. */
export function initRoute(): void {
  if (routeReady) return;
  for (let m: u32 = 0; m < 16; m++) {
    let k: u32 = 0;
    for (let l: u32 = 0; l < 4; l++) {
      const at = ROUTE + (<usize>m << 4) + (<usize>l << 2);
      if (m & (1 << l)) {
        store<u8>(at, <u8>(2 * k));
        store<u8>(at, <u8>(2 * k + 1), 1);
        k++;
      } else {
        store<u8>(at, 0x80);
        store<u8>(at, 0x80, 1);
      }
      store<u8>(at, 0x80, 2);
      store<u8>(at, 0x80, 3);
    }
  }
  routeReady = true;
}

/**
 * Fills the slot table of one coded plane: 2^pb records of 8 bytes (SLOT_BYTES), each the u32 entry (freq in bits
 * 0-15, slot - cum in 16-31), then the u16 output (the symbol's head bits from `deposit` (u16 per symbol) for a head
 * plane, or the symbol itself when `deposit` is 0, for a byte plane), then 2 zero bytes. One record holds both so
 * that the decoder fetches them with one 8-byte load per lane. `freqs` holds `alphabet` u32 frequencies summing to
 * 2^pb (checked by the index reader).
 */
export function buildDecodeTable(freqs: usize, alphabet: u32, pb: u32, deposit: usize, table: usize): void {
  let cum: u32 = 0;
  for (let s: u32 = 0; s < alphabet; s++) {
    const f = load<u32>(freqs + (<usize>s << 2));
    if (f == 0) continue;
    const bits: u64 = deposit ? <u64>load<u16>(deposit + (<usize>s << 1)) : <u64>s;
    for (let k: u32 = 0; k < f; k++) store<u64>(table + (<usize>(cum + k) << 3), (bits << 32) | ((<u64>k << 16) | f));
    cum += f;
  }
}

/**
 * Decodes a chunk's rANS stream (`end` bytes at `src`, lane states first) over `P` coded planes described at
 * `desc` (5 u32 each: slot table, unused, probBits, kind 0 = head plane / 1 = byte plane, byteIndex).
 * Head planes OR their bits into the u16 heads at `heads` (zeroed or pre-filled by the caller); byte planes
 * store their byte at out[i * W + byteIndex].
 * @returns 0, or a failure code (the stream is corrupt)
 */
export function decodeRans(src: usize, end: u32, n: u32, K: u32, desc: usize, P: u32, heads: usize, out: usize, W: u32, state: usize, headsSet: bool): i32 {
  initRoute();
  if (!loadStates(src, K, state)) return BAD_STATE;
  let wp: u32 = K << 2;
  let base: u32 = 0;
  if (K == RANS_LANES && allHeadPlanes(desc, P)) {
    // The steps where all 32 lanes are active, in the specialised loop; the rest below.
    const full = n & ~(RANS_LANES - 1);
    const r = decodeFullSteps(src, end, full, desc, P, heads, state, headsSet, wp);
    if (r < 0) return <i32>-r;
    wp = <u32>r;
    base = full;
  }
  // The general loop ORs into the heads: without raw head planes they start at zero.
  if (!headsSet) memory.fill(heads + (<usize>base << 1), 0, <usize>(n - base) << 1);
  return decodeSteps(src, end, n, base, K, desc, P, heads, out, W, state, wp);
}

/** Copies the K initial lane states of the stream at `src` to `state`. @returns false if one is below 2^16 */
export function loadStates(src: usize, K: u32, state: usize): bool {
  for (let l: u32 = 0; l < K; l++) {
    const x = load<u32>(src + (<usize>l << 2));
    if (x < 0x10000) return false;
    store<u32>(state + (<usize>l << 2), x);
  }
  return true;
}

/**
 * The steps from value `base` (a multiple of K) to `n`, one lane at a time or four in a v128, ORing head planes into
 * the heads (initialised by the caller), then the end-of-stream checks. `wp`: the read position at `base`.
 * @returns 0, or a failure code
 */
export function decodeSteps(src: usize, end: u32, n: u32, base: u32, K: u32, desc: usize, P: u32, heads: usize, out: usize, W: u32, state: usize, wp: u32): i32 {
  const w = <usize>W;
  for (; base < n; base += K) {
    const active = min(K, n - base);
    // Lanes handled four at a time; the rest (small K, or the last step's partial round) one at a time.
    const vec = active & ~3;
    for (let p: u32 = 0; p < P; p++) {
      const d = desc + <usize>p * 20;
      const ent = <usize>load<u32>(d);
      const outs = ent + 4;
      const pb = load<u32>(d, 8);
      const isHead = load<u32>(d, 12) == 0;
      const mask: u32 = (1 << pb) - 1;
      const op = isHead ? heads + (<usize>base << 1) : out + <usize>base * w + <usize>load<u32>(d, 16);
      const maskv = i32x4.splat(mask);
      const low = i32x4.splat(0xffff);
      const lim = i32x4.splat(0x10000);
      for (let l: u32 = 0; l < vec; l += 4) {
        const sp = state + (<usize>l << 2);
        let x = v128.load(sp);
        const slot = v128.and(x, maskv);
        const s0 = <usize>i32x4.extract_lane(slot, 0);
        const s1 = <usize>i32x4.extract_lane(slot, 1);
        const s2 = <usize>i32x4.extract_lane(slot, 2);
        const s3 = <usize>i32x4.extract_lane(slot, 3);
        let e = v128.load32_zero(ent + (s0 << 3));
        e = v128.load32_lane(ent + (s1 << 3), e, 1);
        e = v128.load32_lane(ent + (s2 << 3), e, 2);
        e = v128.load32_lane(ent + (s3 << 3), e, 3);
        x = i32x4.add(i32x4.mul(v128.and(e, low), i32x4.shr_u(x, pb)), i32x4.shr_u(e, 16));
        const need = i32x4.lt_u(x, lim);
        const m = i32x4.bitmask(need);
        const words = v128.load64_zero(src + wp);
        const wv = i8x16.swizzle(words, v128.load(ROUTE + (<usize>m << 4)));
        x = v128.bitselect(v128.or(i32x4.shl(x, 16), wv), x, need);
        wp += popcnt<u32>(m) << 1;
        v128.store(sp, x);
        if (isHead) {
          const hp = op + (<usize>l << 1);
          let o = v128.load16_lane(outs + (s0 << 3), i16x8.splat(0), 0);
          o = v128.load16_lane(outs + (s1 << 3), o, 1);
          o = v128.load16_lane(outs + (s2 << 3), o, 2);
          o = v128.load16_lane(outs + (s3 << 3), o, 3);
          v128.store64_lane(hp, v128.or(o, v128.load64_zero(hp)), 0);
        } else {
          const bp = op + <usize>l * w;
          store<u8>(bp, <u8>load<u16>(outs + (s0 << 3)));
          store<u8>(bp + w, <u8>load<u16>(outs + (s1 << 3)));
          store<u8>(bp + 2 * w, <u8>load<u16>(outs + (s2 << 3)));
          store<u8>(bp + 3 * w, <u8>load<u16>(outs + (s3 << 3)));
        }
      }
      for (let l = vec; l < active; l++) {
        const sp = state + (<usize>l << 2);
        let x = load<u32>(sp);
        const slot = <usize>(x & mask);
        const e = load<u32>(ent + (slot << 3));
        x = (e & 0xffff) * (x >>> pb) + (e >>> 16);
        const word = <u32>load<u16>(src + wp);
        const needs = x < 0x10000;
        x = select<u32>((x << 16) | word, x, needs);
        wp += (<u32>needs) << 1;
        store<u32>(sp, x);
        const v = load<u16>(outs + (slot << 3));
        if (isHead) {
          const hp = op + (<usize>l << 1);
          store<u16>(hp, load<u16>(hp) | v);
        } else store<u8>(op + <usize>l * w, <u8>v);
      }
      if (wp > end) return ENDS_EARLY;
    }
  }
  if (wp != end) return WORDS_LEFT;
  for (let l: u32 = 0; l < K; l++) if (load<u32>(state + (<usize>l << 2)) != 0x10000) return BAD_FINAL_STATE;
  return 0;
}

/** Whether every coded plane in `desc` is a head plane (kind 0): the specialised loop handles only those. */
function allHeadPlanes(desc: usize, P: u32): bool {
  for (let p: u32 = 0; p < P; p++) if (load<u32>(desc + <usize>p * 20, 12) != 0) return false;
  return true;
}

/**
 * One group of four lanes of one head plane: the same arithmetic and word routing as the general loop, written
 * for the full-width case. `first`: this is the first head plane of the step and the heads hold nothing yet, so the
 * group stores its head bits instead of ORing them in (no zero fill, one load fewer).
 * @returns the read position after the group's words
 */
// @ts-ignore: decorator
@inline function headGroup(sp: usize, hp: usize, ent: usize, outs: usize, pb: u32, maskv: v128, src: usize, wp: u32, first: bool): u32 {
  let x = v128.load(sp);
  const mask = (<u32>1 << pb) - 1;
  const s0 = <usize>(load<u32>(sp) & mask);
  const s1 = <usize>(load<u32>(sp, 4) & mask);
  const s2 = <usize>(load<u32>(sp, 8) & mask);
  const s3 = <usize>(load<u32>(sp, 12) & mask);
  // Two records per vector (8 bytes each), then the entries and the outputs picked out by two shuffles.
  const r01 = v128.load64_lane(ent + (s1 << 3), v128.load64_zero(ent + (s0 << 3)), 1);
  const r23 = v128.load64_lane(ent + (s3 << 3), v128.load64_zero(ent + (s2 << 3)), 1);
  const e = i8x16.shuffle(r01, r23, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
  const o = i8x16.shuffle(r01, r23, 4, 5, 12, 13, 20, 21, 28, 29, 4, 5, 12, 13, 20, 21, 28, 29);
  x = i32x4.add(i32x4.mul(v128.and(e, i32x4.splat(0xffff)), i32x4.shr_u(x, pb)), i32x4.shr_u(e, 16));
  // x < 2^16 exactly when its top half is zero (x < 2^32 always): cheaper than an unsigned compare.
  const need = i32x4.eq(i32x4.shr_u(x, 16), i32x4.splat(0));
  const m = i32x4.bitmask(need);
  const wv = i8x16.swizzle(v128.load64_zero(src + wp), v128.load(ROUTE + (<usize>m << 4)));
  v128.store(sp, v128.bitselect(v128.or(i32x4.shl(x, 16), wv), x, need));
  if (first) v128.store64_lane(hp, o, 0);
  else v128.store64_lane(hp, v128.or(o, v128.load64_zero(hp)), 0);
  return wp + (popcnt<u32>(m) << 1);
}

/**
 * One plane's round over all 32 lanes: eight groups of four, written out (a loop here is not unrolled by the
 * compiler and measured ~9 % slower). @returns the read position after it
 */
// @ts-ignore: decorator
@inline function headRound(state: usize, hp: usize, ent: usize, outs: usize, pb: u32, maskv: v128, src: usize, wp: u32, first: bool): u32 {
  wp = headGroup(state, hp, ent, outs, pb, maskv, src, wp, first);
  wp = headGroup(state + 16, hp + 8, ent, outs, pb, maskv, src, wp, first);
  wp = headGroup(state + 32, hp + 16, ent, outs, pb, maskv, src, wp, first);
  wp = headGroup(state + 48, hp + 24, ent, outs, pb, maskv, src, wp, first);
  wp = headGroup(state + 64, hp + 32, ent, outs, pb, maskv, src, wp, first);
  wp = headGroup(state + 80, hp + 40, ent, outs, pb, maskv, src, wp, first);
  wp = headGroup(state + 96, hp + 48, ent, outs, pb, maskv, src, wp, first);
  return headGroup(state + 112, hp + 56, ent, outs, pb, maskv, src, wp, first);
}

/**
 * The steps 0 .. full/32 - 1 of a 32-lane stream whose coded planes are all head planes: eight groups of four
 * lanes per plane, unrolled, with the plane descriptors read once per plane rather than per step.
 * @returns the read position after the last full step, or minus a failure code
 */
function decodeFullSteps(src: usize, end: u32, full: u32, desc: usize, P: u32, heads: usize, state: usize, headsSet: bool, wp: u32): i64 {
  for (let base: u32 = 0; base < full; base += RANS_LANES) {
    const hp = heads + (<usize>base << 1);
    for (let p: u32 = 0; p < P; p++) {
      const d = desc + <usize>p * 20;
      const ent = <usize>load<u32>(d);
      const outs = ent + 4;
      const pb = load<u32>(d, 8);
      const maskv = i32x4.splat((1 << pb) - 1);
      // `first` a constant in each call, so each inlined copy of the round has its store or OR fixed.
      wp = p == 0 && !headsSet ? headRound(state, hp, ent, outs, pb, maskv, src, wp, true) : headRound(state, hp, ent, outs, pb, maskv, src, wp, false);
      // After every plane, as in the general loop: reads stay within one round past `end` (DECODE_PAD).
      if (wp > end) return -<i64>ENDS_EARLY;
    }
  }
  return <i64>wp;
}
