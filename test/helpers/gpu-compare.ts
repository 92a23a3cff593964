// Comparing GPU decoding with the CPU reader in the GPU tests: streams placed in GPU buffers as a decode leaves them, a
// tensor's bytes read back from its buffer, a decode's tensors compared byte for byte with Checkpoint.read, and the
// error a decode fails with.
/// <reference types="@webgpu/types" />

import assert from 'node:assert/strict';
import type { Checkpoint } from '../../src/api/checkpoint.js';
import { BUFFER_USAGE, MAP_MODE } from '../../src/gpu/adapter.js';
import { decodeToGPU } from '../../src/gpu/decode.js';
import type { GpuDecodeOptions } from '../../src/gpu/decode-options.js';
import { WcodecError } from '../../src/errors.js';
import type { GpuPlace } from '../../src/gpu/compute-steps.js';

/**
 * A buffer holding `bytes` at offset 256 (a stream's place in a decode's output, as the GPU inverses find it), the rest
 * of its words zero.
 */
export function placed(d: GPUDevice, bytes: Uint8Array): GpuPlace {
  const buffer = d.createBuffer({ size: 256 + Math.max(4, Math.ceil(bytes.length / 4) * 4), usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_DST | BUFFER_USAGE.COPY_SRC });
  const words = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  words.set(bytes);
  if (words.length > 0) d.queue.writeBuffer(buffer, 256, words);
  return { buffer, offset: 256, bytes: bytes.length };
}

/** `length` bytes of `buffer` at `offset`, copied back to the host. */
export async function readBack(d: GPUDevice, buffer: GPUBuffer, offset: number, length: number): Promise<Uint8Array> {
  const size = Math.ceil(length / 4) * 4;
  const staging = d.createBuffer({ size: Math.max(4, size), usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST });
  const enc = d.createCommandEncoder();
  if (size > 0) enc.copyBufferToBuffer(buffer, offset, staging, 0, size);
  d.queue.submit([enc.finish()]);
  await staging.mapAsync(MAP_MODE.READ);
  const out = new Uint8Array(staging.getMappedRange()).slice(0, length);
  staging.unmap();
  staging.destroy();
  return out;
}

/**
 * decodeToGPU of `names` on `d`, each tensor read back and compared with the CPU decode (with the same reference, its
 * SHA-256 checked); returns the result's cpuDecoded notes, in the order of `names`.
 */
export async function sameAsCpu(d: GPUDevice, cp: Checkpoint, names: string[], options: GpuDecodeOptions, what: string): Promise<(string | undefined)[]> {
  const res = await decodeToGPU(cp, names, d, options);
  assert.equal(res.backend, 'gpu');
  if (res.backend !== 'gpu') return [];
  try {
    assert.deepEqual(res.tensors.map((x) => x.info.name), names);
    for (const g of res.tensors) {
      const gpu = await readBack(d, g.buffer, g.offset, g.byteLength);
      const cpu = (await cp.read(g.info.name, { reference: options.reference })).bytes;
      assert.ok(Buffer.compare(gpu, cpu) === 0, `${what}: tensor '${g.info.name}' differs from the CPU decode`);
    }
    return res.tensors.map((x) => x.cpuDecoded);
  } finally {
    for (const b of res.buffers) b.destroy();
  }
}

/** The error code `p` fails with ('none' when it succeeds; a GPU result's buffers are then destroyed). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    const r = await p;
    if (r && typeof r === 'object' && 'buffers' in r) for (const b of (r as { buffers: GPUBuffer[] }).buffers) b.destroy();
    return 'none';
  } catch (e) {
    assert.ok(e instanceof WcodecError, `not a WcodecError: ${e}`);
    return e.code;
  }
}

/** The error `p` fails with (undefined when it succeeds; a GPU result's buffers are then destroyed). */
export async function errorOf(p: Promise<unknown>): Promise<WcodecError | undefined> {
  try {
    const r = await p;
    if (r && typeof r === 'object' && 'buffers' in r) for (const b of (r as { buffers: GPUBuffer[] }).buffers) b.destroy();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof WcodecError, `not a WcodecError: ${e}`);
    return e;
  }
}
