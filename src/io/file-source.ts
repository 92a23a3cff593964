// Node file source and atomic file sink (Node only). Outputs go to a temporary file beside the target and are
// moved to it only when complete, so a failure or a kill never leaves a half-written file at the output path;
// a kill can leave the temporary file, which the next run writing into the same folder removes (removeStaleTemps).

import { link, open, readdir, rename, rm, unlink, stat, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FormatError, IoError } from '../errors.js';
import type { ByteSink, ByteSource } from './byte-source.js';

/** Random-access reads from a file. */
export class FileSource implements ByteSource {
  /** Each read is a new buffer (ByteSource.ownedReads). */
  readonly ownedReads = true;
  private constructor(private fh: FileHandle, readonly name: string, readonly size: number) {}

  /**
   * Opens `path` for reading (bytes for a name that is not UTF-8); `name` labels its errors (default: the path).
   * @throws IO_ERROR
   */
  static async open(path: string | Buffer, name = path.toString()): Promise<FileSource> {
    try {
      const fh = await open(path, 'r');
      const st = await fh.stat();
      return new FileSource(fh, name, st.size);
    } catch (e) {
      throw new IoError('IO_ERROR', `cannot open for reading: ${(e as Error).message}`, { file: name, cause: e });
    }
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw new FormatError('TRUNCATED', `read of ${length} bytes at ${offset} passes the end (${this.size} bytes)`, {
        file: this.name,
        offset: Math.min(offset, this.size),
      });
    }
    // Not zero-filled first: every byte is read into it or the read fails (a whole small container is ~25 MB). A
    // plain Uint8Array over an unpooled buffer of its own, so slice() copies and the memory is the caller's alone.
    const buf = new Uint8Array(Buffer.allocUnsafeSlow(length).buffer, 0, length);
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

/** This host's name as it appears in temporary names (letters, digits and '-' only). */
const HOST = hostname().replace(/[^A-Za-z0-9-]/g, '-') || 'host';
/** Suffix of every temporary file and folder wcodec creates. */
export const TEMP_SUFFIX = '.wcodec-tmp';

/**
 * A temporary path beside `target`, hidden and unique: `.<name>.<host>.<pid>.<random>.wcodec-tmp`. The host and
 * process id let a later run recognise the leftovers of a killed one (removeStaleTemps).
 */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${HOST}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
};

/**
 * The process id in a temporary name made on this host (`.<name>.<host>.<pid>.<8 hex>.wcodec-tmp`, tempPathFor),
 * or undefined for any other name.
 */
export function tempOwnerPid(name: string): number | undefined {
  if (!name.startsWith('.') || !name.endsWith(TEMP_SUFFIX)) return undefined;
  const m = /\.([A-Za-z0-9-]+)\.(\d+)\.[0-9a-f]{8}$/.exec(name.slice(0, -TEMP_SUFFIX.length));
  return m && m.index > 0 && m[1] === HOST ? Number(m[2]) : undefined;
}

/**
 * Removes the temporary files and folders that runs killed before they could clean up (SIGKILL, power loss) left
 * in the folder of `target`, for any output there: those made on this host by a process that no longer exists.
 * Best effort.
 * @returns the paths removed
 */
export async function removeStaleTemps(target: string): Promise<string[]> {
  const dir = dirname(target);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = tempOwnerPid(name);
    if (pid === undefined || pid === process.pid || isAlive(pid)) continue;
    await rm(join(dir, name), { recursive: true, force: true }).catch(() => {});
    removed.push(join(dir, name));
  }
  return removed;
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

/**
 * Blocks past the current one that may hold bytes written ahead (sharedAhead): enough to cover a decode window of
 * workers' runs (ChunkWindow), so that their outputs land in place rather than come back to be copied.
 */
const MAX_AHEAD_BLOCKS = 6;

