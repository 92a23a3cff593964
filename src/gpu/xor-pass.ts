// The XOR pass of XOR_DELTA tensors decoded on the GPU (xor-delta.wgsl; FORMAT.md §3.5.2): each tensor's place in an
// output buffer, holding the reference tensor's bytes, XORed with its decoded stream, window by window.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUCommandEncoder, GPUDevice } from './webgpu-types.js';
import { BUFFER_USAGE } from './adapter.js';
import { cachedPipeline, kernelSource } from './kernels.js';
import { BINDING_ALIGN } from './decode-plan.js';
import { uploadWords } from './upload-words.js';

/** Bytes per window: 64 MiB (at most 65 536 workgroups of 256 words), less where the device's bindings are smaller. */
const XOR_WINDOW_BYTES = 64 * 1024 * 1024;
/** Invocations per workgroup (xor-delta.wgsl INVOCATIONS); each takes one u32 word. */
const INVOCATIONS = 256;

/** One XOR: `bytes` bytes at `out`[outOffset] ^= `stream`[streamOffset] (both offsets multiples of 256). */
export interface XorDelta {
  out: GPUBuffer;
  outOffset: number;
  stream: GPUBuffer;
  streamOffset: number;
  bytes: number;
}

/**
 * Records the XOR of every delta of `deltas` into one compute pass.
 * @returns the parameter buffer the pass reads; the caller destroys it once the pass has run
 * @throws the device's GPUPipelineError when xor-delta.wgsl does not compile
 */
export async function encodeXorDeltas(device: GPUDevice, encoder: GPUCommandEncoder, deltas: XorDelta[]): Promise<GPUBuffer> {
  const pipeline = await cachedPipeline(device, 'xor-delta', () => kernelSource('xor-delta.wgsl'), 'xor_delta');
  const maxX = device.limits.maxComputeWorkgroupsPerDimension;
  const window = Math.min(XOR_WINDOW_BYTES, Math.floor(device.limits.maxStorageBufferBindingSize / BINDING_ALIGN) * BINDING_ALIGN);
  const windows: { d: XorDelta; at: number; bytes: number }[] = [];
  for (const d of deltas) for (let at = 0; at < d.bytes; at += window) windows.push({ d, at, bytes: Math.min(window, d.bytes - at) });
  // One 16-byte parameter block per window, each at a binding offset of its own.
  const params = new Uint32Array(Math.max(4, (windows.length * BINDING_ALIGN) / 4));
  const groups = windows.map((w) => Math.ceil(w.bytes / 4 / INVOCATIONS));
  windows.forEach((w, k) => params.set([w.bytes, Math.min(groups[k], maxX), 0, 0], (k * BINDING_ALIGN) / 4));
  const paramBuffer = uploadWords(device, 'wcodec XOR parameters', params, BUFFER_USAGE.UNIFORM);
  const pass = encoder.beginComputePass({ label: 'wcodec XOR delta' });
  pass.setPipeline(pipeline);
  windows.forEach((w, k) => {
    const size = Math.ceil(w.bytes / 4) * 4;
    pass.setBindGroup(0, device.createBindGroup({
      label: `wcodec XOR window ${k}`,
      layout: pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: w.d.out, offset: w.d.outOffset + w.at, size } },
        { binding: 1, resource: { buffer: w.d.stream, offset: w.d.streamOffset + w.at, size } },
        { binding: 2, resource: { buffer: paramBuffer, offset: k * BINDING_ALIGN, size: 16 } },
      ],
    }));
    const x = Math.min(groups[k], maxX);
    pass.dispatchWorkgroups(x, Math.ceil(groups[k] / x));
  });
  pass.end();
  return paramBuffer;
}
