// One value of a chunk in the lean layouts (FORMAT.md §4.2, §5.3, §6), shared by the kernels that decode them
// (decode-lean.wgsl, and those that consume values as they decode them): the segment class's constants, its packed
// slot entries in workgroup memory, reads of the input at any bit address, and the rANS round of one value in
// lockstep. The including file declares `input` (the compressed bytes as array<u32>, padded by 8 bytes) and the
// lane primitives (lanes-subgroup.wgsl or lanes-workgroup.wgsl); src/gpu/kernels.ts (leanKernelSource) replaces the
// upper-case names.

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