/**
 * Writes to a temporary file; commit() moves it to the target, abort() removes it. Output goes through blocks of
 * FLUSH_BYTES in shared memory (so workers can decode into them): the block being filled, up to MAX_AHEAD_BLOCKS after
 * it once views ahead into them were handed out (sharedAhead), and the previous one while it is written.
 */
export class AtomicFileSink implements ByteSink {
  /** The block being filled; a full block is written in the background while the next one fills. */
  private block: Uint8Array | undefined;
  /** The blocks after it, in order, where bytes ahead of the current block have a place already. */
  private ahead: Uint8Array[] = [];
  /** Blocks whose write has finished, for reuse (a new block costs the first touch of its pages). */
  private spares: Uint8Array[] = [];
  private fill = 0;
  /** Bytes passed to write() so far, a write still under way included: sharedAhead counts from here. */
  private accepted = 0;
  /** Where the current block starts in the output. */
  private blockStart = 0;
  /** The background write of the previous block, if any; awaited before the next one starts (errors surface there). */
  private writing: Promise<void> | undefined;
  /**
   * A background fdatasync started after a block was written, at most one at a time: the data goes to disk while
   * decoding goes on, so the fsync of commit() has little left to wait for. Its errors are left to that fsync.
   */
  private syncing: Promise<void> | undefined;
  private constructor(private fh: FileHandle, readonly tempPath: string, readonly target: string, private overwrite: boolean) {}

  /**
   * Creates the temporary file beside `target`.
   * @param options.overwrite whether commit() may replace an existing target (otherwise OUTPUT_EXISTS, even for
   *   a target that appeared while the output was being written)
   * @throws IO_ERROR
   */
  static async create(target: string, options: { overwrite: boolean }): Promise<AtomicFileSink> {
    const tempPath = tempPathFor(target);
    try {
      return new AtomicFileSink(await open(tempPath, 'wx'), tempPath, target, options.overwrite);
    } catch (e) {
      throw new IoError('IO_ERROR', `cannot create output: ${(e as Error).message}`, { file: target, cause: e });
    }
  }

  /** The rest of the current block from where the next byte goes, when `length` bytes fit there (ByteSink.next). */
  next(length: number): Uint8Array | undefined {
    if (this.fill + length > FLUSH_BYTES) return undefined;
    return this.current().subarray(this.fill, this.fill + length);
  }

  /**
   * Where the `length` bytes `ahead` past the next one go, when they lie within the current block or the
   * MAX_AHEAD_BLOCKS after it (ByteSink.sharedAhead); undefined for bytes that would straddle two blocks or lie further on.
   */
  sharedAhead(ahead: number, length: number): Uint8Array | undefined {
    const at = this.accepted + ahead - this.blockStart;
    const b = Math.floor(at / FLUSH_BYTES);
    const from = at - b * FLUSH_BYTES;
    if (ahead < 0 || from + length > FLUSH_BYTES || b > MAX_AHEAD_BLOCKS) return undefined;
    if (b === 0) return this.current().subarray(from, from + length);
    while (this.ahead.length < b) this.ahead.push(this.freeBlock());
    return this.ahead[b - 1].subarray(from, from + length);
  }

  private current(): Uint8Array {
    this.block ??= this.freeBlock();
    return this.block;
  }

  private freeBlock(): Uint8Array {
    return this.spares.pop() ?? new Uint8Array(new SharedArrayBuffer(FLUSH_BYTES));
  }

  /** Copies `bytes` into the current block; a full block starts writing while decoding goes on. @throws IO_ERROR */
  async write(bytes: Uint8Array): Promise<void> {
    this.accepted += bytes.length;
    const block = this.block;
    if (block && bytes.buffer === block.buffer && bytes.byteOffset === block.byteOffset + this.fill && bytes.length <= FLUSH_BYTES - this.fill) {
      // Written in place through next() or sharedAhead(): already where it belongs.
      this.fill += bytes.length;
      if (this.fill === FLUSH_BYTES) await this.startWrite();
      return;
    }
    let o = 0;
    while (o < bytes.length) {
      const n = Math.min(bytes.length - o, FLUSH_BYTES - this.fill);
      this.current().set(bytes.subarray(o, o + n), this.fill);
      this.fill += n;
      o += n;
      if (this.fill === FLUSH_BYTES) await this.startWrite();
    }
  }

