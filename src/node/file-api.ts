// File and folder compression, decompression and random access (Node only). Outputs appear at their final path
// only when complete and verified: files via a temporary file and rename, folders via a temporary folder and rename.

import '../io/node-sha256.js';
import { mkdir, open, readdir, realpath, rename, rm, stat, statfs } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { IoError, WcodecError } from '../errors.js';
import { ContainerReader, type DecodeOptions } from '../format/container-reader.js';
import { ContainerWriter, type EncodeOptions, type EncodeWarning } from '../format/container-writer.js';
import type { ContainerIndex } from '../format/index-codec.js';
import { AtomicFileSink, FileSource, pathExists, removeStaleTemps, tempPathFor } from '../io/file-source.js';
import { MemorySource, type ByteSink, type ByteSource } from '../io/byte-source.js';
import { Checkpoint } from '../api/checkpoint.js';
import { checkOutputLimit, type OutputLimitOptions } from '../api/output-limit.js';
import { listFolder } from './folder-walk.js';

/** Options for compressFile. */
export interface CompressFileOptions extends EncodeOptions {
  /** Replace an existing output (default false: an existing output is an OUTPUT_EXISTS error). */
  overwrite?: boolean;
  /** Called when a member (original file) starts. */
  onMember?: (path: string, index: number, count: number) => void;
}

/** What compressFile produced. */
export interface CompressResult {
  kind: 'file' | 'folder';
  originalBytes: number;
  compressedBytes: number;
  index: ContainerIndex;
  /** `.safetensors` members stored as plain bytes, and why (none with `strict`, which refuses them instead). */
  warnings: EncodeWarning[];
}

/** Size, modification time and inode of a file: what a rewrite changes. 'gone' when it cannot be read. */
async function fileStamp(path: string): Promise<string> {
  try {
    const st = await stat(path, { bigint: true });
    return `${st.size}:${st.mtimeNs}:${st.ino}`;
  } catch {
    return 'gone';
  }
}

function inputChanged(file: string, cause?: unknown): IoError {
  return new IoError('INPUT_CHANGED', 'the input changed while it was being compressed (size, modification time or inode differ between the passes)', { file, cause });
}

/**
 * Refuses an output that is the input (by path or by inode), lies inside the input folder, or is a folder that holds
 * the input: writing it would overwrite the input, or make a container of itself that grows with every run.
 * @throws OUTPUT_IS_INPUT
 */
async function refuseOverlap(input: string, output: string): Promise<void> {
  let inReal: string;
  let inId: string;
  try {
    inReal = await realpath(input);
    const st = await stat(inReal);
    inId = `${st.dev}:${st.ino}`;
  } catch {
    return; // an unreadable input is reported when it is opened
  }
  let outReal: string;
  let outId: string | undefined;
  try {
    outReal = await realpath(output);
    const st = await stat(outReal);
    outId = `${st.dev}:${st.ino}`;
  } catch {
    try {
      outReal = join(await realpath(dirname(output)), basename(output));
    } catch {
      return; // no folder to write into: reported when the output is created
    }
  }
  const inside = (path: string, folder: string): boolean => path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
  const problem =
    outReal === inReal || outId === inId ? 'the output is the input'
    : inside(outReal, inReal) ? 'the output lies inside the input folder'
    : inside(inReal, outReal) ? 'the output is a folder that holds the input'
    : undefined;
  if (problem) throw new IoError('OUTPUT_IS_INPUT', `${problem} (${inReal}): choose an output outside it`, { file: output });
}

/** Refuses an existing output unless `overwrite`, and removes what killed runs for the same output left beside it. */
async function refuseExisting(output: string, overwrite: boolean | undefined): Promise<void> {
  if (!overwrite && (await pathExists(output))) {
    throw new IoError('OUTPUT_EXISTS', 'output exists (use overwrite / -f to replace it)', { file: output });
  }
  await removeStaleTemps(output);
}

/**
 * Compresses a `.safetensors` file, any other file, or a model folder into one `.wcodec` container. A `.safetensors`
 * file that cannot be split into tensors (FORMAT.md §4.4) is stored as plain bytes and listed in `warnings`.
 * @throws OUTPUT_IS_INPUT, OUTPUT_EXISTS, IO_ERROR, LIMIT_EXCEEDED; BAD_SAFETENSORS for such a file with `strict`;
 *   INPUT_CHANGED for an input file written to while it was compressed
 */
