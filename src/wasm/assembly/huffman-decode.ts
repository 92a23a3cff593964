// Decoding of one Huffman block (FORMAT.md §5.4, §6): eight LSB-first bit streams decoded in one interleaved loop,
// so the lookups of different streams overlap, each lookup yielding up to three symbols from an 11-bit window.
// Invariants: a stream's reads go at most 8 bytes past its bit position, and its bit position passes its start by at
// most 11 bits per lookup; the caller keeps HUFFMAN_PAD(n) readable bytes after the block, so corrupt streams read
// only padding. Every stream is checked at the end (exact size, zero padding); the caller re-runs the reference
// decoder on failure to raise the exact error.

/** Failure codes. */
const BAD_SIZES: i32 = 1;
const BAD_STREAM: i32 = 2;

const STREAMS: u32 = 8;
const WINDOW: u32 = 11;
const WINDOW_MASK: u64 = (1 << WINDOW) - 1;

/**
 * Decodes a block of `n` symbols at `src` (at most `avail` bytes) into the bytes at `out`.
 * `multi`: 2^11 u32 entries, sym0 | sym1 << 8 | sym2 << 16 | count << 24 | bits << 28 (the symbols whose codes fit
 * whole in the window); `single`: 2^11 u16 entries, symbol | bits << 8 (the first symbol only).
 * @returns the block's size in bytes (> 0), or minus a failure code
 */
