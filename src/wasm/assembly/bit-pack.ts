// Packed raw head planes of 1 to 7 bits (FORMAT.md §6, version 4): symbol i of a b-bit plane is bits i·b … i·b + b − 1
// of the plane's LSB-first bit string. Eight symbols take exactly b bytes, so both directions work eight at a time.
// Invariants: the decoder reads at most 8 bytes from the start of a plane's last group of eight, so at most 8 − b bytes
// past the plane (the caller keeps them readable); the encoder's 8-byte group stores may write up to 8 − b zero bytes
// past the plane's end, never past n bytes from its start (the caller writes later planes after it).

/** Per-lane byte pairs and multipliers of unpackGroup for the current width (filled by setWidth). */
const PAIRS: usize = memory.data(16, 16);
const MULS: usize = memory.data(16, 16);
let widthSet: u32 = 0;

/**
 * Lane k (a u16) of an unpack takes bytes ⌊kb/8⌋ and ⌊kb/8⌋ + 1 of the group, and multiplies them by
 * 2^(16 − b − (kb mod 8)): its symbol then fills the top b bits of the lane, the bits above it shifted out.
 */
function setWidth(b: u32): void {
  if (widthSet == b) return;
  for (let k: u32 = 0; k < 8; k++) {
    const at = (k * b) >> 3;
    store<u8>(PAIRS + (k << 1), <u8>at);
    store<u8>(PAIRS + (k << 1) + 1, <u8>(at + 1));
    store<u16>(MULS + (k << 1), <u16>(<u32>1 << (16 - b - ((k * b) & 7))));
  }
  widthSet = b;
}

/** The eight b-bit symbols of the 8-byte group at `p`, as u16 lanes (pairs and muls from setWidth). */
// @ts-ignore: decorator
@inline function unpackGroup(p: usize, pairs: v128, muls: v128, b: u32): v128 {
  return i16x8.shr_u(i16x8.mul(i8x16.swizzle(v128.load64_zero(p), pairs), muls), 16 - b);
}

/**
 * Deposits a packed raw head plane of `b` bits (1 to 7) into the heads: each of its `count` bit ranges, given at
 * `ranges` as u32 triplets (shift of the range in the symbol, 2^width − 1, lo in the head), as depositRaw does for
 * 8-bit planes. `first`: store (the heads are not yet initialised), else OR into them.
 */
export function depositPacked(raw: usize, n: u32, b: u32, ranges: usize, count: u32, heads: usize, first: bool): void {
  setWidth(b);
  const pairs = v128.load(PAIRS);
  const muls = v128.load(MULS);
  let i: usize = 0;
  const N = <usize>n;
  for (; i + 8 <= N; i += 8) {
    const sym = unpackGroup(raw + (i >> 3) * <usize>b, pairs, muls, b);
    let h = i16x8.splat(0);
    for (let r: u32 = 0; r < count; r++) {
      const at = ranges + <usize>r * 12;
      h = v128.or(h, i16x8.shl(v128.and(i16x8.shr_u(sym, load<i32>(at)), i16x8.splat(load<i16>(at, 4))), load<i32>(at, 8)));
    }
    const hp = heads + (i << 1);
    v128.store(hp, first ? h : v128.or(h, v128.load(hp)));
  }
  const mask: u32 = (1 << b) - 1;
  for (; i < N; i++) {
    const bit = i * <usize>b;
    const v = (<u32>load<u16>(raw + (bit >> 3)) >>> <u32>(bit & 7)) & mask;
    let h: u32 = 0;
    for (let r: u32 = 0; r < count; r++) {
      const at = ranges + <usize>r * 12;
      h |= ((v >>> load<u32>(at)) & load<u32>(at, 4)) << load<u32>(at, 8);
    }
    const hp = heads + (i << 1);
    store<u16>(hp, first ? <u16>h : load<u16>(hp) | <u16>h);
  }
}

/**
 * Packs the symbols extract[heads[i]] (each < 2^b, b from 1 to 7) of `n` values into ⌈n·b/8⌉ bytes at `dst`, the
 * padding bits of the last byte zero: eight symbols into one u64, stored whole, the write position advancing by b.
 */
export function packHeadBits(heads: usize, n: u32, extract: usize, b: u32, dst: usize): void {
  const s = <u64>b;
  let o = dst;
  let i: usize = 0;
  const N = <usize>n;
  for (; i + 8 <= N; i += 8) {
    const hp = heads + (i << 1);
    let acc = <u64>load<u16>(extract + (<usize>load<u16>(hp) << 1));
    acc |= <u64>load<u16>(extract + (<usize>load<u16>(hp, 2) << 1)) << s;
    acc |= <u64>load<u16>(extract + (<usize>load<u16>(hp, 4) << 1)) << (2 * s);
    acc |= <u64>load<u16>(extract + (<usize>load<u16>(hp, 6) << 1)) << (3 * s);
    acc |= <u64>load<u16>(extract + (<usize>load<u16>(hp, 8) << 1)) << (4 * s);
    acc |= <u64>load<u16>(extract + (<usize>load<u16>(hp, 10) << 1)) << (5 * s);
    acc |= <u64>load<u16>(extract + (<usize>load<u16>(hp, 12) << 1)) << (6 * s);
    acc |= <u64>load<u16>(extract + (<usize>load<u16>(hp, 14) << 1)) << (7 * s);
    store<u64>(o, acc);
    o += <usize>b;
  }
  // Fewer than eight left: fewer than 8 bytes, written one at a time so nothing past the plane changes.
  let acc: u64 = 0;
  let have: u64 = 0;
  for (; i < N; i++) {
    acc |= <u64>load<u16>(extract + (<usize>load<u16>(heads + (i << 1)) << 1)) << have;
    have += s;
  }
  for (; have > 0; have = have > 8 ? have - 8 : 0) {
    store<u8>(o++, <u8>acc);
    acc >>= 8;
  }
}
