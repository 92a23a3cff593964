// A sequence of compute dispatches recorded into one compute pass, each with a uniform parameter block of its own
// (the passes of the value transforms' GPU inverses, zero-flags-pass.ts). Dispatches of one pass run in order, each
// seeing the storage writes of those before it.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUCommandEncoder, GPUComputePipeline, GPUDevice } from './webgpu-types.js';
import { BUFFER_USAGE } from './adapter.js';
import { BINDING_ALIGN } from './decode-plan.js';
import { uploadWords } from './upload-words.js';

/** Bytes of one parameter block (eight u32); each block starts at a multiple of BINDING_ALIGN. */
const PARAM_BYTES = 32;

/** A place in a GPU buffer: `bytes` bytes at `offset` (a multiple of BINDING_ALIGN; the buffer has room for whole words). */
export interface GpuPlace {
  buffer: GPUBuffer;
  offset: number;
  bytes: number;
}

/** The binding of `place`: its whole words (at least one). */
export function placeBinding(place: GpuPlace): { buffer: GPUBuffer; offset: number; size: number } {
  return { buffer: place.buffer, offset: place.offset, size: Math.max(4, Math.ceil(place.bytes / 4) * 4) };
}

/** The recorded inverses of some value-transformed tensors: their steps, the buffers they use and the checks to run after. */
export interface InverseWork {
  steps: ComputeStep[];
  /** Scratch buffers: the caller destroys them once the steps have run and `check` has returned. */
  buffers: GPUBuffer[];
  /**
   * Reads back each tensor's check words (after the steps were submitted).
   * @throws CORRUPT_TRANSFORM as the CPU inverse reports it
   */
  check(): Promise<void>;
}

/** One dispatch: `groups` workgroups of `pipeline`, bound to `entries` and, at `paramBinding`, to its parameters. */
export interface ComputeStep {
  pipeline: GPUComputePipeline;
  entries: GPUBindGroupEntry[];
  paramBinding: number;
  /** The parameter block, given the x extent of the dispatch (kernels find their workgroup as y·groups_x + x). */
  params: (groupsX: number) => number[];
  groups: number;
  label: string;
}

/** The x and y extents of a dispatch of `groups` workgroups on `device` (x at most maxComputeWorkgroupsPerDimension). */
export function dispatchShape(device: GPUDevice, groups: number): [number, number] {
  const x = Math.max(1, Math.min(groups, device.limits.maxComputeWorkgroupsPerDimension));
  return [x, Math.ceil(groups / x)];
}

/**
 * Records `steps` in order into one compute pass of `encoder` (steps of no workgroups are skipped).
 * @returns the parameter buffer the pass reads; the caller destroys it once the pass has run
 */
export function encodeComputeSteps(device: GPUDevice, encoder: GPUCommandEncoder, label: string, steps: ComputeStep[]): GPUBuffer {
  const live = steps.filter((s) => s.groups > 0);
  const params = new Uint32Array(Math.max(PARAM_BYTES, live.length * BINDING_ALIGN) / 4);
  const shapes = live.map((s) => dispatchShape(device, s.groups));
  live.forEach((s, k) => params.set(s.params(shapes[k][0]), (k * BINDING_ALIGN) / 4));
  const paramBuffer = uploadWords(device, `${label} parameters`, params, BUFFER_USAGE.UNIFORM);
  const pass = encoder.beginComputePass({ label });
  live.forEach((s, k) => {
    pass.setPipeline(s.pipeline);
    pass.setBindGroup(0, device.createBindGroup({
      label: s.label,
      layout: s.pipeline.getBindGroupLayout(0),
      entries: [...s.entries, { binding: s.paramBinding, resource: { buffer: paramBuffer, offset: k * BINDING_ALIGN, size: PARAM_BYTES } }],
    }));
    pass.dispatchWorkgroups(shapes[k][0], shapes[k][1]);
  });
  pass.end();
  return paramBuffer;
}
