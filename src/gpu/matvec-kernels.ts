// The kernels of y = W·x (matvec-order.wgsl): the fused kernel (matvec-fused.wgsl, built on lean-step.wgsl), the
// product over decoded values (matvec-decoded.wgsl) and the pass that adds the partial sums (matvec-combine.wgsl),
// with their sources put together and their pipelines compiled once per device.
/// <reference types="@webgpu/types" />

import type { GPUComputePipeline, GPUDevice, GPUPipelineLayout } from './webgpu-types.js';
import { cachedPipeline, kernelSource, leanKernelSource, type LaneVariant, type LeanSpec } from './kernels.js';

/** Groups of 32 invocations (partials) per workgroup of matvec-decoded.wgsl. */
export const DECODED_PIECES_PER_WORKGROUP = 8;
/** Invocations (rows) per workgroup of matvec-combine.wgsl. */
export const COMBINE_ROWS_PER_WORKGROUP = 256;

/** The shape of the fused kernel: lane variant, groups of 32 per workgroup, chunks per group, workgroup table. */
export interface FusedShape {
  lanes: LaneVariant;
  groups: number;
  chunksPerGroup: number;
  tableWords: number;
  /** Replacement text for upper-case names of matvec-fused.wgsl (benchmarks only: MATVEC_DIGESTS = 'false'). */
  overrides: Record<string, string>;
}

/** The WGSL of the fused kernel for BF16 segments of class `lean` (two-byte values). */
export function fusedKernelSource(lean: LeanSpec, shape: FusedShape): string {
  const main = leanKernelSource('matvec-fused.wgsl', shape.lanes, 2, lean, shape.groups, shape.tableWords, { MATVEC_DIGESTS: 'true', ...shape.overrides }, shape.chunksPerGroup);
  return `${main}\n${kernelSource('matvec-order.wgsl')}\n${kernelSource('wd64.wgsl')}\n${kernelSource('lane-digest.wgsl')}`;
}

/** The WGSL of the product over decoded values. */
export function decodedKernelSource(): string {
  const main = kernelSource('matvec-decoded.wgsl').split('PIECES_PER_WORKGROUP').join(`${DECODED_PIECES_PER_WORKGROUP}u`);
  return `${main}\n${kernelSource('matvec-order.wgsl')}`;
}

const layouts = new WeakMap<GPUDevice, GPUPipelineLayout>();

/** GPUShaderStage.COMPUTE (the global is absent where no WebGPU implementation is loaded). */
const GPU_SHADER_STAGE_COMPUTE = 4;

/** The bindings of matvec-fused.wgsl as one explicit layout: input, descs, jobs, status, params, x, partials, digests. */
function fusedLayout(device: GPUDevice): GPUPipelineLayout {
  let layout = layouts.get(device);
  if (!layout) {
    const S = GPU_SHADER_STAGE_COMPUTE;
    const ro = { type: 'read-only-storage' } as const;
    const rw = { type: 'storage' } as const;
    const kinds = [ro, ro, ro, rw, { type: 'uniform' } as const, ro, rw, rw];
    const bindGroupLayout = device.createBindGroupLayout({ label: 'wcodec fused matvec bindings', entries: kinds.map((buffer, binding) => ({ binding, visibility: S, buffer })) });
    layout = device.createPipelineLayout({ label: 'wcodec fused matvec', bindGroupLayouts: [bindGroupLayout] });
    layouts.set(device, layout);
  }
  return layout;
}

/**
 * The fused kernel's pipeline for segments of class `lean` (compiled once per device and shape).
 * @throws the device's GPUPipelineError when the WGSL does not compile
 */
export function fusedPipeline(device: GPUDevice, lean: LeanSpec, shape: FusedShape): Promise<GPUComputePipeline> {
  const key = `matvec-fused-${JSON.stringify(shape)}-${JSON.stringify(lean)}`;
  return cachedPipeline(device, key, () => fusedKernelSource(lean, shape), 'matvec_chunks', fusedLayout(device));
}

/** The pipeline of the product over decoded values. @throws the device's GPUPipelineError when it does not compile */
export function decodedPipeline(device: GPUDevice): Promise<GPUComputePipeline> {
  return cachedPipeline(device, 'matvec-decoded', decodedKernelSource, 'multiply_pieces');
}

/** The pipeline that adds the partials. @throws the device's GPUPipelineError when it does not compile */
export function combinePipeline(device: GPUDevice): Promise<GPUComputePipeline> {
  return cachedPipeline(device, 'matvec-combine', () => kernelSource('matvec-combine.wgsl'), 'combine_rows');
}
