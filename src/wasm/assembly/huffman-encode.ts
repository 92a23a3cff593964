// Encoding of one Huffman block (FORMAT.md §5.4, §6), the exact inverse of huffman-decode.ts and of encodeHuffmanBlock
// in src/entropy/huffman.ts: eight u32 stream sizes, then the eight streams, each packing its symbols' codes least
// significant bit first through a 64-bit accumulator, the last byte padded with zero bits.

const STREAMS: u32 = 8;

/**
 * Encodes the `n` symbol bytes at `symbols` as a block at `dst` (room for 32 + ceil(11 n / 8) + 8 + 8 bytes).
 * `codes`: 256 u32 entries, the bit-reversed code | length << 16 (length 0: the symbol has no code).
 * @returns the block's size in bytes, or -1 when a symbol has no code
 */
export function encodeHuffman(symbols: usize, n: u32, codes: usize, dst: usize): i32 {
  const q = (n + STREAMS - 1) / STREAMS;
  let o = dst + STREAMS * 4;
  for (let k: u32 = 0; k < STREAMS; k++) {
    const start = o;
    const from = min(n, k * q);
    const to = min(n, from + q);
    let acc: u64 = 0;
    let have: u32 = 0;
    for (let i = from; i < to; i++) {
      const e = load<u32>(codes + (<usize>load<u8>(symbols + i) << 2));
      const len = e >>> 16;
      if (len == 0) return -1;
      acc |= <u64>(e & 0xffff) << have;
      have += len;
      if (have >= 32) {
        store<u32>(o, <u32>acc);
        o += 4;
        acc >>= 32;
        have -= 32;
      }
    }
    // The last (up to 32) bits, whole bytes only.
    for (; have > 0; have = have > 8 ? have - 8 : 0) {
      store<u8>(o++, <u8>acc);
      acc >>= 8;
    }
    store<u32>(dst + (<usize>k << 2), <u32>(o - start));
  }
  return <i32>(o - dst);
}
