// Reading an upload run (consecutive chunks of the container, decode-plan.ts) from its byte source, with each
// chunk's CRC-32C checked on the host when asked (FORMAT.md §7.1): the checkCrc: true path of decodeToGPU.

import { ChecksumError } from '../errors.js';
import { crc32c } from '../format/crc32c.js';
import type { ByteSource } from '../io/byte-source.js';
import type { UploadRun } from './decode-plan.js';

/**
 * Reads the bytes of `run` from `source` into `target` (straight from a file when the source can).
 * @param target exactly `run.bytes` long
 * @param checkCrc check the CRC-32C of each chunk of `run.chunks` against its record
 * @throws CORRUPT_CHUNK (a ChecksumError) at the first chunk whose CRC-32C differs; the source's read errors
 */
export async function readRun(source: ByteSource, run: UploadRun, target: Uint8Array, checkCrc: boolean): Promise<void> {
  const src = source as ByteSource & { readInto?: (offset: number, target: Uint8Array) => Promise<void> };
  if (src.readInto) await src.readInto(run.fileOffset, target);
  else target.set(await src.read(run.fileOffset, run.bytes));
  if (checkCrc) {
    for (const c of run.chunks) {
      const at = c.fileOffset - run.fileOffset;
      if (crc32c(target.subarray(at, at + c.bytes)) !== c.crc32c) {
        throw new ChecksumError('CORRUPT_CHUNK', `a chunk of ${c.bytes} bytes fails its CRC-32C`, { file: source.name, offset: c.fileOffset });
      }
    }
  }
}

/**
 * Checks the CRC-32C of the chunks of `run` by reading it again from `source` (the write-buffer and staging uploads
 * do not keep the bytes they upload).
 * @throws as readRun
 */
export async function checkRunCrc(source: ByteSource, run: UploadRun): Promise<void> {
  await readRun(source, run, new Uint8Array(run.bytes), true);
}
