// WD64 chunk digests of decoded chunks on the GPU (FORMAT.md §7.5; §7.3 item 3, version 4): one workgroup of 256
// invocations per chunk reads the chunk's decoded bytes from the output window, computes WD64 and compares it with the
// chunk record's digest unbound from its place (record XOR binding, computed by the host). A mismatch sets the chunk's
// DIGEST_MISMATCH status bit; the host rejects the chunk with CHECKSUM_MISMATCH.
//
// Why a chunk splits across invocations: accumulator j only ever adds, a[j] = K[j] + sum over stripes s of
// (lo(t) * hi(t) + w_s[j ^ 1]) mod 2^64 with t = w_s[j] ^ K[j] ^ s K5, so the stripes may be summed in any grouping
// and order. Invocation i takes word j = i mod 8 of stripes i / 8, i / 8 + 32, i / 8 + 64, ... (the workgroup
// reads 2 KiB of consecutive bytes per round) and keeps two u64 sums: P, of the products of its words, and S, of its
// words themselves. Word j ^ 1 of the same stripes belongs to invocation i ^ 1, so P(i) + S(i ^ 1) is invocation i's
// share of a[j]; a tree over workgroup memory adds the 32 shares of each j, and invocation 0 runs the final mix.
// WGSL has no u64: the 64-bit arithmetic, the keys and the final mix are wd64.wgsl's, prepended to this file.
//
// Bytes are read as little-endian words from any byte offset (funnel shifts over three aligned u32); bytes at or past
// the chunk's length read as 0, which is also the zero padding of a partial last stripe, so the bytes of a neighbouring
// chunk that shares a u32 never enter. Reads past the window are clamped to its last word (and masked).

@group(0) @binding(0) var<storage, read> output: array<u32>;
// Job, two vec4 per chunk: (byte offset of the chunk's output in the window, its byte count L, status index, 0),
// (expected WD64 low half, high half, 0, 0).
@group(0) @binding(1) var<storage, read> digest_jobs: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> status: array<atomic<u32>>;
// The computed WD64 of each chunk (unbound), by status index: for tests and diagnosis; the check needs only the bit.
@group(0) @binding(3) var<storage, read_write> digests: array<vec2<u32>>;

struct Params {
  job_count: u32,
  groups_x: u32,
  job_base: u32,
  pad: u32,
}
@group(0) @binding(4) var<uniform> params: Params;

const INVOCATIONS: u32 = 256u;
// Stripes (of 8 words, 64 bytes) the workgroup takes per round: INVOCATIONS / 8.
const STRIPES_PER_ROUND: u32 = 32u;
// Status bit: the chunk's decoded bytes have another WD64 than its record gives (decode.wgsl and crc32c.wgsl use
// 1, 2, 4, 8, 16, 32, 64 and 128).
const DIGEST_MISMATCH: u32 = 256u;

var<workgroup> part: array<vec2<u32>, 256>;

// Mask of the `count` low bytes of a u32 (count may exceed 4).
fn low_bytes(count: u32) -> u32 {
  return select(0xffffffffu, (1u << (8u * count)) - 1u, count < 4u);
}

// The u32 at index q of the window, q clamped to its last word (the caller masks whatever lies past the chunk).
fn word_at(q: u32) -> u32 {
  return output[min(q, arrayLength(&output) - 1u)];
}

// The little-endian u64 at byte `off` of the chunk whose output starts at window byte `base` and is `len` bytes long;
// its bytes at or past `len` read as 0.
fn chunk_word(base: u32, off: u32, len: u32) -> vec2<u32> {
  let a = base + off;
  let q = a >> 2u;
  let sh = (a & 3u) * 8u;
  let x0 = word_at(q);
  let x1 = word_at(q + 1u);
  var w = vec2<u32>(x0, x1);
  if (sh != 0u) {
    let x2 = word_at(q + 2u);
    w = vec2<u32>((x0 >> sh) | (x1 << (32u - sh)), (x1 >> sh) | (x2 << (32u - sh)));
  }
  let valid = len - min(off, len);
  return w & vec2<u32>(low_bytes(valid), low_bytes(max(valid, 4u) - 4u));
}

// The final mix of FORMAT.md §7.5 over the accumulators a (in part[0 .. 7]) of an input of `len` bytes.
fn finish(len: u32) -> vec2<u32> {
  var h = wd64_mix_start(len);
  for (var j = 0u; j < 8u; j++) {
    h = wd64_mix(h, part[j]);
  }
  return wd64_mix_end(h);
}

@compute @workgroup_size(256)
fn check_digests(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) i: u32) {
  let job = wid.y * params.groups_x + wid.x;
  // Whole workgroups leave together, so the barriers below stay uniform.
  if (job >= params.job_count) {
    return;
  }
  let ja = digest_jobs[2u * (params.job_base + job)];
  let jb = digest_jobs[2u * (params.job_base + job) + 1u];
  let base = ja.x;
  let len = ja.y;
  let j = i & 7u;
  let key = KEYS[j];
  // Words of the zero-padded stripes: ceil(L / 64) x 8 (a multiple of 8, so invocations i and i ^ 1 run as many rounds).
  let words = ((len + 63u) >> 6u) << 3u;
  // m = s K5 for this invocation's stripe s, advanced by STRIPES_PER_ROUND K5 per round.
  let s0 = i >> 3u;
  var m = mul64(vec2<u32>(s0, 0u), KEYS[5]);
  let m_step = mul64(vec2<u32>(STRIPES_PER_ROUND, 0u), KEYS[5]);
  var products = vec2<u32>(0u);
  var sum = vec2<u32>(0u);
  for (var q = i; q < words; q += INVOCATIONS) {
    let w = chunk_word(base, 8u * q, len);
    let t = w ^ key ^ m;
    products = add64(products, mul32(t.x, t.y));
    sum = add64(sum, w);
    m = add64(m, m_step);
  }
  // a[j] gets this invocation's products and the words j ^ 1 of the same stripes, summed by invocation i ^ 1.
  part[i] = sum;
  workgroupBarrier();
  let share = add64(products, part[i ^ 1u]);
  workgroupBarrier();
  part[i] = share;
  workgroupBarrier();
  // Sum the shares of invocations with equal i mod 8: afterwards part[j] = a[j] - K[j] for j = 0 .. 7.
  for (var span = INVOCATIONS / 2u; span >= 8u; span >>= 1u) {
    if (i < span) {
      part[i] = add64(part[i], part[i + span]);
    }
    workgroupBarrier();
  }
  if (i < 8u) {
    part[i] = add64(part[i], key);
  }
  workgroupBarrier();
  if (i == 0u) {
    let h = finish(len);
    digests[ja.z] = h;
    if (any(h != jb.xy)) {
      atomicOr(&status[ja.z], DIGEST_MISMATCH);
    }
  }
}
