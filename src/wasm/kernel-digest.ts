// WD64 chunk digests (format version 4, chunk record) of bytes already in kernel memory, by the SIMD kernel in
// src/wasm/assembly/chunk-digest.ts: a decoder digests its output in place before copying it out.

import type { Kernels } from './kernels.js';

/** The kernel takes its length as a u32: a longer one would wrap. */
const MAX_DIGEST_BYTES = 0xffffffff;

/**
 * WD64 of the `len` bytes at `ptr` in `kernels`' memory (any alignment); equals chunkDigest (src/format/chunk-digest.ts)
 * of the same bytes.
 * @returns the digest as an unsigned bigint below 2^64
 * @throws RangeError when `ptr` or `len` is not a non-negative integer, or the bytes pass the end of the memory
 */
export function chunkDigestInKernel(kernels: Kernels, ptr: number, len: number): bigint {
  const size = kernels.k.memory.buffer.byteLength;
  if (!Number.isInteger(ptr) || !Number.isInteger(len) || ptr < 0 || len < 0 || len > MAX_DIGEST_BYTES || ptr + len > size) {
    throw new RangeError(`chunk digest of ${len} bytes at ${ptr}: outside the kernel memory of ${size} bytes`);
  }
  return BigInt.asUintN(64, kernels.k.chunkDigest(ptr, len));
}