export function decodeHuffman(src: usize, avail: u32, n: u32, multi: usize, single: usize, out: usize): i32 {
  if (avail < STREAMS * 4) return -BAD_SIZES;
  // Stream k: bits from byte start[k], symbols k*q .. min(n, (k+1)*q) - 1.
  let total: u64 = STREAMS * 4;
  for (let k: u32 = 0; k < STREAMS; k++) total += <u64>load<u32>(src + (<usize>k << 2));
  if (total > <u64>avail) return -BAD_SIZES;
  const q = (n + STREAMS - 1) / STREAMS;
  const s0 = src + STREAMS * 4;
  const s1 = s0 + <usize>load<u32>(src);
  const s2 = s1 + <usize>load<u32>(src, 4);
  const s3 = s2 + <usize>load<u32>(src, 8);
  const s4 = s3 + <usize>load<u32>(src, 12);
  const s5 = s4 + <usize>load<u32>(src, 16);
  const s6 = s5 + <usize>load<u32>(src, 20);
  const s7 = s6 + <usize>load<u32>(src, 24);
  // Bit positions as u64: byte addresses times 8 can pass 2^32.
  let p0: u64 = <u64>s0 << 3, p1: u64 = <u64>s1 << 3, p2: u64 = <u64>s2 << 3, p3: u64 = <u64>s3 << 3;
  let p4: u64 = <u64>s4 << 3, p5: u64 = <u64>s5 << 3, p6: u64 = <u64>s6 << 3, p7: u64 = <u64>s7 << 3;
  let o0 = out, o1 = out + q, o2 = out + 2 * q, o3 = out + 3 * q;
  let o4 = out + 4 * q, o5 = out + 5 * q, o6 = out + 6 * q, o7 = out + 7 * q;
  // Fast loop while every stream has room for a 4-byte store (an entry's up to 3 symbols and a byte the next store
  // or the tail rewrites), so no store reaches the next stream's symbols.
  const last = <usize>n;
  const e0 = min(o1, out + last), e1 = min(o2, out + last), e2 = min(o3, out + last), e3 = min(o4, out + last);
  const e4 = min(o5, out + last), e5 = min(o6, out + last), e6 = min(o7, out + last), e7 = out + last;
  if (q >= 4) {
    while ((o0 + 4 <= e0) & (o1 + 4 <= e1) & (o2 + 4 <= e2) & (o3 + 4 <= e3) & (o4 + 4 <= e4) & (o5 + 4 <= e5) & (o6 + 4 <= e6) & (o7 + 4 <= e7)) {
      let e: u32;
      e = load<u32>(multi + (<usize>((load<u64>(<usize>(p0 >> 3)) >> (p0 & 7)) & WINDOW_MASK) << 2)); store<u32>(o0, e); o0 += (e >>> 24) & 3; p0 += <u64>(e >>> 28);
      e = load<u32>(multi + (<usize>((load<u64>(<usize>(p1 >> 3)) >> (p1 & 7)) & WINDOW_MASK) << 2)); store<u32>(o1, e); o1 += (e >>> 24) & 3; p1 += <u64>(e >>> 28);
      e = load<u32>(multi + (<usize>((load<u64>(<usize>(p2 >> 3)) >> (p2 & 7)) & WINDOW_MASK) << 2)); store<u32>(o2, e); o2 += (e >>> 24) & 3; p2 += <u64>(e >>> 28);
      e = load<u32>(multi + (<usize>((load<u64>(<usize>(p3 >> 3)) >> (p3 & 7)) & WINDOW_MASK) << 2)); store<u32>(o3, e); o3 += (e >>> 24) & 3; p3 += <u64>(e >>> 28);
      e = load<u32>(multi + (<usize>((load<u64>(<usize>(p4 >> 3)) >> (p4 & 7)) & WINDOW_MASK) << 2)); store<u32>(o4, e); o4 += (e >>> 24) & 3; p4 += <u64>(e >>> 28);
      e = load<u32>(multi + (<usize>((load<u64>(<usize>(p5 >> 3)) >> (p5 & 7)) & WINDOW_MASK) << 2)); store<u32>(o5, e); o5 += (e >>> 24) & 3; p5 += <u64>(e >>> 28);
      e = load<u32>(multi + (<usize>((load<u64>(<usize>(p6 >> 3)) >> (p6 & 7)) & WINDOW_MASK) << 2)); store<u32>(o6, e); o6 += (e >>> 24) & 3; p6 += <u64>(e >>> 28);
      e = load<u32>(multi + (<usize>((load<u64>(<usize>(p7 >> 3)) >> (p7 & 7)) & WINDOW_MASK) << 2)); store<u32>(o7, e); o7 += (e >>> 24) & 3; p7 += <u64>(e >>> 28);
    }
  }
  // Each stream's remaining symbols one at a time, then its end checks.
  if (!finish(p0, o0, e0, s0, s1, single)) return -BAD_STREAM;
  if (!finish(p1, o1, e1, s1, s2, single)) return -BAD_STREAM;
  if (!finish(p2, o2, e2, s2, s3, single)) return -BAD_STREAM;
  if (!finish(p3, o3, e3, s3, s4, single)) return -BAD_STREAM;
  if (!finish(p4, o4, e4, s4, s5, single)) return -BAD_STREAM;
  if (!finish(p5, o5, e5, s5, s6, single)) return -BAD_STREAM;
  if (!finish(p6, o6, e6, s6, s7, single)) return -BAD_STREAM;
  if (!finish(p7, o7, e7, s7, s0 + <usize>(total - STREAMS * 4), single)) return -BAD_STREAM;
  return <i32>total;
}

/**
 * Decodes one stream's last symbols (output `o` up to `end`) from bit position `p`, then checks that the stream
 * [start, stop) ends in its last byte (no byte unused, none passed) with zero padding bits.
 */
function finish(p: u64, o: usize, end: usize, start: usize, stop: usize, single: usize): bool {
  const limit = <u64>stop << 3;
  for (; o < end; o++) {
    if (p > limit) return false; // a corrupt stream ran past its end: stop before reading further
    const e = <u32>load<u16>(single + (<usize>((load<u64>(<usize>(p >> 3)) >> (p & 7)) & WINDOW_MASK) << 1));
    store<u8>(o, <u8>e);
    p += <u64>(e >>> 8);
  }
  if (p > limit) return false;
  // ceil(bits / 8) must be the stream's size exactly, and the last byte's unused bits zero.
  if (((p - (<u64>start << 3) + 7) >> 3) != <u64>(stop - start)) return false;
  if (p & 7) {
    if ((<u32>load<u8>(<usize>(p >> 3)) >>> <u32>(p & 7)) != 0) return false;
  }
  return true;
}
