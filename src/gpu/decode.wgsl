// Chunk decoder (FORMAT.md §4.2, §5.3, §6): one group of 32 invocations per chunk decodes its interleaved rANS
// lanes in lockstep, reads raw planes, merges the planes and writes the original bytes into the output window.
// The lane primitives (lane_ballot, lane_shuffle) come from lanes-subgroup.wgsl or lanes-workgroup.wgsl,
// prepended to this file; src/gpu/kernels.ts replaces the upper-case names WORKGROUP_SIZE, GROUPS,
// GROUP_INDEX, LANE_BUILTINS, LANE_ID and LANE_LAYOUT_BROKEN with that variant's text, and WRITE_OUTPUT with
// `true` (benchmarks replace it to time the decode without its stores).
//
// Bindings: input = the compressed bytes of this dispatch's chunks (a u32 view: chunks start at any byte);
// output = the output window, written only where the chunk's bytes go (partial words by masked atomics, so a
// neighbour's bytes are never touched); entries = rANS decode entries (sym | bias << 16, freq) per slot;
// descs = segment descriptors and deposit tables; jobs = JOB_WORDS u32 per chunk; status = one word per chunk.

@group(0) @binding(0) var<storage, read> input: array<u32>;
@group(0) @binding(1) var<storage, read_write> output: array<atomic<u32>>;
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

// Job record (u32 words): segment descriptor offset in descs, chunk start (byte offset in input), rANS stream
// bytes, values n, output start (byte offset in the output window), status index.
const JOB_WORDS: u32 = 8u;
// Segment descriptor: W, plane count, lanes K (32 when no plane is coded), coded plane count, then per plane
// PLANE_WORDS words: flags (1 = coded, 2 = head plane), table entry offset or raw plane index, probBits,
// deposit table offset (head plane) or byte index (byte plane).
const SEG_WORDS: u32 = 4u;
const PLANE_WORDS: u32 = 4u;
const STATE_LOW: u32 = 65536u;
// Planes whose descriptors are held in registers for the whole chunk (more planes: read per step).
const HOISTED_PLANES: u32 = 4u;

// Status bits; the host accepts a chunk only when its word is exactly DONE.
const DONE: u32 = 1u;
const BAD_START_STATE: u32 = 2u;
const RAN_OUT: u32 = 4u;
const WORDS_LEFT: u32 = 8u;
const BAD_END_STATE: u32 = 16u;
const LANE_LAYOUT: u32 = 32u;

// Little-endian reads at any byte address of the input (the host pads the input by 4 bytes past the last chunk).
fn load_u8(a: u32) -> u32 {
  return (input[a >> 2u] >> ((a & 3u) * 8u)) & 0xffu;
}

fn load_u16(a: u32) -> u32 {
  let q = a >> 2u;
  let sh = (a & 3u) * 8u;
  if (sh <= 16u) {
    return (input[q] >> sh) & 0xffffu;
  }
  return ((input[q] >> 24u) | (input[q + 1u] << 8u)) & 0xffffu;
}

fn load_u32(a: u32) -> u32 {
  let q = a >> 2u;
  let sh = (a & 3u) * 8u;
  if (sh == 0u) {
    return input[q];
  }
  return (input[q] >> sh) | (input[q + 1u] << (32u - sh));
}

// Writes the bytes of `bits` selected by `mask` into output word q, leaving the other bytes as they are.
fn store_masked(q: u32, bits: u32, mask: u32) {
  if (mask == 0xffffffffu) {
    atomicStore(&output[q], bits);
  } else if (mask != 0u) {
    atomicAnd(&output[q], ~mask);
    atomicOr(&output[q], bits & mask);
  }
}

// Byte mask of the `count` (0..4) low bytes of a word.
fn low_bytes(count: u32) -> u32 {
  if (count >= 4u) {
    return 0xffffffffu;
  }
  return (1u << (count * 8u)) - 1u;
}

