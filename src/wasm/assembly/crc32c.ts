// CRC-32C (FORMAT.md §7.1) in WebAssembly: slicing-by-16 (16 tables of 256 u32). One CRC chain is bound by the
// latency of its loads and XORs, so long inputs run four chains at once, over four quarters, and join them with
// GF(2) shifts of each CRC by a quarter's length (as zlib's crc32_combine).
// Invariant: the result equals src/format/crc32c.ts for every input (pre/post inversion applied here).

const POLY: u32 = 0x82f63b78;
/** 16 tables of 256 u32: table k maps a byte to its CRC contribution k bytes before the end of a 16-byte block. */
const TABLES: usize = memory.data(16 * 256 * 4, 64);
/** x^(2^k) mod P for k = 0..31 (reflected), for shifting a CRC by a byte count. */
const X2N: usize = memory.data(32 * 4, 16);
let ready = false;
/** Inputs at least this long are split over four chains (joining them costs a few hundred operations). */
const FOUR_CHAINS_MIN: usize = 1024;

function init(): void {
  for (let n: u32 = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
    store<u32>(TABLES + (<usize>n << 2), c);
  }
  for (let n: u32 = 0; n < 256; n++) {
    let c = load<u32>(TABLES + (<usize>n << 2));
    for (let k: u32 = 1; k < 16; k++) {
      c = load<u32>(TABLES + (<usize>(c & 0xff) << 2)) ^ (c >>> 8);
      store<u32>(TABLES + ((<usize>k << 10) + (<usize>n << 2)), c);
    }
  }
  let x: u32 = 1 << 30; // x^1
  store<u32>(X2N, x);
  for (let k: usize = 1; k < 32; k++) {
    x = multModP(x, x);
    store<u32>(X2N + (k << 2), x);
  }
  ready = true;
}

/** a * b mod P over GF(2), in the reflected bit order (x^0 is bit 31). */
function multModP(a: u32, b: u32): u32 {
  let m: u32 = 1 << 31;
  let p: u32 = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p;
}

/** x^(8 * bytes) mod P. */
function xPowBytes(bytes: usize): u32 {
  let p: u32 = 1 << 31;
  let k: usize = 3;
  for (let n = bytes; n != 0; n >>= 1, k++) if (n & 1) p = multModP(load<u32>(X2N + ((k & 31) << 2)), p);
  return p;
}

// @ts-ignore: decorator
@inline function t(k: u32, b: u32): u32 {
  return load<u32>(TABLES + ((<usize>k << 10) + (<usize>b << 2)));
}

// @ts-ignore: decorator
@inline function step16(c: u32, p: usize): u32 {
  // Only the first word meets the running CRC; the other twelve bytes index their tables straight from memory
  // (a byte load each, instead of a word load and a shift and a mask per byte).
  const a = load<u32>(p) ^ c;
  return (
    t(15, a & 0xff) ^ t(14, (a >>> 8) & 0xff) ^ t(13, (a >>> 16) & 0xff) ^ t(12, a >>> 24) ^
    t(11, load<u8>(p, 4)) ^ t(10, load<u8>(p, 5)) ^ t(9, load<u8>(p, 6)) ^ t(8, load<u8>(p, 7)) ^
    t(7, load<u8>(p, 8)) ^ t(6, load<u8>(p, 9)) ^ t(5, load<u8>(p, 10)) ^ t(4, load<u8>(p, 11)) ^
    t(3, load<u8>(p, 12)) ^ t(2, load<u8>(p, 13)) ^ t(1, load<u8>(p, 14)) ^ t(0, load<u8>(p, 15))
  );
}

/** Extends `crc` (a final CRC-32C, 0 to start) with `len` bytes at `ptr`; returns the new final CRC. */
export function crc32cUpdate(crc: u32, ptr: usize, len: usize): u32 {
  if (!ready) init();
  let c = ~crc;
  let p = ptr;
  const end = ptr + len;
  if (len >= FOUR_CHAINS_MIN) {
    // Chain 0 continues `crc` over the first quarter; chains 1-3 start afresh over the next three.
    const q = (len >> 2) & ~(<usize>15);
    let c1: u32 = 0xffffffff;
    let c2: u32 = 0xffffffff;
    let c3: u32 = 0xffffffff;
    for (let o: usize = 0; o < q; o += 16) {
      c = step16(c, ptr + o);
      c1 = step16(c1, ptr + q + o);
      c2 = step16(c2, ptr + 2 * q + o);
      c3 = step16(c3, ptr + 3 * q + o);
    }
    const xq = xPowBytes(q);
    let f = multModP(xq, ~c) ^ ~c1;
    f = multModP(xq, f) ^ ~c2;
    f = multModP(xq, f) ^ ~c3;
    c = ~f;
    p = ptr + 4 * q;
  }
  const fast = p + ((end - p) & ~(<usize>15));
  while (p < fast) {
    c = step16(c, p);
    p += 16;
  }
  while (p < end) {
    c = t(0, (c ^ load<u8>(p)) & 0xff) ^ (c >>> 8);
    p++;
  }
  return ~c;
}
