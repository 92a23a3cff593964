// Lane primitives on a GPU subgroup of exactly 32 invocations (FORMAT.md §5.3, "Lockstep decoding"): the
// renormalise flags' ballot gives each lane its word's position; shuffles gather neighbours' output bytes.
// Used only when the adapter reports subgroups of 32 (min = max = 32); the kernel flags LANE_LAYOUT if a
// workgroup's invocations 32g .. 32g + 31 are not one subgroup in order, and the host then falls back.
enable subgroups;
diagnostic(off, subgroup_uniformity);

fn lane_ballot(flag: bool, l: u32) -> u32 {
  return subgroupBallot(flag).x;
}

fn lane_shuffle(v: u32, src: u32, l: u32) -> u32 {
  return subgroupShuffle(v, src);
}