export async function compressFile(input: string, output: string, options: CompressFileOptions = {}): Promise<CompressResult> {
  await refuseOverlap(input, output);
  await refuseExisting(output, options.overwrite);
  let st;
  try {
    st = await stat(input);
  } catch (e) {
    throw new IoError('IO_ERROR', `cannot read input: ${(e as Error).message}`, { file: input, cause: e });
  }
  const kind = st.isDirectory() ? 'folder' : 'file';
  const files = kind === 'folder' ? await listFolder(input) : [basename(input)];
  const sink = await AtomicFileSink.create(output, { overwrite: options.overwrite === true });
  try {
    const writer = await ContainerWriter.start(sink, kind, options);
    let originalBytes = 0;
    for (let k = 0; k < files.length; k++) {
      const path = files[k];
      options.onMember?.(path, k, files.length);
      const file = kind === 'folder' ? join(input, path) : input;
      const before = await fileStamp(file);
      const source = await openWholeIfSmall(file);
      try {
        try {
          await writer.addFile(path, source, path.endsWith('.safetensors'));
        } catch (e) {
          // A read past the end of a file that shrank, say: the change is the cause to report.
          if (!(e instanceof WcodecError && e.code === 'INPUT_CHANGED') && (await fileStamp(file)) !== before) throw inputChanged(file, e);
          throw e;
        }
        // The encoder reads the input twice (counts, then codes): a file rewritten meanwhile would give a container
        // whose digests describe other bytes than its chunks.
        if ((await fileStamp(file)) !== before || !before.startsWith(`${source.size}:`)) throw inputChanged(file);
        originalBytes += source.size;
      } finally {
        await source.close();
      }
    }
    const { index, bytes, warnings } = await writer.finish();
    await sink.commit();
    return { kind, originalBytes, compressedBytes: bytes, index, warnings };
  } catch (e) {
    await sink.abort();
    throw e;
  }
}

/** Options for decompressFile. */
export interface DecompressFileOptions extends DecodeOptions, OutputLimitOptions {
  overwrite?: boolean;
  onMember?: (path: string, index: number, count: number) => void;
}

/** Plain sink for a file inside a temporary output folder. */
class PlainFileSink implements ByteSink {
  private constructor(private fh: Awaited<ReturnType<typeof open>>, private path: string) {}
  static async create(path: string): Promise<PlainFileSink> {
    await mkdir(dirname(path), { recursive: true });
    return new PlainFileSink(await open(path, 'wx'), path);
  }
  async write(bytes: Uint8Array): Promise<void> {
    try {
      let done = 0;
      while (done < bytes.length) done += (await this.fh.write(bytes, done, bytes.length - done)).bytesWritten;
    } catch (e) {
      throw new IoError('IO_ERROR', `write failed: ${(e as Error).message}`, { file: this.path, cause: e });
    }
  }
  async close(): Promise<void> {
    await this.fh.close();
  }
}

/**
 * Restores the original file or folder from a container, checking every checksum before the output
 * appears under its final name.
 * With `overwrite`, an existing output folder is replaced only when every file in it is one the container holds
 * (a file the container did not write, such as notes kept beside a model, is OUTPUT_EXISTS naming it).
 * @throws OUTPUT_IS_INPUT, OUTPUT_EXISTS, IO_ERROR; LIMIT_EXCEEDED for a declared size above `maxOutputBytes`; NO_SPACE when the
 *   declared size exceeds the free space of the output's file system (both before anything is written); every
 *   format and checksum error
 */
export async function decompressFile(input: string, output: string, options: DecompressFileOptions = {}): Promise<ContainerIndex> {
  await refuseOverlap(input, output);
  await refuseExisting(output, options.overwrite);
  const reader = await openReader(input, true);
  try {
    const { index } = reader;
    // Sizes from the index, checked before anything is created: a small container can declare petabytes.
    const declared = index.members.reduce((a, m) => a + m.originalBytes, 0);
    checkOutputLimit(declared, options, input, 'the container');
    await checkFreeSpace(output, declared);
    if (options.overwrite) await refuseForeignFiles(output, index);
    if (index.kind === 'file') {
      const sink = await AtomicFileSink.create(output, { overwrite: options.overwrite === true });
      try {
        options.onMember?.(index.members[0].path, 0, 1);
        await reader.decodeMember(index.members[0], sink, options);
        await sink.commit();
      } catch (e) {
        await sink.abort();
        throw e;
      }
      return index;
    }
    const temp = tempPathFor(output);
    try {
      await mkdir(temp);
      for (let k = 0; k < index.members.length; k++) {
        const m = index.members[k];
        options.onMember?.(m.path, k, index.members.length);
        const sink = await PlainFileSink.create(join(temp, ...m.path.split('/')));
        try {
          await reader.decodeMember(m, sink, options);
        } finally {
          await sink.close();
        }
      }
      if (await pathExists(output)) {
        // Checked again here: the output may have appeared while the members were decoded.
        if (!options.overwrite) throw new IoError('OUTPUT_EXISTS', 'output appeared while it was being written (use overwrite / -f to replace it)', { file: output });
        // Checked again: files may have been added while the members were decoded.
        await refuseForeignFiles(output, index);
        // Move the old output aside, put the new one in place, then delete the old.
        const old = tempPathFor(output);
        await rename(output, old);
        await rename(temp, output);
        await rm(old, { recursive: true, force: true });
      } else await rename(temp, output);
    } catch (e) {
      await rm(temp, { recursive: true, force: true });
      throw e instanceof WcodecError ? e : new IoError('IO_ERROR', (e as Error).message, { file: output, cause: e });
    }
    return index;
  } finally {
    await reader.close();
  }
}

