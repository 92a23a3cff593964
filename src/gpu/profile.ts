// The GPU encoder profile (FORMAT.md §4.3, informative): small chunks with all 32 rANS lanes, so that a GPU decoder
// has many short chunks to run side by side. Format version 1 reads it; only the encoder's choices differ.

/** Encoder options of the GPU profile: spread them into compress options, e.g. `{ ...GPU_PROFILE, fastDecode: true }`. */
export const GPU_PROFILE: Readonly<{ chunkBytes: number; lanes: number }> = Object.freeze({
  /** 16 KiB of original bytes a chunk: 256 lockstep steps for BF16 instead of 4096 (65 536 chunks per GiB). */
  chunkBytes: 16 * 1024,
  /** Every chunk codes with 32 lanes (the reference choice for chunks this small would be fewer). */
  lanes: 32,
});
