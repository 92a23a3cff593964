// The steps of an exclusive prefix scan of u32 counts on the GPU (prefix-scan.wgsl): the counts scanned block by block,
// the block sums scanned the same way, level by level, until one block remains, then each level's scanned block sums
// added back into the level below.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUDevice } from './webgpu-types.js';
import { cachedPipeline, kernelSource } from './kernels.js';
import { BINDING_ALIGN } from './decode-plan.js';
import type { ComputeStep } from './compute-steps.js';

/** Counts per workgroup block (prefix-scan.wgsl BLOCK). */
const SCAN_BLOCK = 1024;

/** Where the levels of a scan of `count` counts lie in one buffer: level 0 the counts, level l + 1 the block sums of level l. */
export interface ScanLevels {
  /** Counts of each level; the last level fits one block. */
  counts: number[];
  /** Byte offset of each level in the buffer (multiples of BINDING_ALIGN). */
  offsets: number[];
  /** Bytes the levels take (a multiple of 4, at least 4). */
  bytes: number;
}

/** The levels of a scan of `count` counts (count ≥ 1). */
export function planScanLevels(count: number): ScanLevels {
  const counts = [count];
  while (counts[counts.length - 1] > SCAN_BLOCK) counts.push(Math.ceil(counts[counts.length - 1] / SCAN_BLOCK));
  const offsets: number[] = [];
  let at = 0;
  for (const c of counts) {
    offsets.push(at);
    at = Math.ceil((at + 4 * c) / BINDING_ALIGN) * BINDING_ALIGN;
  }
  return { counts, offsets, bytes: Math.max(4, offsets[offsets.length - 1] + 4 * counts[counts.length - 1]) };
}

/**
 * The steps that turn the counts at level 0 of `buffer` into their exclusive prefix sums and write their total, as a
 * u32, at `total` (a binding: a buffer and an offset that is a multiple of BINDING_ALIGN).
 * @throws the device's GPUPipelineError when prefix-scan.wgsl does not compile
 */
export async function scanSteps(device: GPUDevice, buffer: GPUBuffer, levels: ScanLevels, total: { buffer: GPUBuffer; offset: number }, label: string): Promise<ComputeStep[]> {
  const scan = await cachedPipeline(device, 'prefix-scan-blocks', () => kernelSource('prefix-scan.wgsl'), 'scan_blocks');
  const add = await cachedPipeline(device, 'prefix-scan-add', () => kernelSource('prefix-scan.wgsl'), 'add_block_sums');
  const { counts, offsets } = levels;
  const top = counts.length - 1;
  const level = (l: number) => ({ buffer, offset: offsets[l], size: 4 * counts[l] });
  const sumsOf = (l: number) => (l === top ? { buffer: total.buffer, offset: total.offset, size: 4 } : level(l + 1));
  const blocks = (l: number) => Math.ceil(counts[l] / SCAN_BLOCK);
  const steps: ComputeStep[] = [];
  for (let l = 0; l <= top; l++) {
    steps.push({
      pipeline: scan,
      entries: [{ binding: 0, resource: level(l) }, { binding: 1, resource: sumsOf(l) }],
      paramBinding: 2,
      params: (x) => [counts[l], x, 0, 0],
      groups: blocks(l),
      label: `${label} scan level ${l}`,
    });
  }
  for (let l = top - 1; l >= 0; l--) {
    steps.push({
      pipeline: add,
      entries: [{ binding: 0, resource: level(l) }, { binding: 1, resource: level(l + 1) }],
      paramBinding: 2,
      params: (x) => [counts[l], x, 0, 0],
      groups: blocks(l),
      label: `${label} add level ${l + 1}`,
    });
  }
  return steps;
}
