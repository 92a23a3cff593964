// Copying bytes of a GPU buffer back to the host (status words, decoded tensors for their digest check).
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUDevice } from './webgpu-types.js';
import { BUFFER_USAGE, MAP_MODE } from './adapter.js';

/**
 * Copies `byteLength` bytes of `buffer` at `offset` back to the host. Copies between buffers go by whole words, so
 * the copy starts at the word holding `offset` and takes one word more than the bytes need, within the buffer.
 * @param bufferSize the size of `buffer` in bytes (a multiple of 4)
 * @param label the label of the readback buffer and its command encoder
 * @returns a copy of the bytes, owned by the caller
 */
export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, bufferSize: number, offset: number, byteLength: number, label = 'wcodec readback'): Promise<Uint8Array> {
  const size = Math.ceil(byteLength / 4) * 4;
  const start = Math.floor(offset / 4) * 4;
  const read = device.createBuffer({ label, size: Math.max(4, size + 4), usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST });
  const enc = device.createCommandEncoder({ label });
  const len = Math.min(Math.max(4, size + 4), bufferSize - start);
  enc.copyBufferToBuffer(buffer, start, read, 0, len);
  device.queue.submit([enc.finish()]);
  await read.mapAsync(MAP_MODE.READ);
  const out = new Uint8Array(read.getMappedRange(), offset - start, byteLength).slice();
  read.destroy();
  return out;
}
