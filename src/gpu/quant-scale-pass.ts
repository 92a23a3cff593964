// QUANT_SCALE's inverse on the GPU (quant-scale.wgsl, prefix-scan.wgsl; FORMAT.md §3.5.3.1): the escaped codes counted
// per block of 32, the counts scanned into the index of each block's first exception, each tensor's values recomputed
// from its codes and scales (or copied from its exceptions); then the checks of the CPU inverse that need the decoded
// streams (the exceptions stream's size, a scale that is not finite), read back and reported with the CPU's code and
// message. The record's other checks come before, on the host (transform-routes.ts).
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUDevice } from './webgpu-types.js';
import { FormatError } from '../errors.js';
import { BUFFER_USAGE } from './adapter.js';
import { cachedPipeline, kernelSource } from './kernels.js';
import { BINDING_ALIGN } from './decode-plan.js';
import { placeBinding, type ComputeStep, type GpuPlace, type InverseWork } from './compute-steps.js';
import { planScanLevels, scanSteps } from './prefix-scan.js';
import { readBuffer } from './readback.js';

/** Invocations per workgroup of quant-scale.wgsl. */
const INVOCATIONS = 256;
/** Codes per invocation of quant-scale.wgsl (BLOCK). */
const BLOCK = 32;
/** Bytes of a tensor's check buffer: word 0 the first non-finite scale (as groups − g); the escape total at BINDING_ALIGN. */
const CHECK_BYTES = BINDING_ALIGN + 4;
/** quant-scale.wgsl's dtype numbers. */
const DTYPE_CODES: Readonly<Record<string, number>> = { BF16: 0, F16: 1, F32: 2 };

/** One QUANT_SCALE tensor: its decoded streams and its place, `n` values of `W` bytes of `dtype`, `G` values a scale. */
export interface QuantScaleTensor {
  name: string;
  dtype: string;
  n: number;
  W: number;
  G: number;
  codes: GpuPlace;
  scales: GpuPlace;
  exceptions: GpuPlace;
  out: GpuPlace;
  /** Where the segment lies in the container, for errors. */
  at: number;
}

/**
 * Plans the inverses of `tensors` (each with n ≥ 1 and a record the CPU inverse accepts as far as the index tells, as
 * transform-routes.ts checks).
 * @throws the device's GPUPipelineError when quant-scale.wgsl or prefix-scan.wgsl does not compile
 */
export async function quantScaleSteps(device: GPUDevice, tensors: QuantScaleTensor[], file: string): Promise<InverseWork> {
  const [count, inverse] = await Promise.all([
    cachedPipeline(device, 'quant-scale-count', () => kernelSource('quant-scale.wgsl'), 'count_escapes'),
    cachedPipeline(device, 'quant-scale-inverse', () => kernelSource('quant-scale.wgsl'), 'quant_scale_inverse'),
  ]);
  const U = BUFFER_USAGE;
  const steps: ComputeStep[] = [];
  const buffers: GPUBuffer[] = [];
  const checks: GPUBuffer[] = [];
  try {
    // An empty exceptions stream (nothing escaped) has no place to bind: a word of zeros stands in.
    let empty: GPUBuffer | undefined;
    for (const t of tensors) {
      const blocks = Math.ceil(t.n / BLOCK);
      const groups = t.n / t.G;
      const levels = planScanLevels(blocks);
      const scan = device.createBuffer({ label: `wcodec q-scale counts '${t.name}'`, size: levels.bytes, usage: U.STORAGE });
      buffers.push(scan);
      const check = device.createBuffer({ label: `wcodec q-scale check '${t.name}'`, size: CHECK_BYTES, usage: U.STORAGE | U.COPY_SRC });
      buffers.push(check);
      checks.push(check);
      if (t.exceptions.bytes === 0 && !empty) {
        empty = device.createBuffer({ label: 'wcodec q-scale empty exceptions', size: 4, usage: U.STORAGE });
        buffers.push(empty);
      }
      const exceptions = t.exceptions.bytes === 0 ? { buffer: empty!, offset: 0, size: 4 } : placeBinding(t.exceptions);
      const params = (x: number) => [t.n, t.W, DTYPE_CODES[t.dtype], t.G, groups, t.exceptions.bytes, x, 0];
      const counts = { buffer: scan, offset: 0, size: 4 * blocks };
      steps.push({
        pipeline: count,
        entries: [{ binding: 0, resource: placeBinding(t.codes) }, { binding: 1, resource: counts }, { binding: 2, resource: { buffer: check, offset: 0, size: 4 } }, { binding: 4, resource: placeBinding(t.scales) }],
        paramBinding: 3,
        params,
        groups: Math.ceil(Math.max(blocks, groups) / INVOCATIONS),
        label: `wcodec q-scale count '${t.name}'`,
      });
      steps.push(...(await scanSteps(device, scan, levels, { buffer: check, offset: BINDING_ALIGN }, `wcodec q-scale '${t.name}'`)));
      steps.push({
        pipeline: inverse,
        entries: [{ binding: 0, resource: placeBinding(t.codes) }, { binding: 1, resource: counts }, { binding: 4, resource: placeBinding(t.scales) }, { binding: 5, resource: exceptions }, { binding: 6, resource: placeBinding(t.out) }],
        paramBinding: 3,
        params,
        groups: Math.ceil(blocks / INVOCATIONS),
        label: `wcodec q-scale inverse '${t.name}'`,
      });
    }
  } catch (e) {
    for (const b of buffers) b.destroy();
    throw e;
  }
  const check = async (): Promise<void> => {
    for (const [k, t] of tensors.entries()) {
      const words = await readBuffer(device, checks[k], CHECK_BYTES, 0, CHECK_BYTES, `wcodec q-scale check '${t.name}'`);
      const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
      const bad = (problem: string): FormatError => new FormatError('CORRUPT_TRANSFORM', `q-scale: ${problem}`, { file, offset: t.at });
      // In the CPU inverse's order: the exceptions' size, then the scales group by group.
      const escapes = view.getUint32(BINDING_ALIGN, true);
      if (t.exceptions.bytes !== escapes * t.W) throw bad(`${t.exceptions.bytes} exception bytes for ${escapes} escaped values`);
      const firstBad = view.getUint32(0, true);
      if (firstBad !== 0) throw bad(`scale ${t.n / t.G - firstBad} is not finite`);
    }
  };
  return { steps, buffers, check };
}
