// The chunk digest check on the GPU (chunk-digest.wgsl; FORMAT.md §7.3 item 3, §7.5): after a slab's chunks are
// decoded, one compute pass over their output windows computes each version 4 chunk's WD64 and compares it with its
// record, a mismatch setting the chunk's STATUS_DIGEST bit.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUCommandEncoder, GPUComputePassTimestampWrites, GPUComputePipeline, GPUDevice } from './webgpu-types.js';
import { BUFFER_USAGE } from './adapter.js';
import { cachedPipeline, kernelSource } from './kernels.js';
import { BINDING_ALIGN } from './decode-plan.js';
import type { DigestDispatch } from './digest-jobs.js';
import { readBuffer } from './readback.js';
import { uploadWords } from './upload-words.js';

/** The digest jobs and dispatch parameters of one decode on the GPU, the pipeline that checks them and its results. */
export class DigestPass {
  private readonly jobs: GPUBuffer;
  private readonly params: GPUBuffer;
  /** The computed WD64 of each chunk, by status index (2 u32: low, high; 0 where no job ran). */
  private readonly results: GPUBuffer;
  private readonly groups: GPUBindGroup[] = [];

  private constructor(
    private readonly device: GPUDevice,
    private readonly dispatches: DigestDispatch[],
    jobs: Uint32Array,
    private readonly statusCount: number,
    private readonly pipeline: GPUComputePipeline,
  ) {
    const maxX = device.limits.maxComputeWorkgroupsPerDimension;
    // One 16-byte parameter block per dispatch, each at a binding offset of its own.
    const params = new Uint32Array((dispatches.length * BINDING_ALIGN) / 4 || 4);
    dispatches.forEach((disp, k) => {
      params.set([disp.jobCount, Math.min(disp.jobCount, maxX), disp.jobStart, 0], (k * BINDING_ALIGN) / 4);
    });
    this.jobs = uploadWords(device, 'wcodec digest jobs', jobs, BUFFER_USAGE.STORAGE);
    this.params = uploadWords(device, 'wcodec digest parameters', params, BUFFER_USAGE.UNIFORM);
    this.results = device.createBuffer({ label: 'wcodec chunk digests', size: Math.max(8, statusCount * 8), usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC });
  }

  /**
   * Compiles (or reuses) the digest pipeline on `device` and uploads the jobs.
   * @param dispatches the dispatches, each over its window of one output buffer
   * @param jobs DIGEST_JOB_WORDS u32 per job (digest-jobs.ts), dispatch by dispatch
   * @param statusCount the number of status words (chunks) of the decode
   * @throws the device's GPUPipelineError when chunk-digest.wgsl does not compile
   */
  static async create(device: GPUDevice, dispatches: DigestDispatch[], jobs: Uint32Array, statusCount: number): Promise<DigestPass> {
    const pipeline = await cachedPipeline(device, 'chunk-digest', () => `${kernelSource('wd64.wgsl')}\n${kernelSource('chunk-digest.wgsl')}`, 'check_digests');
    return new DigestPass(device, dispatches, jobs, statusCount, pipeline);
  }

  /**
   * Records the checks of the chunks decoded from input slab `slab` (all slabs when undefined) into one compute pass.
   * @param outputs the output buffers the dispatches name
   * @param status the status words, one per chunk
   */
  encode(encoder: GPUCommandEncoder, outputs: GPUBuffer[], status: GPUBuffer, slab?: number, timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = encoder.beginComputePass({ label: 'wcodec chunk digests', timestampWrites });
    pass.setPipeline(this.pipeline);
    const maxX = this.device.limits.maxComputeWorkgroupsPerDimension;
    this.dispatches.forEach((disp, k) => {
      if (slab !== undefined && disp.slab !== slab) return;
      this.groups[k] ??= this.device.createBindGroup({
        label: `wcodec digest dispatch ${k}`,
        layout: this.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: outputs[disp.output], offset: disp.windowOffset, size: disp.windowBytes } },
          { binding: 1, resource: { buffer: this.jobs } },
          { binding: 2, resource: { buffer: status } },
          { binding: 3, resource: { buffer: this.results } },
          { binding: 4, resource: { buffer: this.params, offset: k * BINDING_ALIGN, size: 16 } },
        ],
      });
      pass.setBindGroup(0, this.groups[k]);
      const x = Math.min(disp.jobCount, maxX);
      pass.dispatchWorkgroups(x, Math.ceil(disp.jobCount / x));
    });
    pass.end();
  }

  /**
   * Reads back the WD64 computed for each chunk (after the passes ran).
   * @returns one digest per status index, 0n for a chunk no job covered
   */
  async readDigests(): Promise<BigUint64Array> {
    const size = Math.max(8, this.statusCount * 8);
    const bytes = await readBuffer(this.device, this.results, size, 0, size, 'wcodec chunk digest readback');
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset, size / 4);
    const out = new BigUint64Array(this.statusCount);
    for (let k = 0; k < this.statusCount; k++) out[k] = (BigInt(words[2 * k + 1]) << 32n) | BigInt(words[2 * k]);
    return out;
  }

  /** Frees the jobs, parameters and results (the pipeline stays cached with its device). */
  destroy(): void {
    this.jobs.destroy();
    this.params.destroy();
    this.results.destroy();
  }
}
