// Exclusive prefix sums of u32 counts on the GPU, work-efficient (Blelloch): each workgroup scans one block of BLOCK
// counts in place (each invocation sums 4 in order, a tree over workgroup memory scans the 256 sums: up-sweep, then
// down-sweep) and writes the block's total to sums[block]; the caller scans the block sums the same way (recursively)
// and adds each block's scanned sum to its counts (add_block_sums). Integer additions only, in a fixed order: the
// result does not depend on scheduling. Sums wrap mod 2^32; callers keep totals below it.

@group(0) @binding(0) var<storage, read_write> data: array<u32>;
@group(0) @binding(1) var<storage, read_write> sums: array<u32>;

struct Params {
  count: u32,
  groups_x: u32,
  pad0: u32,
  pad1: u32,
}
@group(0) @binding(2) var<uniform> params: Params;

const INVOCATIONS: u32 = 256u;
const PER_INVOCATION: u32 = 4u;
const BLOCK: u32 = 1024u;

var<workgroup> tree: array<u32, 256>;

@compute @workgroup_size(256)
fn scan_blocks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let block = wid.y * params.groups_x + wid.x;
  // Whole workgroups leave together, so the barriers below stay uniform.
  if (block * BLOCK >= params.count) {
    return;
  }
  let base = block * BLOCK + t * PER_INVOCATION;
  var before = array<u32, 4>(0u, 0u, 0u, 0u);
  var s = 0u;
  for (var k = 0u; k < PER_INVOCATION; k++) {
    before[k] = s;
    if (base + k < params.count) {
      s += data[base + k];
    }
  }
  tree[t] = s;
  workgroupBarrier();
  // Up-sweep: tree[(t + 1) 2d - 1] gathers the sums of its 2d invocations.
  for (var d = 1u; d < INVOCATIONS; d <<= 1u) {
    let i = (t + 1u) * 2u * d - 1u;
    if (i < INVOCATIONS) {
      tree[i] += tree[i - d];
    }
    workgroupBarrier();
  }
  let total = tree[INVOCATIONS - 1u];
  workgroupBarrier();
  if (t == 0u) {
    tree[INVOCATIONS - 1u] = 0u;
  }
  workgroupBarrier();
  // Down-sweep: afterwards tree[t] is the sum of the invocations before t.
  for (var d = INVOCATIONS / 2u; d >= 1u; d >>= 1u) {
    let i = (t + 1u) * 2u * d - 1u;
    if (i < INVOCATIONS) {
      let left = tree[i - d];
      tree[i - d] = tree[i];
      tree[i] += left;
    }
    workgroupBarrier();
  }
  let offset = tree[t];
  for (var k = 0u; k < PER_INVOCATION; k++) {
    if (base + k < params.count) {
      data[base + k] = offset + before[k];
    }
  }
  if (t == 0u) {
    sums[block] = total;
  }
}

@compute @workgroup_size(256)
fn add_block_sums(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let block = wid.y * params.groups_x + wid.x;
  if (block * BLOCK >= params.count) {
    return;
  }
  let add = sums[block];
  for (var k = 0u; k < PER_INVOCATION; k++) {
    let i = block * BLOCK + k * INVOCATIONS + t;
    if (i < params.count) {
      data[i] += add;
    }
  }
}
