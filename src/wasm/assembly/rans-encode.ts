// Interleaved rANS encoding of one chunk (FORMAT.md §5.3), the exact reverse of rans-decode.ts and of
// encodeRans in src/entropy/rans.ts: steps last to first, coded planes last to first, lanes last to first.
// Words are written downwards from `top`, so they end up in decode order with no reversal; the final lane
// states go just below them, giving the stream [K states][words] ending at `top`.

/**
 * Encodes `n` values at `src` (W bytes each; their heads already at `heads`) over `P` coded planes described
 * at `desc` (4 u32 each: symbol table pointer (u64 per symbol: freq | cum << 16 | rcp << 32, with
 * rcp = floor((2^32 - 1) / freq)), probBits, kind 0 = head plane / 1 = byte plane, then the plane's extract table
 * pointer (u16 per head) or its byteIndex).
 * The caller reserves 4K + 2 + 2 n P bytes below `top`.
 * @returns the stream's length in bytes (it starts at top - length), or -1 if a symbol has frequency 0
 */
export function encodeRans(src: usize, n: u32, W: u32, K: u32, desc: usize, P: u32, heads: usize, top: usize, state: usize): i32 {
  for (let l: u32 = 0; l < K; l++) store<u32>(state + (<usize>l << 2), 0x10000);
  let wp = top;
  const w = <usize>W;
  if (n > 0) {
    for (let base = ((n - 1) / K) * K; ; base -= K) {
      const active = min(K, n - base);
      for (let p = <i32>P - 1; p >= 0; p--) {
        const d = desc + (<usize>p << 4);
        const tbl = <usize>load<u32>(d);
        const pb = load<u32>(d, 4);
        const shift = 32 - pb;
        const isHead = load<u32>(d, 8) == 0;
        const arg = <usize>load<u32>(d, 12);
        for (let l = <i32>active - 1; l >= 0; l--) {
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
      }
      if (base == 0) break;
    }
  }
  wp -= <usize>K << 2;
  for (let l: u32 = 0; l < K; l++) store<u32>(wp + (<usize>l << 2), load<u32>(state + (<usize>l << 2)));
  return <i32>(top - wp);
}
