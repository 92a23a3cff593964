// Lane primitives through workgroup memory, for adapters without subgroups or with subgroups other than 32
// wide: one chunk per workgroup of 32 invocations, ballot by atomicOr into a shared mask, shuffle by a shared
// array, each with workgroup barriers (so every call is made by all 32 invocations in uniform control flow).

var<workgroup> wg_mask: atomic<u32>;
var<workgroup> wg_swap: array<u32, 32>;

fn lane_ballot(flag: bool, l: u32) -> u32 {
  if (flag) {
    atomicOr(&wg_mask, 1u << l);
  }
  workgroupBarrier();
  let m = atomicLoad(&wg_mask);
  workgroupBarrier();
  if (l == 0u) {
    atomicStore(&wg_mask, 0u);
  }
  workgroupBarrier();
  return m;
}

fn lane_shuffle(v: u32, src: u32, l: u32) -> u32 {
  wg_swap[l] = v;
  workgroupBarrier();
  let r = wg_swap[src];
  workgroupBarrier();
  return r;
}
