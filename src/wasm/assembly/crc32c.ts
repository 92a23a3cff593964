// CRC-32C (FORMAT.md §7.1) in WebAssembly: slicing-by-8 over 16 tables (8 KiB + 8 KiB), two 8-byte words
// per iteration so the loads of the second overlap the table lookups of the first.
// Invariant: the result equals src/format/crc32c.ts for every input (pre/post inversion applied here).

const POLY: u32 = 0x82f63b78;
/** 16 tables of 256 u32: table k maps a byte to its CRC contribution k bytes before the end of a 16-byte block. */
const TABLES: usize = memory.data(16 * 256 * 4, 64);
let ready = false;

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
  ready = true;
}

// @ts-ignore: decorator
@inline function t(k: u32, b: u32): u32 {
  return load<u32>(TABLES + ((<usize>k << 10) + (<usize>b << 2)));
}

/** Extends `crc` (a final CRC-32C, 0 to start) with `len` bytes at `ptr`; returns the new final CRC. */
export function crc32cUpdate(crc: u32, ptr: usize, len: usize): u32 {
  if (!ready) init();
  let c = ~crc;
  let p = ptr;
  const end = ptr + len;
  const fast = ptr + (len & ~(<usize>15));
  while (p < fast) {
    const a = load<u32>(p) ^ c;
    const b = load<u32>(p, 4);
    const d = load<u32>(p, 8);
    const e = load<u32>(p, 12);
    c =
      t(15, a & 0xff) ^ t(14, (a >>> 8) & 0xff) ^ t(13, (a >>> 16) & 0xff) ^ t(12, a >>> 24) ^
      t(11, b & 0xff) ^ t(10, (b >>> 8) & 0xff) ^ t(9, (b >>> 16) & 0xff) ^ t(8, b >>> 24) ^
      t(7, d & 0xff) ^ t(6, (d >>> 8) & 0xff) ^ t(5, (d >>> 16) & 0xff) ^ t(4, d >>> 24) ^
      t(3, e & 0xff) ^ t(2, (e >>> 8) & 0xff) ^ t(1, (e >>> 16) & 0xff) ^ t(0, e >>> 24);
    p += 16;
  }
  while (p < end) {
    c = t(0, (c ^ load<u8>(p)) & 0xff) ^ (c >>> 8);
    p++;
  }
  return ~c;
}
