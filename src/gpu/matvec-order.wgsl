// The summation order of y = W·x over a chunked BF16 matrix W [rows, cols] (row-major; chunks of chunk_values values,
// FORMAT.md §3.4), which matvec-fused.wgsl (decoding W as it goes) and matvec-decoded.wgsl (reading decoded W) both
// follow, so that they give the same bits. All arithmetic is f32.
//
//   1. Lanes. Value i of chunk k (flat index f = k·chunk_values + i) belongs to lane i mod 32, as in the lockstep
//      decode (FORMAT.md §5.3).
//   2. Lane sums. For each row r and chunk k that share values, lane l starts at a = +0.0 and takes its values of
//      row r in chunk k in increasing f: a = fma(w_f, x[f − r·cols], a) (add_product). WGSL's fma is rounded as
//      the device rounds it, once (fused: GPUs with FMA units) or twice (the product, then the sum: lavapipe), the
//      same way in every kernel of one device.
//   3. Chunk partial. p(r, k) is the 32 lane sums added by a fixed tree: for h = 16, 8, 4, 2, 1 in turn, t_l = t_l +
//      t_(l+h) for every l < h; p = t_0. A lane without values of row r in chunk k adds +0.0.
//   4. Row. y[r] = p(r, k0); y[r] = y[r] + p(r, k) for k = k0 + 1 … k1, where k0 and k1 are the first and last
//      chunk holding values of row r (matvec-combine.wgsl). p(r, k) is kept at partials[r + k]: chunk k's rows start
//      at or after the last row of chunk k − 1, so r + k never repeats.
//
// src/gpu/matvec-kernels.ts appends this file to matvec-fused.wgsl and matvec-decoded.wgsl.

// A decoded BF16 value (its 16 bits in the low half of `bits`) as f32.
fn bf16_value(bits: u32) -> f32 {
  return bitcast<f32>(bits << 16u);
}

// One step of a lane sum (item 2): `a` plus the product of the BF16 value `bits` and `xv`.
fn add_product(a: f32, bits: u32, xv: f32) -> f32 {
  return fma(bf16_value(bits), xv, a);
}
