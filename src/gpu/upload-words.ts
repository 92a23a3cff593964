// Creating a GPU buffer that holds a table of u32 words (decode tables, descriptors, jobs, dispatch parameters).
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUDevice } from './webgpu-types.js';
import { BUFFER_USAGE } from './adapter.js';

/**
 * A buffer of `usage` (plus COPY_DST) holding `data`, queued for upload. At least 16 bytes: an empty table still
 * binds, and a uniform block of four words fits.
 */
export function uploadWords(device: GPUDevice, label: string, data: Uint32Array, usage: number): GPUBuffer {
  const b = device.createBuffer({ label, size: Math.max(16, data.byteLength), usage: usage | BUFFER_USAGE.COPY_DST });
  device.queue.writeBuffer(b, 0, data as Uint32Array<ArrayBuffer>);
  return b;
}
