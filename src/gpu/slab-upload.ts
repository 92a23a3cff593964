// Uploading the compressed chunks into the input slabs of a decode plan (decode-plan.ts), slab by slab, by one of
// three methods: buffers mapped at creation, a ring of staging buffers, or queue.writeBuffer.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUDevice } from './webgpu-types.js';
import type { ByteSource } from '../io/byte-source.js';
import type { UploadMethod } from './decode-options.js';
import type { DecodePlan, UploadRun } from './decode-plan.js';
import { BUFFER_USAGE } from './adapter.js';
import { checkRunCrc, readRun } from './read-run.js';
import { StagingRing } from './staging-ring.js';

/** Bytes a staging buffer or a writeBuffer call carries: bounds the host memory an upload holds at once. */
const UPLOAD_PIECE_BYTES = 16 * 1024 * 1024;
/** Staging buffers in the ring: one being filled while the GPU copies out of the others. */
const STAGING_BUFFERS = 4;

/** `run` less its first `o` bytes, at most `len` of them, with no chunks to check (a piece of a run). */
const pieceOf = (run: UploadRun, o: number, len: number): UploadRun => ({ ...run, fileOffset: run.fileOffset + o, bytes: len, chunks: [] });

/**
 * Creates the input slabs of `plan` and uploads their runs with `method`, yielding each slab's index as soon as its
 * bytes are queued, so that the caller submits that slab's decode before the next slab is read and copied.
 * @param checkCrc check each chunk's CRC-32C on the host (the mapped upload checks the bytes it read; the others read
 *   each run again)
 * @param slabs where slab k is stored as soon as it is created, so that the caller can destroy it even on failure
 * @throws the errors of readRun (CORRUPT_CHUNK, the source's read errors); a staging buffer's map error
 */
export async function* uploadSlabs(device: GPUDevice, plan: DecodePlan, source: ByteSource, method: UploadMethod, checkCrc: boolean, slabs: GPUBuffer[]): AsyncGenerator<number> {
  const ring = method === 'staging' ? new StagingRing(device, UPLOAD_PIECE_BYTES, STAGING_BUFFERS) : undefined;
  try {
    for (let k = 0; k < plan.slabSizes.length; k++) {
      const runs = plan.runs.filter((r) => r.slab === k);
      const mapped = method === 'mapped';
      const slab = device.createBuffer({ label: `wcodec input slab ${k}`, size: plan.slabSizes[k], usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST, mappedAtCreation: mapped });
      slabs[k] = slab;
      if (mapped) {
        const view = new Uint8Array(slab.getMappedRange());
        for (const r of runs) await readRun(source, r, view.subarray(r.slabOffset, r.slabOffset + r.bytes), checkCrc);
        slab.unmap();
      } else {
        for (const r of runs) {
          for (let o = 0; o < r.bytes; o += UPLOAD_PIECE_BYTES) {
            const len = Math.min(UPLOAD_PIECE_BYTES, r.bytes - o);
            if (ring) {
              const piece = await ring.acquire();
              await readRun(source, pieceOf(r, o, len), piece.view.subarray(0, len), false);
              ring.copy(piece, slab, r.slabOffset + o, len);
            } else {
              // writeBuffer takes whole words: the piece is read into a buffer rounded up to 4 bytes.
              const piece = new Uint8Array(Math.ceil(len / 4) * 4);
              await readRun(source, pieceOf(r, o, len), piece.subarray(0, len), false);
              device.queue.writeBuffer(slab, r.slabOffset + o, piece as Uint8Array<ArrayBuffer>);
            }
          }
          if (checkCrc) await checkRunCrc(source, r);
        }
      }
      yield k;
    }
    await ring?.drain();
  } finally {
    await ring?.destroy();
  }
}
