// The reference tensor of an XOR_DELTA decoded on the GPU (FORMAT.md §3.5.2): read from the reference checkpoint piece
// by piece, hashed, and written into the tensor's place in an output buffer, where the XOR pass adds the stream.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUDevice } from './webgpu-types.js';
import type { SegmentRecord } from '../pipeline/index-codec.js';
import type { TensorReference } from '../format/tensor-reference.js';
import { FormatError } from '../errors.js';
import { createSha256, sameBytes, toHex } from '../format/sha256.js';

/** Bytes read from the reference and queued at a time: bounds the host memory an upload holds, whatever the tensor's size. */
const REFERENCE_PIECE_BYTES = 16 * 1024 * 1024;

/**
 * Writes the bytes of the reference tensor named as `seg` into `buffer` at `offset` (a multiple of 4; the buffer has
 * room for the bytes rounded up to a whole word, which the last piece fills with zeros) and checks their SHA-256
 * against the segment's params.
 * @param at the segment's place in the container, for errors
 * @throws REFERENCE_MISMATCH when the reference tensor's SHA-256 is not the one the delta was coded against; the
 *   reference's own read errors
 */
export async function uploadReference(device: GPUDevice, reference: TensorReference, seg: SegmentRecord, buffer: GPUBuffer, offset: number, file: string, at: number): Promise<void> {
  const hash = createSha256();
  for (let o = 0; o < seg.originalBytes; o += REFERENCE_PIECE_BYTES) {
    const length = Math.min(REFERENCE_PIECE_BYTES, seg.originalBytes - o);
    const piece = await reference.readRange(seg.name, o, length);
    hash.update(piece);
    const words = length % 4 === 0 ? piece : new Uint8Array(Math.ceil(length / 4) * 4);
    if (words !== piece) words.set(piece);
    device.queue.writeBuffer(buffer, offset + o, words as Uint8Array<ArrayBuffer>, 0, words.length);
  }
  const digest = seg.transform!.params;
  if (!sameBytes(hash.digest(), digest)) {
    throw new FormatError('REFERENCE_MISMATCH', `tensor '${seg.name}' is an XOR delta against a tensor whose SHA-256 is ${toHex(digest)}; the reference ${reference.label} holds another`, { file, offset: at });
  }
}
