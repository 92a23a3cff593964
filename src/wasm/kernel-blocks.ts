// Kernel memory owned by one coder (WasmChunkDecoder, WasmChunkEncoder): blocks allocated from one Kernels instance
// and returned together when the coder is disposed, so no block outlives its owner or is returned twice.

import { RANS_LANES } from '../format/constants.js';
import type { Kernels } from './kernels.js';

/** Bytes of the lane-state block the rANS kernels read and write: one u32 per lane, for the most lanes a stream has. */
export const STATE_BYTES = RANS_LANES * 4;

export class KernelBlocks {
  private blocks: [number, number][] = [];

  constructor(private readonly kernels: Kernels) {}

  /** Allocates `bytes` bytes of kernel memory. @returns its address */
  own(bytes: number): number {
    const ptr = this.kernels.alloc(bytes);
    this.blocks.push([ptr, bytes]);
    return ptr;
  }

  /** Copies `bytes` into a new block. @returns its address */
  keep(bytes: Uint8Array): number {
    const ptr = this.own(bytes.length);
    this.kernels.u8.set(bytes, ptr); // u8 is taken after the alloc, which may have grown (and detached) memory
    return ptr;
  }

  /** Returns every block. */
  releaseAll(): void {
    for (const [ptr, bytes] of this.blocks) this.kernels.release(ptr, bytes);
    this.blocks = [];
  }
}
