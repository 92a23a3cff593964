// One value of a chunk in the lean layouts (FORMAT.md §4.2, §5.3, §6), shared by the kernels that decode them
// (decode-lean.wgsl, and those that consume values as they decode them): the segment class's constants, its packed
// slot entries in workgroup memory, reads of the input at any bit address, and the rANS round of one value in
// lockstep. The including file declares `input` (the compressed bytes as array<u32>, padded by 8 bytes), `descs`
// (segment descriptors and table images, as decode.wgsl's) and the lane primitives (lanes-subgroup.wgsl or
// lanes-workgroup.wgsl); src/gpu/kernels.ts (leanKernelSource) replaces the upper-case names.

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

// Copies the table image of the segment whose descriptor is at descs[seg] (word 4 its offset, word 5 its size) into
// wg_tab: invocation li of the workgroup's WORKGROUP_SIZE copies every WORKGROUP_SIZE-th word. Every invocation calls
// it, in uniform control flow; the table is ready when it returns.
fn lean_load_table(seg: u32, li: u32) {
  let image_at = descs[seg + 4u];
  let image_words = min(descs[seg + 5u], TABLE_WORDS);
  for (var k = li; k < image_words; k += WORKGROUP_SIZE) {
    wg_tab[k] = descs[image_at + k];
  }
  workgroupBarrier();
}


// Status bits of a chunk (decode.wgsl's; the host accepts a chunk only when its word is exactly DONE).
const DONE: u32 = 1u;
const BAD_START_STATE: u32 = 2u;
const RAN_OUT: u32 = 4u;
const WORDS_LEFT: u32 = 8u;
const BAD_END_STATE: u32 = 16u;
const LANE_LAYOUT: u32 = 32u;
const RAW_PADDING: u32 = 128u;

// The 32 bits of the input that start `bit` bits after the start of word q. (v << 1) << (31 - sh) is v << (32 - sh)
// for sh in 1..31 and 0 for sh = 0, where WGSL would take a shift by 32 modulo 32.
fn word_bits(q: u32, bit: u32) -> u32 {
  let w = q + (bit >> 5u);
  let sh = bit & 31u;
  return (input[w] >> sh) | ((input[w + 1u] << 1u) << (31u - sh));
}

// The 32 bits of the input that start `bit` bits after byte `byte` (any alignment).
fn bits_at(byte: u32, bit: u32) -> u32 {
  return word_bits(byte >> 2u, (byte & 3u) * 8u + bit);
}

// Bits [lo, lo + w) of the value from a symbol's w1 + w2 bits: range 1 its high w1 bits, range 2 its low w2 bits.
fn deposit(sym: u32, lo1: u32, w1: u32, lo2: u32, w2: u32) -> u32 {
  return (((sym >> w2) & ((1u << w1) - 1u)) << lo1) | ((sym & ((1u << w2) - 1u)) << lo2);
}

// Per-invocation decoder state of the current chunk. Positions are bit offsets from the start of an input word, so
// that a step adds to them and shifts, with no multiplication: sp (the next rANS word) and sp_end (the stream's end)
// from word cq; rbit (this lane's next raw symbol) from word rq; pbit (this lane's next byte of the first byte plane;
// the second starts pn bits later) from word pq. Invariant between steps: the lane's next value is value i = 32 s + l
// of step s, rbit = rq's offset + i R_BITS and pbit = pq's offset + 8 i.
var<private> x: u32;
var<private> cq: u32;
var<private> sp: u32;
var<private> sp_end: u32;
var<private> rq: u32;
var<private> rbit: u32;
var<private> pq: u32;
var<private> pbit: u32;
var<private> pn: u32;

// Starts lane l on a chunk of n values (FORMAT.md §6: 32 start states, the rANS words, then the raw planes) whose
// stream takes stream_bytes from byte chunk_at; returns the status bits found so far (a start state below 2^16; lane
// 0: nonzero padding bits after the raw head plane's last symbol). A chunk that is not live decodes nothing.
fn lean_begin(chunk_at: u32, stream_bytes: u32, n: u32, l: u32, live: bool) -> u32 {
  var err = 0u;
  x = bits_at(chunk_at, 32u * l);
  if (live && x < STATE_LOW) {
    err |= BAD_START_STATE;
  }
  if (!live) {
    x = STATE_LOW;
  }
  cq = chunk_at >> 2u;
  sp = (chunk_at & 3u) * 8u + 8u * 4u * LANES;
  sp_end = (chunk_at & 3u) * 8u + 8u * stream_bytes;
  let raw_at = chunk_at + stream_bytes;
  rq = raw_at >> 2u;
  rbit = (raw_at & 3u) * 8u + l * R_BITS;
  let used = (n * R_BITS) & 7u;
  if (l == 0u && used != 0u && (bits_at(raw_at, n * R_BITS) & ((1u << (8u - used)) - 1u)) != 0u) {
    err |= RAW_PADDING;
  }
  // Byte planes follow the raw head plane, n bytes each.
  let planes_at = raw_at + ((n * R_BITS + 7u) >> 3u);
  pq = planes_at >> 2u;
  pbit = (planes_at & 3u) * 8u + 8u * l;
  pn = 8u * n;
  return err;
}

// This lane's next value (every lane of the group calls it once per step; lanes with on = false keep their state and
// take no word): one rANS round, the renormalising lanes taking the stream's next words in lane order, then the raw
// planes. Returns the value's low 4 bytes.
fn decode_value(on: bool, l: u32, below: u32) -> u32 {
  let e = wg_tab[x & ((1u << PB) - 1u)];
  let sym = e & ((1u << SB) - 1u);
  var y = (((e >> SB) & ((1u << FB) - 1u)) + 1u) * (x >> PB) + (e >> (SB + FB));
  let need = on && y < STATE_LOW;
  let mask = lane_ballot(need, l);
  let word = word_bits(cq, sp + 16u * countOneBits(mask & below)) & 0xffffu;
  y = select(y, (y << 16u) | word, need);
  sp += 16u * countOneBits(mask);
  x = select(x, y, on);
  var head = deposit(sym, C_LO1, C_W1, C_LO2, C_W2);
  let r = word_bits(rq, rbit) & ((1u << R_BITS) - 1u);
  rbit += LANES * R_BITS;
  head |= deposit(r, R_LO1, R_W1, R_LO2, R_W2);
  if (W == 2u) {
    return head;
  }
  var v = head << 16u;
  if (BYTE_PLANES >= 1u) {
    v |= (word_bits(pq, pbit) & 0xffu) << (8u * BYTE0);
  }
  if (BYTE_PLANES >= 2u) {
    v |= (word_bits(pq, pbit + pn) & 0xffu) << (8u * BYTE1);
  }
  pbit += 8u * LANES;
  return v;
}

// The status bits a chunk's end adds: a lane's final state other than 2^16; lane 0: the stream read past its end, or
// words left in it.
fn lean_end(l: u32) -> u32 {
  var err = 0u;
  if (x != STATE_LOW) {
    err |= BAD_END_STATE;
  }
  if (l == 0u && sp > sp_end) {
    err |= RAN_OUT;
  }
  if (l == 0u && sp < sp_end) {
    err |= WORDS_LEFT;
  }
  return err;
}
