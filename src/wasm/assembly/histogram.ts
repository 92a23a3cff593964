// Symbol counting for the encoder's first pass (FORMAT.md §4.3 "Statistics"): a histogram of value heads and
// one of each byte below the head. Counts are u32: the caller adds blocks of far fewer than 2^32 values.

/** hist[head of value i]++ for `n` values of W bytes at `src` (2^16 bins for W >= 2, 256 for W = 1). */
export function countHeads(src: usize, n: u32, W: u32, hist: usize): void {
  const N = <usize>n;
  if (W == 1) {
    for (let i: usize = 0; i < N; i++) {
      const h = hist + (<usize>load<u8>(src + i) << 2);
      store<u32>(h, load<u32>(h) + 1);
    }
    return;
  }
  const w = <usize>W;
  let s = src + w - 2;
  for (let i: usize = 0; i < N; i++, s += w) {
    const h = hist + (<usize>load<u16>(s) << 2);
    store<u32>(h, load<u32>(h) + 1);
  }
}

/** hist[byte k of value i]++ for `n` values of W bytes at `src`; four sub-histograms (4 x 256 u32) avoid store-to-load stalls on runs. */
export function countBytes(src: usize, n: u32, W: u32, k: u32, hist: usize): void {
  const N = <usize>n;
  const w = <usize>W;
  let s = src + k;
  let i: usize = 0;
  for (; i + 4 <= N; i += 4, s += w << 2) {
    const a = hist + (<usize>load<u8>(s) << 2);
    store<u32>(a, load<u32>(a) + 1);
    const b = hist + 1024 + (<usize>load<u8>(s + w) << 2);
    store<u32>(b, load<u32>(b) + 1);
    const c = hist + 2048 + (<usize>load<u8>(s + 2 * w) << 2);
    store<u32>(c, load<u32>(c) + 1);
    const d = hist + 3072 + (<usize>load<u8>(s + 3 * w) << 2);
    store<u32>(d, load<u32>(d) + 1);
  }
  for (; i < N; i++, s += w) {
    const a = hist + (<usize>load<u8>(s) << 2);
    store<u32>(a, load<u32>(a) + 1);
  }
}
