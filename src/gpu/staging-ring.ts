// A ring of mapped staging buffers for uploading compressed bytes: the host fills one buffer while the GPU copies
// out of the others. Invariant: a buffer is written only after the map request that follows its last copy resolves.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUDevice } from './webgpu-types.js';
import { BUFFER_USAGE, MAP_MODE } from './adapter.js';

/** One buffer of the ring and the map request that makes it writable again after its last copy. */
interface Slot {
  buffer: GPUBuffer;
  ready: Promise<void>;
}

/** A staging buffer handed out by StagingRing.acquire: `view` is its mapped range, to fill before `copy`. */
export interface StagingPiece {
  slot: number;
  view: Uint8Array;
}

/** A ring of `count` staging buffers of `pieceBytes` each, handed out round-robin. */
export class StagingRing {
  private readonly slots: Slot[] = [];
  private next = 0;

  /**
   * @param pieceBytes bytes of each buffer, the most one piece carries (a multiple of 4)
   * @param count buffers in the ring, created as they are first needed
   */
  constructor(
    private readonly device: GPUDevice,
    readonly pieceBytes: number,
    private readonly count: number,
  ) {}

  /** The next buffer of the ring, mapped for writing; waits until the GPU has copied the piece it held before. */
  async acquire(): Promise<StagingPiece> {
    if (this.slots.length < this.count) {
      const buffer = this.device.createBuffer({ label: `wcodec staging ${this.slots.length}`, size: this.pieceBytes, usage: BUFFER_USAGE.MAP_WRITE | BUFFER_USAGE.COPY_SRC, mappedAtCreation: true });
      this.slots.push({ buffer, ready: Promise.resolve() });
    }
    const slot = this.next;
    this.next = (this.next + 1) % this.count;
    const s = this.slots[slot];
    await s.ready;
    return { slot, view: new Uint8Array(s.buffer.getMappedRange(0, this.pieceBytes)) };
  }

  /**
   * Submits the copy of the first `bytes` of `piece` (rounded up to whole words) to `target` at `offset`, and asks
   * for the buffer to be mapped again; `piece.view` is unusable from here on.
   */
  copy(piece: StagingPiece, target: GPUBuffer, offset: number, bytes: number): void {
    const s = this.slots[piece.slot];
    s.buffer.unmap();
    const enc = this.device.createCommandEncoder({ label: 'wcodec staging copy' });
    enc.copyBufferToBuffer(s.buffer, 0, target, offset, Math.ceil(bytes / 4) * 4);
    this.device.queue.submit([enc.finish()]);
    s.ready = s.buffer.mapAsync(MAP_MODE.WRITE);
  }

  /** Waits for every submitted copy to be done. @throws a map request's error */
  async drain(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /** Destroys the buffers, once no map request is pending (also after a failure: none may outlive its buffer). */
  async destroy(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.ready.catch(() => {})));
    for (const s of this.slots) s.buffer.destroy();
  }
}
