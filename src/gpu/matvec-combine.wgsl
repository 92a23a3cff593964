// The last step of matvec-order.wgsl (item 4): y[r] from the partials of row r, one per chunk holding its values,
// added in chunk order. One invocation per row.

@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;

struct Params {
  rows: u32,
  cols: u32,
  chunk_values: u32,
  groups_x: u32,
}
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn combine_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let r = (wid.y * params.groups_x + wid.x) * 256u + li;
  if (r >= params.rows) {
    return;
  }
  let row_at = r * params.cols;
  let k0 = row_at / params.chunk_values;
  let k1 = (row_at + params.cols - 1u) / params.chunk_values;
  var s = partials[r + k0];
  for (var k = k0 + 1u; k <= k1; k++) {
    s = s + partials[r + k];
  }
  y[r] = s;
}
