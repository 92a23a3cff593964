// Comparing GPU decoding with the CPU reader in the GPU tests: streams placed in GPU buffers as a decode leaves them and
// a GPU inverse run into a poisoned place; a tensor's bytes read back from its buffer; every tensor of a container
// decoded into poisoned outputs, or through decodeToGPU, compared byte for byte with Checkpoint.read; the error a
// decode fails with.
/// <reference types="@webgpu/types" />

import assert from 'node:assert/strict';
import type { Checkpoint } from '../../src/api/checkpoint.js';
import { BUFFER_USAGE, MAP_MODE } from '../../src/gpu/adapter.js';
import { decodeToGPU } from '../../src/gpu/decode.js';
import { WcodecError } from '../../src/errors.js';
import { encodeComputeSteps, type GpuPlace, type InverseWork } from '../../src/gpu/compute-steps.js';
import { GpuDecodeJob } from '../../src/gpu/decode-job.js';
import type { GpuDecodeOptions, UploadMethod } from '../../src/gpu/decode-options.js';
import { readBuffer } from '../../src/gpu/readback.js';

/** The byte GPU outputs are filled with before a decode, so that unwritten bytes show. */
export const POISON = 0xa5;

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

/**
 * Runs the GPU inverse that `build` records for an output place of `outBytes` bytes at offset 256 of a poisoned buffer
 * (256 bytes of poison before it, at least 256 after), then destroys `inputs`, the work's buffers and the output.
 * @returns the output buffer's bytes, or the WcodecError the work's check throws
 */
export async function runPoisoned(d: GPUDevice, outBytes: number, inputs: GpuPlace[], build: (out: GpuPlace) => Promise<InverseWork>, label: string): Promise<Uint8Array | WcodecError> {
  const span = 512 + Math.ceil(outBytes / 256) * 256;
  const out = d.createBuffer({ size: span, usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST });
  d.queue.writeBuffer(out, 0, new Uint8Array(span).fill(POISON));
  let work: InverseWork | undefined;
  let params: GPUBuffer | undefined;
  try {
    work = await build({ buffer: out, offset: 256, bytes: outBytes });
    const enc = d.createCommandEncoder();
    params = encodeComputeSteps(d, enc, label, work.steps);
    d.queue.submit([enc.finish()]);
    await work.check();
    return await readBuffer(d, out, span, 0, span);
  } catch (e) {
    if (e instanceof WcodecError) return e;
    throw e;
  } finally {
    params?.destroy();
    for (const b of [...(work?.buffers ?? []), ...inputs.map((p) => p.buffer), out]) b.destroy();
  }
}

/**
 * Decodes every tensor of `cp` with a GpuDecodeJob into output buffers poisoned first, compares each tensor with
 * Checkpoint.read, and checks that the bytes outside every tensor (alignment padding) are still poison.
 */
export async function decodeAllPoisoned(d: GPUDevice, cp: Checkpoint, what: string, options: GpuDecodeOptions, upload: UploadMethod, checkCrc: boolean | 'gpu'): Promise<void> {
  const job = await GpuDecodeJob.create(d, cp, cp.tensors, options);
  try {
    for (const b of job.outputs) d.queue.writeBuffer(b, 0, new Uint8Array(b.size).fill(POISON));
    await job.uploadAndDecode(upload, checkCrc);
    await job.checkStatus();
    for (let k = 0; k < job.plan.outputSizes.length; k++) {
      const all = await job.readBack(k, 0, job.plan.outputSizes[k]);
      const covered = new Uint8Array(all.length);
      for (const t of job.plan.tensors) {
        if (t.output !== k) continue;
        const cpu = (await cp.read(t.name)).bytes;
        const gpu = all.subarray(t.offset, t.offset + t.byteLength);
        if (Buffer.compare(Buffer.from(cpu), Buffer.from(gpu)) !== 0) {
          let at = 0;
          while (cpu[at] === gpu[at]) at++;
          assert.fail(`${what}: tensor '${t.name}' (${t.seg.dtype}, ${t.byteLength} bytes) differs from the CPU at byte ${at}: gpu ${gpu[at]} cpu ${cpu[at]}`);
        }
        covered.fill(1, t.offset, t.offset + t.byteLength);
      }
      for (let i = 0; i < all.length; i++) {
        if (!covered[i] && all[i] !== POISON) assert.fail(`${what}: byte ${i} of output ${k} outside every tensor was written`);
      }
    }
  } finally {
    job.releaseInputs();
    for (const b of job.outputs) b.destroy();
  }
}
