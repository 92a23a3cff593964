// INT_PREDICT's inverse on the GPU (FORMAT.md §3.5.3.3), in three entry points. check_predictors: one invocation per
// tile keeps the first tile whose predictor is above 4 in check[0] (as tiles − k, by atomicMax: the lowest k wins, 0
// means none). predict_band: a band of BAND_ROWS rows rebuilt as a wavefront: invocation t takes row band·BAND_ROWS + t
// and at step k its column k − t, so value (r, c) is computed one step after (r − 1, c) and (r, c − 1) and two after
// (r − 1, c − 1), the neighbours its prediction reads; a storage barrier closes every step, and the steps of one band
// are split over dispatches (k0 … k1), which order them too (int-predict-pass.ts replaces STEP_BARRIER with
// storageBarrier(), or with nothing for a band of one row, whose steps depend only on the invocation's own writes and
// on earlier dispatches). Each value goes to `values` as a u32 (sign-extended for a
// signed dtype: the integer as read). pack_values: one invocation per u32 word of the tensor packs the values' low W
// bytes; the output's bytes after the tensor keep their value.
//
// A matrix of one row (a vector: index tensors such as g_idx) takes three entry points around an exclusive prefix scan
// (prefix-scan.wgsl) instead of a wavefront one value after another. With no row above, a tile's predictor makes each
// value either its signed residual s alone (none, top: the prediction is 0), or the value before it plus s (left, and
// planar: L + 0 − 0), or ⌊L / 2⌋ + s (average). vector_residuals writes s per value into `sums`, which the scan turns
// into P (the sum of the s before each value, mod 2^32); vector_carry (one invocation) walks the tiles in order and
// keeps the value before each tile in `carry`: after a left tile, carry + the tile's s, mod 2^b; after a none or top
// tile, its last s; an average tile it rebuilds value by value into `values`. vector_values then writes every other
// value at once: s, or the tile's carry + P[i] + s − P[tile start], mod 2^b.

@group(0) @binding(0) var<storage, read> predictors: array<u32>;
@group(0) @binding(1) var<storage, read> residuals: array<u32>;
@group(0) @binding(2) var<storage, read_write> values: array<u32>;

struct Params {
  rows: u32,
  cols: u32,
  tile_rows: u32,
  tile_cols: u32,
  // W (1, 2 or 4) in bits 0-7, 256 for a signed dtype.
  value_kind: u32,
  // check_predictors and pack_values: the dispatch's x extent; predict_band: the band.
  groups_x_or_band: u32,
  // check_predictors: the tiles; predict_band: the steps k0 … k1 of this dispatch.
  k0_or_tiles: u32,
  k1: u32,
}
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read_write> check: array<atomic<u32>>;
@group(0) @binding(5) var<storage, read_write> output: array<u32>;
@group(0) @binding(6) var<storage, read_write> sums: array<u32>;
@group(0) @binding(7) var<storage, read_write> carry: array<u32>;

const INVOCATIONS: u32 = 256u;

const NONE: u32 = 0u;
const LEFT: u32 = 1u;
const TOP: u32 = 2u;
const AVERAGE: u32 = 3u;

fn byte_at(i: u32) -> u32 {
  return (predictors[i >> 2u] >> (8u * (i & 3u))) & 0xffu;
}

@compute @workgroup_size(256)
fn check_predictors(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let k = (wid.y * params.groups_x_or_band + wid.x) * INVOCATIONS + t;
  let tiles = params.k0_or_tiles;
  if (k < tiles && byte_at(k) > 4u) {
    atomicMax(&check[0], tiles - k);
  }
}

// Residual i: W bytes, little-endian unsigned.
fn residual(i: u32, W: u32) -> u32 {
  if (W == 4u) {
    return residuals[i];
  }
  if (W == 2u) {
    return (residuals[i >> 1u] >> (16u * (i & 1u))) & 0xffffu;
  }
  return (residuals[i >> 2u] >> (8u * (i & 3u))) & 0xffu;
}

