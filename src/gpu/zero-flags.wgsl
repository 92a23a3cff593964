// ZERO_FLAGS's inverse on the GPU (FORMAT.md §3.5.3.2), in two entry points around a prefix scan (prefix-scan.wgsl).
// count_flags: one invocation per u32 word j of the flags stream (values 32j … 32j + 31) counts its set flags of
// values below n into counts[j], and sets check[0] when a stored flag bit at or past n is set. After the exclusive scan
// of the counts, counts[j] is the number of non-zero values before value 32j. zero_flags_inverse: one invocation per
// u32 word of the tensor writes each of its bytes: byte r of value i is byte r of non-zero value k (k = counts[i / 32]
// plus the set flags below i in its word) when i's flag is set, else 0. Value bytes at or past the values stream's
// length read as 0 (the host then rejects the stream's size); the output's bytes after the tensor keep their value.
// A tensor or values stream larger than one storage binding is written in windows: `output` is bound from value
// first_value on, `values` from byte window_at of the stream for window_bytes; each dispatch writes only the bytes
// whose value byte lies in its values window (and, in the dispatches of the first values window, the zeros), keeping
// the word's other bytes, so that over the dispatches of an output window every byte is written once.

@group(0) @binding(0) var<storage, read> flags: array<u32>;
@group(0) @binding(1) var<storage, read_write> counts: array<u32>;
@group(0) @binding(2) var<storage, read_write> check: array<u32>;

struct Params {
  // Values in the tensor (n), bytes per value (W), bytes of the flags stream (⌈n / 8⌉) and of the values stream.
  n: u32,
  value_bytes: u32,
  flag_bytes: u32,
  values_bytes: u32,
  groups_x: u32,
  // The window of the inverse: the first value of `output`, the bytes of the values stream `values` holds.
  first_value: u32,
  window_at: u32,
  window_bytes: u32,
}
@group(0) @binding(3) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read> values: array<u32>;
@group(0) @binding(5) var<storage, read_write> output: array<u32>;

const INVOCATIONS: u32 = 256u;

// Mask of the `count` low bits of a u32 (count may be 32 or more).
fn low_bits(count: u32) -> u32 {
  return select(0xffffffffu, (1u << count) - 1u, count < 32u);
}

@compute @workgroup_size(256)
fn count_flags(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) i: u32) {
  let j = (wid.y * params.groups_x + wid.x) * INVOCATIONS + i;
  if (j >= (params.n + 31u) / 32u) {
    return;
  }
  let w = flags[j];
  let lo = 32u * j;
  // Flags of values below n; flag bits of the stream past them (bits of the last byte); bits past the stream are not
  // the stream's and are ignored.
  let valid = low_bits(params.n - lo);
  let stored = low_bits(8u * params.flag_bytes - lo);
  counts[j] = countOneBits(w & valid);
  if ((w & stored & ~valid) != 0u) {
    check[0] = 1u;
  }
}

@compute @workgroup_size(256)
fn zero_flags_inverse(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) i: u32) {
  let q = (wid.y * params.groups_x + wid.x) * INVOCATIONS + i;
  let W = params.value_bytes;
  // Bytes of the tensor from the window's start (the window's binding ends at its last whole word).
  let base = params.first_value * W;
  let out_bytes = params.n * W - base;
  if (q >= min((out_bytes + 3u) / 4u, arrayLength(&output))) {
    return;
  }
  let first_window = params.window_at == 0u;
  var word = 0u;
  var keep = 0u;
  for (var b = 0u; b < 4u; b++) {
    let o = 4u * q + b;
    if (o >= out_bytes) {
      keep |= 0xffu << (8u * b);
      continue;
    }
    let v = (base + o) / W;
    let bit = v & 31u;
    let fw = flags[v >> 5u];
    var mine = first_window;
    if (((fw >> bit) & 1u) != 0u) {
      let k = counts[v >> 5u] + countOneBits(fw & low_bits(bit));
      let at = k * W + (base + o - v * W);
      if (at < params.values_bytes) {
        mine = at >= params.window_at && at - params.window_at < params.window_bytes;
        if (mine) {
          let a = at - params.window_at;
          word |= ((values[a >> 2u] >> (8u * (a & 3u))) & 0xffu) << (8u * b);
        }
      }
    }
    if (!mine) {
      keep |= 0xffu << (8u * b);
    }
  }
  output[q] = (output[q] & keep) | word;
}
