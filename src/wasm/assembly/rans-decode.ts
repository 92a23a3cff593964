// Interleaved rANS decoding of one chunk (FORMAT.md §5.3, §6) with the plane merge of §4.2 fused in.
// Same symbol order as src/entropy/rans.ts: for step s, for coded plane p, for lane l < active. Lanes read the
// shared word stream in lane order, so the read position is a running sum of the lanes' renormalise flags.
// Invariants: between symbols every state is in [2^16, 2^32); the read position never passes `end` by more than
// 2 x 32 bytes (checked after every round), so the caller pads the stream by DECODE_PAD bytes.

/** Bytes after the stream the caller keeps readable (one round of 32 lanes may over-read before the check). */
export const DECODE_PAD: u32 = 64;

/** Failure codes; the caller re-runs the reference decoder to raise the exact error. */
const BAD_STATE: i32 = 1;
const ENDS_EARLY: i32 = 2;
const WORDS_LEFT: i32 = 3;
const BAD_FINAL_STATE: i32 = 4;

/**
 * Fills a slot table of 2^pb u64 entries: freq (bits 0-15), slot - cum (bits 16-31), the symbol's output
 * bits (32-47): its head bits from `deposit` (u16 per symbol) for a head plane, or the symbol itself when
 * `deposit` is 0 (a byte plane). `freqs` holds `alphabet` u32 frequencies summing to 2^pb (checked by the reader).
 */
export function buildDecodeTable(freqs: usize, alphabet: u32, pb: u32, deposit: usize, out: usize): void {
  let cum: u32 = 0;
  for (let s: u32 = 0; s < alphabet; s++) {
    const f = load<u32>(freqs + (<usize>s << 2));
    if (f == 0) continue;
    const bits: u64 = deposit ? <u64>load<u16>(deposit + (<usize>s << 1)) : <u64>s;
    const hi = bits << 32;
    for (let k: u32 = 0; k < f; k++) {
      store<u64>(out + (<usize>(cum + k) << 3), hi | (<u64>k << 16) | <u64>f);
    }
    cum += f;
  }
}

/**
 * Decodes a chunk's rANS stream (`end` bytes at `src`, lane states first) over `P` coded planes described at
 * `desc` (4 u32 each: slot table pointer, probBits, kind 0 = head plane / 1 = byte plane, byteIndex).
 * Head planes OR their bits into the u16 heads at `heads` (zeroed or pre-filled by the caller); byte planes
 * store their byte at out[i * W + byteIndex].
 * @returns 0, or a failure code (the stream is corrupt)
 */
export function decodeRans(src: usize, end: u32, n: u32, K: u32, desc: usize, P: u32, heads: usize, out: usize, W: u32, state: usize): i32 {
  for (let l: u32 = 0; l < K; l++) {
    const x = load<u32>(src + (<usize>l << 2));
    if (x < 0x10000) return BAD_STATE;
    store<u32>(state + (<usize>l << 2), x);
  }
  let wp: u32 = K << 2;
  for (let base: u32 = 0; base < n; base += K) {
    const active = min(K, n - base);
    for (let p: u32 = 0; p < P; p++) {
      const d = desc + (<usize>p << 4);
      const tbl = <usize>load<u32>(d);
      const pb = load<u32>(d, 4);
      const mask: u32 = (1 << pb) - 1;
      if (load<u32>(d, 8) == 0) {
        const hp = heads + (<usize>base << 1);
        for (let l: u32 = 0; l < active; l++) {
          const sp = state + (<usize>l << 2);
          let x = load<u32>(sp);
          const e = load<u64>(tbl + (<usize>(x & mask) << 3));
          const lo = <u32>e;
          x = (lo & 0xffff) * (x >>> pb) + (lo >>> 16);
          const w = <u32>load<u16>(src + wp);
          const need = x < 0x10000;
          x = select<u32>((x << 16) | w, x, need);
          wp += (<u32>need) << 1;
          store<u32>(sp, x);
          const h = hp + (<usize>l << 1);
          store<u16>(h, load<u16>(h) | <u16>(e >>> 32));
        }
      } else {
        const op = out + <usize>base * W + <usize>load<u32>(d, 12);
        for (let l: u32 = 0; l < active; l++) {
          const sp = state + (<usize>l << 2);
          let x = load<u32>(sp);
          const e = load<u64>(tbl + (<usize>(x & mask) << 3));
          const lo = <u32>e;
          x = (lo & 0xffff) * (x >>> pb) + (lo >>> 16);
          const w = <u32>load<u16>(src + wp);
          const need = x < 0x10000;
          x = select<u32>((x << 16) | w, x, need);
          wp += (<u32>need) << 1;
          store<u32>(sp, x);
          store<u8>(op + <usize>l * W, <u8>(e >>> 32));
        }
      }
      if (wp > end) return ENDS_EARLY;
    }
  }
  if (wp != end) return WORDS_LEFT;
  for (let l: u32 = 0; l < K; l++) if (load<u32>(state + (<usize>l << 2)) != 0x10000) return BAD_FINAL_STATE;
  return 0;
}
