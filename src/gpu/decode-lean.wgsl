// Lean chunk decoder for the float layouts every writer uses by default (FORMAT.md §4.2, §5.3, §6): one coded head
// plane, one raw head plane of 1 to 8 bits, then raw byte planes, 32 lanes. One subgroup of 32 invocations decodes
// a chunk in lockstep, as decode.wgsl does, with less work per value: one workgroup load per symbol (a packed slot
// entry: symbol | (freq - 1) << SB | bias << (SB + FB)), the rANS words and raw symbols read from the input at any
// byte or bit address by funnel shifts (no branches), the full steps separate from the last partial one, and the
// stream's end conditions checked once per chunk. The lane primitives (lane_ballot, lane_shuffle, from
// lanes-subgroup.wgsl or lanes-workgroup.wgsl) and the value step (decode_value, lean-step.wgsl) are prepended to
// this file; src/gpu/kernels.ts (leanKernelSource) replaces the upper-case names with the segment class's constants
// (LeanSpec), the lane variant's text and the shape of the dispatch.
//
// Bindings and records as decode.wgsl: input = the compressed bytes of this dispatch's chunks (a u32 view; chunks
// start at any byte; the host pads the input by 8 bytes), output = the output window (chunk outputs start on word
// boundaries; a partial last word is written by masked atomics, so the bytes after a tensor are never touched),
// descs = segment descriptors (word 4: offset of the segment's table image, the packed slot entries), jobs =
// JOB_WORDS u32 per chunk, status = one word per chunk. entries is unused (bound for the common layout).

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<atomic<u32>>; // lean output
@group(0) @binding(2) var<storage, read> entries: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> descs: array<u32>;
@group(0) @binding(4) var<storage, read> jobs: array<u32>;
@group(0) @binding(5) var<storage, read_write> status: array<atomic<u32>>;

struct Params {
  job_count: u32,
  groups_x: u32,
  job_base: u32,
  pad: u32,
}
@group(0) @binding(6) var<uniform> params: Params;

const JOB_WORDS: u32 = 8u;

// Status index of a padding job (the other status bits: lean-step.wgsl).
const NO_STATUS: u32 = 0xffffffffu;

// Stores a full step (lane l holds value `v` of W bytes) at word q0 of the output, whole words.
fn store_full(v: u32, l: u32, q0: u32) {
  if (!(WRITE_OUTPUT)) {
    return;
  }
  if (W == 4u) {
    atomicStore(&output[q0 + l], v);
    return;
  }
  // W = 2: even lanes store their value and their odd neighbour's as one word.
  let word = v | (lane_shuffle(v, l ^ 1u, l) << 16u);
  if ((l & 1u) == 0u) {
    atomicStore(&output[q0 + (l >> 1u)], word);
  }
}

// Stores the chunk's last step (values in lanes below `valid`) at word q0: whole words plainly, the word that holds
// the chunk's last bytes by a masked update.
fn store_last(v: u32, l: u32, q0: u32, valid: u32) {
  if (!(WRITE_OUTPUT)) {
    return;
  }
  if (W == 4u) {
    if (l < valid) {
      atomicStore(&output[q0 + l], v);
    }
    return;
  }
  let word = v | (lane_shuffle(v, l ^ 1u, l) << 16u);
  if ((l & 1u) == 0u && l < valid) {
    let q = q0 + (l >> 1u);
    if (l + 1u < valid) {
      atomicStore(&output[q], word);
    } else {
      atomicAnd(&output[q], 0xffff0000u);
      atomicOr(&output[q], word & 0xffffu);
    }
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn decode_chunks(
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
  for (var c = 0u; c < CHUNKS_PER_GROUP; c++) {
    let job = first + c * GROUPS + g;
    let jb = (params.job_base + min(job, params.job_count - 1u)) * JOB_WORDS;
    let chunk_at = jobs[jb + 1u];
    let stream_bytes = jobs[jb + 2u];
    var n = jobs[jb + 3u];
    let out_at = jobs[jb + 4u];
    let status_index = jobs[jb + 5u];
    let live = job < params.job_count && status_index != NO_STATUS;
    if (!live) {
      n = 0u;
    }
    var err = select(0u, LANE_LAYOUT, LANE_LAYOUT_BROKEN) | lean_begin(chunk_at, stream_bytes, n, l, live);
    let words_per_step = LANES * W / 4u;
    var q = out_at >> 2u;
    let full = n / LANES;
    for (var s = 0u; s < full; s++) {
      store_full(decode_value(true, l, below), l, q);
      q += words_per_step;
    }
    let rest = n - full * LANES;
    if (rest > 0u) {
      let on = l < rest;
      let v = decode_value(on, l, below);
      store_last(select(0u, v, on), l, q, rest);
    }
    if (live) {
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
