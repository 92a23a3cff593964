// decodeToGPU: tensors of a .wcodec container decoded straight into GPU buffers (FORMAT.md §5.3 lockstep lanes,
// §6, §7.3), with every chunk's status (its CRC-32C or, in version 4, its digest, checked on the GPU) and, where asked
// or by default below version 4, each tensor's SHA-256 checked, the tensors the kernel cannot decode decoded on the
// CPU and uploaded, and without a usable GPU the CPU decoding instead (reported).
/// <reference types="@webgpu/types" />

import type { GPUDevice } from './webgpu-types.js';
import { GpuUnavailableError } from '../errors.js';
import type { Checkpoint, TensorData, TensorInfo } from '../api/checkpoint.js';
import type { GpuDecodeOptions, GpuDecodeResult, GpuTensor } from './decode-options.js';
import { requestDecodeDevice, type DeviceResult } from './adapter.js';
import { cpuOnlyReason } from './decode-plan.js';
import { LaneLayoutError } from './chunk-status.js';
import { chooseLanes } from './lanes-dispatch.js';
import { GpuDecodeJob } from './decode-job.js';
import { checkTensorDigests } from './digest-check.js';
import { uploadCpuDecoded } from './cpu-decoded-upload.js';

/**
 * Decodes tensors of a checkpoint straight into GPU buffers. Each tensor's bytes land in one of the returned
 * buffers at a 256-byte aligned offset, exactly as the CPU path produces them. Every chunk is checked on the GPU (a
 * status word per chunk): its rANS end conditions and packed-plane padding; in versions 1-3 its CRC-32C (on the host
 * while uploading with `checkCrc: true`; not with false); in version 4 the digest of the bytes it decoded to, bound
 * to its segment and place (chunk-digest.wgsl). Each tensor's SHA-256 is checked after a readback with
 * `checkSha256: true`, and by default in versions 1-3. Its labels are checked against its file's stored safetensors
 * header before anything is decoded.
 * @param checkpoint an open container (openContainer / openCheckpoint)
 * @param names tensor names (as Checkpoint.find resolves them)
 * @param device the GPU device to decode on; undefined: request one (navigator.gpu, or Dawn in Node)
 * @returns the GPU tensors, or, when no device can be had and the fallback is allowed, the tensors decoded
 *   on the CPU with the reason (`backend: 'cpu'`)
 * @throws NOT_FOUND, AMBIGUOUS_NAME, LABEL_MISMATCH, CORRUPT_CHUNK, CHECKSUM_MISMATCH, LIMIT_EXCEEDED; GPU_UNAVAILABLE when there is no device and `allowCpuFallback` is false
 */
export async function decodeToGPU(checkpoint: Checkpoint, names: string[], device?: GPUDevice, options: GpuDecodeOptions = {}): Promise<GpuDecodeResult> {
  const infos: TensorInfo[] = [];
  for (const name of names) infos.push(await checkpoint.find(name));
  // Labels first: a tensor is never decoded, on any device, under a name, dtype or shape its file does not give it.
  for (const info of infos) await checkpoint.checkLabels(info);
  let dev = device;
  if (!dev) {
    const got: DeviceResult = options.gpu === null ? { device: undefined, reason: 'no WebGPU entry point was given (gpu: null)' } : await requestDecodeDevice('wcodec decode', options.gpu);
    if (!got.device) {
      if (options.allowCpuFallback === false) throw new GpuUnavailableError('GPU_UNAVAILABLE', `no GPU for decoding: ${got.reason}`);
      const tensors: TensorData[] = [];
      for (const info of infos) tensors.push(await checkpoint.read(info.name, { reference: options.reference, checkSha256: checksSha256(checkpoint, options) }));
      return { backend: 'cpu', reason: got.reason, tensors };
    }
    dev = got.device;
  }
  try {
    return await decodeOn(dev, checkpoint, infos, options);
  } catch (e) {
    if (!(e instanceof LaneLayoutError) || options.lanes === 'subgroup') throw e;
    return decodeOn(dev, checkpoint, infos, { ...options, lanes: 'workgroup' });
  }
}

