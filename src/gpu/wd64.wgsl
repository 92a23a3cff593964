// WD64 (FORMAT.md §7.5) arithmetic shared by the kernels that compute chunk digests (chunk-digest.wgsl over decoded
// output, lane-digest.wgsl in lockstep with a decode): its keys and the final mix, over u64 values as vec2<u32> (x the
// low, y the high half) with every sum carried by hand and every 32 x 32 -> 64-bit product built from 16-bit halves,
// so each step is exact. src/format/chunk-digest.ts is the reference.

// K0 .. K7 of FORMAT.md §7.5, (low, high).
const KEYS = array<vec2<u32>, 8>(
  vec2<u32>(0x85ebca87u, 0x9e3779b1u),
  vec2<u32>(0x27d4eb4fu, 0xc2b2ae3du),
  vec2<u32>(0x9e3779f9u, 0x165667b1u),
  vec2<u32>(0xc2b2ae63u, 0x85ebca77u),
  vec2<u32>(0x165667c5u, 0x27d4eb2fu),
  vec2<u32>(0x6659fd93u, 0xd6e8feb8u),
  vec2<u32>(0xed558ccdu, 0xff51afd7u),
  vec2<u32>(0x1a85ec53u, 0xc4ceb9feu),
);

// a + b mod 2^64.
fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// The full 64-bit product of two u32, from the four products of their 16-bit halves (each below 2^32). mid < 3 x 2^16
// collects the bits at 2^16 .. 2^47 that the low half leaves; the high half cannot wrap since a b < 2^64.
fn mul32(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>((mid << 16u) | (p00 & 0xffffu), p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}

// a b mod 2^64: the cross products only reach the high half (u32 products wrap mod 2^32).
fn mul64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let p = mul32(a.x, b.x);
  return vec2<u32>(p.x, p.y + a.x * b.y + a.y * b.x);
}

// h ^ (h >> k) for 0 < k < 32.
fn xorshift64(h: vec2<u32>, k: u32) -> vec2<u32> {
  return vec2<u32>(h.x ^ ((h.x >> k) | (h.y << (32u - k))), h.y ^ (h.y >> k));
}

// The final mix of an input of `len` bytes: h = wd64_mix_start(len), then h = wd64_mix(h, a[j]) for j = 0 .. 7,
// then wd64_mix_end(h).
fn wd64_mix_start(len: u32) -> vec2<u32> {
  return mul64(vec2<u32>(len, 0u), KEYS[1]);
}

fn wd64_mix(h: vec2<u32>, a: vec2<u32>) -> vec2<u32> {
  return xorshift64(mul64(h ^ a, KEYS[2]), 31u);
}

fn wd64_mix_end(h: vec2<u32>) -> vec2<u32> {
  let h33 = vec2<u32>(h.x ^ (h.y >> 1u), h.y); // h ^ (h >> 33)
  return xorshift64(mul64(h33, KEYS[3]), 29u);
}
