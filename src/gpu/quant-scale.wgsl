// QUANT_SCALE's inverse on the GPU (FORMAT.md §3.5.3.1), in two entry points around a prefix scan (prefix-scan.wgsl).
// count_escapes: one invocation per block j of 32 codes (values 32j … 32j + 31) counts its escaped codes (−128) into
// counts[j]; invocation g < groups also checks scale g and keeps the first non-finite one in check[0] (as groups − g,
// by atomicMax, so that the lowest g wins and 0 means none). After the exclusive scan of the counts, counts[j] is the
// number of escaped values before value 32j: the index of the block's first exception. quant_scale_inverse: one
// invocation per block writes its 32 values, each the dtype's rounding of the binary32 product code × scale, or the
// next exception's bytes. The product is computed in integers (|code| ≤ 127 times a 24-bit significand fits 31 bits)
// and rounded once, to nearest even, with subnormals and overflow to infinity, as Math.fround rounds it: WGSL's own
// float arithmetic may flush subnormals and leaves infinities undefined. Exceptions at or past the stream's end read as
// 0 (the host then rejects the stream's size); the output's bytes after the tensor keep their value.

@group(0) @binding(0) var<storage, read> codes: array<u32>;
@group(0) @binding(1) var<storage, read_write> counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> check: array<atomic<u32>>;

struct Params {
  // Values (n), bytes per value (W: 2 or 4), dtype (0 BF16, 1 F16, 2 F32), values per scale (G), groups (n / G),
  // bytes of the exceptions stream.
  n: u32,
  value_bytes: u32,
  dtype: u32,
  group_values: u32,
  groups: u32,
  exception_bytes: u32,
  groups_x: u32,
  pad0: u32,
}
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read> scales: array<u32>;
@group(0) @binding(5) var<storage, read> exceptions: array<u32>;
@group(0) @binding(6) var<storage, read_write> output: array<u32>;

const INVOCATIONS: u32 = 256u;
const BLOCK: u32 = 32u;
const ESCAPE: u32 = 0x80u;

// Code i (a byte of the codes stream).
fn code_at(i: u32) -> u32 {
  return (codes[i >> 2u] >> (8u * (i & 3u))) & 0xffu;
}

@compute @workgroup_size(256)
fn count_escapes(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let j = (wid.y * params.groups_x + wid.x) * INVOCATIONS + t;
  if (j < (params.n + BLOCK - 1u) / BLOCK) {
    var count = 0u;
    let end = min(params.n, BLOCK * j + BLOCK);
    for (var i = BLOCK * j; i < end; i++) {
      count += select(0u, 1u, code_at(i) == ESCAPE);
    }
    counts[j] = count;
  }
  if (j < params.groups && (scales[j] & 0x7fffffffu) >= 0x7f800000u) {
    atomicMax(&check[0], params.groups - j);
  }
}

// The binary32 bits of the exact product of the code byte cb (two's complement, not −128) and the binary32 scale s,
// rounded to nearest even: the rule of FORMAT.md §3.5.3.1 (a zero product takes the sign of code × scale, as in IEEE
// arithmetic; a zero code counts as positive).
fn product_bits(cb: u32, s: u32) -> u32 {
  let negative = cb >= 0x80u;
  let a = select(cb, 256u - cb, negative);
  let sign = select(0u, 0x80000000u, negative) ^ (s & 0x80000000u);
  let e = (s >> 23u) & 0xffu;
  let m = select((s & 0x7fffffu) | 0x800000u, s & 0x7fffffu, e == 0u);
  let p = a * m;
  if (p == 0u) {
    return sign;
  }
  // p × 2^E is the exact product; k the exponent of its leading bit, u the exponent of the result's last bit.
  let E = i32(max(e, 1u)) - 150;
  let L = 32 - i32(countLeadingZeros(p));
  let k = L - 1 + E;
  let normal = k >= -126;
  var u = select(-149, k - 23, normal);
  let r = u - E;
  var q = 0u;
  if (r <= 0) {
    q = p << u32(-r);
  } else {
    q = p >> u32(r);
    let rem = p & ((1u << u32(r)) - 1u);
    let half = 1u << u32(r - 1);
    if (rem > half || (rem == half && (q & 1u) == 1u)) {
      q += 1u;
    }
  }
  if (!normal) {
    // A subnormal (r ≤ 0 here: exact); 2^23 is the smallest normal's encoding.
    return sign | q;
  }
  if (q == 0x1000000u) {
    q = 0x800000u;
    u += 1;
  }
  let biased = u + 23 + 127;
  if (biased >= 255) {
    return sign | 0x7f800000u;
  }
  return sign | (u32(biased) << 23u) | (q & 0x7fffffu);
}

