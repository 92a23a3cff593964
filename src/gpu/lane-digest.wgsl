// The chunk digest WD64 (FORMAT.md §7.5) of the bytes that a group of 32 lanes decodes in lockstep, 2 bytes a lane a
// step (values of W = 2): a step's 32 values are one 64-byte stripe, lane l holding its bytes 2l and 2l + 1, and the
// zero values of the lanes past a chunk's end are the last stripe's padding. Lane 4j gathers word j of each stripe
// (two shuffles) and keeps two sums over the stripes, mod 2^64: of lo(t)·hi(t) (t = w[j] ⊕ K[j] ⊕ m) and of w[j]. A
// sum over stripes may be taken in any order, so a[j] = K[j] + the first sum of lane 4j + the second sum of lane
// 4(j ⊕ 1), and lane 0 finishes the digest from the eight a[j]. The including kernel declares the lane primitives
// (lanes-subgroup.wgsl or lanes-workgroup.wgsl); src/format/chunk-digest.ts is the reference.
//
// u64 values are vec2<u32>(low half, high half).

// K0 … K7 (low half, high half).
const DIGEST_KEYS = array<u32, 16>(
  0x85ebca87u, 0x9e3779b1u, 0x27d4eb4fu, 0xc2b2ae3du, 0x9e3779f9u, 0x165667b1u, 0xc2b2ae63u, 0x85ebca77u,
  0x165667c5u, 0x27d4eb2fu, 0x6659fd93u, 0xd6e8feb8u, 0xed558ccdu, 0xff51afd7u, 0x1a85ec53u, 0xc4ceb9feu,
);
const DIGEST_K1 = vec2<u32>(0x27d4eb4fu, 0xc2b2ae3du);
const DIGEST_K2 = vec2<u32>(0x9e3779f9u, 0x165667b1u);
const DIGEST_K3 = vec2<u32>(0xc2b2ae63u, 0x85ebca77u);
const DIGEST_K5 = vec2<u32>(0x6659fd93u, 0xd6e8feb8u);

// This lane's key K[l / 4], its sums of products and of words, and m = s·K5 of the next stripe s.
var<private> dg_key: vec2<u32>;
var<private> dg_products: vec2<u32>;
var<private> dg_words: vec2<u32>;
var<private> dg_m: vec2<u32>;

fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let lo = a.x + b.x;
  return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x));
}

// The full 64-bit product of two u32, from four 16 x 16-bit products.
fn mul_wide(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let mid = ((a0 * b0) >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu); // below 3·2^16
  return vec2<u32>(a * b, a1 * b1 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}

// a·b mod 2^64.
fn mul64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> {
  let p = mul_wide(a.x, b.x);
  return vec2<u32>(p.x, p.y + a.x * b.y + a.y * b.x);
}

// h ⊕ (h >> s) for 0 < s < 32, and for s = 33.
fn xor_shift31(h: vec2<u32>) -> vec2<u32> {
  return h ^ vec2<u32>((h.x >> 31u) | (h.y << 1u), h.y >> 31u);
}
fn xor_shift29(h: vec2<u32>) -> vec2<u32> {
  return h ^ vec2<u32>((h.x >> 29u) | (h.y << 3u), h.y >> 29u);
}
fn xor_shift33(h: vec2<u32>) -> vec2<u32> {
  return h ^ vec2<u32>(h.y >> 1u, 0u);
}

// Starts the digest of a chunk (every lane).
fn digest_begin(l: u32) {
  let j = l >> 2u;
  dg_key = vec2<u32>(DIGEST_KEYS[2u * j], DIGEST_KEYS[2u * j + 1u]);
  dg_products = vec2<u32>(0u, 0u);
  dg_words = vec2<u32>(0u, 0u);
  dg_m = vec2<u32>(0u, 0u);
}

// Absorbs one stripe: lane l's 2-byte value v (0 past the chunk's end). Every lane calls it, in lockstep.
fn digest_step(v: u32, l: u32) {
  let lo = v | (lane_shuffle(v, l ^ 1u, l) << 16u); // even lanes: bytes 2l … 2l + 3
  let hi = lane_shuffle(lo, l ^ 2u, l); // lanes 4j: the high half of word j
  dg_products = add64(dg_products, mul_wide(lo ^ dg_key.x ^ dg_m.x, hi ^ dg_key.y ^ dg_m.y));
  dg_words = add64(dg_words, vec2<u32>(lo, hi));
  dg_m = add64(dg_m, DIGEST_K5);
}

// WD64 of the `length` bytes absorbed (every lane calls it; the result is lane 0's).
fn digest_end(l: u32, length: u32) -> vec2<u32> {
  let other = vec2<u32>(lane_shuffle(dg_words.x, l ^ 4u, l), lane_shuffle(dg_words.y, l ^ 4u, l));
  let a = add64(add64(dg_key, dg_products), other);
  var h = mul64(vec2<u32>(length, 0u), DIGEST_K1);
  for (var j = 0u; j < 8u; j++) {
    let aj = vec2<u32>(lane_shuffle(a.x, 4u * j, l), lane_shuffle(a.y, 4u * j, l));
    h = xor_shift31(mul64(h ^ aj, DIGEST_K2));
  }
  h = xor_shift29(mul64(xor_shift33(h), DIGEST_K3));
  return h;
}
