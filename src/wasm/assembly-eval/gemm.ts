// Single-precision matrix product for the perplexity evaluator (src/eval/): C = A·B or C += A·B, blocked 4 rows x 8
// columns with f32x4 SIMD and f32 accumulation. B is read through a panel layout (below), which covers both weights
// packed once at load and slices of activations read in place, so one kernel serves every product of a forward pass.

/**
 * C[i][j] (+)= sum over k < kEnd(i) of A[i][k] · B(k, j), for i < M, j < N.
 *
 * Addressing, in f32 elements: A[i][k] at a + i·lda + k; C[i][j] at c + i·ldc + j; B(k, j) at
 * b + (j >> 3)·bPanel + k·ldb + (j & 7). Weights packed in panels of 8 columns (src/eval/pack-panels.ts) have
 * ldb = 8 and bPanel = 8·K; a row-major K x N matrix read in place has ldb = its row stride and bPanel = 8.
 *
 * `causal` 1 (scores Q·Kᵀ of causal attention): rows i need only columns j ≤ i, so a block of 4 rows starting at i
 * skips the panels that start at or after i + 4; the columns it still computes past the diagonal are never read.
 * `causal` 2 (probabilities · V): A[i][k] is zero for k > i, so a block of rows starting at i stops at k = i + 4,
 * which requires A[i][k] = 0 for i < k ≤ (i | 3) (the softmax kernel writes those zeros); single rows stop at i + 1.
 * Pointers are byte offsets; strides and sizes are element counts. No bounds are checked: the caller sizes every block.
 */
export function gemm(a: usize, lda: i32, b: usize, ldb: i32, bPanel: i32, c: usize, ldc: i32, M: i32, N: i32, K: i32, causal: i32, accumulate: i32): void {
  const la = <usize>lda << 2;
  const lb = <usize>ldb << 2;
  const lc = <usize>ldc << 2;
  const pb = <usize>bPanel << 2;
  const panels = N >> 3;
  const mFull = M & ~3;
  for (let p = 0; p < panels; p++) {
    const j = p << 3;
    const bp = b + <usize>p * pb;
    const first = causal == 1 ? j : 0;
    for (let i = first; i < mFull; i += 4) {
      const kEnd = causal == 2 ? min(K, i + 4) : K;
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      let pa = a + <usize>i * la;
      let pk = bp;
      for (let k = 0; k < kEnd; k++) {
        const b0 = v128.load(pk);
        const b1 = v128.load(pk, 16);
        const a0 = v128.load32_splat(pa);
        const a1 = v128.load32_splat(pa + la);
        const a2 = v128.load32_splat(pa + 2 * la);
        const a3 = v128.load32_splat(pa + 3 * la);
        c00 = f32x4.add(c00, f32x4.mul(a0, b0));
        c01 = f32x4.add(c01, f32x4.mul(a0, b1));
        c10 = f32x4.add(c10, f32x4.mul(a1, b0));
        c11 = f32x4.add(c11, f32x4.mul(a1, b1));
        c20 = f32x4.add(c20, f32x4.mul(a2, b0));
        c21 = f32x4.add(c21, f32x4.mul(a2, b1));
        c30 = f32x4.add(c30, f32x4.mul(a3, b0));
        c31 = f32x4.add(c31, f32x4.mul(a3, b1));
        pa += 4;
        pk += lb;
      }
      const pc = c + <usize>i * lc + (<usize>j << 2);
      if (accumulate) {
        c00 = f32x4.add(v128.load(pc), c00);
        c01 = f32x4.add(v128.load(pc, 16), c01);
        c10 = f32x4.add(v128.load(pc + lc), c10);
        c11 = f32x4.add(v128.load(pc + lc, 16), c11);
        c20 = f32x4.add(v128.load(pc + 2 * lc), c20);
        c21 = f32x4.add(v128.load(pc + 2 * lc, 16), c21);
        c30 = f32x4.add(v128.load(pc + 3 * lc), c30);
        c31 = f32x4.add(v128.load(pc + 3 * lc, 16), c31);
      }
      v128.store(pc, c00);
      v128.store(pc, c01, 16);
      v128.store(pc + lc, c10);
      v128.store(pc + lc, c11, 16);
      v128.store(pc + 2 * lc, c20);
      v128.store(pc + 2 * lc, c21, 16);
      v128.store(pc + 3 * lc, c30);
      v128.store(pc + 3 * lc, c31, 16);
    }
    // Rows below the last whole block of 4, one at a time.
    for (let i = max(mFull, first); i < M; i++) {
      const kEnd = causal == 2 ? min(K, i + 1) : K;
      let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
      let pa = a + <usize>i * la;
      let pk = bp;
      for (let k = 0; k < kEnd; k++) {
        const a0 = v128.load32_splat(pa);
        c0 = f32x4.add(c0, f32x4.mul(a0, v128.load(pk)));
        c1 = f32x4.add(c1, f32x4.mul(a0, v128.load(pk, 16)));
        pa += 4;
        pk += lb;
      }
      const pc = c + <usize>i * lc + (<usize>j << 2);
      if (accumulate) {
        c0 = f32x4.add(v128.load(pc), c0);
        c1 = f32x4.add(v128.load(pc, 16), c1);
      }
      v128.store(pc, c0);
      v128.store(pc, c1, 16);
    }
  }
  // Columns past the last whole panel, one at a time (scalar; only sizes that are not multiples of 8 have them).
  for (let j = panels << 3; j < N; j++) {
    const bj = b + <usize>(j >> 3) * pb + (<usize>(j & 7) << 2);
    for (let i = 0; i < M; i++) {
      const kEnd = causal == 2 ? min(K, i + 1) : K;
      let s: f32 = 0;
      let pa = a + <usize>i * la;
      let pk = bj;
      for (let k = 0; k < kEnd; k++) {
        s += load<f32>(pa) * load<f32>(pk);
        pa += 4;
        pk += lb;
      }
      const pc = c + <usize>i * lc + (<usize>j << 2);
      store<f32>(pc, accumulate ? load<f32>(pc) + s : s);
    }
  }
}

/**
 * Packs the N x K row-major matrix at `src` (row stride `ld`) into panels of 8 rows for gemm's B operand (its
 * transpose): dst[(n >> 3)·8K + k·8 + (n & 7)] = src[n·ld + k]. `dst` holds ceil(N / 8)·8K values; the unused slots
 * of a last partial panel are not written (gemm reads them only for whole panels).
 */
export function packPanels(src: usize, ld: i32, N: i32, K: i32, dst: usize): void {
  const ls = <usize>ld << 2;
  const panel = <usize>K << 5;
  for (let n = 0; n < N; n++) {
    let s = src + <usize>n * ls;
    let d = dst + <usize>(n >> 3) * panel + (<usize>(n & 7) << 2);
    for (let k = 0; k < K; k++) {
      store<f32>(d, load<f32>(s));
      s += 4;
      d += 32;
    }
  }
}