// bfloat16 bits of binary32 bits b (never a NaN): round to nearest even on the top 16 bits (float-narrow.ts).
fn bf16_of(b: u32) -> u32 {
  let m = b & 0x7fffffffu;
  return ((b >> 16u) & 0x8000u) | ((m + 0x7fffu + ((m >> 16u) & 1u)) >> 16u);
}

// binary16 bits of binary32 bits b (never a NaN): round to nearest even, subnormals, overflow to infinity
// (float-narrow.ts f16FromF32Bits).
fn f16_of(b: u32) -> u32 {
  let sign = (b >> 16u) & 0x8000u;
  let ex = (b >> 23u) & 0xffu;
  let mant = b & 0x7fffffu;
  if (ex == 0xffu) {
    return sign | 0x7c00u | select(0u, 0x200u, mant != 0u);
  }
  let e = i32(ex) - 127 + 15;
  if (e >= 0x1f) {
    return sign | 0x7c00u;
  }
  if (e <= 0) {
    if (e < -10) {
      return sign;
    }
    let m = mant | 0x800000u;
    let shift = u32(14 - e);
    var h = m >> shift;
    let rem = m & ((1u << shift) - 1u);
    let half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (h & 1u) == 1u)) {
      h += 1u;
    }
    return sign | h;
  }
  var h = (u32(e) << 10u) | (mant >> 13u);
  let rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (h & 1u) == 1u)) {
    h += 1u;
  }
  return sign | h;
}

// Value i's bits (W bytes) from its code byte cb, its group's scale and, when escaped, exception e.
fn value_bits(cb: u32, i: u32, e: u32) -> u32 {
  let W = params.value_bytes;
  if (cb == ESCAPE) {
    let at = e * W;
    if (at + W > params.exception_bytes) {
      return 0u;
    }
    if (W == 4u) {
      return exceptions[e];
    }
    return (exceptions[at >> 2u] >> (8u * (at & 3u))) & 0xffffu;
  }
  let x = product_bits(cb, scales[i / params.group_values]);
  if (params.dtype == 0u) {
    return bf16_of(x);
  }
  if (params.dtype == 1u) {
    return f16_of(x);
  }
  return x;
}

@compute @workgroup_size(256)
fn quant_scale_inverse(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let j = (wid.y * params.groups_x + wid.x) * INVOCATIONS + t;
  if (j >= (params.n + BLOCK - 1u) / BLOCK) {
    return;
  }
  var e = counts[j];
  let start = BLOCK * j;
  let end = min(params.n, start + BLOCK);
  if (params.value_bytes == 4u) {
    for (var i = start; i < end; i++) {
      let cb = code_at(i);
      output[i] = value_bits(cb, i, e);
      e += select(0u, 1u, cb == ESCAPE);
    }
    return;
  }
  // Two values a word (start is even); a last value alone keeps the word's upper half (the bytes after the tensor).
  for (var i = start; i < end; i += 2u) {
    let c0 = code_at(i);
    let lo = value_bits(c0, i, e);
    e += select(0u, 1u, c0 == ESCAPE);
    if (i + 1u < end) {
      let c1 = code_at(i + 1u);
      output[i >> 1u] = lo | (value_bits(c1, i + 1u, e) << 16u);
      e += select(0u, 1u, c1 == ESCAPE);
    } else {
      output[i >> 1u] = (output[i >> 1u] & 0xffff0000u) | lo;
    }
  }
}
