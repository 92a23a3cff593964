// The SHA-256 check of tensors decoded on the GPU (FORMAT.md §7.3): each is read back and hashed on the host, since
// a chunk's own checks do not cover the bytes that a damaged or inconsistent index implies.

import { ChecksumError } from '../errors.js';
import { createSha256, sameBytes, toHex } from '../format/sha256.js';
import type { GpuDecodeJob } from './decode-job.js';

/**
 * Reads back every tensor of `job`'s plan and compares its SHA-256 with its segment's record.
 * @param file the container's name, for the error
 * @throws CHECKSUM_MISMATCH naming the first tensor whose bytes differ
 */
export async function checkTensorDigests(job: GpuDecodeJob, file: string): Promise<void> {
  for (const t of job.plan.tensors) {
    const bytes = await job.readBack(t.output, t.offset, t.byteLength);
    const h = createSha256();
    h.update(bytes);
    if (!sameBytes(h.digest(), t.seg.sha256)) {
      throw new ChecksumError('CHECKSUM_MISMATCH', `tensor '${t.name}' decodes on the GPU to bytes whose SHA-256 is not the recorded ${toHex(t.seg.sha256)}`, { file });
    }
  }
}
