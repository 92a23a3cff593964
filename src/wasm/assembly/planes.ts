// Plane split and merge (FORMAT.md §4.2) around the rANS kernels: heads in and out of the value bytes, raw
// planes, and head-plane lookups. WebAssembly SIMD where the access pattern allows it (byte interleaving and
// de-interleaving); the table lookups (extract/deposit) are scalar, since WebAssembly has no gather.

/**
 * Deposits a raw (uncoded, 8-bit) head plane's symbols into the heads, eight values per v128: each of the plane's
 * `count` bit ranges, given at `ranges` as u32 triplets (shift of the range in the symbol, 2^width - 1, lo in the head),
 * moves its bits into place. `first`: store (the heads are not yet initialised), else OR into them.
 */
export function depositRaw(raw: usize, n: u32, ranges: usize, count: u32, heads: usize, first: bool): void {
  let i: usize = 0;
  const N = <usize>n;
  for (; i + 8 <= N; i += 8) {
    const sym = i16x8.extend_low_i8x16_u(v128.load64_zero(raw + i));
    let h = i16x8.splat(0);
    for (let r: u32 = 0; r < count; r++) {
      const at = ranges + <usize>r * 12;
      const mask = i16x8.splat(load<i16>(at, 4));
      h = v128.or(h, i16x8.shl(v128.and(i16x8.shr_u(sym, load<i32>(at)), mask), load<i32>(at, 8)));
    }
    const hp = heads + (i << 1);
    v128.store(hp, first ? h : v128.or(h, v128.load(hp)));
  }
  for (; i < N; i++) {
    const v = <u32>load<u8>(raw + i);
    let h: u32 = 0;
    for (let r: u32 = 0; r < count; r++) {
      const at = ranges + <usize>r * 12;
      h |= ((v >>> load<u32>(at)) & load<u32>(at, 4)) << load<u32>(at, 8);
    }
    const hp = heads + (i << 1);
    store<u16>(hp, first ? <u16>h : load<u16>(hp) | <u16>h);
  }
}

/** out[i * W + k] = raw[i]: a raw byte plane into its place. */
export function scatterBytes(raw: usize, n: u32, out: usize, W: u32, k: u32): void {
  let o = out + k;
  const w = <usize>W;
  for (let i: usize = 0; i < n; i++, o += w) store<u8>(o, load<u8>(raw + i));
}

/**
 * Writes the heads into the values: for W = 1 the low byte of each head, for W >= 2 bytes W-2 and W-1 of
 * each value (W = 2 needs no call: the caller decodes heads straight into the output).
 */
export function storeHeads(heads: usize, n: u32, out: usize, W: u32): void {
  let i: usize = 0;
  const N = <usize>n;
  if (W == 1) {
    for (; i + 16 <= N; i += 16) {
      const a = v128.load(heads + (i << 1));
      const b = v128.load(heads + (i << 1), 16);
      v128.store(out + i, i8x16.shuffle(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30));
    }
    for (; i < N; i++) store<u8>(out + i, <u8>load<u16>(heads + (i << 1)));
    return;
  }
  const w = <usize>W;
  for (; i < N; i++) store<u16>(out + i * w + w - 2, load<u16>(heads + (i << 1)));
}

/**
 * F32-shaped merge (W = 4, byte planes 1 and 0 raw): out value i = [b0[i], b1[i], heads[i] lo, heads[i] hi],
 * eight values per iteration with two shuffles.
 */
export function mergeW4(heads: usize, b1: usize, b0: usize, n: u32, out: usize): void {
  let i: usize = 0;
  const N = <usize>n;
  for (; i + 8 <= N; i += 8) {
    const lo = v128.load64_lane(b1 + i, v128.load64_zero(b0 + i), 1); // b0[0..8] then b1[0..8]
    const h = v128.load(heads + (i << 1));
    v128.store(out + (i << 2), i8x16.shuffle(lo, h, 0, 8, 16, 17, 1, 9, 18, 19, 2, 10, 20, 21, 3, 11, 22, 23));
    v128.store(out + (i << 2), i8x16.shuffle(lo, h, 4, 12, 24, 25, 5, 13, 26, 27, 6, 14, 28, 29, 7, 15, 30, 31), 16);
  }
  for (; i < N; i++) {
    const o = out + (i << 2);
    store<u8>(o, load<u8>(b0 + i));
    store<u8>(o, load<u8>(b1 + i), 1);
    store<u16>(o, load<u16>(heads + (i << 1)), 2);
  }
}

/** heads[i] = the top 1 or 2 bytes of value i (little-endian), the inverse of storeHeads. */
export function loadHeads(src: usize, n: u32, W: u32, heads: usize): void {
  let i: usize = 0;
  const N = <usize>n;
  if (W == 1) {
    for (; i + 8 <= N; i += 8) v128.store(heads + (i << 1), i16x8.extend_low_i8x16_u(v128.load64_zero(src + i)));
    for (; i < N; i++) store<u16>(heads + (i << 1), load<u8>(src + i));
    return;
  }
  if (W == 4) {
    for (; i + 8 <= N; i += 8) {
      const a = v128.load(src + (i << 2));
      const b = v128.load(src + (i << 2), 16);
      v128.store(heads + (i << 1), i8x16.shuffle(a, b, 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31));
    }
  }
  const w = <usize>W;
  for (; i < N; i++) store<u16>(heads + (i << 1), load<u16>(src + i * w + w - 2));
}

