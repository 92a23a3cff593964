// The tensors decodeToGPU does not decode on the GPU (transform-routes.ts: value transforms without a GPU inverse,
// FORMAT.md §3.5.3; an XOR delta without its reference tensor; a record its inverse rejects; a value-transformed tensor
// larger than a storage binding): decoded and checked on the CPU, then uploaded, each into a buffer of its own and
// reported as such.
/// <reference types="@webgpu/types" />

import type { GPUDevice } from './webgpu-types.js';
import type { Checkpoint, TensorInfo } from '../api/checkpoint.js';
import type { DecodeOptions } from '../pipeline/container-reader.js';
import type { GpuTensor } from './decode-options.js';
import { BUFFER_USAGE } from './adapter.js';

/**
 * Decodes on the CPU each tensor of `reasons` and uploads it into a buffer of its own (offset 0; the buffer's size is a
 * multiple of 4, the tensor its first byteLength bytes).
 * @param reasons the tensors, each with why the GPU does not decode it (reported in `cpuDecoded`)
 * @param options the reference checkpoint of a container with XOR deltas (FORMAT.md §3.5.2) and whether to check
 *   SHA-256 digests where the reader makes that optional (Checkpoint.read)
 * @returns the uploaded tensors by their info; on failure, none stays
 * @throws the errors of Checkpoint.read
 */
export async function uploadCpuDecoded(device: GPUDevice, checkpoint: Checkpoint, reasons: Map<TensorInfo, string>, options: Pick<DecodeOptions, 'reference' | 'checkSha256'>): Promise<Map<TensorInfo, GpuTensor>> {
  const uploaded = new Map<TensorInfo, GpuTensor>();
  try {
    for (const [info, reason] of reasons) {
      const { bytes } = await checkpoint.read(info.name, options);
      const buffer = device.createBuffer({ label: `wcodec CPU-decoded '${info.name}'`, size: Math.max(4, Math.ceil(bytes.length / 4) * 4), usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST, mappedAtCreation: true });
      new Uint8Array(buffer.getMappedRange()).set(bytes);
      buffer.unmap();
      uploaded.set(info, { info, buffer, offset: 0, byteLength: bytes.length, cpuDecoded: `${reason}: decoded on the CPU and uploaded` });
    }
  } catch (e) {
    for (const t of uploaded.values()) t.buffer.destroy();
    throw e;
  }
  return uploaded;
}
