// Interleaved rANS encoding of one chunk (FORMAT.md §5.3), the exact reverse of rans-decode.ts and of
// encodeRans in src/entropy/rans.ts: steps last to first, coded planes last to first, lanes last to first.
// Words are written downwards from `top`, so they end up in decode order with no reversal; the final lane
// states go just below them, giving the stream [K states][words] ending at `top`.
// Four lanes at a time in one v128: the words of a group's renormalising lanes are packed in lane order by a
// mask-indexed shuffle into the top of an 8-byte store that ends at the write position (the bytes below it are
// overwritten by later stores), and x / freq is a multiply by a per-symbol reciprocal with one correction.

/** For each 4-bit renormalise mask: a shuffle putting the low u16 of each flagged lane, in lane order, at the top of 8 bytes. */
const PACK: usize = memory.data(16 * 16, 16);
let packReady = false;

function initPack(): void {
  for (let m: u32 = 0; m < 16; m++) {
    const at = PACK + (<usize>m << 4);
    for (let b: u32 = 0; b < 16; b++) store<u8>(at + b, 0x80);
    let k: u32 = 8 - 2 * popcnt<u32>(m);
    for (let l: u32 = 0; l < 4; l++) {
      if (!(m & (1 << l))) continue;
      store<u8>(at + k, <u8>(4 * l));
      store<u8>(at + k + 1, <u8>(4 * l + 1));
      k += 2;
    }
  }
  packReady = true;
}

/**
 * Encodes `n` values at `src` (W bytes each; their heads already at `heads`) over `P` coded planes described
 * at `desc` (4 u32 each: symbol table pointer (u64 per symbol: freq | cum << 16 | rcp << 32, with
 * rcp = floor((2^32 - 1) / freq)), probBits, kind 0 = head plane / 1 = byte plane, then the plane's extract table
 * pointer (u16 per head) or its byteIndex).
 * The caller reserves 4K + 8 + 2 n P bytes below `top`.
 * @returns the stream's length in bytes (it starts at top - length), or -1 if a symbol has frequency 0
 */
export function encodeRans(src: usize, n: u32, W: u32, K: u32, desc: usize, P: u32, heads: usize, top: usize, state: usize): i32 {
  if (!packReady) initPack();
  for (let l: u32 = 0; l < K; l++) store<u32>(state + (<usize>l << 2), 0x10000);
  let wp = top;
  const w = <usize>W;
  const low = i32x4.splat(0xffff);
  if (n > 0) {
    for (let base = ((n - 1) / K) * K; ; base -= K) {
      const active = min(K, n - base);
      const vec = active & ~3;
      for (let p = <i32>P - 1; p >= 0; p--) {
        const d = desc + (<usize>p << 4);
        const tbl = <usize>load<u32>(d);
        const pb = load<u32>(d, 4);
        const shift = 32 - pb;
        const isHead = load<u32>(d, 8) == 0;
        const arg = <usize>load<u32>(d, 12);
        // The lanes above the last whole group of four, one at a time, highest first.
        for (let l = <i32>active - 1; l >= <i32>vec; l--) {
          const i = <usize>(base + <u32>l);
          const v: u32 = isHead ? <u32>load<u16>(arg + (<usize>load<u16>(heads + (i << 1)) << 1)) : <u32>load<u8>(src + i * w + arg);
          const e = load<u64>(tbl + (<usize>v << 3));
          const info = <u32>e;
          const f = info & 0xffff;
          if (f == 0) return -1;
          const sp = state + (<usize>l << 2);
          let x = load<u32>(sp);
          const need = (x >>> shift) >= f;
          store<u16>(wp - 2, <u16>x);
          wp -= (<usize>need) << 1;
          x = select<u32>(x >>> 16, x, need);
          // q = floor(x / f) by reciprocal: the estimate is q or q - 1 (x < 2^32), one correction makes it exact.
          let q = <u32>((<u64>x * (e >>> 32)) >>> 32);
          let r = x - q * f;
          const over = r >= f;
          q += <u32>over;
          r -= select<u32>(f, 0, over);
          store<u32>(sp, (q << pb) + r + (info >>> 16));
        }
        // Whole groups of four lanes, highest group first.
        for (let g = <i32>vec - 4; g >= 0; g -= 4) {
          const i = <usize>(base + <u32>g);
          let v0: usize, v1: usize, v2: usize, v3: usize;
          if (isHead) {
            const hp = heads + (i << 1);
            v0 = <usize>load<u16>(arg + (<usize>load<u16>(hp) << 1));
            v1 = <usize>load<u16>(arg + (<usize>load<u16>(hp, 2) << 1));
            v2 = <usize>load<u16>(arg + (<usize>load<u16>(hp, 4) << 1));
            v3 = <usize>load<u16>(arg + (<usize>load<u16>(hp, 6) << 1));
          } else {
            const bp = src + i * w + arg;
            v0 = <usize>load<u8>(bp);
            v1 = <usize>load<u8>(bp + w);
            v2 = <usize>load<u8>(bp + 2 * w);
            v3 = <usize>load<u8>(bp + 3 * w);
          }
          const a = v128.load64_lane(tbl + (v1 << 3), v128.load64_zero(tbl + (v0 << 3)), 1);
          const b = v128.load64_lane(tbl + (v3 << 3), v128.load64_zero(tbl + (v2 << 3)), 1);
          const info = i8x16.shuffle(a, b, 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27);
          const rcp = i8x16.shuffle(a, b, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
          const f = v128.and(info, low);
          if (v128.any_true(i32x4.eq(f, i32x4.splat(0)))) return -1;
          const sp = state + (<usize>g << 2);
          let x = v128.load(sp);
          const need = i32x4.ge_u(i32x4.shr_u(x, shift), f);
          const m = i32x4.bitmask(need);
          v128.store64_lane(wp - 8, i8x16.swizzle(x, v128.load(PACK + (<usize>m << 4))), 0);
          wp -= (<usize>popcnt<u32>(m)) << 1;
          x = v128.bitselect(i32x4.shr_u(x, 16), x, need);
          const lo = i64x2.extmul_low_i32x4_u(x, rcp);
          const hi = i64x2.extmul_high_i32x4_u(x, rcp);
          let q = i8x16.shuffle(lo, hi, 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
          let r = i32x4.sub(x, i32x4.mul(q, f));
          const over = i32x4.ge_u(r, f);
          q = i32x4.sub(q, over);
          r = i32x4.sub(r, v128.and(f, over));
          v128.store(sp, i32x4.add(i32x4.add(i32x4.shl(q, pb), r), i32x4.shr_u(info, 16)));
        }
      }
      if (base == 0) break;
    }
  }
  wp -= <usize>K << 2;
  for (let l: u32 = 0; l < K; l++) store<u32>(wp + (<usize>l << 2), load<u32>(state + (<usize>l << 2)));
  return <i32>(top - wp);
}
