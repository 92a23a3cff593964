// File and folder compression, decompression and random access (Node only). Outputs appear at their final path
// only when complete and verified: files via a temporary file and rename, folders via a temporary folder and rename.

import '../io/node-sha256.js';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { IoError, WcodecError } from '../errors.js';
import { ContainerReader, type DecodeOptions } from '../format/container-reader.js';
import { ContainerWriter, type EncodeOptions, type EncodeWarning } from '../format/container-writer.js';
import type { ContainerIndex } from '../format/index-codec.js';
import { AtomicFileSink, FileSource, pathExists, removeStaleTemps, tempPathFor } from '../io/file-source.js';
import type { ByteSink } from '../io/byte-source.js';
import { Checkpoint } from '../api/checkpoint.js';
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
 * @throws OUTPUT_EXISTS, IO_ERROR, LIMIT_EXCEEDED; BAD_SAFETENSORS for such a file with `strict`
 */
export async function compressFile(input: string, output: string, options: CompressFileOptions = {}): Promise<CompressResult> {
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
      const source = await FileSource.open(kind === 'folder' ? join(input, path) : input);
      try {
        await writer.addFile(path, source, path.endsWith('.safetensors'));
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
export interface DecompressFileOptions extends DecodeOptions {
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
 * @throws OUTPUT_EXISTS, IO_ERROR, and every format and checksum error
 */
export async function decompressFile(input: string, output: string, options: DecompressFileOptions = {}): Promise<ContainerIndex> {
  await refuseExisting(output, options.overwrite);
  const reader = await openReader(input);
  try {
    const { index } = reader;
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

/** Opens a container file; the file is closed again when the container is refused (a refused input must not leak its descriptor). */
async function openReader(path: string): Promise<ContainerReader> {
  const source = await FileSource.open(path);
  try {
    return await ContainerReader.open(source);
  } catch (e) {
    await source.close();
    throw e;
  }
}

/**
 * Opens a `.wcodec` file for listing and random access to single tensors.
 * @throws IO_ERROR and every format error of the header, footer and index
 */
export async function openCheckpoint(path: string): Promise<Checkpoint> {
  return new Checkpoint(await openReader(path));
}
