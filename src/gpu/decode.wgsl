// Chunk decoder (FORMAT.md §4.2, §5.3, §6): one group of 32 invocations per chunk decodes its interleaved rANS
// lanes in lockstep, reads raw planes, merges the planes and writes the original bytes into the output window.
// The lane primitives (lane_ballot, lane_shuffle) come from lanes-subgroup.wgsl or lanes-workgroup.wgsl,
// prepended to this file; src/gpu/kernels.ts replaces the upper-case names WORKGROUP_SIZE, GROUPS,
// GROUP_INDEX, LANE_BUILTINS, LANE_ID and LANE_LAYOUT_BROKEN with that variant's text, PAIRED_STORES with `true` (benchmarks: `false` for the older store path) and WRITE_OUTPUT with
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
// Segment descriptor: W, plane count, lanes K (32 when no plane is coded), coded plane count, offset and size
// in words of the segment's table image (copied to workgroup memory; size 0: tables are read from `entries`),
// 2 reserved, then per plane PLANE_WORDS words: flags (1 = coded, 2 = head plane, 4 = tables in workgroup
// memory, 8 = head bits by at most two ranges), `entries` offset or raw plane index, probBits (coded plane) or
// symbol bits b (raw plane: 8, or 1 to 8 for a head plane), deposit table offset (head plane) or byte index (byte
// plane), slot table and symbol table offsets in the image, the two ranges as bytes (lo1, width1, lo2, width2;
// range 2 takes the symbol's low bits), reserved.
//
// A chunk (FORMAT.md §6) is its rANS stream (stream bytes of the job) and then its raw planes in plane order, each
// ceil(n b / 8) bytes: symbol i in bits i b .. i b + b - 1 of the plane's bit string, bit j of which is bit j mod 8 of
// byte j / 8 (LSB-first; b = 8: byte i). The unused high bits of a packed plane's last byte must be zero.
const SEG_WORDS: u32 = 8u;
const PLANE_WORDS: u32 = 8u;
const STATE_LOW: u32 = 65536u;
// Planes whose descriptors are held in registers for the whole chunk (more planes: read per step).
const HOISTED_PLANES: u32 = 4u;
// Bytes of the rANS word window each group keeps in registers (3 words per lane): words are fetched two window
// shifts ahead of their use, so global-memory latency stays off the chain of dependent steps.
const WINDOW_SHIFT: u32 = 64u;

// Decode tables of the workgroup's segment: per coded plane, the slot -> symbol table (two u16 per word) and
// the symbol -> freq | cum << 16 table. TABLE_WORDS is fitted to the device's workgroup storage.
var<workgroup> wg_tab: array<u32, TABLE_WORDS>;

// The rANS words at byte offsets at .. at + 191 of the input: lane l holds the u16 at at + 2l (w0), at + 64 + 2l
// (w1) and at + 128 + 2l (w2). Invariant between rounds: rp - at < 64, so one round's words are in w0, w1.
struct Window {
  w0: u32,
  w1: u32,
  w2: u32,
  at: u32,
}

// Status bits; the host accepts a chunk only when its word is exactly DONE.
const DONE: u32 = 1u;
const BAD_START_STATE: u32 = 2u;
const RAN_OUT: u32 = 4u;
const WORDS_LEFT: u32 = 8u;
const BAD_END_STATE: u32 = 16u;
const LANE_LAYOUT: u32 = 32u;
// A packed raw plane's unused high bits are not all zero (64 is crc32c.wgsl's CRC_MISMATCH).
const RAW_PADDING: u32 = 128u;
// Status index of a padding job.
const NO_STATUS: u32 = 0xffffffffu;

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

// Bytes of a raw plane of n symbols of b bits: ceil(n b / 8).
fn raw_plane_bytes(n: u32, b: u32) -> u32 {
  return (n * b + 7u) >> 3u;
}

// Symbol i of the raw plane of b bits (1 to 8) at byte plane_at. A packed symbol spans at most two bytes (bit
// offset below 8, plus at most 8 bits); the second byte may lie past the plane, where the mask drops it.
fn load_raw_symbol(plane_at: u32, i: u32, b: u32) -> u32 {
  if (b == 8u) {
    return load_u8(plane_at + i);
  }
  let bit = i * b;
  return (load_u16(plane_at + (bit >> 3u)) >> (bit & 7u)) & ((1u << b) - 1u);
}

// Whether the unused high bits of the last byte of a raw plane of n symbols of b bits at plane_at are zero.
fn raw_padding_zero(plane_at: u32, n: u32, b: u32) -> bool {
  let used = (n * b) & 7u;
  return used == 0u || (load_u8(plane_at + ((n * b) >> 3u)) >> used) == 0u;
}

