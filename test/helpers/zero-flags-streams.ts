// The two streams of ZERO_FLAGS (FORMAT.md §3.5) for any data, whatever its share of zeros (the writer's forward
// declines data with few zeros): a bit per value, set for a nonzero value, LSB-first; then the nonzero values in order.

/** The flags and values streams of `data`, n values of W bytes. */
export function zeroFlagsStreams(data: Uint8Array, W: number): [Uint8Array, Uint8Array] {
  const n = data.length / W;
  const flags = new Uint8Array(Math.ceil(n / 8));
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = data.subarray(i * W, (i + 1) * W);
    if (v.some((b) => b !== 0)) {
      flags[i >>> 3] |= 1 << (i & 7);
      values.push(...v);
    }
  }
  return [flags, Uint8Array.from(values)];
}
