// A SHA-256 of a stream of bytes computed in one of a pool's workers (a member's digest, FORMAT.md §7.3, while the
// calling thread hashes each segment): the calling thread hands over copies of the bytes in order and gets the digest
// at the end. At most MAX_PENDING_BYTES are on their way at once, which bounds memory whatever the stream's length.

import type { OkReply, WorkerPool } from './pool.js';

/**
 * Bytes handed to the worker and not yet hashed, at most: past this, update() waits. The worker hashes about 1.3 GB/s
 * besides its chunks; a few milliseconds' worth keeps it fed while the calling thread does other work.
 */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

/** Numbers streams, so that two never share a worker-side hash. */
let streamKeys = 0;

/** A SHA-256 computed by worker `worker` of `pool`; create one per stream, end it with digest() or dispose(). */
export class WorkerSha256 {
  private readonly key = `${streamKeys++}`;
  private pending: { bytes: number; reply: Promise<OkReply> }[] = [];
  private pendingBytes = 0;
  /** Buffers handed back by replies, for the next copies (a new buffer costs the first touch of its pages). */
  private spare: ArrayBuffer[] = [];
  private ended = false;

  constructor(
    private readonly pool: WorkerPool,
    private readonly worker = 0,
  ) {}

  /**
   * Adds `bytes` (copied: the caller may reuse them as soon as this returns). Waits while MAX_PENDING_BYTES are on
   * their way. @throws the worker's error (a worker that died)
   */
  async update(bytes: Uint8Array): Promise<void> {
    if (this.ended) throw new Error('internal: a worker SHA-256 updated after its end');
    if (bytes.length === 0) return;
    while (this.pending.length > 0 && this.pendingBytes + bytes.length > MAX_PENDING_BYTES) await this.settleOldest();
    const k = this.spare.findIndex((b) => b.byteLength >= bytes.length);
    const copy = new Uint8Array(k >= 0 ? this.spare.splice(k, 1)[0] : new ArrayBuffer(bytes.length), 0, bytes.length);
    copy.set(bytes);
    const reply = this.pool.run({ kind: 'hash', key: this.key, bytes: copy, final: false }, [copy.buffer as ArrayBuffer], this.worker);
    reply.catch(() => {});
    this.pending.push({ bytes: bytes.length, reply });
    this.pendingBytes += bytes.length;
  }

  /** The digest of every byte added. @throws the worker's error */
  async digest(): Promise<Uint8Array> {
    this.ended = true;
    const r = await this.pool.run({ kind: 'hash', key: this.key, bytes: new Uint8Array(0), final: true }, [], this.worker);
    while (this.pending.length > 0) await this.settleOldest();
    if (r.kind !== 'hash' || !r.digest) throw new Error('internal: a hash job without its digest');
    return r.digest;
  }

  /** Ends the stream without its digest (the worker drops it); errors are ignored. */
  dispose(): void {
    if (this.ended) return;
    this.ended = true;
    this.pool.run({ kind: 'hash', key: this.key, bytes: new Uint8Array(0), final: true }, [], this.worker).catch(() => {});
  }

  private async settleOldest(): Promise<void> {
    const { bytes, reply } = this.pending.shift()!;
    this.pendingBytes -= bytes;
    const r = await reply;
    if (r.kind === 'hash' && r.buffer instanceof ArrayBuffer) this.spare.push(r.buffer);
  }
}