/** Most entries named in a refusal of foreign files; the message counts the rest. */
const MAX_NAMED_FOREIGN = 5;

/**
 * Refuses to replace an existing output folder that holds anything but the container's own members and the folders
 * above them: overwrite replaces what the output is, and must not delete a user's files. Links are not followed
 * (a link is itself foreign: the container writes only regular files).
 * @throws OUTPUT_EXISTS naming the first foreign entries
 */
async function refuseForeignFiles(output: string, index: ContainerIndex): Promise<void> {
  let st;
  try {
    st = await stat(output);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  const files = new Set(index.kind === 'folder' ? index.members.map((m) => m.path) : []);
  const folders = new Set<string>();
  for (const p of files) for (let k = p.indexOf('/'); k >= 0; k = p.indexOf('/', k + 1)) folders.add(p.slice(0, k));
  const foreign: string[] = [];
  let count = 0;
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(rel === '' ? output : join(output, ...rel.split('/')), { withFileTypes: true });
    } catch (e) {
      throw new IoError('IO_ERROR', `cannot list the output folder: ${(e as Error).message}`, { file: output, cause: e });
    }
    for (const e of entries) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory() && folders.has(r)) await walk(r);
      else if (!(e.isFile() && files.has(r))) {
        count++;
        if (foreign.length < MAX_NAMED_FOREIGN) foreign.push(r + (e.isDirectory() ? '/' : ''));
      }
    }
  };
  await walk('');
  if (count > 0) {
    const more = count > foreign.length ? ` and ${count - foreign.length} more` : '';
    throw new IoError(
      'OUTPUT_EXISTS',
      `the output folder holds ${count} entr${count === 1 ? 'y' : 'ies'} the container does not (${foreign.map((f) => `'${f}'`).join(', ')}${more}); overwrite / -f replaces only the container's own files: move the others away or choose another output`,
      { file: output },
    );
  }
}

/**
 * Refuses `declared` bytes of output that the file system holding `output` has no room for, before anything is
 * written. File systems that cannot report their free space pass (writes then fail with IO_ERROR when it runs out).
 * @throws NO_SPACE
 */
async function checkFreeSpace(output: string, declared: number): Promise<void> {
  let free: number;
  try {
    const fs = await statfs(dirname(output));
    free = fs.bavail * fs.bsize;
  } catch {
    return;
  }
  if (declared > free) {
    throw new IoError('NO_SPACE', `the output needs ${declared} bytes, and its file system has ${free} bytes free`, { file: output });
  }
}

/** Opens a container file; the file is closed again when the container is refused (a refused input must not leak its descriptor). */
/**
 * Files up to this size are read whole, in one read, and coded from memory: a model of hundreds of small tensors
 * otherwise costs a read (a thread-pool round trip) per tensor or chunk span, ~0.1 s for 412 tensors on 2 cores.
 * The bound keeps memory within the streaming paths' budget (docs/BENCHMARKS.md, memory).
 */
const WHOLE_READ_BYTES = 64 * 2 ** 20;

/**
 * A source over the file at `path`: its bytes in memory when it has at most WHOLE_READ_BYTES, else the open file.
 * @throws IO_ERROR; TRUNCATED when the file shrinks while read
 */
async function openWholeIfSmall(path: string): Promise<ByteSource> {
  const file = await FileSource.open(path);
  if (file.size > WHOLE_READ_BYTES) return file;
  try {
    return new MemorySource(await file.read(0, file.size), path);
  } finally {
    await file.close();
  }
}

/** Opens the container at `path`; `whole`: read a small one whole (decompressing touches every byte of it). */
async function openReader(path: string, whole: boolean): Promise<ContainerReader> {
  // open(2) accepts a folder for reading; its reads would then fail with a raw EISDIR.
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new IoError('IO_ERROR', `cannot open for reading: ${(e as Error).message}`, { file: path, cause: e });
  }
  if (!st.isFile()) throw new IoError('IO_ERROR', `not a regular file (${st.isDirectory() ? 'a folder' : 'a special file'}): a container is one file`, { file: path });
  const source = whole ? await openWholeIfSmall(path) : await FileSource.open(path);
  try {
    return await ContainerReader.open(source);
  } catch (e) {
    await source.close();
    throw e;
  }
}

/**
 * Opens a `.wcodec` file for listing and random access to single tensors.
 * @throws IO_ERROR (also for a folder or other non-file) and every format error of the header, footer and index
 */
export async function openCheckpoint(path: string): Promise<Checkpoint> {
  return new Checkpoint(await openReader(path, false));
}