// Decodes value i's symbol of one plane (descriptor f: flags, table offset or raw plane index, probBits, deposit
// table offset or byte index) and returns its bits placed in the value: (head bits, bytes 0-3, bytes 4-7).
// Coded planes run one rANS round (FORMAT.md §5.3): every lane decodes a symbol; the lanes that renormalise
// read the next words of the shared stream in lane order. Every lane of the group must call it.
fn decode_plane(f: vec4<u32>, on: bool, l: u32, below: u32, i: u32, n: u32, raw_at: u32, stream_end: u32,
                x: ptr<function, u32>, rp: ptr<function, u32>, err: ptr<function, u32>) -> vec3<u32> {
  var sym = 0u;
  if ((f.x & 1u) != 0u) {
    let pb = f.z;
    let slot = *x & ((1u << pb) - 1u);
    let e = entries[f.y + slot];
    sym = e.x & 0xffffu;
    var y = e.y * (*x >> pb) + (e.x >> 16u);
    let need = on && y < STATE_LOW;
    let mask = lane_ballot(need, l);
    if (need) {
      let at = *rp + 2u * countOneBits(mask & below);
      if (at + 2u <= stream_end) {
        y = (y << 16u) | load_u16(at);
      } else {
        *err |= RAN_OUT;
      }
    }
    *rp += 2u * countOneBits(mask);
    if (on) {
      *x = y;
    }
  } else if (on) {
    sym = load_u8(raw_at + f.y * n + i);
  }
  if ((f.x & 2u) != 0u) {
    return vec3<u32>(descs[f.w + sym], 0u, 0u);
  }
  if (f.w < 4u) {
    return vec3<u32>(0u, sym << (8u * f.w), 0u);
  }
  return vec3<u32>(0u, 0u, sym << (8u * (f.w - 4u)));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn decode_chunks(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
  LANE_BUILTINS
) {
  let g = GROUP_INDEX;
  let l = LANE_ID;
  let job = (wid.y * params.groups_x + wid.x) * GROUPS + g;
  // Whole workgroups past the end leave together, so the barriers of the workgroup variant stay uniform.
  if ((wid.y * params.groups_x + wid.x) * GROUPS >= params.job_count) {
    return;
  }
  let live = job < params.job_count;
  let jb = (params.job_base + min(job, params.job_count - 1u)) * JOB_WORDS;
  let seg = jobs[jb];
  let chunk_at = jobs[jb + 1u];
  let stream_bytes = jobs[jb + 2u];
  var n = jobs[jb + 3u];
  let out_at = jobs[jb + 4u];
  let status_index = jobs[jb + 5u];
  if (!live) {
    n = 0u; // a spare group of the last workgroup: runs the loops' barriers, decodes nothing
  }

  let W = descs[seg];
  let plane_count = descs[seg + 1u];
  let K = descs[seg + 2u];
  let coded = descs[seg + 3u] > 0u;
  var err = 0u;
  if (LANE_LAYOUT_BROKEN) {
    err |= LANE_LAYOUT;
  }

  var x = STATE_LOW;
  if (coded && l < K && live) {
    x = load_u32(chunk_at + 4u * l);
    if (x < STATE_LOW) {
      err |= BAD_START_STATE;
    }
  }
  var rp = chunk_at + 4u * K;
  let stream_end = chunk_at + stream_bytes;
  let raw_at = chunk_at + stream_bytes;
  let below = (1u << l) - 1u;
  let step_bytes = K * W;
  // Fast stores need every step to start on a word boundary of the output.
  let aligned = (out_at & 3u) == 0u && (step_bytes & 3u) == 0u;
  let steps = (n + K - 1u) / K;
  var hoisted: array<vec4<u32>, HOISTED_PLANES>;
  for (var p = 0u; p < min(plane_count, HOISTED_PLANES); p++) {
    let pd = seg + SEG_WORDS + p * PLANE_WORDS;
    hoisted[p] = vec4<u32>(descs[pd], descs[pd + 1u], descs[pd + 2u], descs[pd + 3u]);
  }

  for (var s = 0u; s < steps; s++) {
    let i = s * K + l;
    let on = l < K && i < n;
    var bits = vec3<u32>(0u);
    if (plane_count <= HOISTED_PLANES) {
      // Constant trip count: unrolled, so the hoisted descriptors stay in registers.
      for (var p = 0u; p < HOISTED_PLANES; p++) {
        if (p < plane_count) {
          bits |= decode_plane(hoisted[p], on, l, below, i, n, raw_at, stream_end, &x, &rp, &err);
        }
      }
    } else {
      for (var p = 0u; p < plane_count; p++) {
        let pd = seg + SEG_WORDS + p * PLANE_WORDS;
        let f = vec4<u32>(descs[pd], descs[pd + 1u], descs[pd + 2u], descs[pd + 3u]);
        bits |= decode_plane(f, on, l, below, i, n, raw_at, stream_end, &x, &rp, &err);
      }
    }
    var head = bits.x;
    var lo = bits.y;
    var hi = bits.z;
    // The head is the value's top 1 or 2 bytes (FORMAT.md §4.2).
    if (W <= 2u) {
      lo = head;
    } else if (W == 4u) {
      lo |= head << 16u;
    } else {
      hi |= head << 16u;
    }

    let step_at = out_at + s * step_bytes;
    if (!(WRITE_OUTPUT)) {
      continue;
    }
    let valid = min(n - min(s * K, n), K); // values of this step
    if (aligned && W >= 4u) {
      if (on) {
        let q = (step_at >> 2u) + l * (W >> 2u);
        atomicStore(&output[q], lo);
        if (W == 8u) {
          atomicStore(&output[q + 1u], hi);
        }
      }
    } else if (aligned) {
      // W = 1 or 2: output word j of the step gathers 4 / W neighbouring lanes' values.
      let per = 4u / W;
      var word = 0u;
      for (var t = 0u; t < per; t++) {
        let v = lane_shuffle(lo, (l * per + t) & 31u, l);
        word |= v << (8u * W * t);
      }
      let first = l * per;
      if (first < valid) {
        store_masked((step_at >> 2u) + l, word, low_bytes((valid - first) * W));
      }
    } else if (on) {
      // Any other alignment: each byte by itself, a masked update of the word that holds it.
      let a = step_at + l * W;
      for (var b = 0u; b < W; b++) {
        var byte = (lo >> (8u * b)) & 0xffu;
        if (b >= 4u) {
          byte = (hi >> (8u * (b - 4u))) & 0xffu;
        }
        let ab = a + b;
        let sh = (ab & 3u) * 8u;
        store_masked(ab >> 2u, byte << sh, 0xffu << sh);
      }
    }
  }

  if (coded && live) {
    if (l < K && x != STATE_LOW) {
      err |= BAD_END_STATE;
    }
    if (l == 0u && rp != stream_end) {
      err |= WORDS_LEFT;
    }
  }
  if (live) {
    if (err != 0u) {
      atomicOr(&status[status_index], err);
    }
    if (l == 0u) {
      atomicOr(&status[status_index], DONE);
    }
  }
}
