// The CRC-32C check of each chunk's stored bytes on the GPU (crc32c.wgsl; FORMAT.md §7.1, §7.3): one compute pass
// per input slab over that slab's CRC jobs, each mismatch setting the chunk's STATUS_CRC bit.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUCommandEncoder, GPUComputePassTimestampWrites, GPUComputePipeline, GPUDevice } from './webgpu-types.js';
import { BUFFER_USAGE } from './adapter.js';
import { cachedPipeline, kernelSource } from './kernels.js';
import { BINDING_ALIGN, type DecodePlan } from './decode-plan.js';
import { uploadWords } from './upload-words.js';

/** The CRC jobs and dispatch parameters of one plan on the GPU, and the pipeline that checks them. */
export class CrcPass {
  private readonly jobs: GPUBuffer;
  private readonly params: GPUBuffer;
  private readonly groups: GPUBindGroup[] = [];

  private constructor(
    private readonly device: GPUDevice,
    private readonly plan: DecodePlan,
    private readonly pipeline: GPUComputePipeline,
  ) {
    const maxX = device.limits.maxComputeWorkgroupsPerDimension;
    // One 16-byte parameter block per dispatch, each at a binding offset of its own.
    const params = new Uint32Array((plan.crcDispatches.length * BINDING_ALIGN) / 4 || 4);
    plan.crcDispatches.forEach((disp, k) => {
      params.set([disp.jobCount, Math.min(disp.jobCount, maxX), disp.jobStart, 0], (k * BINDING_ALIGN) / 4);
    });
    this.jobs = uploadWords(device, 'wcodec CRC jobs', plan.crcJobs, BUFFER_USAGE.STORAGE);
    this.params = uploadWords(device, 'wcodec CRC parameters', params, BUFFER_USAGE.UNIFORM);
  }

  /**
   * Compiles (or reuses) the CRC pipeline on `device` and uploads the CRC jobs of `plan`.
   * @throws the device's GPUPipelineError when crc32c.wgsl does not compile
   */
  static async create(device: GPUDevice, plan: DecodePlan): Promise<CrcPass> {
    const pipeline = await cachedPipeline(device, 'crc32c', () => kernelSource('crc32c.wgsl'), 'check_crcs');
    return new CrcPass(device, plan, pipeline);
  }

  /**
   * Records the checks of the chunks in input slab `slab` (all slabs when undefined) into one compute pass.
   * @param slabs the plan's input slabs (those of the dispatches recorded must exist)
   * @param status the status words, one per chunk of the plan
   */
  encode(encoder: GPUCommandEncoder, slabs: GPUBuffer[], status: GPUBuffer, slab?: number, timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = encoder.beginComputePass({ label: 'wcodec CRC-32C', timestampWrites });
    pass.setPipeline(this.pipeline);
    const maxX = this.device.limits.maxComputeWorkgroupsPerDimension;
    this.plan.crcDispatches.forEach((disp, k) => {
      if (slab !== undefined && disp.slab !== slab) return;
      this.groups[k] ??= this.device.createBindGroup({
        label: `wcodec CRC dispatch ${k}`,
        layout: this.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: slabs[disp.slab] } },
          { binding: 1, resource: { buffer: this.jobs } },
          { binding: 2, resource: { buffer: status } },
          { binding: 3, resource: { buffer: this.params, offset: k * BINDING_ALIGN, size: 16 } },
        ],
      });
      pass.setBindGroup(0, this.groups[k]);
      const x = Math.min(disp.jobCount, maxX);
      pass.dispatchWorkgroups(x, Math.ceil(disp.jobCount / x));
    });
    pass.end();
  }

  /** Frees the jobs and parameters (the pipeline stays cached with its device). */
  destroy(): void {
    this.jobs.destroy();
    this.params.destroy();
  }
}