@compute @workgroup_size(BAND_ROWS)
fn predict_band(@builtin(local_invocation_index) t: u32) {
  let R = params.rows;
  let C = params.cols;
  let W = params.value_kind & 0xffu;
  let signed = (params.value_kind & 256u) != 0u;
  let b = 8u * W;
  let r = params.groups_x_or_band * BAND_ROWS + t;
  // Tiles across: ⌈C / tile_cols⌉ without overflow.
  let across = C / params.tile_cols + select(0u, 1u, C % params.tile_cols != 0u);
  for (var k = params.k0_or_tiles; k < params.k1; k++) {
    if (r < R && k >= t && k - t < C) {
      let c = k - t;
      let i = r * C + c;
      let p = byte_at((r / params.tile_rows) * across + c / params.tile_cols);
      var L = 0u;
      var T = 0u;
      var TL = 0u;
      if (c > 0u) {
        L = values[i - 1u];
      }
      if (r > 0u) {
        T = values[i - C];
        if (c > 0u) {
          TL = values[i - C - 1u];
        }
      }
      var pred = 0u;
      if (p == LEFT) {
        pred = L;
      } else if (p == TOP) {
        pred = T;
      } else if (p == AVERAGE) {
        // ⌊(L + T) / 2⌋ of the integers as read, without overflow: halves, plus one when both are odd.
        if (signed) {
          pred = bitcast<u32>((bitcast<i32>(L) >> 1u) + (bitcast<i32>(T) >> 1u) + bitcast<i32>(L & T & 1u));
        } else {
          pred = (L >> 1u) + (T >> 1u) + (L & T & 1u);
        }
      } else if (p != NONE) {
        pred = L + T - TL;
      }
      // Zigzag: z / 2 for even z, −(z + 1) / 2 for odd z; the sum taken mod 2^b.
      let z = residual(i, W);
      var v = pred + ((z >> 1u) ^ (0u - (z & 1u)));
      if (b < 32u) {
        v &= (1u << b) - 1u;
        if (signed) {
          v = bitcast<u32>(bitcast<i32>(v << (32u - b)) >> (32u - b));
        }
      }
      values[i] = v;
    }
    STEP_BARRIER
  }
}

@compute @workgroup_size(256)
fn pack_values(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let q = (wid.y * params.groups_x_or_band + wid.x) * INVOCATIONS + t;
  let W = params.value_kind & 0xffu;
  let out_bytes = params.rows * params.cols * W;
  if (q >= (out_bytes + 3u) / 4u) {
    return;
  }
  if (W == 4u) {
    output[q] = values[q];
    return;
  }
  var word = 0u;
  var keep = 0u;
  for (var k = 0u; k < 4u; k++) {
    let o = 4u * q + k;
    if (o >= out_bytes) {
      keep |= 0xffu << (8u * k);
      continue;
    }
    word |= ((values[o / W] >> (8u * (o % W))) & 0xffu) << (8u * k);
  }
  output[q] = (output[q] & keep) | word;
}

// The value of residual z against prediction pred: (pred + zigzag⁻¹(z)) mod 2^b, sign-extended for a signed dtype.
fn rebuild(pred: u32, z: u32, b: u32, signed: bool) -> u32 {
  var v = pred + ((z >> 1u) ^ (0u - (z & 1u)));
  if (b < 32u) {
    v &= (1u << b) - 1u;
    if (signed) {
      v = bitcast<u32>(bitcast<i32>(v << (32u - b)) >> (32u - b));
    }
  }
  return v;
}

// ⌊(L + 0) / 2⌋ of the integer L as read.
fn half(L: u32, signed: bool) -> u32 {
  if (signed) {
    return bitcast<u32>(bitcast<i32>(L) >> 1u);
  }
  return L >> 1u;
}

// Whether predictor p (of a matrix of one row) adds the value before: left, planar (and any id above 4, as planar).
fn adds(p: u32) -> bool {
  return p == LEFT || p > AVERAGE;
}

@compute @workgroup_size(256)
fn vector_residuals(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let i = (wid.y * params.groups_x_or_band + wid.x) * INVOCATIONS + t;
  if (i >= params.cols) {
    return;
  }
  let z = residual(i, params.value_kind & 0xffu);
  sums[i] = (z >> 1u) ^ (0u - (z & 1u));
}

@compute @workgroup_size(1)
fn vector_carry() {
  let C = params.cols;
  let tc = params.tile_cols;
  let W = params.value_kind & 0xffu;
  let signed = (params.value_kind & 256u) != 0u;
  let b = 8u * W;
  let tiles = C / tc + select(0u, 1u, C % tc != 0u);
  var before = 0u;
  for (var k = 0u; k < tiles; k++) {
    carry[k] = before;
    let start = k * tc;
    let end = min(C, start + tc);
    let p = byte_at(k);
    if (p == AVERAGE) {
      var L = before;
      for (var i = start; i < end; i++) {
        L = rebuild(half(L, signed), residual(i, W), b, signed);
        values[i] = L;
      }
      before = L;
    } else if (adds(p)) {
      // The last value: carry + the tile's s (P at its last value, plus that value's s, less P at its start).
      let z = residual(end - 1u, W);
      before = rebuild(before + sums[end - 1u] - sums[start], z, b, signed);
    } else {
      before = rebuild(0u, residual(end - 1u, W), b, signed);
    }
  }
}

@compute @workgroup_size(256)
fn vector_values(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let i = (wid.y * params.groups_x_or_band + wid.x) * INVOCATIONS + t;
  if (i >= params.cols) {
    return;
  }
  let W = params.value_kind & 0xffu;
  let signed = (params.value_kind & 256u) != 0u;
  let k = i / params.tile_cols;
  let p = byte_at(k);
  if (p == AVERAGE) {
    return;
  }
  let z = residual(i, W);
  if (adds(p)) {
    values[i] = rebuild(carry[k] + sums[i] - sums[k * params.tile_cols], z, 8u * W, signed);
  } else {
    values[i] = rebuild(0u, z, 8u * W, signed);
  }
}
