// Copies of decoded bytes from one place of a GPU decode to another (a tensor whose bytes the decode already holds in
// another place, as a DUPLICATE's, FORMAT.md §3.5.1). WebGPU copies no buffer into itself, so a copy within one output
// buffer goes through a scratch buffer, piece by piece.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUCommandEncoder, GPUDevice } from './webgpu-types.js';
import { BUFFER_USAGE } from './adapter.js';

/** Largest piece of a copy within one buffer (the scratch buffer's size at most). */
const SCRATCH_BYTES = 64 * 1024 * 1024;

/** `bytes` bytes at `from`[fromOffset] copied to `to`[toOffset]; offsets are multiples of 4. */
export interface PlaceCopy {
  from: GPUBuffer;
  fromOffset: number;
  to: GPUBuffer;
  toOffset: number;
  bytes: number;
}

/**
 * Records `copies` in `encoder`, each rounded up to whole words (both buffers have room for them: a tensor's place
 * ends on a word, and the next place starts 256 bytes on).
 * @returns the scratch buffer the copies within one buffer use (the caller destroys it once they have run), if any
 */
export function encodePlaceCopies(device: GPUDevice, encoder: GPUCommandEncoder, copies: PlaceCopy[]): GPUBuffer | undefined {
  const words = (n: number): number => Math.ceil(n / 4) * 4;
  const within = copies.filter((c) => c.from === c.to && c.bytes > 0);
  const size = Math.min(SCRATCH_BYTES, Math.max(0, ...within.map((c) => words(c.bytes))));
  const scratch = size > 0 ? device.createBuffer({ label: 'wcodec copy scratch', size, usage: BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST }) : undefined;
  for (const c of copies) {
    if (c.bytes === 0) continue;
    if (c.from !== c.to) {
      encoder.copyBufferToBuffer(c.from, c.fromOffset, c.to, c.toOffset, words(c.bytes));
      continue;
    }
    for (let at = 0; at < c.bytes; at += size) {
      const n = words(Math.min(size, c.bytes - at));
      encoder.copyBufferToBuffer(c.from, c.fromOffset + at, scratch!, 0, n);
      encoder.copyBufferToBuffer(scratch!, 0, c.to, c.toOffset + at, n);
    }
  }
  return scratch;
}
