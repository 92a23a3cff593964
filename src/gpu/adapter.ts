// Finding a WebGPU device for decoding: navigator.gpu in browsers, Dawn (the optional `webgpu` npm package) in
// Node; the limits that size dispatches and buffers. Nothing here throws when there is no GPU: callers get a
// reason instead, so that the CPU fallback is reported rather than silent.
/// <reference types="@webgpu/types" />

import type { GPU, GPUAdapter, GPUAdapterInfo, GPUDevice } from './webgpu-types.js';

/** GPUBufferUsage and GPUMapMode flags (WebGPU spec values; Node's Dawn binding does not define the globals). */
export const BUFFER_USAGE = {
  MAP_READ: 0x1,
  MAP_WRITE: 0x2,
  COPY_SRC: 0x4,
  COPY_DST: 0x8,
  UNIFORM: 0x40,
  STORAGE: 0x80,
  QUERY_RESOLVE: 0x200,
} as const;
export const MAP_MODE = { READ: 0x1, WRITE: 0x2 } as const;

/** A device, or why none could be had. */
export type DeviceResult = { device: GPUDevice; adapter: GPUAdapter } | { device: undefined; reason: string };

let nodeGpu: Promise<GPU | undefined> | undefined;

/**
 * The WebGPU entry point of this environment: navigator.gpu, else (in Node) Dawn from the `webgpu` package.
 * @returns undefined when neither exists (the reason is in `gpuUnavailableReason`)
 */
export async function findGpu(): Promise<{ gpu: GPU } | { gpu: undefined; reason: string }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu };
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode) return { gpu: undefined, reason: 'this environment has no navigator.gpu (WebGPU)' };
  nodeGpu ??= (async () => {
    const spec = 'webgpu'; // a variable, so that bundlers for the browser leave this import alone
    try {
      const mod = (await import(spec)) as { create: (flags: string[]) => GPU };
      return mod.create([]);
    } catch {
      return undefined;
    }
  })();
  const gpu = await nodeGpu;
  return gpu ? { gpu } : { gpu: undefined, reason: "the optional package 'webgpu' (Dawn for Node) is not installed or does not load here" };
}

/**
 * Requests a high-performance adapter and a device with the features and limits decoding profits from:
 * subgroups and timestamp queries when offered, and the adapter's largest buffer and binding sizes.
 * @param gpu the WebGPU entry point to use (default: findGpu's)
 */
export async function requestDecodeDevice(label = 'wcodec decode', gpu?: GPU): Promise<DeviceResult> {
  const found = gpu ? { gpu } : await findGpu();
  if (!found.gpu) return { device: undefined, reason: found.reason };
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await found.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { device: undefined, reason: `requestAdapter failed: ${(e as Error).message}` };
  }
  if (!adapter) return { device: undefined, reason: 'no WebGPU adapter is available' };
  const wanted: GPUFeatureName[] = ['subgroups', 'timestamp-query'];
  const requiredFeatures = wanted.filter((f) => adapter!.features.has(f));
  const a = adapter.limits;
  try {
    const device = await adapter.requestDevice({
      label,
      requiredFeatures,
      requiredLimits: {
        maxBufferSize: a.maxBufferSize,
        maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
        maxComputeWorkgroupsPerDimension: a.maxComputeWorkgroupsPerDimension,
        maxStorageBuffersPerShaderStage: a.maxStorageBuffersPerShaderStage,
        maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
      },
    });
    return { device, adapter };
  } catch (e) {
    return { device: undefined, reason: `requestDevice failed: ${(e as Error).message}` };
  }
}

/** Subgroup sizes the adapter reports (Dawn and Chrome expose them on GPUAdapterInfo), or undefined. */
export function subgroupSizes(info: GPUAdapterInfo | undefined): { min: number; max: number } | undefined {
  const i = info as (GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number }) | undefined;
  if (!i || typeof i.subgroupMinSize !== 'number' || typeof i.subgroupMaxSize !== 'number') return undefined;
  return { min: i.subgroupMinSize, max: i.subgroupMaxSize };
}
