// A byte source that reads ahead of a reader moving forward through a file (decoding a whole container): blocks of
// BLOCK_BYTES, the next AHEAD_BLOCKS already being read while the current one is used, in shared memory where that
// exists, so that a run of chunks lying in one block reaches a worker as it lies (no copy).

import { canShareMemory, type ByteSource } from './byte-source.js';

/** Bytes per block read ahead. */
const BLOCK_BYTES = 4 * 1024 * 1024;

/** Blocks read ahead of the one in use: memory for the reads in flight, (1 + AHEAD_BLOCKS) * BLOCK_BYTES at most. */
const AHEAD_BLOCKS = 3;

/** Blocks kept for reuse at most, once released. */
const MAX_FREE_BLOCKS = AHEAD_BLOCKS + 2;

/** Blocks the reads have moved past that wait for the reader's release at most. */
const MAX_RETIRED_BLOCKS = 2 * AHEAD_BLOCKS;

/**
 * Reads `source` in blocks, ahead of the reads made of it. A read within one block is a view of that block; one across
 * blocks a copy. The blocks follow reads that move forward, each starting where the one before ended or in a block
 * already read; any other read (a container's header, footer and index, a read backwards) or one larger than a block
 * goes to `source` as it is. A block's memory is reused only once the reader has released every byte of it
 * (release): until then a view stays valid.
 */
export class ReadAheadSource implements ByteSource {
  private blocks = new Map<number, Promise<Uint8Array>>();
  /** Blocks the reads have moved past, by number, until the reader releases them. */
  private retired = new Map<number, Promise<Uint8Array>>();
  /** Released blocks, for reuse (a new block costs the first touch of its pages, in the thread that reads it). */
  private free: ArrayBufferLike[] = [];
  private released = 0;
  /** Where the previous read ended. */
  private lastEnd = -1;
  private readonly shared = canShareMemory();

  constructor(private readonly source: ByteSource) {}

  get name(): string {
    return this.source.name;
  }

  get size(): number {
    return this.source.size;
  }

  /** @throws TRUNCATED for a range past the end (as the source reports it) */
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (length === 0 || length > BLOCK_BYTES || offset < 0 || offset + length > this.size) return this.source.read(offset, length);
    const first = Math.floor(offset / BLOCK_BYTES);
    const last = Math.floor((offset + length - 1) / BLOCK_BYTES);
    // A read outside the blocks goes to the source, unless it continues the previous read: reads then start again here.
    const continues = offset === this.lastEnd;
    this.lastEnd = offset + length;
    if (!this.blocks.has(first) && !continues) return this.source.read(offset, length);
    for (const [k, b] of this.blocks) {
      if (k >= first && k <= last + AHEAD_BLOCKS) continue;
      this.blocks.delete(k);
      this.retired.set(k, b);
    }
    this.recycle();
    for (let k = first; k <= last + AHEAD_BLOCKS && k * BLOCK_BYTES < this.size; k++) if (!this.blocks.has(k)) this.blocks.set(k, this.readBlock(k));
    const from = offset - first * BLOCK_BYTES;
    if (first === last) return (await this.blocks.get(first)!).subarray(from, from + length);
    const a = await this.blocks.get(first)!;
    const b = await this.blocks.get(last)!;
    const out = new Uint8Array(length);
    out.set(a.subarray(from));
    out.set(b.subarray(0, length - (a.length - from)), a.length - from);
    return out;
  }

  /** The reader uses no byte before `offset` again, nor a view of one: blocks wholly before it may be reused. */
  release(offset: number): void {
    this.released = Math.max(this.released, offset);
    this.recycle();
  }

  /**
   * Moves retired blocks wholly before the released offset to the free list. Beyond MAX_RETIRED_BLOCKS waiting (a
   * reader that releases little), the oldest are left to the collector instead: memory stays bounded either way.
   */
  private recycle(): void {
    for (const k of this.retired.keys()) {
      if (this.retired.size <= MAX_RETIRED_BLOCKS) break;
      this.retired.delete(k);
    }
    for (const [k, b] of this.retired) {
      if ((k + 1) * BLOCK_BYTES > this.released) continue;
      this.retired.delete(k);
      b.then((bytes) => {
        if (bytes.buffer.byteLength === BLOCK_BYTES && this.free.length < MAX_FREE_BLOCKS) this.free.push(bytes.buffer);
      }, () => {});
    }
  }

  private readBlock(k: number): Promise<Uint8Array> {
    const at = k * BLOCK_BYTES;
    const length = Math.min(BLOCK_BYTES, this.size - at);
    const read = (async () => {
      if (!this.shared || !this.source.readInto) return this.source.read(at, length);
      const bytes = new Uint8Array(this.free.pop() ?? new SharedArrayBuffer(BLOCK_BYTES), 0, length);
      await this.source.readInto(at, bytes);
      return bytes;
    })();
    // A block read ahead and never used must not count as an unhandled rejection; a used one rethrows when awaited.
    read.catch(() => {});
    return read;
  }

  async close(): Promise<void> {
    for (const b of [...this.blocks.values(), ...this.retired.values()]) await b.catch(() => {});
    this.blocks.clear();
    this.retired.clear();
    await this.source.close();
  }
}
