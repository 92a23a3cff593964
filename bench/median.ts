// The median the benchmarks report: the middle value of the sorted sample, or the mean of the two middle values
// when the sample has an even number of values.

/** Median of `xs` (NaN when empty); `xs` is not reordered. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
