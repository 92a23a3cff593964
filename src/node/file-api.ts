// File and folder compression, decompression and random access (Node only), with the modes, times, links and empty
// folders of FORMAT.md §3.2. Outputs appear at their final path only when complete and verified: files via a temporary
// file and rename, folders via a temporary folder and rename. An output path ending in '/' is a folder to write into;
// default output names mirror each other (compressedName, decompressedName).

import '../io/node-sha256.js';
import { chmod, lutimes, mkdir, open, readdir, realpath, rename, rm, rmdir, stat, statfs, symlink, utimes } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { FormatError, IoError, WcodecError } from '../errors.js';
import { ContainerReader, type DecodeOptions } from '../pipeline/container-reader.js';
import type { EncodeOptions, EncodeWarning } from '../pipeline/container-writer.js';
import { FORMAT_VERSION_FLOAT_ARRAYS, FORMAT_VERSION_IDENTITY, FORMAT_VERSION_LOSSY } from '../format/constants.js';
import { displayPath, memberPathBytes, type ContainerIndex, type MemberAttributes, type MemberRecord } from '../pipeline/index-codec.js';
import { defaultFormatVersion, memberFormatOf, type RawArray } from '../pipeline/member-format.js';
import { AtomicFileSink, FileSource, pathExists, removeStaleTemps, tempPathFor } from '../io/file-source.js';
import { ReadAheadSource } from '../io/read-ahead-source.js';
import { MemorySink, MemorySource, type ByteSink, type ByteSource } from '../io/byte-source.js';
import { checkedCheckpoint, type Checkpoint } from '../api/checkpoint.js';
import { openCheckpoint as openFrom, type OpenCheckpointOptions } from '../api/open-checkpoint.js';
import { refuseLossy } from '../pipeline/lossy-segments.js';
import { checkOutputLimit, type OutputLimitOptions } from '../api/output-limit.js';
import { listFolder, microseconds, walkFolder, type FolderEntry } from './folder-walk.js';
import { kernelsFor } from '../wasm/kernels.js';
import { poolFor } from '../workers/pool.js';

/** Options for compressFile. */
export interface CompressFileOptions extends EncodeOptions {
  /** Replace an existing output (default false: an existing output is an OUTPUT_EXISTS error). */
  overwrite?: boolean;
  /** Called when a member (original file) starts. */
  onMember?: (path: string, index: number, count: number) => void;
  /** Called once the inputs are listed, before any is read: their total size in bytes and how many files. */
  onStart?: (totalBytes: number, count: number) => void;
  /** Called with the output's final path (resolved from a folder target 'DIR/') before anything is written. */
  onOutput?: (path: string) => void;
  /**
   * Store a single-file input as a raw array (FORMAT.md §4.9): one tensor of this dtype and shape, restored byte for
   * byte; the container is then version 9 unless `formatVersion` says otherwise (below 9: RangeError). A file whose size
   * is not the shape's is BAD_RAW_ARRAY; a folder input is a RangeError.
   */
  array?: RawArray;
}

/** What compressFile produced. */
export interface CompressResult {
  kind: 'file' | 'folder';
  /** The container's path (a folder target 'DIR/' resolved to 'DIR/' + compressedName(input)); '' for a sink. */
  output: string;
  originalBytes: number;
  compressedBytes: number;
  index: ContainerIndex;
  /** `.safetensors` members stored as plain bytes, and why (none with `strict`, which refuses them instead). */
  warnings: EncodeWarning[];
}

