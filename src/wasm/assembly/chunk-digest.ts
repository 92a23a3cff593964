// WD64, the 64-bit chunk digest of format version 4, in WebAssembly SIMD.
// Invariant: the result equals src/format/chunk-digest.ts for every input.
//
// The eight accumulators live in four i64x2 (lane 0 first), each pair swapped: A0 = (a[1], a[0]), A1 = (a[3], a[2]), ...
// A stripe's words load as W0 = (w[0], w[1]), W1 = (w[2], w[3]), ..., so adding Wi lane by lane adds w[j XOR 1] to
// a[j] with no shuffle. The shuffles that pair each word's low and high halves for the 32x32 -> 64-bit products
// produce them in the same swapped order.

const K0: u64 = 0x9e3779b185ebca87;
const K1: u64 = 0xc2b2ae3d27d4eb4f;
const K2: u64 = 0x165667b19e3779f9;
const K3: u64 = 0x85ebca77c2b2ae63;
const K4: u64 = 0x27d4eb2f165667c5;
const K5: u64 = 0xd6e8feb86659fd93;
const K6: u64 = 0xff51afd7ed558ccd;
const K7: u64 = 0xc4ceb9fe1a85ec53;

/** Bytes per stripe. */
const STRIPE: usize = 64;
/** The last, partial stripe, zero-padded (the input is never read past its end). */
const PAD: usize = memory.data(64, 16);

// Accumulators and m = s * K5 (in both lanes) of the next stripe s, carried from the input's whole stripes to the
// padded last one.
let A0: v128 = i64x2.splat(0);
let A1: v128 = i64x2.splat(0);
let A2: v128 = i64x2.splat(0);
let A3: v128 = i64x2.splat(0);
let M: v128 = i64x2.splat(0);

/** For u64 lanes a = (t0, t1), b = (t2, t3): (lo(t1) * hi(t1), lo(t0) * hi(t0)), a's products in swapped order. */
// @ts-ignore: decorator
@inline function productsLow(a: v128, b: v128): v128 {
  return i64x2.extmul_low_i32x4_u(i32x4.shuffle(a, b, 2, 0, 6, 4), i32x4.shuffle(a, b, 3, 1, 7, 5));
}

/** For u64 lanes a = (t0, t1), b = (t2, t3): (lo(t3) * hi(t3), lo(t2) * hi(t2)), b's products in swapped order. */
// @ts-ignore: decorator
@inline function productsHigh(a: v128, b: v128): v128 {
  return i64x2.extmul_high_i32x4_u(i32x4.shuffle(a, b, 2, 0, 6, 4), i32x4.shuffle(a, b, 3, 1, 7, 5));
}

/** Folds the whole stripes in [p, end) (end - p a multiple of STRIPE) into A0..A3 and M: two a round, then the odd one. */
function absorbStripes(p: usize, end: usize): void {
  const k01 = i64x2(K0, K1);
  const k23 = i64x2(K2, K3);
  const k45 = i64x2(K4, K5);
  const k67 = i64x2(K6, K7);
  const step = i64x2.splat(K5);
  let a0 = A0, a1 = A1, a2 = A2, a3 = A3, m = M;
  for (; p + 2 * STRIPE <= end; p += 2 * STRIPE) {
    let w0 = v128.load(p), w1 = v128.load(p, 16), w2 = v128.load(p, 32), w3 = v128.load(p, 48);
    let t0 = v128.xor(w0, v128.xor(k01, m)), t1 = v128.xor(w1, v128.xor(k23, m));
    let t2 = v128.xor(w2, v128.xor(k45, m)), t3 = v128.xor(w3, v128.xor(k67, m));
    a0 = i64x2.add(i64x2.add(a0, w0), productsLow(t0, t1));
    a1 = i64x2.add(i64x2.add(a1, w1), productsHigh(t0, t1));
    a2 = i64x2.add(i64x2.add(a2, w2), productsLow(t2, t3));
    a3 = i64x2.add(i64x2.add(a3, w3), productsHigh(t2, t3));
    m = i64x2.add(m, step);
    w0 = v128.load(p, 64), w1 = v128.load(p, 80), w2 = v128.load(p, 96), w3 = v128.load(p, 112);
    t0 = v128.xor(w0, v128.xor(k01, m)), t1 = v128.xor(w1, v128.xor(k23, m));
    t2 = v128.xor(w2, v128.xor(k45, m)), t3 = v128.xor(w3, v128.xor(k67, m));
    a0 = i64x2.add(i64x2.add(a0, w0), productsLow(t0, t1));
    a1 = i64x2.add(i64x2.add(a1, w1), productsHigh(t0, t1));
    a2 = i64x2.add(i64x2.add(a2, w2), productsLow(t2, t3));
    a3 = i64x2.add(i64x2.add(a3, w3), productsHigh(t2, t3));
    m = i64x2.add(m, step);
  }
  if (p < end) {
    const w0 = v128.load(p), w1 = v128.load(p, 16), w2 = v128.load(p, 32), w3 = v128.load(p, 48);
    const t0 = v128.xor(w0, v128.xor(k01, m)), t1 = v128.xor(w1, v128.xor(k23, m));
    const t2 = v128.xor(w2, v128.xor(k45, m)), t3 = v128.xor(w3, v128.xor(k67, m));
    a0 = i64x2.add(i64x2.add(a0, w0), productsLow(t0, t1));
    a1 = i64x2.add(i64x2.add(a1, w1), productsHigh(t0, t1));
    a2 = i64x2.add(i64x2.add(a2, w2), productsLow(t2, t3));
    a3 = i64x2.add(i64x2.add(a3, w3), productsHigh(t2, t3));
    m = i64x2.add(m, step);
  }
  A0 = a0;
  A1 = a1;
  A2 = a2;
  A3 = a3;
  M = m;
}

// @ts-ignore: decorator
@inline function mix(h: u64, a: u64): u64 {
  h = (h ^ a) * K2;
  return h ^ (h >> 31);
}

/** WD64 of the `len` bytes at `ptr` (any alignment; `len` 0 allowed). */
export function chunkDigest(ptr: usize, len: u32): u64 {
  A0 = i64x2(K1, K0);
  A1 = i64x2(K3, K2);
  A2 = i64x2(K5, K4);
  A3 = i64x2(K7, K6);
  M = i64x2.splat(0);
  const whole = ptr + (<usize>len & ~(STRIPE - 1));
  absorbStripes(ptr, whole);
  const rest = <usize>len & (STRIPE - 1);
  if (rest != 0) {
    const zero = i64x2.splat(0);
    v128.store(PAD, zero);
    v128.store(PAD, zero, 16);
    v128.store(PAD, zero, 32);
    v128.store(PAD, zero, 48);
    memory.copy(PAD, whole, rest);
    absorbStripes(PAD, PAD + STRIPE);
  }
  let h: u64 = <u64>len * K1;
  h = mix(h, i64x2.extract_lane(A0, 1));
  h = mix(h, i64x2.extract_lane(A0, 0));
  h = mix(h, i64x2.extract_lane(A1, 1));
  h = mix(h, i64x2.extract_lane(A1, 0));
  h = mix(h, i64x2.extract_lane(A2, 1));
  h = mix(h, i64x2.extract_lane(A2, 0));
  h = mix(h, i64x2.extract_lane(A3, 1));
  h = mix(h, i64x2.extract_lane(A3, 0));
  h ^= h >> 33;
  h *= K3;
  return h ^ (h >> 29);
}
