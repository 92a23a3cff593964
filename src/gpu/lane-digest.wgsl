// The chunk digest WD64 (FORMAT.md §7.5) of the bytes that a group of 32 lanes decodes in lockstep, 2 bytes a lane a
// step (values of W = 2): a step's 32 values are one 64-byte stripe, lane l holding its bytes 2l and 2l + 1, and the
// zero values of the lanes past a chunk's end are the last stripe's padding. Lane 4j gathers word j of each stripe
// (two shuffles) and keeps two sums over the stripes, mod 2^64: of lo(t)·hi(t) (t = w[j] ⊕ K[j] ⊕ m) and of w[j]. A
// sum over stripes may be taken in any order, so a[j] = K[j] + the first sum of lane 4j + the second sum of lane
// 4(j ⊕ 1), and lane 0 finishes the digest from the eight a[j]. The including kernel declares the lane primitives
// (lanes-subgroup.wgsl or lanes-workgroup.wgsl) and wd64.wgsl (u64 arithmetic as vec2<u32>, keys, final mix);
// src/format/chunk-digest.ts is the reference.

// This lane's key K[l / 4], its sums of products and of words, and m = s·K5 of the next stripe s.
var<private> dg_key: vec2<u32>;
var<private> dg_products: vec2<u32>;
var<private> dg_words: vec2<u32>;
var<private> dg_m: vec2<u32>;

// Starts the digest of a chunk (every lane).
fn digest_begin(l: u32) {
  let j = l >> 2u;
  dg_key = KEYS[j];
  dg_products = vec2<u32>(0u, 0u);
  dg_words = vec2<u32>(0u, 0u);
  dg_m = vec2<u32>(0u, 0u);
}

// Absorbs one stripe: lane l's 2-byte value v (0 past the chunk's end). Every lane calls it, in lockstep.
fn digest_step(v: u32, l: u32) {
  let lo = v | (lane_shuffle(v, l ^ 1u, l) << 16u); // even lanes: bytes 2l … 2l + 3
  let hi = lane_shuffle(lo, l ^ 2u, l); // lanes 4j: the high half of word j
  dg_products = add64(dg_products, mul32(lo ^ dg_key.x ^ dg_m.x, hi ^ dg_key.y ^ dg_m.y));
  dg_words = add64(dg_words, vec2<u32>(lo, hi));
  dg_m = add64(dg_m, KEYS[5]);
}

// WD64 of the `length` bytes absorbed (every lane calls it; the result is lane 0's).
fn digest_end(l: u32, length: u32) -> vec2<u32> {
  let other = vec2<u32>(lane_shuffle(dg_words.x, l ^ 4u, l), lane_shuffle(dg_words.y, l ^ 4u, l));
  let a = add64(add64(dg_key, dg_products), other);
  var h = wd64_mix_start(length);
  for (var j = 0u; j < 8u; j++) {
    h = wd64_mix(h, vec2<u32>(lane_shuffle(a.x, 4u * j, l), lane_shuffle(a.y, 4u * j, l)));
  }
  return wd64_mix_end(h);
}
