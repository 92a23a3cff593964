// y = W·x with W decoded inside the product (FORMAT.md §4.2, §5.3, §6): W is a BF16 matrix [rows, cols] stored in
// the lean layout. One group of 32 lanes decodes a chunk in lockstep (decode_value, lean-step.wgsl) and multiplies
// each value by x[col] as soon as it has it, so W never reaches memory; each row the chunk holds leaves its partial
// sum at partials[row + chunk], which matvec-combine.wgsl adds up. The summation order is matvec-order.wgsl's, the
// one matvec-decoded.wgsl follows on decoded values. A step's 32 values may span rows (cols not a multiple of 32,
// or chunks that start inside a row): a row's partial is formed in the step that holds its last value of the chunk.
//
// Integrity as decode-lean.wgsl: one status word per chunk with the same bits (start and end states, words left or
// missing, raw padding, lane layout), DONE set last; and lane 0 writes the chunk digest WD64 of the values it decoded
// (lane-digest.wgsl, FORMAT.md §7.5) at digests[2k], [2k + 1] for status word k, which the host compares with the
// chunk's record (format version 4; chunks with CRC-32Cs instead, versions 1-3, go to decodeToGPU). The host uses y
// only when every chunk passed both.
//
// The lane primitives and lean-step.wgsl come first, matvec-order.wgsl and lane-digest.wgsl after this file;
// src/gpu/matvec-kernels.ts puts them together (leanKernelSource) and sets the upper-case names. Bindings: input,
// descs, jobs, status as decode-lean.wgsl (job word 5, the status index, is the chunk's number in W: the plan holds
// W alone); xs = x (cols f32); partials; digests.

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read> descs: array<u32>;
@group(0) @binding(2) var<storage, read> jobs: array<u32>;
@group(0) @binding(3) var<storage, read_write> status: array<atomic<u32>>;

struct Params {
  job_count: u32,
  groups_x: u32,
  job_base: u32,
  cols: u32,
  chunk_values: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}
@group(0) @binding(4) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read> xs: array<f32>;
@group(0) @binding(6) var<storage, read_write> partials: array<f32>;
@group(0) @binding(7) var<storage, read_write> digests: array<u32>;

const JOB_WORDS: u32 = 8u;
// Always true, but for benchmarks that time the kernel without its digests (their chunks then fail the host's check).
const DIGESTS: bool = MATVEC_DIGESTS;

// Status bits, as decode-lean.wgsl.
// Status index of a padding job (the other status bits: lean-step.wgsl).
const NO_STATUS: u32 = 0xffffffffu;

// The 32 lane sums `a` added by matvec-order.wgsl's tree (item 3); lane 0 holds the result (lanes l < h hold t_l).
fn lane_tree(a: f32, l: u32) -> f32 {
  var t = a;
  for (var h = 16u; h > 0u; h >>= 1u) {
    t = t + bitcast<f32>(lane_shuffle(bitcast<u32>(t), l ^ h, l));
  }
  return t;
}

// How far a chunk's rows are summed, the same in every lane: the open row (the lowest of the chunk whose partial is
// not formed yet) and the flat index just past it. (Apart from the lane's own state, so that uniformity analysis
// sees that the loops over rows are uniform.)
struct OpenRow {
  row: u32,
  end: u32,
}

// A lane's sum of the open row so far, and the place in W of its value in the current step.
struct LaneSum {
  acc: f32,
  row: u32,
  col: u32,
}

// Takes this lane's value v (BF16 bits; used when `on`) of a step whose last value is at flat index `last`: forms
// the partial of every row that ends in this step (the open row first), then adds v to the row it belongs to, and
// moves the lane on by one step (32 values). Every lane calls it, in lockstep.
fn take_step(v: u32, on: bool, l: u32, last: u32, k: u32, open: ptr<function, OpenRow>, me: ptr<function, LaneSum>) {
  let cols = params.cols;
  let xv = xs[(*me).col];
  while (last >= (*open).end) {
    var a = (*me).acc;
    if (on && (*me).row == (*open).row) {
      a = add_product(a, v, xv);
    }
    let p = lane_tree(a, l);
    if (l == 0u) {
      partials[(*open).row + k] = p;
    }
    (*me).acc = 0.0;
    (*open).row += 1u;
    (*open).end += cols;
  }
  if (on && (*me).row == (*open).row) {
    (*me).acc = add_product((*me).acc, v, xv);
  }
  (*me).col += LANES;
  if ((*me).col >= cols) {
    (*me).col -= cols;
    (*me).row += 1u;
    if ((*me).col >= cols) {
      (*me).row += (*me).col / cols;
      (*me).col %= cols;
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn matvec_chunks(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
  LANE_BUILTINS
) {
  let g = GROUP_INDEX;
  let l = LANE_ID;
  let first = (wid.y * params.groups_x + wid.x) * JOBS_PER_WORKGROUP;
  if (first >= params.job_count) {
    return;
  }
  lean_load_table(jobs[(params.job_base + first) * JOB_WORDS], li);

  let below = (1u << l) - 1u;
  let cols = params.cols;
  for (var c = 0u; c < CHUNKS_PER_GROUP; c++) {
    let job = first + c * GROUPS + g;
    let jb = (params.job_base + min(job, params.job_count - 1u)) * JOB_WORDS;
    let chunk_at = jobs[jb + 1u];
    let stream_bytes = jobs[jb + 2u];
    var n = jobs[jb + 3u];
    let status_index = jobs[jb + 5u];
    let live = job < params.job_count && status_index != NO_STATUS;
    if (!live) {
      n = 0u;
    }
    var err = select(0u, LANE_LAYOUT, LANE_LAYOUT_BROKEN) | lean_begin(chunk_at, stream_bytes, n, l, live);

    // Chunk k = status_index holds the values from flat index c0 = k · chunk_values on.
    let k = select(0u, status_index, live);
    let c0 = k * params.chunk_values;
    let row0 = c0 / cols;
    var open = OpenRow(row0, (row0 + 1u) * cols);
    var me = LaneSum(0.0, (c0 + l) / cols, (c0 + l) % cols);
    if (DIGESTS) {
      digest_begin(l);
    }
    let full = n / LANES;
    for (var s = 0u; s < full; s++) {
      let v = decode_value(true, l, below);
      take_step(v, true, l, c0 + s * LANES + LANES - 1u, k, &open, &me);
      if (DIGESTS) {
        digest_step(v, l);
      }
    }
    let rest = n - full * LANES;
    if (rest > 0u) {
      let on = l < rest;
      let v = select(0u, decode_value(on, l, below), on);
      take_step(v, on, l, c0 + n - 1u, k, &open, &me);
      if (DIGESTS) {
        digest_step(v, l);
      }
    }
    // The chunk's last row: its partial is complete at the chunk's end.
    let p = lane_tree(me.acc, l);
    var digest = vec2<u32>(0u, 0u);
    if (DIGESTS) {
      digest = digest_end(l, 2u * n);
    }
    if (live) {
      if (l == 0u) {
        partials[open.row + k] = p;
        digests[2u * status_index] = digest.x;
        digests[2u * status_index + 1u] = digest.y;
      }
      err |= lean_end(l);
      if (err != 0u) {
        atomicOr(&status[status_index], err);
      }
      if (l == 0u) {
        atomicOr(&status[status_index], DONE);
      }
    }
  }
}
