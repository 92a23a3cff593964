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

// Status bits, as decode.wgsl.
const DONE: u32 = 1u;
const BAD_START_STATE: u32 = 2u;
const RAN_OUT: u32 = 4u;
const WORDS_LEFT: u32 = 8u;
const BAD_END_STATE: u32 = 16u;
const LANE_LAYOUT: u32 = 32u;
const RAW_PADDING: u32 = 128u;
const NO_STATUS: u32 = 0xffffffffu;

// Stores the values of one step (lane l holds value `v` of W bytes, valid in lanes below `valid`) at word q0 of
// the output: whole words plainly, the word that holds the chunk's last bytes by a masked update.
fn store_step(v: u32, l: u32, q0: u32, valid: u32) {
  if (!(WRITE_OUTPUT)) {
    return;
  }
  if (W == 4u) {
    if (l < valid) {
      atomicStore(&output[q0 + l], v);
    }
    return;
  }
  // W = 2: even lanes store their value and their odd neighbour's as one word.
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
  let seg = jobs[(params.job_base + first) * JOB_WORDS];
  let image_at = descs[seg + 4u];
  let image_words = min(descs[seg + 5u], TABLE_WORDS);
  for (var k = li; k < image_words; k += WORKGROUP_SIZE) {
    wg_tab[k] = descs[image_at + k];
  }
  workgroupBarrier();

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
    var err = select(0u, LANE_LAYOUT, LANE_LAYOUT_BROKEN);
    x = bits_at(chunk_at, 32u * l);
    if (live && x < STATE_LOW) {
      err |= BAD_START_STATE;
    }
    if (!live) {
      x = STATE_LOW;
    }
    rp = chunk_at + 4u * LANES;
    let stream_end = chunk_at + stream_bytes;
    let raw_at = stream_end;
    // Lane 0 checks the unused high bits of the raw head plane's last byte (the 8 - used bits after its last symbol).
    let used = (n * R_BITS) & 7u;
    if (l == 0u && used != 0u && (bits_at(raw_at, n * R_BITS) & ((1u << (8u - used)) - 1u)) != 0u) {
      err |= RAW_PADDING;
    }
    let q_out = out_at >> 2u;
    let words_per_step = LANES * W / 4u;
    let full = n / LANES;
    for (var s = 0u; s < full; s++) {
      let v = decode_value(true, l, below, s * LANES + l, raw_at, n);
      store_step(v, l, q_out + s * words_per_step, LANES);
    }
    let rest = n - full * LANES;
    if (rest > 0u) {
      let on = l < rest;
      let v = decode_value(on, l, below, select(0u, full * LANES + l, on), raw_at, n);
      store_step(select(0u, v, on), l, q_out + full * words_per_step, rest);
    }
    if (live) {
      if (x != STATE_LOW) {
        err |= BAD_END_STATE;
      }
      if (l == 0u && rp > stream_end) {
        err |= RAN_OUT;
      }
      if (l == 0u && rp < stream_end) {
        err |= WORDS_LEFT;
      }
      if (err != 0u) {
        atomicOr(&status[status_index], err);
      }
      if (l == 0u) {
        atomicOr(&status[status_index], DONE);
      }
    }
  }
}
