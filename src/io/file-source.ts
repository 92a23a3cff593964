// Node file source and atomic file sink (Node only). Outputs go to a temporary file beside the target and are
// renamed over it only when complete, so a failure or a kill never leaves a half-written file at the output path.

import { open, rename, unlink, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FormatError, IoError } from '../errors.js';
import type { ByteSink, ByteSource } from './byte-source.js';

/** Random-access reads from a file. */
export class FileSource implements ByteSource {
  private constructor(private fh: FileHandle, readonly name: string, readonly size: number) {}

  /** Opens `path` for reading. @throws IO_ERROR */
  static async open(path: string): Promise<FileSource> {
    try {
      const fh = await open(path, 'r');
      const st = await fh.stat();
      return new FileSource(fh, path, st.size);
    } catch (e) {
      throw new IoError('IO_ERROR', `cannot open for reading: ${(e as Error).message}`, { file: path, cause: e });
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new FormatError('TRUNCATED', `read of ${length} bytes at ${offset} passes the end (${this.size} bytes)`, {
        file: this.name,
        offset: Math.min(offset, this.size),
      });
    }
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(buf, got, length - got, offset + got);
      if (bytesRead === 0) {
        throw new FormatError('TRUNCATED', `file ended after ${offset + got} bytes while reading`, { file: this.name, offset: offset + got });
      }
      got += bytesRead;
    }
    return buf;
  }

  /** Reads exactly `target.length` bytes from `offset` into `target` (no intermediate buffer: GPU uploads read straight into mapped memory). */
  async readInto(offset: number, target: Uint8Array): Promise<void> {
    const length = target.length;
    if (offset < 0 || offset + length > this.size) {
      throw new FormatError('TRUNCATED', `read of ${length} bytes at ${offset} passes the end (${this.size} bytes)`, {
        file: this.name,
        offset: Math.min(Math.max(offset, 0), this.size),
      });
    }
    let got = 0;
    while (got < length) {
      const { bytesRead } = await this.fh.read(target, got, length - got, offset + got);
      if (bytesRead === 0) {
        throw new FormatError('TRUNCATED', `file ended after ${offset + got} bytes while reading`, { file: this.name, offset: offset + got });
      }
      got += bytesRead;
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** A temporary path beside `target`, hidden and unique. */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.wcodec-tmp`);
}

/** Does `path` exist (any kind of entry)? */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

const FLUSH_BYTES = 4 * 1024 * 1024;

/** Writes to a temporary file; commit() renames it to the target, abort() removes it. */
export class AtomicFileSink implements ByteSink {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private constructor(private fh: FileHandle, readonly tempPath: string, readonly target: string) {}

  /** Creates the temporary file beside `target`. @throws IO_ERROR */
  static async create(target: string): Promise<AtomicFileSink> {
    const tempPath = tempPathFor(target);
    try {
      return new AtomicFileSink(await open(tempPath, 'wx'), tempPath, target);
    } catch (e) {
      throw new IoError('IO_ERROR', `cannot create output: ${(e as Error).message}`, { file: target, cause: e });
    }
  }

  async write(bytes: Uint8Array): Promise<void> {
    this.pending.push(bytes.slice());
    this.pendingBytes += bytes.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    const parts = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    const joined = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      joined.set(p, o);
      o += p.length;
    }
    try {
      let done = 0;
      while (done < joined.length) done += (await this.fh.write(joined, done, joined.length - done)).bytesWritten;
    } catch (e) {
      throw new IoError('IO_ERROR', `write failed: ${(e as Error).message}`, { file: this.target, cause: e });
    }
  }

  /** Flushes, closes and renames the temporary file onto the target. */
  async commit(): Promise<void> {
    await this.flush();
    await this.fh.sync();
    await this.fh.close();
    try {
      await rename(this.tempPath, this.target);
    } catch (e) {
      await unlink(this.tempPath).catch(() => {});
      throw new IoError('IO_ERROR', `cannot rename output into place: ${(e as Error).message}`, { file: this.target, cause: e });
    }
  }

  /** Closes and deletes the temporary file; the target is untouched. */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
    await unlink(this.tempPath).catch(() => {});
  }
}