  /** Overwrites bytes already written at `offset` (after writing out what is pending). @throws IO_ERROR */
  async patch(offset: number, bytes: Uint8Array): Promise<void> {
    await this.flush();
    try {
      let done = 0;
      while (done < bytes.length) done += (await this.fh.write(bytes, done, bytes.length - done, offset + done)).bytesWritten;
    } catch (e) {
      throw new IoError('IO_ERROR', `write failed: ${(e as Error).message}`, { file: this.target, cause: e });
    }
  }

  /** Waits for the previous block's write, then starts writing the current one (its bytes so far) in the background. */
  private async startWrite(): Promise<void> {
    await this.writing;
    const block = this.block;
    const length = this.fill;
    this.block = this.ahead.shift();
    this.fill = 0;
    this.blockStart += length;
    // Blocks ahead are placed from full blocks on; a partial one is written only by flush(), once nothing is ahead.
    if (length < FLUSH_BYTES) this.ahead = [];
    if (!block || length === 0) {
      this.writing = undefined;
      return;
    }
    const run = async (): Promise<void> => {
      try {
        let done = 0;
        while (done < length) done += (await this.fh.write(block, done, length - done)).bytesWritten;
      } catch (e) {
        throw new IoError('IO_ERROR', `write failed: ${(e as Error).message}`, { file: this.target, cause: e });
      }
      this.spares.push(block);
      this.syncing ??= this.fh.datasync().then(
        () => (this.syncing = undefined),
        () => (this.syncing = undefined),
      );
    };
    this.writing = run();
    // Failures are rethrown by the next await of `writing`; this keeps them from counting as unhandled meanwhile.
    this.writing.catch(() => {});
  }

  /** Writes out everything written so far. @throws IO_ERROR */
  private async flush(): Promise<void> {
    await this.startWrite();
    await this.writing;
    this.writing = undefined;
  }

  /**
   * Flushes, closes and moves the temporary file to the target in one step. Without `overwrite` the move is a
   * hard link, which fails if the target exists (no check-then-rename race: a file that appeared meanwhile is
   * never replaced); where hard links are not supported, an existence check and a rename.
   * @throws OUTPUT_EXISTS, IO_ERROR
   */
  async commit(): Promise<void> {
    await this.flush();
    await this.syncing;
    await this.fh.sync();
    await this.fh.close();
    try {
      if (this.overwrite) await rename(this.tempPath, this.target);
      else await this.linkIntoPlace();
    } catch (e) {
      await unlink(this.tempPath).catch(() => {});
      if (e instanceof IoError) throw e;
      throw new IoError('IO_ERROR', `cannot rename output into place: ${(e as Error).message}`, { file: this.target, cause: e });
    }
  }

  private async linkIntoPlace(): Promise<void> {
    try {
      await link(this.tempPath, this.target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new IoError('OUTPUT_EXISTS', 'output appeared while it was being written (use overwrite / -f to replace it)', { file: this.target, cause: e });
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS' && code !== 'EMLINK') throw e;
      if (await pathExists(this.target)) throw new IoError('OUTPUT_EXISTS', 'output appeared while it was being written (use overwrite / -f to replace it)', { file: this.target });
      await rename(this.tempPath, this.target);
      return;
    }
    await unlink(this.tempPath).catch(() => {}); // the output is in place; a leftover link is removed by the next run
  }

  /** Closes and deletes the temporary file; the target is untouched. */
  async abort(): Promise<void> {
    await this.writing?.catch(() => {});
    await this.syncing;
    await this.fh.close().catch(() => {});
    await unlink(this.tempPath).catch(() => {});
  }
}