/** Size, modification time and inode of a file: what a rewrite changes. 'gone' when it cannot be read. */
async function fileStamp(path: string | Buffer): Promise<string> {
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

/** Suffix of containers: added by compressedName, removed by decompressedName. */
const CONTAINER_SUFFIX = '.wcodec';

/** The last component of a path, ignoring trailing separators ('m/' -> 'm'). */
function lastName(path: string): string {
  return basename(path.replace(/[\\/]+$/, '') || path);
}

/**
 * The container name for an input: `x.safetensors` -> `x.safetensors.wcodec`, a folder `m/` -> `m.wcodec`.
 * @param input a file or folder path; only its last component is used
 */
export function compressedName(input: string): string {
  return lastName(input) + CONTAINER_SUFFIX;
}

/**
 * The name a container is restored under: `x.safetensors.wcodec` -> `x.safetensors`, `m.wcodec` -> `m`.
 * @param container a container path; only its last component is used
 * @returns undefined when the name does not end in `.wcodec` or is nothing else
 */
export function decompressedName(container: string): string | undefined {
  const name = lastName(container);
  return name.endsWith(CONTAINER_SUFFIX) && name.length > CONTAINER_SUFFIX.length ? name.slice(0, -CONTAINER_SUFFIX.length) : undefined;
}

/** Whether `output` names a folder to write into ('DIR/'), rather than the output itself. */
export function isFolderTarget(output: string): boolean {
  return output.endsWith('/') || output.endsWith(sep);
}

/**
 * Makes sure the folder that will hold `output` exists, so that a missing one is reported under the output's own
 * name (not the temporary's). A folder target 'DIR/' is created (one level, as mkdir does) when missing.
 * @throws IO_ERROR naming `output` when its folder is missing or is not a folder
 */
async function checkOutputFolder(output: string, create: boolean): Promise<void> {
  const dir = create ? output.replace(/[\\/]+$/, '') || sep : dirname(output);
  let st;
  try {
    st = await stat(dir);
  } catch {
    if (create) {
      try {
        await mkdir(dir);
        return;
      } catch (e) {
        throw new IoError('IO_ERROR', `cannot create the output folder: ${(e as Error).message}`, { file: output, cause: e });
      }
    }
    throw new IoError('IO_ERROR', `the folder that would hold the output, '${dir}', does not exist`, { file: output });
  }
  if (!st.isDirectory()) throw new IoError('IO_ERROR', `'${dir}' is not a folder, so it cannot hold the output`, { file: output });
}

/**
 * What compressFile stores, in member order, with the attributes of each member record (FORMAT.md §3.2). With
 * `attributes` (format version 3): a folder as walkFolder finds it (files, in-folder links, empty folders; modes and
 * modification times), a file with its mode and modification time. Without: the regular files of listFolder (every
 * link followed), no attributes.
 */
async function inputEntries(input: string, kind: 'file' | 'folder', attributes: boolean): Promise<{ entry: FolderEntry; attrs: MemberAttributes }[]> {
  if (!attributes) {
    const paths = kind === 'folder' ? await listFolder(input) : [basename(input)];
    return paths.map((path) => ({ entry: { path, fsPath: Buffer.from(kind === 'folder' ? join(input, path) : input), type: 'file', mtimeUs: 0 }, attrs: {} }));
  }
  if (kind === 'folder') return (await walkFolder(input)).map((entry) => ({ entry, attrs: memberAttributesOf(entry) }));
  let st;
  try {
    st = await stat(input, { bigint: true });
  } catch (e) {
    throw new IoError('IO_ERROR', `cannot read input: ${(e as Error).message}`, { file: input, cause: e });
  }
  const entry: FolderEntry = { path: basename(input), fsPath: Buffer.from(input), type: 'file', mode: Number(st.mode & 0o7777n), mtimeUs: microseconds(st) };
  return [{ entry, attrs: memberAttributesOf(entry) }];
}

/** The member record attributes of a walked entry: its type, mode (none for a link), modification time and raw path. */
function memberAttributesOf(e: FolderEntry): MemberAttributes {
  const attrs: MemberAttributes = { type: e.type, mtimeUs: e.mtimeUs };
  if (e.mode !== undefined) attrs.mode = e.mode;
  if (e.pathBytes !== undefined) attrs.pathBytes = e.pathBytes;
  return attrs;
}

/**
 * Compresses a `.safetensors` file, any other file, or a model folder into one `.wcodec` container. A `.safetensors`
 * file that cannot be split into tensors (FORMAT.md §4.4) is stored as plain bytes and listed in `warnings`. In format
 * version 3 (the default) each file's and empty folder's mode and modification time are recorded, and a folder's
 * symbolic links that stay inside it are stored as links (others are followed); a name that would not round-trip on
 * every system (not UTF-8, `\`, `:`, a name Windows reserves) is kept and listed in `warnings`.
 * An `output` ending in '/' is a folder to write `compressedName(input)` into (created when missing, one level).
 * @throws OUTPUT_IS_INPUT, OUTPUT_EXISTS, IO_ERROR, LIMIT_EXCEEDED; BAD_SAFETENSORS for such a file with `strict`;
 *   INPUT_CHANGED for an input file written to while it was compressed
 */
export async function compressFile(input: string, output: string, options: CompressFileOptions = {}): Promise<CompressResult> {
  const target = isFolderTarget(output);
  if (target) await checkOutputFolder(output, true);
  const out = target ? join(output, compressedName(input)) : output;
  await refuseOverlap(input, out);
  if (!target) await checkOutputFolder(out, false);
  await refuseExisting(out, options.overwrite);
  const listed = await listInput(input);
  options.onOutput?.(out);
  const sink = await AtomicFileSink.create(out, { overwrite: options.overwrite === true });
  try {
    const result = await encodeInput(input, listed, sink, options);
    await sink.commit();
    return { ...result, output: out };
  } catch (e) {
    await sink.abort();
    throw e;
  }
}

/**
 * Compresses as compressFile does, writing the container to `sink` (standard output, say: the writer never seeks
 * back). The sink receives bytes before the input has been checked to the end: on an error it holds a partial
 * container, which decoders refuse.
 * @throws as compressFile, without the output checks
 */
export async function compressToSink(input: string, sink: ByteSink, options: CompressFileOptions = {}): Promise<CompressResult> {
  return { ...(await encodeInput(input, await listInput(input), sink, options)), output: '' };
}

/** The input's kind (a folder or a file). @throws IO_ERROR */
async function listInput(input: string): Promise<{ kind: 'file' | 'folder' }> {
  let st;
  try {
    st = await stat(input);
  } catch (e) {
    throw new IoError('IO_ERROR', `cannot read input: ${(e as Error).message}`, { file: input, cause: e });
  }
  const kind = st.isDirectory() ? 'folder' : 'file';
  return { kind };
}

/** Writes the container of an input of `kind` to `sink` (not committed). */
async function encodeInput(input: string, { kind }: { kind: 'file' | 'folder' }, sink: ByteSink, options: CompressFileOptions): Promise<Omit<CompressResult, 'output'>> {
  if (options.array !== undefined && kind !== 'file') throw new RangeError(`the array option applies to a single file, and ${input} is a folder`);
  const entries = await inputEntries(input, kind, (options.formatVersion ?? FORMAT_VERSION_IDENTITY) >= FORMAT_VERSION_IDENTITY);
  if (options.onStart) {
    let total = 0;
    for (const { entry } of entries) if (entry.type === 'file') total += (await stat(entry.fsPath).catch(() => ({ size: 0 }))).size;
    options.onStart(total, entries.length);
  }
  // Loaded here, not at the top: a decompressing process never loads the encoder (docs/BENCHMARKS.md, small jobs).
  const { ContainerWriter } = await import('../pipeline/container-writer.js');
  // `level: 'max'` has one version (10), which the writer picks (it holds every member layout of version 9).
  const formatVersion =
    options.level === 'max'
      ? options.formatVersion
      : options.formatVersion ??
        (options.lossy ? options.lossy.formatVersion ?? FORMAT_VERSION_LOSSY : undefined) ??
        (options.array !== undefined ? FORMAT_VERSION_FLOAT_ARRAYS : defaultFormatVersion(entries.filter(({ entry }) => entry.type === 'file').map(({ entry }) => entry.path)));
  // The writer chooses version 11 where the byte model is used unless a version, a quantizer or level max was asked for.
  const byteModel = options.byteModel ?? (options.formatVersion === undefined && !options.lossy && options.level !== 'max');
  const writer = await ContainerWriter.start(sink, kind, { ...options, formatVersion, byteModel });
  let originalBytes = 0;
  for (let k = 0; k < entries.length; k++) {
    const { entry, attrs } = entries[k];
    const path = entry.path;
    options.onMember?.(path, k, entries.length);
    if (entry.type !== 'file') {
      // A link's target (read when the folder was walked) or an empty folder: no file to read.
      await writer.addFile(path, new MemorySource(entry.target ?? new Uint8Array(0), displayPath(entry.fsPath)), false, undefined, attrs);
      continue;
    }
    const file = entry.fsPath;
    const before = await fileStamp(file);
    const source = await openWholeIfSmall(file, displayPath(file));
    try {
      try {
        await writer.addFile(path, source, options.array ?? memberFormatOf(path), undefined, attrs);
      } catch (e) {
        // A read past the end of a file that shrank, say: the change is the cause to report.
        if (!(e instanceof WcodecError && e.code === 'INPUT_CHANGED') && (await fileStamp(file)) !== before) throw inputChanged(source.name, e);
        throw e;
      }
      // The encoder reads the input twice (counts, then codes): a file rewritten meanwhile would give a container
      // whose digests describe other bytes than its chunks.
      if ((await fileStamp(file)) !== before || !before.startsWith(`${source.size}:`)) throw inputChanged(source.name);
      originalBytes += source.size;
    } finally {
      await source.close();
    }
  }
  const { index, bytes, warnings } = await writer.finish();
  return { kind, originalBytes, compressedBytes: bytes, index, warnings };
}

/** Options for decompressFile. */
export interface DecompressFileOptions extends DecodeOptions, OutputLimitOptions {
  overwrite?: boolean;
  onMember?: (path: string, index: number, count: number) => void;
  /** Called once the index is read, before anything is written: the output's total size in bytes and its file count. */
  onStart?: (totalBytes: number, count: number) => void;
  /** Called with the output's final path (resolved from a folder target 'DIR/') before anything is written. */
  onOutput?: (path: string) => void;
  /** Refuse a container that holds lossy tensors (FORMAT.md §3.5.3.5) with LOSSY_REFUSED, before anything is written. */
  losslessOnly?: boolean;
}

/** Plain sink for a file inside a temporary output folder. */
class PlainFileSink implements ByteSink {
  private constructor(private fh: Awaited<ReturnType<typeof open>>, private path: string) {}
  /** @param path the file's path as bytes (member names need not be UTF-8) */
  static async create(path: Buffer): Promise<PlainFileSink> {
    await mkdir(path.subarray(0, path.lastIndexOf(0x2f)), { recursive: true });
    return new PlainFileSink(await open(path, 'wx'), displayPath(path));
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
 * appears under its final name, with the recorded links, empty folders, permission bits (`mode & 0o777`) and
 * modification times (FORMAT.md §3.2).
 * With `overwrite`, an existing output folder is replaced only when every file in it is one the container holds
 * (a file the container did not write, such as notes kept beside a model, is OUTPUT_EXISTS naming it).
 * An `output` ending in '/' is a folder to write into: a one-file container's file goes into it under the file's
 * stored name (the folder is created when missing, one level); a folder container's files go into it directly (a
 * missing or empty folder is the output).
 * @throws OUTPUT_IS_INPUT, OUTPUT_EXISTS, IO_ERROR; LIMIT_EXCEEDED for a declared size above `maxOutputBytes`; NO_SPACE when the
 *   declared size exceeds the free space of the output's file system; LOSSY_REFUSED for a lossy container with
 *   `losslessOnly` (all before anything is written); every
 *   format and checksum error
 */
export async function decompressFile(input: string, output: string, options: DecompressFileOptions = {}): Promise<ContainerIndex> {
  // The kernels compile, and the workers of a container that is large enough for them start, while the container is
  // read and its index checked (a failure shows where they are used). Its decoded bytes are at least as many, mostly.
  kernelsFor(options.engine).catch(() => {});
  stat(input).then((st) => poolFor(options, st.size)).catch(() => {});
  if (!isFolderTarget(output)) {
    await refuseOverlap(input, output);
    await checkOutputFolder(output, false);
    await refuseExisting(output, options.overwrite);
    return decompressReader(await openReader(input, true), input, output, options);
  }
  // The output's name depends on the container's kind: its index is read first.
  const reader = await openReader(input, true);
  let out: string;
  try {
    const file = reader.index.kind === 'file';
    out = file ? join(output, basename(reader.index.members[0].path)) : output.replace(/[\\/]+$/, '') || sep;
    await refuseOverlap(input, out);
    // A folder container's files go into the folder itself: an empty folder there is taken as the output.
    if (file) await checkOutputFolder(output, true);
    else {
      await checkOutputFolder(out, false);
      await rmdir(out).catch(() => {});
    }
    await refuseExisting(out, options.overwrite);
  } catch (e) {
    await reader.close();
    throw e;
  }
  return decompressReader(reader, input, out, options);
}

/**
 * Restores the file or folder of an open container at `output` (a final path, checked by the caller), as
 * decompressFile does; closes the reader. `input` names the container in errors.
 * @throws as decompressFile
 */
async function decompressReader(reader: ContainerReader, input: string, output: string, options: DecompressFileOptions = {}): Promise<ContainerIndex> {
  try {
    const { index } = reader;
    // Sizes from the index, checked before anything is created: a small container can declare petabytes.
    const declared = index.members.reduce((a, m) => a + m.originalBytes, 0);
    checkOutputLimit(declared, options, input, 'the container');
    if (options.losslessOnly === true) refuseLossy(index, input);
    await checkFreeSpace(output, declared);
    if (options.overwrite) await refuseForeignFiles(output, index);
    options.onOutput?.(output);
    options.onStart?.(declared, index.members.length);
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
      await restoreAttributes(Buffer.from(output), index.members[0], output);
      return index;
    }
    const temp = tempPathFor(output);
    try {
      await mkdir(temp);
      await restoreMembers(reader, index, Buffer.from(temp), options);
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

/**
 * Why the OS this runs on (`platform`) would not create `name` (a member path or link target, FORMAT.md §3.2) as the
 * container means it, or undefined: on Windows `\` is a separator and `:` names a drive or a stream.
 */
export function nativeNameProblem(name: Uint8Array, platform: string = process.platform): string | undefined {
  if (platform === 'win32' && (name.includes(0x5c) || name.includes(0x3a))) return 'holds a \\ or :, which Windows reads as a separator, drive or stream';
  return undefined;
}

/**
 * Writes a folder container's members under `temp` (its bytes: names need not be UTF-8): files, then empty folders,
 * then symbolic links (created as links, never followed; after the files they may point to), then every recorded
 * mode and modification time. Refuses a name the OS would read otherwise before anything is written.
 * @throws BAD_PATH (nativeNameProblem, or a link target refused by decodeMember); every decode error; IO errors as thrown
 */
async function restoreMembers(reader: ContainerReader, index: ContainerIndex, temp: Buffer, options: DecompressFileOptions): Promise<void> {
  const at = (m: MemberRecord): Buffer => Buffer.concat([temp, Buffer.from('/'), memberPathBytes(m)]);
  for (const m of index.members) {
    const problem = nativeNameProblem(memberPathBytes(m));
    if (problem) throw new FormatError('BAD_PATH', `member path '${m.path}' ${problem}: it cannot be restored here`, { file: reader.source.name });
  }
  const links: { m: MemberRecord; target: Uint8Array }[] = [];
  for (let k = 0; k < index.members.length; k++) {
    const m = index.members[k];
    options.onMember?.(m.path, k, index.members.length);
    if (m.type === 'folder') {
      await mkdir(at(m), { recursive: true });
    } else if (m.type === 'link') {
      const sink = new MemorySink();
      await reader.decodeMember(m, sink, options); // checks the target (FORMAT.md §3.2)
      const target = sink.toBytes();
      const problem = nativeNameProblem(target);
      if (problem) throw new FormatError('BAD_PATH', `symbolic link '${m.path}': its target ${problem}`, { file: reader.source.name });
      links.push({ m, target });
    } else {
      const sink = await PlainFileSink.create(at(m));
      try {
        await reader.decodeMember(m, sink, options);
      } finally {
        await sink.close();
      }
    }
  }
  for (const { m, target } of links) {
    const path = at(m);
    await mkdir(path.subarray(0, path.lastIndexOf(0x2f)), { recursive: true });
    await symlink(Buffer.from(target), path);
  }
  // Times last: creating entries in a folder changes its time. Empty folders last of all (their mode may forbid writes).
  for (const m of index.members) if (m.type !== 'folder') await restoreAttributes(at(m), m, m.path);
  for (const m of index.members) if (m.type === 'folder') await restoreAttributes(at(m), m, m.path);
}

/**
 * Gives `path` the member's recorded permission bits and modification time (FORMAT.md §3.2). Only `mode & 0o777` is
 * restored: setuid, setgid and sticky bits from a container would let its author plant privileged programs for
 * whoever extracts it (as root, say). A link's own mode is not kept (most systems ignore it); its time is set on the
 * link itself, not followed.
 * @throws IO_ERROR
 */
async function restoreAttributes(path: Buffer, m: MemberRecord, label: string): Promise<void> {
  try {
    if (m.mode !== undefined && m.type !== 'link') await chmod(path, m.mode & 0o777);
    if (m.mtimeUs !== undefined) {
      // Seconds as a double: + 0.5 us so that the system's truncation to whole units gives back the microsecond.
      const seconds = (m.mtimeUs + 0.5) / 1e6;
      if (m.type === 'link') await lutimes(path, seconds, seconds);
      else await utimes(path, seconds, seconds);
    }
  } catch (e) {
    throw new IoError('IO_ERROR', `cannot set mode or modification time: ${(e as Error).message}`, { file: label, cause: e });
  }
}

/** Most entries named in a refusal of foreign files; the message counts the rest. */
const MAX_NAMED_FOREIGN = 5;

/**
 * Refuses to replace an existing output folder that holds anything but the container's own members (files, links,
 * empty folders) and the folders above them: overwrite replaces what the output is, and must not delete a user's
 * files. Links are not followed; names are compared as bytes.
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
  // Paths as their bytes in latin1 (one character a byte), so names that are not UTF-8 compare exactly.
  const members = new Map<string, MemberRecord['type']>();
  if (index.kind === 'folder') for (const m of index.members) members.set(Buffer.from(memberPathBytes(m)).toString('latin1'), m.type ?? 'file');
  const folders = new Set<string>();
  for (const p of members.keys()) for (let k = p.indexOf('/'); k >= 0; k = p.indexOf('/', k + 1)) folders.add(p.slice(0, k));
  const foreign: string[] = [];
  let count = 0;
  const walk = async (rel: string): Promise<void> => {
    const dir = rel === '' ? Buffer.from(output) : Buffer.concat([Buffer.from(output), Buffer.from('/'), Buffer.from(rel, 'latin1')]);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
    } catch (e) {
      throw new IoError('IO_ERROR', `cannot list the output folder: ${(e as Error).message}`, { file: output, cause: e });
    }
    for (const e of entries) {
      const r = (rel === '' ? '' : `${rel}/`) + e.name.toString('latin1');
      const type = members.get(r);
      if (e.isDirectory() && (folders.has(r) || type === 'folder')) await walk(r);
      else if (!((type === 'file' && e.isFile()) || (type === 'link' && e.isSymbolicLink()))) {
        count++;
        if (foreign.length < MAX_NAMED_FOREIGN) foreign.push(displayPath(Buffer.from(r, 'latin1')) + (e.isDirectory() ? '/' : ''));
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
async function openWholeIfSmall(path: string | Buffer, name = typeof path === 'string' ? path : displayPath(path)): Promise<ByteSource> {
  const file = await FileSource.open(path, name);
  if (file.size > WHOLE_READ_BYTES) return file;
  try {
    return new MemorySource(await file.read(0, file.size), name);
  } finally {
    await file.close();
  }
}

/** Reads of at most this many bytes go to the file while a background whole read is under way: header, footer, index. */
const EARLY_READ_BYTES = 1024 * 1024;

/**
 * A file of at most WHOLE_READ_BYTES read whole in the background from the start: reads are answered from those
 * bytes once they are in; before that, a small read (EARLY_READ_BYTES) goes to the file, so the header, footer and
 * index are read and checked while the rest arrives, and a larger one waits for the whole.
 */
class WholeFileSource implements ByteSource {
  private bytes: MemorySource | undefined;
  private readonly whole: Promise<MemorySource>;

  constructor(private readonly file: FileSource) {
    this.whole = file.read(0, file.size).then((b) => (this.bytes = new MemorySource(b, file.name)));
    this.whole.catch(() => {}); // rethrown by the read that waits for it
  }

  get name(): string {
    return this.file.name;
  }

  get size(): number {
    return this.file.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (this.bytes) return this.bytes.read(offset, length);
    if (length <= EARLY_READ_BYTES) return this.file.read(offset, length);
    return (await this.whole).read(offset, length);
  }

  async close(): Promise<void> {
    await this.whole.catch(() => {});
    await this.file.close();
  }
}

/**
 * Opens the container at `path`; `whole`: decompressing touches every byte of it, so a small one is read whole and a
 * larger one ahead of the decoder (ReadAheadSource).
 */
async function openReader(path: string, whole: boolean): Promise<ContainerReader> {
  // open(2) accepts a folder for reading; its reads would then fail with a raw EISDIR.
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new IoError('IO_ERROR', `cannot open for reading: ${(e as Error).message}`, { file: path, cause: e });
  }
  if (!st.isFile()) throw new IoError('IO_ERROR', `not a regular file (${st.isDirectory() ? 'a folder' : 'a special file'}): a container is one file`, { file: path });
  const file = await FileSource.open(path);
  // A whole decode of a larger container reads ahead of the decoder, in shared memory that workers read from.
  const source: ByteSource = !whole ? file : file.size <= WHOLE_READ_BYTES ? new WholeFileSource(file) : new ReadAheadSource(file);
  try {
    return await ContainerReader.open(source);
  } catch (e) {
    await source.close();
    throw e;
  }
}

/**
 * Opens a `.wcodec` container for listing and random access to single tensors: a file path, an http(s) URL (a string
 * starting with `http://` or `https://`, or a URL object; read with range requests), a Blob or File, or a ByteSource.
 * The listing's labels are checked against each file's stored safetensors header first (checkedCheckpoint).
 * @param options for URLs the HTTP source's (fetch, signal, retries, maxInFlight, maxRangeBytes …); for any input
 *   `onProgress`, the default progress of the checkpoint's reads and loads
 * @throws IO_ERROR (a path to a folder or other non-file), every format error of the header, footer and index,
 *   LABEL_MISMATCH; for URLs HTTP_ERROR, RANGE_UNSUPPORTED, SOURCE_CHANGED, ABORTED; TypeError for a URL that is not
 *   http(s)
 */
export async function openCheckpoint(input: string | URL | Blob | ByteSource, options: OpenCheckpointOptions = {}): Promise<Checkpoint> {
  if (typeof input === 'string' && !/^https?:\/\//i.test(input)) return checkedCheckpoint(await openReader(input, false), { onProgress: options.onProgress });
  return openFrom(input, options);
}
