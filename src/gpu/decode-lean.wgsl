// Lean chunk decoder for the float layouts every writer uses by default (FORMAT.md §4.2, §5.3, §6): one coded head
// plane, one raw head plane of 1 to 8 bits, then raw byte planes, 32 lanes. One subgroup of 32 invocations decodes
// a chunk in lockstep, as decode.wgsl does, with less work per value: one workgroup load per symbol (a packed slot
// entry: symbol | (freq - 1) << SB | bias << (SB + FB)), the rANS words and raw symbols read from the input at any
// byte or bit address by funnel shifts (no branches), the full steps separate from the last partial one, and the
// stream's end conditions checked once per chunk. The lane primitives (lane_ballot, lane_shuffle) come from
// lanes-subgroup.wgsl or lanes-workgroup.wgsl, prepended to this file; src/gpu/kernels.ts (leanKernelSource)
// replaces the upper-case names with the segment class's constants (LeanSpec), the lane variant's text and the
// shape of the dispatch.
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
const STATE_LOW: u32 = 65536u;
const LANES: u32 = 32u;

// The segment class (LeanSpec): value bytes W (2 or 4); probability bits PB; symbol bits SB and freq bits FB of a
// packed entry; the coded plane's deposit (range 1 at C_LO1 of C_W1 bits, range 2 at C_LO2 of C_W2 bits, taking
// the symbol's low bits); the raw head plane's R_BITS bits and deposit alike; BYTE_PLANES raw byte planes (0 to
// 2) holding value bytes BYTE0 and BYTE1.
const W: u32 = LEAN_W;
const PB: u32 = LEAN_PB;
const SB: u32 = LEAN_SB;
const FB: u32 = LEAN_FB;
const C_LO1: u32 = LEAN_C_LO1;
const C_W1: u32 = LEAN_C_W1;
const C_LO2: u32 = LEAN_C_LO2;
const C_W2: u32 = LEAN_C_W2;
const R_BITS: u32 = LEAN_R_BITS;
const R_LO1: u32 = LEAN_R_LO1;
const R_W1: u32 = LEAN_R_W1;
const R_LO2: u32 = LEAN_R_LO2;
const R_W2: u32 = LEAN_R_W2;
const BYTE_PLANES: u32 = LEAN_BYTE_PLANES;
const BYTE0: u32 = LEAN_BYTE0;
const BYTE1: u32 = LEAN_BYTE1;

// The packed slot entries of the workgroup's segment (2^PB words).
var<workgroup> wg_tab: array<u32, TABLE_WORDS>;

// Status bits, as decode.wgsl.
const DONE: u32 = 1u;
const BAD_START_STATE: u32 = 2u;
const RAN_OUT: u32 = 4u;
const WORDS_LEFT: u32 = 8u;
const BAD_END_STATE: u32 = 16u;
const LANE_LAYOUT: u32 = 32u;
const RAW_PADDING: u32 = 128u;
const NO_STATUS: u32 = 0xffffffffu;

// The 32 bits of the input that start `bit` bits after byte `byte` (any alignment). (v << 1) << (31 - sh) is
// v << (32 - sh) for sh in 1..31 and 0 for sh = 0, where WGSL would take a shift by 32 modulo 32.
fn bits_at(byte: u32, bit: u32) -> u32 {
  let b = (byte & 3u) * 8u + bit;
  let q = (byte >> 2u) + (b >> 5u);
  let sh = b & 31u;
  return (input[q] >> sh) | ((input[q + 1u] << 1u) << (31u - sh));
}

// Bits [lo, lo + w) of the value from a symbol's w1 + w2 bits: range 1 its high w1 bits, range 2 its low w2 bits.
fn deposit(sym: u32, lo1: u32, w1: u32, lo2: u32, w2: u32) -> u32 {
  return (((sym >> w2) & ((1u << w1) - 1u)) << lo1) | ((sym & ((1u << w2) - 1u)) << lo2);
}

// Per-invocation decoder state of the current chunk.
var<private> x: u32;
var<private> rp: u32;

// Value i of the chunk for this lane: one rANS round (every lane of the subgroup calls it; lanes with on = false
// keep their state and take no word), then the raw planes. Returns the value's low 4 bytes.
fn decode_value(on: bool, l: u32, below: u32, i: u32, raw_at: u32, n: u32) -> u32 {
  let e = wg_tab[x & ((1u << PB) - 1u)];
  let sym = e & ((1u << SB) - 1u);
  var y = (((e >> SB) & ((1u << FB) - 1u)) + 1u) * (x >> PB) + (e >> (SB + FB));
  let need = on && y < STATE_LOW;
  let mask = lane_ballot(need, l);
  let word = bits_at(rp, 16u * countOneBits(mask & below)) & 0xffffu;
  y = select(y, (y << 16u) | word, need);
  rp += 2u * countOneBits(mask);
  x = select(x, y, on);
  var head = deposit(sym, C_LO1, C_W1, C_LO2, C_W2);
  let r = bits_at(raw_at, i * R_BITS) & ((1u << R_BITS) - 1u);
  head |= deposit(r, R_LO1, R_W1, R_LO2, R_W2);
  if (W == 2u) {
    return head;
  }
  var v = head << 16u;
  // Byte planes follow the raw head plane, n bytes each.
  let planes_at = raw_at + ((n * R_BITS + 7u) >> 3u);
  if (BYTE_PLANES >= 1u) {
    v |= (bits_at(planes_at, 8u * i) & 0xffu) << (8u * BYTE0);
  }
  if (BYTE_PLANES >= 2u) {
    v |= (bits_at(planes_at + n, 8u * i) & 0xffu) << (8u * BYTE1);
  }
  return v;
}

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