/** dst[i] = byte k of value i: a byte plane out of the values. */
export function gatherBytes(src: usize, n: u32, W: u32, k: u32, dst: usize): void {
  let s = src + k;
  const w = <usize>W;
  for (let i: usize = 0; i < n; i++, s += w) store<u8>(dst + i, load<u8>(s));
}

/** dst[i] = extract[heads[i]] as a byte: a raw 8-bit head plane. */
export function extractBytes(heads: usize, n: u32, extract: usize, dst: usize): void {
  for (let i: usize = 0; i < n; i++) store<u8>(dst + i, <u8>load<u16>(extract + (<usize>load<u16>(heads + (i << 1)) << 1)));
}

/**
 * depositRaw for two raw 8-bit head planes of at most two bit ranges each (the fastDecode layouts: exponent plane +
 * sign/mantissa plane), in one pass that stores the heads: the range parameters are read once, not per value.
 */
export function depositRawPair(a: usize, rangesA: usize, countA: u32, b: usize, rangesB: usize, countB: u32, n: u32, heads: usize): void {
  // Up to two ranges per plane; a missing second range has mask 0 and so adds nothing.
  const a0s = load<i32>(rangesA), a0m = i16x8.splat(load<i16>(rangesA, 4)), a0l = load<i32>(rangesA, 8);
  const a1s = countA > 1 ? load<i32>(rangesA, 12) : 0, a1m = i16x8.splat(countA > 1 ? load<i16>(rangesA, 16) : 0), a1l = countA > 1 ? load<i32>(rangesA, 20) : 0;
  const b0s = load<i32>(rangesB), b0m = i16x8.splat(load<i16>(rangesB, 4)), b0l = load<i32>(rangesB, 8);
  const b1s = countB > 1 ? load<i32>(rangesB, 12) : 0, b1m = i16x8.splat(countB > 1 ? load<i16>(rangesB, 16) : 0), b1l = countB > 1 ? load<i32>(rangesB, 20) : 0;
  let i: usize = 0;
  const N = <usize>n;
  for (; i + 8 <= N; i += 8) {
    const x = i16x8.extend_low_i8x16_u(v128.load64_zero(a + i));
    const y = i16x8.extend_low_i8x16_u(v128.load64_zero(b + i));
    let h = i16x8.shl(v128.and(i16x8.shr_u(x, a0s), a0m), a0l);
    h = v128.or(h, i16x8.shl(v128.and(i16x8.shr_u(x, a1s), a1m), a1l));
    h = v128.or(h, i16x8.shl(v128.and(i16x8.shr_u(y, b0s), b0m), b0l));
    h = v128.or(h, i16x8.shl(v128.and(i16x8.shr_u(y, b1s), b1m), b1l));
    v128.store(heads + (i << 1), h);
  }
  for (; i < N; i++) {
    const x = <u32>load<u8>(a + i);
    const y = <u32>load<u8>(b + i);
    let h = ((x >>> <u32>a0s) & <u32>load<u16>(rangesA, 4)) << <u32>a0l;
    if (countA > 1) h |= ((x >>> <u32>a1s) & load<u32>(rangesA, 16)) << <u32>a1l;
    h |= ((y >>> <u32>b0s) & <u32>load<u16>(rangesB, 4)) << <u32>b0l;
    if (countB > 1) h |= ((y >>> <u32>b1s) & load<u32>(rangesB, 16)) << <u32>b1l;
    store<u16>(heads + (i << 1), <u16>h);
  }
}

/**
 * depositRawPair for the fastDecode and huffman layouts of BF16, F16 and F32, with constant shifts: plane `a` holds
 * head bits 7-14 (the exponent, and for F16 the top mantissa bits: ranges (7,8) or (10,5)+(7,3)), plane `b` the sign
 * in its bit 7 and head bits 0-6 (ranges (15,1)+(0,7)); so head = a << 7 | (b & 0x80) << 8 | (b & 0x7f).
 */
export function mergeExpSign(a: usize, b: usize, n: u32, heads: usize): void {
  const low7 = i16x8.splat(0x7f);
  const sign = i16x8.splat(<i16>0x8000);
  let i: usize = 0;
  const N = <usize>n;
  for (; i + 16 <= N; i += 16) {
    const x = v128.load(a + i);
    const y = v128.load(b + i);
    const x0 = i16x8.extend_low_i8x16_u(x);
    const x1 = i16x8.extend_high_i8x16_u(x);
    const y0 = i16x8.extend_low_i8x16_u(y);
    const y1 = i16x8.extend_high_i8x16_u(y);
    v128.store(heads + (i << 1), v128.or(v128.or(i16x8.shl(x0, 7), v128.and(y0, low7)), v128.and(i16x8.shl(y0, 8), sign)));
    v128.store(heads + (i << 1), v128.or(v128.or(i16x8.shl(x1, 7), v128.and(y1, low7)), v128.and(i16x8.shl(y1, 8), sign)), 16);
  }
  for (; i < N; i++) {
    const x = <u32>load<u8>(a + i);
    const y = <u32>load<u8>(b + i);
    store<u16>(heads + (i << 1), <u16>((x << 7) | ((y & 0x80) << 8) | (y & 0x7f)));
  }
}
