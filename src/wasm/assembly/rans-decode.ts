// Interleaved rANS decoding of one chunk (FORMAT.md §5.3, §6) with the plane merge of §4.2 fused in.
// Same symbol order as src/entropy/rans.ts: for step s, for coded plane p, for lane l < active. Lanes read the
// shared word stream in lane order ("Lockstep decoding on GPU and SIMD lanes"): four lanes at a time in one
// v128, the words of a group are 8 bytes loaded at the read position and routed to the renormalising lanes by a
// shuffle chosen by the lanes' renormalise mask (its prefix sums), and the read position advances by 2 x popcount.
// Invariants: between symbols every state is in [2^16, 2^32); the read position never passes `end` by more than
// one round (32 lanes x 2 bytes) plus one 8-byte load (checked after every round), so the caller keeps DECODE_PAD
// readable bytes after the stream.

/** Failure codes; the caller re-runs the reference decoder to raise the exact error. */
const BAD_STATE: i32 = 1;
const ENDS_EARLY: i32 = 2;
const WORDS_LEFT: i32 = 3;
const BAD_FINAL_STATE: i32 = 4;

/**
 * For each 4-bit renormalise mask m (bit l = lane l needs a word): a swizzle of the 8 word bytes that gives
 * lane l the word at index popcount(m & ((1 << l) - 1)) as a u32, and 0 for lanes that do not renormalise.
 */
const ROUTE: usize = memory.data(16 * 16, 16);
let routeReady = false;

function initRoute(): void {
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
 * Fills the slot tables of one coded plane: `entries` (2^pb u32: freq in bits 0-15, slot - cum in 16-31) and
 * `outputs` (2^pb u16: the symbol's head bits from `deposit` (u16 per symbol) for a head plane, or the symbol
 * itself when `deposit` is 0, for a byte plane). `freqs` holds `alphabet` u32 frequencies summing to 2^pb
 * (checked by the index reader).
 */
export function buildDecodeTable(freqs: usize, alphabet: u32, pb: u32, deposit: usize, entries: usize, outputs: usize): void {
  let cum: u32 = 0;
  for (let s: u32 = 0; s < alphabet; s++) {
    const f = load<u32>(freqs + (<usize>s << 2));
    if (f == 0) continue;
    const bits: u16 = deposit ? load<u16>(deposit + (<usize>s << 1)) : <u16>s;
    for (let k: u32 = 0; k < f; k++) {
      const slot = <usize>(cum + k);
      store<u32>(entries + (slot << 2), (k << 16) | f);
      store<u16>(outputs + (slot << 1), bits);
    }
    cum += f;
  }
}

/**
 * Decodes a chunk's rANS stream (`end` bytes at `src`, lane states first) over `P` coded planes described at
 * `desc` (5 u32 each: entries table, outputs table, probBits, kind 0 = head plane / 1 = byte plane, byteIndex).
 * Head planes OR their bits into the u16 heads at `heads` (zeroed or pre-filled by the caller); byte planes
 * store their byte at out[i * W + byteIndex].
 * @returns 0, or a failure code (the stream is corrupt)
 */
export function decodeRans(src: usize, end: u32, n: u32, K: u32, desc: usize, P: u32, heads: usize, out: usize, W: u32, state: usize): i32 {
  if (!routeReady) initRoute();
  for (let l: u32 = 0; l < K; l++) {
    const x = load<u32>(src + (<usize>l << 2));
    if (x < 0x10000) return BAD_STATE;
    store<u32>(state + (<usize>l << 2), x);
  }
  let wp: u32 = K << 2;
  const w = <usize>W;
  for (let base: u32 = 0; base < n; base += K) {
    const active = min(K, n - base);
    // Lanes handled four at a time; the rest (small K, or the last step's partial round) one at a time.
    const vec = active & ~3;
    for (let p: u32 = 0; p < P; p++) {
      const d = desc + <usize>p * 20;
      const ent = <usize>load<u32>(d);
      const outs = <usize>load<u32>(d, 4);
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
        let e = v128.load32_zero(ent + (s0 << 2));
        e = v128.load32_lane(ent + (s1 << 2), e, 1);
        e = v128.load32_lane(ent + (s2 << 2), e, 2);
        e = v128.load32_lane(ent + (s3 << 2), e, 3);
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
          let o = v128.load16_lane(outs + (s0 << 1), i16x8.splat(0), 0);
          o = v128.load16_lane(outs + (s1 << 1), o, 1);
          o = v128.load16_lane(outs + (s2 << 1), o, 2);
          o = v128.load16_lane(outs + (s3 << 1), o, 3);
          v128.store64_lane(hp, v128.or(o, v128.load64_zero(hp)), 0);
        } else {
          const bp = op + <usize>l * w;
          store<u8>(bp, <u8>load<u16>(outs + (s0 << 1)));
          store<u8>(bp + w, <u8>load<u16>(outs + (s1 << 1)));
          store<u8>(bp + 2 * w, <u8>load<u16>(outs + (s2 << 1)));
          store<u8>(bp + 3 * w, <u8>load<u16>(outs + (s3 << 1)));
        }
      }
      for (let l = vec; l < active; l++) {
        const sp = state + (<usize>l << 2);
        let x = load<u32>(sp);
        const slot = <usize>(x & mask);
        const e = load<u32>(ent + (slot << 2));
        x = (e & 0xffff) * (x >>> pb) + (e >>> 16);
        const word = <u32>load<u16>(src + wp);
        const needs = x < 0x10000;
        x = select<u32>((x << 16) | word, x, needs);
        wp += (<u32>needs) << 1;
        store<u32>(sp, x);
        const v = load<u16>(outs + (slot << 1));
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
