// Standard input and output for the CLI's '-': stdin spooled to a temporary file (a container's index is at its
// end, and the encoder reads an input twice), and a sink that writes to stdout with backpressure.

import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { IoError } from '../errors.js';
import type { ByteSink } from '../io/byte-source.js';

/** How stdin is named in messages and JSON. */
export const STDIN_NAME = '<stdin>';
/** How stdout is named in messages and JSON. */
export const STDOUT_NAME = '<stdout>';

/** A copy of stdin in a temporary folder of its own; remove `dir` when done. */
export interface Spool {
  dir: string;
  path: string;
}

/** Largest safetensors header length accepted by the sniff below (the reader's own limit decides later). */
const SNIFF_MAX_HEADER = 100_000_000;

/**
 * Copies stdin to a temporary file (memory stays bounded by the stream's buffers). The file is named `stdin`, or
 * `stdin.safetensors` when it starts as a safetensors file does (a u64 header length within the file, then '{'), so
 * that the encoder splits it into tensors.
 * @param onDir called with the temporary folder as soon as it exists (for removal on a signal)
 * @throws IO_ERROR
 */
export async function spoolStdin(onDir: (dir: string) => void): Promise<Spool> {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-stdin-'));
  onDir(dir);
  let path = join(dir, 'stdin');
  try {
    await pipeline(process.stdin, createWriteStream(path, { flags: 'wx' }));
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const head = new Uint8Array(9);
      const { bytesRead } = await fh.read(head, 0, 9, 0);
      const n = Number(new DataView(head.buffer).getBigUint64(0, true));
      if (bytesRead === 9 && n <= SNIFF_MAX_HEADER && 8 + n <= size && head[8] === 0x7b) {
        const named = join(dir, 'stdin.safetensors');
        await rename(path, named);
        path = named;
      }
    } finally {
      await fh.close();
    }
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw new IoError('IO_ERROR', `cannot copy standard input to a temporary file: ${(e as Error).message}`, { file: STDIN_NAME, cause: e });
  }
  return { dir, path };
}

/** Writes to stdout; each write resolves once Node has handed the bytes on, so callers may reuse their buffers. */
export class StdoutSink implements ByteSink {
  constructor() {
    // A closed pipe (`| head`) fails the pending write; without a listener the 'error' event would end the process.
    process.stdout.on('error', () => {});
  }
  async write(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    await new Promise<void>((resolve, reject) =>
      process.stdout.write(bytes, (e) => (e ? reject(new IoError('IO_ERROR', `cannot write to standard output: ${e.message}`, { file: STDOUT_NAME, cause: e })) : resolve())),
    );
  }
}
