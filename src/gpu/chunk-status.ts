// The per-chunk status words of a GPU decode (FORMAT.md §5.3, §5.4, §7.3): decode.wgsl, huffman.wgsl, crc32c.wgsl and chunk-digest.wgsl
// OR their bits into one u32 per chunk, and the host accepts a chunk only when its word is exactly STATUS_DONE.

import { ChecksumError, makeError } from '../errors.js';
import type { ChunkOrigin } from './decode-plan.js';

/** Status bit of decode.wgsl: the chunk was decoded (set last, by lane 0). */
export const STATUS_DONE = 1;
/** Status bits of decode.wgsl for a chunk whose rANS end conditions or raw planes fail, with what each means. */
const STATUS_PROBLEMS: [number, string][] = [
  [2, 'a lane starts in a state below 2^16'],
  [4, 'the rANS stream ends before the last symbol'],
  [8, 'rANS words are left unread'],
  [16, 'a lane does not end in state 2^16'],
  [128, 'the unused high bits of a packed raw plane are not zero'],
  [512, 'a Huffman block fails its checks (stream sizes, code bits, padding, or where the blocks end)'],
];
/** Status bit of decode.wgsl: the subgroup is not 32 consecutive invocations (the kernel's lanes are unusable). */
const STATUS_LANE_LAYOUT = 32;
/** Status bit of crc32c.wgsl: the chunk's CRC-32C differs from its record. */
export const STATUS_CRC = 64;
/** Status bit of chunk-digest.wgsl: the chunk's decoded bytes have another WD64 than its record gives (version 4). */
export const STATUS_DIGEST = 256;

/** Status bit of huffman.wgsl: a Huffman block of the chunk fails a check of FORMAT.md §5.4. */
export const STATUS_HUFFMAN = 512;

/** The adapter's subgroups are not 32 consecutive invocations: decodeToGPU retries with the workgroup variant. */
export class LaneLayoutError extends RangeError {}

/**
 * Checks the status word of every chunk, in chunk order. A chunk that failed to decode is reported as such
 * (CORRUPT_CHUNK) even when its digest differs too, as the CPU reader reports it.
 * @param status one word per chunk, indexed as `origins`
 * @param origins where each chunk came from, for the error
 * @param file the container's name, for the error
 * @throws CORRUPT_CHUNK (a ChecksumError for a CRC mismatch) naming the first chunk whose word is not STATUS_DONE;
 *   CHECKSUM_MISMATCH (a ChecksumError) at the offset of the first chunk that decoded to bytes whose digest differs;
 *   LaneLayoutError when the kernel found its lanes laid out otherwise than it needs
 */
export function checkChunkStatus(status: Uint32Array, origins: ChunkOrigin[], file: string): void {
  for (let k = 0; k < origins.length; k++) {
    const s = status[k];
    if (s === STATUS_DONE) continue;
    const o = origins[k];
    if (s & STATUS_CRC) {
      throw new ChecksumError('CORRUPT_CHUNK', `chunk ${o.chunk} of tensor '${o.tensor}' fails its CRC-32C (checked on the GPU)`, { file, offset: o.fileOffset });
    }
    if (s & STATUS_LANE_LAYOUT) throw new LaneLayoutError(`the adapter's subgroups are not laid out as 32 consecutive invocations (chunk ${o.chunk} of '${o.tensor}')`);
    if (s === (STATUS_DONE | STATUS_DIGEST)) {
      throw new ChecksumError('CHECKSUM_MISMATCH', `chunk ${o.chunk} of tensor '${o.tensor}' decodes on the GPU to bytes whose chunk digest is not the one its record gives`, { file, offset: o.fileOffset });
    }
    const problems = STATUS_PROBLEMS.filter(([bit]) => s & bit).map(([, text]) => text);
    const what = (s & STATUS_DONE) === 0 ? 'was not decoded' : problems.join('; ');
    throw makeError('CORRUPT_CHUNK', `chunk ${o.chunk} of tensor '${o.tensor}' on the GPU: ${what} (status ${s})`, { file, offset: o.fileOffset });
  }
}
