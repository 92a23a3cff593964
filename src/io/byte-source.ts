// Random-access byte sources (memory here; files in file-source.ts, Node only). Decoders read through this
// interface so the same code serves buffers, files and, later, HTTP ranges.

import { FormatError } from '../errors.js';

/** `length` bytes from `offset` of a source. */
export interface ByteRange {
  offset: number;
  length: number;
}

/** Options of a read (and of a prefetch). */
export interface ReadOptions {
  /** Aborts the read: it rejects with ABORTED, and a source that fetches stops the fetches made for it. */
  signal?: AbortSignal;
}

/** Read-only random access to `size` bytes. `name` labels errors. */
export interface ByteSource {
  readonly name: string;
  readonly size: number;
  /**
   * Exactly `length` bytes from `offset`; throws TRUNCATED if the source ends first, ABORTED once `options.signal`
   * fired (a source may ignore the signal when its reads cannot wait).
   */
  read(offset: number, length: number, options?: ReadOptions): Promise<Uint8Array>;
  /**
   * Optional: the reader will soon read these ranges, about in this order (a tensor's chunks, a whole model's). A source
   * whose requests cost (HttpSource) fetches them ahead, near ones together in few requests; reads of them then wait
   * for those fetches. A hint only: reads of other ranges work as before.
   */
  prefetch?(ranges: readonly ByteRange[], options?: ReadOptions): void;
  /**
   * Optional: bytes of this range failed their check (a chunk's CRC-32C or digest): the source drops whatever copy of
   * them it holds, so that the next read fetches them again instead of returning the same bytes. A source that
   * cannot fetch again (memory, a file) leaves it out, and the reader then reports the failure at once.
   */
  discard?(offset: number, length: number): void;
  /**
   * Optional: reads exactly `target.length` bytes from `offset` into `target` (which may be shared memory); throws
   * TRUNCATED if the source ends first.
   */
  readInto?(offset: number, target: Uint8Array): Promise<void>;
  /**
   * Optional: the reader will use no byte before `offset` again, nor any view of one it was given, so a source that
   * reads ahead may reuse that memory (ReadAheadSource).
   */
  release?(offset: number): void;
  close(): Promise<void>;
  /**
   * True when every `read` returns memory of its own that nothing else holds or changes (a file read into a new
   * buffer), so a reader may keep it without a copy; absent or false when reads may be views of shared memory.
   */
  readonly ownedReads?: boolean;
}

/** A source over bytes already in memory (browser, tests). */
export class MemorySource implements ByteSource {
  readonly size: number;
  constructor(private bytes: Uint8Array, readonly name = '<memory>') {
    this.size = bytes.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new FormatError('TRUNCATED', `read of ${length} bytes at ${offset} passes the end (${this.size} bytes)`, {
        file: this.name,
        offset: Math.min(offset, this.size),
      });
    }
    return this.bytes.subarray(offset, offset + length);
  }
  async close(): Promise<void> {}
}

/** Sequential output. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<void>;
  /**
   * Overwrites bytes already written at `offset` (the container writer rewrites the 16-byte header once, to version 2,
   * when a segment was transformed). Optional: a writer given a sink without it writes version 1 only.
   */
  patch?(offset: number, bytes: Uint8Array): Promise<void>;
  /**
   * Optional: the view where the next `length` bytes will go, or undefined when there is none that large. A producer
   * may write them there, then pass that view to write(), which keeps them in place (no copy). The view is valid
   * until the next call of write().
   */
  next?(length: number): Uint8Array | undefined;
  /**
   * Optional: a view of shared memory (a SharedArrayBuffer) where the `length` bytes will go that start `ahead` bytes
   * after the bytes passed to write() so far (a write still under way included), or undefined when there is none.
   * Another thread may write them there; once every byte before them is written, passing that view to write() keeps
   * them in place (no copy). A view is valid until write() has passed its bytes.
   */
  sharedAhead?(ahead: number, length: number): Uint8Array | undefined;
}

/** Whether this environment can share memory with workers: SharedArrayBuffer exists (in browsers only when cross-origin isolated). */
export function canShareMemory(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean };
  return typeof SharedArrayBuffer === 'function' && g.crossOriginIsolated !== false;
}

/** Collects output in memory. */
export class MemorySink implements ByteSink {
  private parts: Uint8Array[] = [];
  length = 0;
  /**
   * @param keeps keep the arrays passed to write() as they are, instead of a copy of each: for a producer that never
   *   changes or reuses them (the container writer: every piece it writes is a new array)
   */
  constructor(private readonly keeps = false) {}
  async write(bytes: Uint8Array): Promise<void> {
    this.parts.push(this.keeps ? bytes : bytes.slice());
    this.length += bytes.length;
  }
  async patch(offset: number, bytes: Uint8Array): Promise<void> {
    if (offset < 0 || offset + bytes.length > this.length) throw new RangeError(`patch of ${bytes.length} bytes at ${offset} is outside the ${this.length} bytes written`);
    let start = 0;
    for (const p of this.parts) {
      const from = Math.max(offset, start);
      const to = Math.min(offset + bytes.length, start + p.length);
      if (from < to) p.set(bytes.subarray(from - offset, to - offset), from - start);
      start += p.length;
    }
  }
  /** Everything written, as one buffer. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** Writes into one buffer of a size known in advance (decoding: the index gives every member's size), with no copies beyond the write itself. */
export class BufferSink implements ByteSink {
  readonly bytes: Uint8Array;
  length = 0;
  /**
   * @param shared hold the bytes in a SharedArrayBuffer (where canShareMemory()), which workers can write into
   *   (sharedAhead); else an ArrayBuffer
   * @throws RangeError where a buffer of `size` bytes cannot be allocated
   */
  constructor(size: number, private readonly shared = false) {
    this.bytes = shared ? new Uint8Array(new SharedArrayBuffer(size)) : new Uint8Array(size);
  }
  async write(bytes: Uint8Array): Promise<void> {
    if (this.length + bytes.length > this.bytes.length) throw new RangeError(`write of ${bytes.length} bytes passes the end of a ${this.bytes.length}-byte buffer`);
    // Bytes decoded in place (into the view `next` gave) are already where they belong.
    if (bytes.buffer !== this.bytes.buffer || bytes.byteOffset !== this.bytes.byteOffset + this.length) this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** The view where the next `length` bytes will go, for a producer that can write them in place (then passes the view to write). */
  next(length: number): Uint8Array | undefined {
    return this.length + length <= this.bytes.length ? this.bytes.subarray(this.length, this.length + length) : undefined;
  }

  /** The view of the shared buffer where the bytes `ahead` past the next one go (ByteSink.sharedAhead); undefined for an ArrayBuffer. */
  sharedAhead(ahead: number, length: number): Uint8Array | undefined {
    const at = this.length + ahead;
    return this.shared && ahead >= 0 && at + length <= this.bytes.length ? this.bytes.subarray(at, at + length) : undefined;
  }
}