// Byte mask of the `count` (0..4) low bytes of a word.
fn low_bytes(count: u32) -> u32 {
  if (count >= 4u) {
    return 0xffffffffu;
  }
  return (1u << (count * 8u)) - 1u;
}

// Decodes value i's symbol of one plane (descriptor fa, fb: see above) and returns its bits placed in the value:
// (head bits, bytes 0-3, bytes 4-7). Coded planes run one rANS round (FORMAT.md §5.3): every lane decodes a
// symbol; the lanes that renormalise take the next words of the shared stream in lane order (from the window).
// A raw plane's symbols are read from its first byte plane_at (unused for a coded plane).
// Every lane of the group must call it.
fn decode_plane(fa: vec4<u32>, fb: vec4<u32>, on: bool, l: u32, below: u32, i: u32, plane_at: u32, stream_end: u32,
                x: ptr<function, u32>, rp: ptr<function, u32>, win: ptr<function, Window>, err: ptr<function, u32>) -> vec3<u32> {
  var sym = 0u;
  if ((fa.x & 1u) != 0u) {
    let pb = fa.z;
    let slot = *x & ((1u << pb) - 1u);
    var y = 0u;
    if ((fa.x & 4u) != 0u) {
      sym = (wg_tab[fb.x + (slot >> 1u)] >> ((slot & 1u) * 16u)) & 0xffffu;
      let fc = wg_tab[fb.y + sym];
      y = (fc & 0xffffu) * (*x >> pb) + slot - (fc >> 16u);
    } else {
      let e = entries[fa.y + slot];
      sym = e.x & 0xffffu;
      y = e.y * (*x >> pb) + (e.x >> 16u);
    }
    let need = on && y < STATE_LOW;
    let mask = lane_ballot(need, l);
    let k = (*rp - (*win).at) / 2u + countOneBits(mask & below);
    let a = lane_shuffle((*win).w0, k & 31u, l);
    let b = lane_shuffle((*win).w1, k & 31u, l);
    // Branch-free, so that the group never diverges between its lockstep operations.
    let fits = *rp + 2u * countOneBits(mask & below) + 2u <= stream_end;
    y = select(y, (y << 16u) | select(a, b, k >= 32u), need && fits);
    *err |= select(0u, RAN_OUT, need && !fits);
    *rp += 2u * countOneBits(mask);
    if (*rp - (*win).at >= WINDOW_SHIFT) {
      (*win).w0 = (*win).w1;
      (*win).w1 = (*win).w2;
      (*win).at += WINDOW_SHIFT;
      (*win).w2 = load_u16((*win).at + 2u * WINDOW_SHIFT + 2u * l);
    }
    *x = select(*x, y, on);
  } else if (on) {
    sym = load_raw_symbol(plane_at, i, fa.z);
  }
  if ((fa.x & 2u) != 0u) {
    if ((fa.x & 8u) != 0u) {
      let lo1 = fb.z & 0xffu;
      let w1 = (fb.z >> 8u) & 0xffu;
      let lo2 = (fb.z >> 16u) & 0xffu;
      let w2 = fb.z >> 24u;
      let h = ((sym & ((1u << w2) - 1u)) << lo2) | (((sym >> w2) & ((1u << w1) - 1u)) << lo1);
      return vec3<u32>(h, 0u, 0u);
    }
    return vec3<u32>(descs[fa.w + sym], 0u, 0u);
  }
  if (fa.w < 4u) {
    return vec3<u32>(0u, sym << (8u * fa.w), 0u);
  }
  return vec3<u32>(0u, 0u, sym << (8u * (fa.w - 4u)));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn decode_chunks(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
  LANE_BUILTINS
) {
  let g = GROUP_INDEX;
  let l = LANE_ID;
  // A workgroup decodes JOBS_PER_WORKGROUP = GROUPS x CHUNKS_PER_GROUP consecutive jobs, all of one segment (the
  // plan pads each segment's jobs to whole workgroups): its tables are copied in once for all of them, and each
  // group of 32 decodes CHUNKS_PER_GROUP chunks one after another (jobs first + c * GROUPS + g).
  let first = (wid.y * params.groups_x + wid.x) * JOBS_PER_WORKGROUP;
  // Whole workgroups past the end leave together, so the barriers of the workgroup variant stay uniform.
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

  // SPEC_* are this segment class's constants in a specialised kernel (the plan dispatches each class with its
  // own pipeline, src/gpu/kernels.ts), else these reads: constants let the compiler drop the per-plane branches.
  let W = SPEC_W;
  let plane_count = SPEC_PLANE_COUNT;
  let K = SPEC_K;
  let coded = SPEC_CODED;
  let below = (1u << l) - 1u;
  let step_bytes = K * W;
  var hoisted_a: array<vec4<u32>, HOISTED_PLANES>;
  var hoisted_b: array<vec4<u32>, HOISTED_PLANES>;
  for (var p = 0u; p < min(plane_count, HOISTED_PLANES); p++) {
    let pd = seg + SEG_WORDS + p * PLANE_WORDS;
    hoisted_a[p] = vec4<u32>(descs[pd], descs[pd + 1u], descs[pd + 2u], descs[pd + 3u]);
    hoisted_b[p] = vec4<u32>(descs[pd + 4u], descs[pd + 5u], descs[pd + 6u], descs[pd + 7u]);
  }
  SPEC_PLANE_WORDS

  for (var c = 0u; c < CHUNKS_PER_GROUP; c++) {
  let job = first + c * GROUPS + g;
  let jb = (params.job_base + min(job, params.job_count - 1u)) * JOB_WORDS;
  let chunk_at = jobs[jb + 1u];
  let stream_bytes = jobs[jb + 2u];
  var n = jobs[jb + 3u];
  let out_at = jobs[jb + 4u];
  let status_index = jobs[jb + 5u];
  // Spare groups (past the last job, or padding jobs) decode nothing (and run the workgroup variant's barriers).
  let live = job < params.job_count && status_index != NO_STATUS;
  if (!live) {
    n = 0u;
  }
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
  var win = Window(load_u16(rp + 2u * l), load_u16(rp + WINDOW_SHIFT + 2u * l), load_u16(rp + 2u * WINDOW_SHIFT + 2u * l), rp);
  let stream_end = chunk_at + stream_bytes;
  let raw_at = chunk_at + stream_bytes;
  // Where each hoisted raw plane starts (constant trip count: unrolled, so the offsets stay in registers).
  var raw_base: array<u32, HOISTED_PLANES>;
  var rb = raw_at;
  for (var p = 0u; p < HOISTED_PLANES; p++) {
    raw_base[p] = rb;
    if (p < plane_count && (hoisted_a[p].x & 1u) == 0u) {
      rb += raw_plane_bytes(n, hoisted_a[p].z);
    }
  }
  // Lane 0 checks the padding bits of every raw plane (none to check in an 8-bit plane).
  if (l == 0u) {
    rb = raw_at;
    for (var p = 0u; p < plane_count; p++) {
      let pd = seg + SEG_WORDS + p * PLANE_WORDS;
      if ((descs[pd] & 1u) == 0u) {
        if (!raw_padding_zero(rb, n, descs[pd + 2u])) {
          err |= RAW_PADDING;
        }
        rb += raw_plane_bytes(n, descs[pd + 2u]);
      }
    }
  }
  // Fast stores need every step to start on a word boundary of the output.
  let aligned = (out_at & 3u) == 0u && (step_bytes & 3u) == 0u;
  let steps = (n + K - 1u) / K;

  for (var s = 0u; s < steps; s++) {
    let i = s * K + l;
    let on = l < K && i < n;
    var bits = vec3<u32>(0u);
    if (plane_count <= HOISTED_PLANES) {
      // Constant trip count: unrolled, so the hoisted descriptors stay in registers.
      for (var p = 0u; p < HOISTED_PLANES; p++) {
        if (p < plane_count) {
          bits |= decode_plane(hoisted_a[p], hoisted_b[p], on, l, below, i, raw_base[p], stream_end, &x, &rp, &win, &err);
        }
      }
    } else {
      var plane_at = raw_at;
      for (var p = 0u; p < plane_count; p++) {
        let pd = seg + SEG_WORDS + p * PLANE_WORDS;
        let fa = vec4<u32>(descs[pd], descs[pd + 1u], descs[pd + 2u], descs[pd + 3u]);
        let fb = vec4<u32>(descs[pd + 4u], descs[pd + 5u], descs[pd + 6u], descs[pd + 7u]);
        bits |= decode_plane(fa, fb, on, l, below, i, plane_at, stream_end, &x, &rp, &win, &err);
        if ((fa.x & 1u) == 0u) {
          plane_at += raw_plane_bytes(n, fa.z);
        }
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
    } else if (aligned && PAIRED_STORES) {
      // W = 1 or 2, by butterflies: lane l takes lane l ^ 1's value (W = 2: even lanes then hold a word), then
      // (W = 1) the pair of lane l ^ 2; the lane holding word j's first value (l = j * 4 / W) stores it.
      let per = 4u / W;
      var word = lo | (lane_shuffle(lo, l ^ 1u, l) << (8u * W));
      if (W == 1u) {
        word = (word & 0xffffu) | (lane_shuffle(word, l ^ 2u, l) << 16u);
      }
      if ((l & (per - 1u)) == 0u && l < valid) {
        store_masked((step_at >> 2u) + l / per, word, low_bytes((valid - l) * W));
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
}
