// The encoder's symbol counts (FORMAT.md §4.3 "Statistics") on the WebAssembly kernels: the same histograms as
// SegmentStats, counted in u32 bins in kernel memory and added to the f64 totals after each block.

import { SegmentStats } from './choose-layout.js';
import type { Kernels } from '../wasm/kernels.js';

/**
 * Below this many values a block is counted in TypeScript: zeroing and folding back the 2^16 kernel bins
 * would cost more than the counting itself (checkpoints hold many tiny tensors, such as norm vectors).
 */
const MIN_KERNEL_VALUES = 65536;
/** Values per kernel call: keeps each u32 bin far below 2^32. */
const MAX_KERNEL_VALUES = 1 << 24;

/** SegmentStats whose large blocks are counted by the kernels; identical counts. */
export class WasmSegmentStats extends SegmentStats {
  constructor(private kernels: Kernels, valueBytes: number) {
    super(valueBytes);
  }

  protected override countValues(b: Uint8Array, from: number, to: number): void {
    const W = this.valueBytes;
    if ((to - from) / W < MIN_KERNEL_VALUES) {
      super.countValues(b, from, to);
      return;
    }
    const K = this.kernels;
    const headBins = this.head.length;
    const bins = headBins + 1024 * this.low.length;
    for (let at = from; at < to; at += MAX_KERNEL_VALUES * W) {
      const end = Math.min(to, at + MAX_KERNEL_VALUES * W);
      const n = (end - at) / W;
      const src = K.alloc(end - at);
      const hist = K.alloc(bins * 4);
      const mem = K.u8;
      mem.set(b.subarray(at, end), src);
      mem.fill(0, hist, hist + bins * 4);
      K.k.countHeads(src, n, W, hist);
      for (let k = 0; k < this.low.length; k++) K.k.countBytes(src, n, W, k, hist + (headBins + 1024 * k) * 4);
      const counts = new Uint32Array(K.k.memory.buffer, hist, bins);
      const head = this.head;
      const occupied = this.occupied;
      for (let h = 0; h < headBins; h++) {
        const c = counts[h];
        if (c === 0) continue;
        if (head[h] === 0) occupied[h >>> 5] |= 1 << (h & 31);
        head[h] += c;
      }
      for (let k = 0; k < this.low.length; k++) {
        const low = this.low[k];
        const o = headBins + 1024 * k;
        for (let v = 0; v < 256; v++) low[v] += counts[o + v] + counts[o + 256 + v] + counts[o + 512 + v] + counts[o + 768 + v];
      }
      this.values += n;
      K.release(hist, bins * 4);
      K.release(src, end - at);
    }
  }
}
