// Huffman-coded planes on the GPU (huffman.wgsl; FORMAT.md §5.4, §6): one compute pass per input slab transcodes each
// of its chunks with Huffman-coded planes into raw planes, in a buffer of the slab's own that the decode kernel then
// reads; a block that fails a check of §5.4 sets its chunk's STATUS_HUFFMAN bit.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUCommandEncoder, GPUComputePassTimestampWrites, GPUComputePipeline, GPUDevice } from './webgpu-types.js';
import { BUFFER_USAGE } from './adapter.js';
import { cachedPipeline, kernelSource } from './kernels.js';
import { BINDING_ALIGN, type DecodePlan } from './decode-plan.js';
import { uploadWords } from './upload-words.js';

/** The Huffman jobs, tables and dispatch parameters of one plan on the GPU, and the pipeline that transcodes. */
export class HuffmanPass {
  private readonly jobs: GPUBuffer;
  private readonly meta: GPUBuffer;
  private readonly params: GPUBuffer;

  private constructor(
    private readonly device: GPUDevice,
    private readonly plan: DecodePlan,
    private readonly pipeline: GPUComputePipeline,
  ) {
    const maxX = device.limits.maxComputeWorkgroupsPerDimension;
    // One 16-byte parameter block per dispatch (job count, workgroups in x, first job), each at its own binding offset.
    const params = new Uint32Array((plan.huffmanDispatches.length * BINDING_ALIGN) / 4 || 4);
    plan.huffmanDispatches.forEach((disp, k) => {
      params.set([disp.jobCount, Math.min(disp.jobCount, maxX), disp.jobStart, 0], (k * BINDING_ALIGN) / 4);
    });
    this.jobs = uploadWords(device, 'wcodec Huffman jobs', plan.huffmanJobs, BUFFER_USAGE.STORAGE);
    this.meta = uploadWords(device, 'wcodec Huffman tables', plan.huffmanMeta, BUFFER_USAGE.STORAGE);
    this.params = uploadWords(device, 'wcodec Huffman parameters', params, BUFFER_USAGE.UNIFORM);
  }

  /**
   * Compiles (or reuses) the transcode pipeline on `device` and uploads the Huffman jobs and tables of `plan`.
   * @throws the device's GPUPipelineError when huffman.wgsl does not compile
   */
  static async create(device: GPUDevice, plan: DecodePlan): Promise<HuffmanPass> {
    const pipeline = await cachedPipeline(device, 'huffman-transcode', () => kernelSource('huffman.wgsl'), 'transcode_chunks');
    return new HuffmanPass(device, plan, pipeline);
  }

  /**
   * Creates the transcoded buffer of input slab `slab` (zeroed, as huffman.wgsl needs) and records the transcoding of
   * its chunks into one compute pass; no buffer and no pass for a slab without chunks with Huffman-coded planes.
   * @param slabs the plan's input slabs (slab `slab` must exist)
   * @param transcoded where the buffer is stored, at index `slab`; the caller destroys it once the decode has run
   * @param status the status words, one per chunk of the plan
   */
  encode(encoder: GPUCommandEncoder, slabs: GPUBuffer[], transcoded: GPUBuffer[], status: GPUBuffer, slab: number, timestampWrites?: GPUComputePassTimestampWrites): void {
    const size = this.plan.transcodedSizes[slab] ?? 0;
    if (size === 0) return;
    transcoded[slab] = this.device.createBuffer({ label: `wcodec transcoded slab ${slab}`, size, usage: BUFFER_USAGE.STORAGE });
    const pass = encoder.beginComputePass({ label: 'wcodec Huffman transcode', timestampWrites });
    pass.setPipeline(this.pipeline);
    const maxX = this.device.limits.maxComputeWorkgroupsPerDimension;
    this.plan.huffmanDispatches.forEach((disp, k) => {
      if (disp.slab !== slab) return;
      pass.setBindGroup(0, this.device.createBindGroup({
        label: `wcodec Huffman dispatch ${k}`,
        layout: this.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: slabs[slab] } },
          { binding: 1, resource: { buffer: transcoded[slab] } },
          { binding: 2, resource: { buffer: this.meta } },
          { binding: 3, resource: { buffer: this.meta } },
          { binding: 4, resource: { buffer: this.jobs } },
          { binding: 5, resource: { buffer: status } },
          { binding: 6, resource: { buffer: this.params, offset: k * BINDING_ALIGN, size: 16 } },
        ],
      }));
      const x = Math.min(disp.jobCount, maxX);
      pass.dispatchWorkgroups(x, Math.ceil(disp.jobCount / x));
    });
    pass.end();
  }

  /** Frees the jobs, tables and parameters (the pipeline stays cached with its device). */
  destroy(): void {
    this.jobs.destroy();
    this.meta.destroy();
    this.params.destroy();
  }
}
