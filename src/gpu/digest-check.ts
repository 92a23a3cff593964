// The SHA-256 check of tensors decoded on the GPU (FORMAT.md §7.3 items 4-5): each is read back and hashed on the host.
// decodeToGPU runs it by default in versions 1-3, whose chunk CRCs cover stored bytes, not the bytes a damaged or
// inconsistent index implies; in version 4, where each chunk's digest of its decoded bytes is checked on the GPU, only
// with `checkSha256: true`.

import { ChecksumError } from '../errors.js';
import { createSha256, sameBytes, toHex } from '../format/sha256.js';
import type { GpuDecodeJob } from './decode-job.js';

/**
 * Reads back every tensor of `job`'s plan (those `which` selects, by their place in the plan) and compares its SHA-256
 * with its segment's record.
 * @param file the container's name, for the error
 * @throws CHECKSUM_MISMATCH naming the first tensor whose bytes differ
 */
export async function checkTensorDigests(job: GpuDecodeJob, file: string, which: (k: number) => boolean = () => true): Promise<void> {
  for (const [k, t] of job.plan.tensors.entries()) {
    if (!which(k)) continue;
    const bytes = await job.readBack(t.output, t.offset, t.byteLength);
    const h = createSha256();
    h.update(bytes);
    if (!sameBytes(h.digest(), t.seg.sha256)) {
      throw new ChecksumError('CHECKSUM_MISMATCH', `tensor '${t.name}' decodes on the GPU to bytes whose SHA-256 is not the recorded ${toHex(t.seg.sha256)}`, { file });
    }
  }
}
