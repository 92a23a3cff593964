// Blob and File source: a ByteSource over a Blob (a File from an <input>, a drop, a fetch's blob()), read a range at a
// time with blob.slice().arrayBuffer(); the same code runs in browsers and in Node (Blob and File are globals there).

import { FormatError } from '../errors.js';
import { throwIfAborted } from './abort.js';
import type { ByteSource, ReadOptions } from './byte-source.js';

/** Random-access reads from a Blob or File; nothing is read until asked for. */
export class BlobSource implements ByteSource {
  /** Each read is a new ArrayBuffer (ByteSource.ownedReads). */
  readonly ownedReads = true;
  readonly size: number;
  readonly name: string;

  /** @param name labels errors (default: a File's name, else '<blob>') */
  constructor(private readonly blob: Blob, name?: string) {
    this.size = blob.size;
    this.name = name ?? ((blob as { name?: unknown }).name && typeof (blob as { name?: unknown }).name === 'string' ? (blob as File).name : '<blob>');
  }

  /** @throws TRUNCATED for a range past the end; ABORTED when `options.signal` has fired */
  async read(offset: number, length: number, options: ReadOptions = {}): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new FormatError('TRUNCATED', `read of ${length} bytes at ${offset} passes the end (${this.size} bytes)`, { file: this.name, offset: Math.min(Math.max(offset, 0), this.size) });
    }
    throwIfAborted(options.signal, this.name);
    const bytes = new Uint8Array(await this.blob.slice(offset, offset + length).arrayBuffer());
    // A File changed on disk after it was picked reads short or fails in browsers: never pass on fewer bytes.
    if (bytes.length !== length) throw new FormatError('TRUNCATED', `the blob gave ${bytes.length} of ${length} bytes at ${offset}`, { file: this.name, offset });
    return bytes;
  }

  async close(): Promise<void> {}
}
