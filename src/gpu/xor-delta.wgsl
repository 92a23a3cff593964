// XOR_DELTA's inverse on the GPU (FORMAT.md §3.5.2): out[i] = out[i] XOR stream[i] for every byte i of a window of a
// tensor, where `output` holds the reference tensor's bytes (uploaded by the host) and `stream` the decoded stream, both
// bound at the same byte of the tensor (a multiple of 256). One invocation per u32 word; the stream's bytes past the
// window's `bytes` are masked out, so the output's bytes after the tensor keep their value.

@group(0) @binding(0) var<storage, read_write> output: array<u32>;
@group(0) @binding(1) var<storage, read> stream: array<u32>;

struct Params {
  bytes: u32,
  groups_x: u32,
  pad0: u32,
  pad1: u32,
}
@group(0) @binding(2) var<uniform> params: Params;

const INVOCATIONS: u32 = 256u;

@compute @workgroup_size(256)
fn xor_delta(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) i: u32) {
  let q = (wid.y * params.groups_x + wid.x) * INVOCATIONS + i;
  if (q >= (params.bytes + 3u) / 4u) {
    return;
  }
  let rest = params.bytes - 4u * q;
  let mask = select(0xffffffffu, (1u << (8u * rest)) - 1u, rest < 4u);
  output[q] = output[q] ^ (stream[q] & mask);
}
