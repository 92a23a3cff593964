// y = W·x over a decoded BF16 matrix W [rows, cols] (row-major, two values a word, little-endian), in the summation
// order of matvec-order.wgsl for chunks of chunk_values values, so that it gives the bits matvec-fused.wgsl gives
// on the coded W. One group of 32 invocations forms one partial p(r, k): the values of row r in chunk k, invocation
// l taking those of lane l; the lane sums then meet in workgroup memory by matvec-order.wgsl's tree. Groups are
// numbered r · pieces + j for chunk k = (first chunk of row r) + j; those past a row's last chunk do nothing.
// src/gpu/matvec-kernels.ts appends matvec-order.wgsl and sets PIECES_PER_WORKGROUP (groups per workgroup).

@group(0) @binding(0) var<storage, read> w: array<u32>;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<f32>;

struct Params {
  rows: u32,
  cols: u32,
  chunk_values: u32,
  pieces: u32,
  groups_x: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

// Each invocation's lane sum, then the tree's partial results.
var<workgroup> sums: array<f32, 32 * PIECES_PER_WORKGROUP>;

// The BF16 bits of value f of W.
fn value_at(f: u32) -> u32 {
  return (w[f >> 1u] >> ((f & 1u) * 16u)) & 0xffffu;
}

@compute @workgroup_size(32 * PIECES_PER_WORKGROUP)
fn multiply_pieces(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let l = li & 31u;
  let piece = (wid.y * params.groups_x + wid.x) * PIECES_PER_WORKGROUP + li / 32u;
  let r = piece / params.pieces;
  let cols = params.cols;
  let cv = params.chunk_values;
  var a = 0.0;
  var slot = 0u;
  var live = false;
  if (r < params.rows) {
    let row_at = r * cols;
    let row_stop = row_at + cols;
    let k = row_at / cv + piece % params.pieces;
    if (k <= (row_stop - 1u) / cv) {
      live = true;
      slot = r + k;
      let c0 = k * cv;
      let lo = max(row_at, c0);
      let hi = min(row_stop, c0 + cv);
      // From the first value at or after lo that is lane l's (lane of f: (f - c0) mod 32), every 32nd; four at a
      // time while they last (their loads issued before the first is used), then one by one.
      var f = lo + ((l + 32u - ((lo - c0) & 31u)) & 31u);
      for (; f + 96u < hi; f += 128u) {
        let v0 = value_at(f);
        let v1 = value_at(f + 32u);
        let v2 = value_at(f + 64u);
        let v3 = value_at(f + 96u);
        let c = f - row_at;
        a = add_product(a, v0, xs[c]);
        a = add_product(a, v1, xs[c + 32u]);
        a = add_product(a, v2, xs[c + 64u]);
        a = add_product(a, v3, xs[c + 96u]);
      }
      for (; f < hi; f += 32u) {
        a = add_product(a, value_at(f), xs[f - row_at]);
      }
    }
  }
  sums[li] = a;
  workgroupBarrier();
  for (var h = 16u; h > 0u; h >>= 1u) {
    if (l < h) {
      sums[li] = sums[li] + sums[li + h];
    }
    workgroupBarrier();
  }
  if (live && l == 0u) {
    partials[slot] = sums[li];
  }
}