/**
 * Decodes on the CPU the tensors the GPU kernel cannot (cpu-decoded-upload.ts) and the others on the GPU, and
 * returns them in the order of `infos`.
 */
async function decodeOn(device: GPUDevice, checkpoint: Checkpoint, infos: TensorInfo[], options: GpuDecodeOptions): Promise<GpuDecodeResult> {
  const onGpu = infos.filter((info) => !cpuOnlyReason(checkpoint.segmentOf(info)));
  if (onGpu.length === infos.length) return decodeOnGpu(device, checkpoint, infos, options);
  const t0 = performance.now();
  const uploaded = await uploadCpuDecoded(device, checkpoint, infos, { reference: options.reference, checkSha256: checksSha256(checkpoint, options) });
  const cpuMs = performance.now() - t0;
  const own = [...uploaded.values()].map((t) => t.buffer);
  if (onGpu.length === 0) {
    return { backend: 'gpu', device, tensors: infos.map((i) => uploaded.get(i)!), buffers: own, lanes: options.lanes ?? chooseLanes(device), inputBytes: 0, outputBytes: 0, timings: { setupMs: cpuMs, uploadAndDecodeMs: 0, digestMs: 0 } };
  }
  let gpu: GpuDecodeResult;
  try {
    gpu = await decodeOnGpu(device, checkpoint, onGpu, options);
  } catch (e) {
    for (const b of own) b.destroy();
    throw e;
  }
  if (gpu.backend !== 'gpu') return gpu;
  const byInfo = new Map(gpu.tensors.map((t) => [t.info, t]));
  return { ...gpu, tensors: infos.map((i) => uploaded.get(i) ?? byInfo.get(i)!), buffers: [...gpu.buffers, ...own], timings: { ...gpu.timings, setupMs: gpu.timings.setupMs + cpuMs } };
}

/** Whether the tensors' SHA-256 is checked: `checkSha256`, else `checkDigests`, else the CPU reader's default for the container's version. */
function checksSha256(checkpoint: Checkpoint, options: GpuDecodeOptions): boolean {
  return checkpoint.reader.checksSha256({ checkSha256: options.checkSha256, checkDigests: options.checkDigests });
}

/** Decodes `infos` (all decodable by the kernel) on the GPU; on failure no output buffer stays. */
async function decodeOnGpu(device: GPUDevice, checkpoint: Checkpoint, infos: TensorInfo[], options: GpuDecodeOptions): Promise<GpuDecodeResult> {
  const t0 = performance.now();
  const job = await GpuDecodeJob.create(device, checkpoint, infos, options);
  const t1 = performance.now();
  let ok = false;
  try {
    await job.uploadAndDecode(options.upload ?? 'staging', options.checkCrc ?? 'gpu');
    await job.checkStatus();
    ok = true;
  } finally {
    job.releaseInputs();
    if (!ok) for (const b of job.outputs) b.destroy();
  }
  const t2 = performance.now();
  const tensors: GpuTensor[] = job.plan.tensors.map((t, k) => ({ info: infos[k], buffer: job.outputs[t.output], offset: t.offset, byteLength: t.byteLength }));
  const sha = checksSha256(checkpoint, options);
  if (sha) {
    try {
      await checkTensorDigests(job, checkpoint.reader.source.name);
    } catch (e) {
      for (const b of job.outputs) b.destroy();
      throw e;
    }
  }
  const t3 = performance.now();
  return {
    backend: 'gpu',
    device,
    tensors,
    buffers: job.outputs,
    lanes: job.lanes,
    inputBytes: job.plan.inputBytes,
    outputBytes: job.plan.outputBytes,
    timings: { setupMs: t1 - t0, uploadAndDecodeMs: t2 - t1, digestMs: sha ? t3 - t2 : 0 },
  };
}
