// CRC-32C of chunks on the GPU (FORMAT.md §7.1, §7.3 item 3): one workgroup of 256 invocations per chunk. The
// chunk is seen as left-padded with zeros to 256 equal slices (zeros in front leave a CRC register at 0 unchanged);
// each invocation computes the raw CRC (register starting at 0, no final inversion) of its slice, and the slices
// are combined pairwise, crc(A || B) = crc(A) * x^(8 |B|) mod P + crc(B), as zlib's crc32_combine does. The
// standard CRC then adds the initial value shifted over the whole chunk and the final inversion. A mismatch
// sets the chunk's CRC status bit; the host rejects the chunk.

@group(0) @binding(0) var<storage, read> input: array<u32>;
// Job: chunk start (byte offset in input), chunk bytes, expected CRC-32C, status index.
@group(0) @binding(1) var<storage, read> crc_jobs: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> status: array<atomic<u32>>;

struct Params {
  job_count: u32,
  groups_x: u32,
  job_base: u32,
  pad: u32,
}
@group(0) @binding(3) var<uniform> params: Params;

const POLY: u32 = 0x82f63b78u;
const SLICES: u32 = 256u;
const CRC_MISMATCH: u32 = 64u;

var<workgroup> table: array<u32, 256>;
var<workgroup> part: array<u32, 256>;
// shift[k] = x^(8 L 2^k) mod P: the factor that moves a CRC over 2^k slices of L bytes.
var<workgroup> shift: array<u32, 8>;

// a * b mod P, reflected bit order (zlib's multmodp).
fn mul_mod(a: u32, b0: u32) -> u32 {
  var m = 0x80000000u;
  var b = b0;
  var p = 0u;
  for (var k = 0u; k < 32u; k++) {
    if ((a & m) != 0u) {
      p ^= b;
    }
    m >>= 1u;
    b = select(b >> 1u, (b >> 1u) ^ POLY, (b & 1u) != 0u);
  }
  return p;
}

// x^(8 n) mod P, by squaring (x^8 first, then x^16, x^32, ...).
fn x8n_mod(n0: u32) -> u32 {
  var n = n0;
  var p = 0x80000000u; // x^0
  var sq = 0x00800000u; // x^8
  while (n != 0u) {
    if ((n & 1u) != 0u) {
      p = mul_mod(sq, p);
    }
    sq = mul_mod(sq, sq);
    n >>= 1u;
  }
  return p;
}

@compute @workgroup_size(256)
fn check_crcs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
  let job = wid.y * params.groups_x + wid.x;
  if (job >= params.job_count) {
    return;
  }
  let jb = crc_jobs[params.job_base + job];
  let at = jb.x;
  let len = jb.y;
  // The byte table: table[v] = the register after one byte v from 0.
  var c = t;
  for (var k = 0u; k < 8u; k++) {
    c = select(c >> 1u, (c >> 1u) ^ POLY, (c & 1u) != 0u);
  }
  table[t] = c;
  let L = (len + SLICES - 1u) / SLICES;
  if (t < 8u) {
    shift[t] = x8n_mod(L << t);
  }
  workgroupBarrier();

  // This slice covers padded bytes [t L, (t + 1) L); the padding is the first SLICES L - len of them.
  let pad = SLICES * L - len;
  let first = max(t * L, pad);
  let end = (t + 1u) * L;
  var r = 0u;
  for (var i = first; i < end; i++) {
    let a = at + i - pad;
    let byte = (input[a >> 2u] >> ((a & 3u) * 8u)) & 0xffu;
    r = table[(r ^ byte) & 0xffu] ^ (r >> 8u);
  }
  part[t] = r;
  workgroupBarrier();
  for (var k = 0u; k < 8u; k++) {
    let span = 1u << k;
    if ((t & ((span << 1u) - 1u)) == 0u) {
      part[t] = mul_mod(shift[k], part[t]) ^ part[t + span];
    }
    workgroupBarrier();
  }
  if (t == 0u) {
    let crc = part[0] ^ mul_mod(x8n_mod(len), 0xffffffffu) ^ 0xffffffffu;
    if (crc != jb.z) {
      atomicOr(&status[jb.w], CRC_MISMATCH);
    }
  }
}
