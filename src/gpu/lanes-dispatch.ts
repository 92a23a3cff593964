// The dispatch of the lockstep-lanes decode kernels (decode.wgsl; FORMAT.md §5.3): the choice of lane variant,
// the plan's tables on the GPU, one pipeline per class of segments, and the compute passes over each input slab.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUCommandEncoder, GPUComputePassTimestampWrites, GPUComputePipeline, GPUDevice, GPUPipelineLayout } from './webgpu-types.js';
import { BUFFER_USAGE, subgroupSizes } from './adapter.js';
import { cachedPipeline, decodeKernelSource, specKey, type LaneVariant } from './kernels.js';
import { BINDING_ALIGN, type DecodePlan } from './decode-plan.js';
import { uploadWords } from './upload-words.js';

/** The lane variant to use on `device`: 'subgroup' when it has subgroups of exactly 32, else 'workgroup'. */
export function chooseLanes(device: GPUDevice): LaneVariant {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const sizes = subgroupSizes(info);
  return device.features.has('subgroups') && sizes?.min === 32 && sizes.max === 32 ? 'subgroup' : 'workgroup';
}

const layouts = new WeakMap<GPUDevice, GPUPipelineLayout>();

/**
 * The bindings every decode kernel declares (decode.wgsl, decode-lean.wgsl), as one explicit layout: a kernel that
 * leaves a binding unused (the lean kernel's `entries`) still takes the same bind group.
 */
function decodeLayout(device: GPUDevice): GPUPipelineLayout {
  let layout = layouts.get(device);
  if (!layout) {
    const S = GPU_SHADER_STAGE_COMPUTE;
    const ro = { type: 'read-only-storage' } as const;
    const rw = { type: 'storage' } as const;
    const bindGroupLayout = device.createBindGroupLayout({
      label: 'wcodec decode bindings',
      entries: [
        { binding: 0, visibility: S, buffer: ro },
        { binding: 1, visibility: S, buffer: rw },
        { binding: 2, visibility: S, buffer: ro },
        { binding: 3, visibility: S, buffer: ro },
        { binding: 4, visibility: S, buffer: ro },
        { binding: 5, visibility: S, buffer: rw },
        { binding: 6, visibility: S, buffer: { type: 'uniform' } },
      ],
    });
    layout = device.createPipelineLayout({ label: 'wcodec decode', bindGroupLayouts: [bindGroupLayout] });
    layouts.set(device, layout);
  }
  return layout;
}

/** GPUShaderStage.COMPUTE (the global is absent where no WebGPU implementation is loaded). */
const GPU_SHADER_STAGE_COMPUTE = 4;

/** The shape of the decode kernels of one job: lane variant, groups of 32 per workgroup, chunks per group, tables. */
export interface LanesShape {
  lanes: LaneVariant;
  /** Groups of 32 invocations per workgroup. */
  groups: number;
  /** Chunks each group decodes one after another. */
  chunksPerGroup: number;
  /** u32 words of the workgroup table. */
  tableWords: number;
  /** Replacement text for names in decode.wgsl (benchmarks only). */
  overrides: Record<string, string>;
}

/**
 * The per-dispatch parameter blocks (decode.wgsl Params: job count, workgroups in x, first job), one per dispatch at
 * its own binding offset, with each dispatch limited to its first `limit` jobs when given.
 */
function dispatchParams(device: GPUDevice, plan: DecodePlan, jobsPerWorkgroup: number, limit: number | undefined): Uint32Array<ArrayBuffer> {
  const params = new Uint32Array((plan.dispatches.length * BINDING_ALIGN) / 4 || 4);
  const maxX = device.limits.maxComputeWorkgroupsPerDimension;
  plan.dispatches.forEach((disp, k) => {
    const jobs = Math.min(disp.jobCount, limit ?? disp.jobCount);
    params.set([jobs, Math.min(Math.ceil(jobs / jobsPerWorkgroup), maxX), disp.jobStart, 0], (k * BINDING_ALIGN) / 4);
  });
  return params;
}

/** The decode tables, jobs and pipelines of one plan on the GPU, and the dispatches that run them. */
export class LanesDispatch {
  private readonly tables: { entries: GPUBuffer; meta: GPUBuffer; jobs: GPUBuffer; params: GPUBuffer };
  private bindGroups: GPUBindGroup[] = [];
  private jobLimit: number | undefined;

  private constructor(
    private readonly device: GPUDevice,
    private readonly plan: DecodePlan,
    /** Jobs (chunks) per workgroup: groups x chunks per group. */
    readonly jobsPerWorkgroup: number,
    /** One pipeline per entry of plan.kernels. */
    private readonly pipelines: GPUComputePipeline[],
  ) {
    const U = BUFFER_USAGE;
    this.tables = {
      entries: uploadWords(device, 'wcodec rANS decode entries', plan.entries, U.STORAGE),
      meta: uploadWords(device, 'wcodec segment descriptors', plan.meta, U.STORAGE),
      jobs: uploadWords(device, 'wcodec chunk jobs', plan.jobs, U.STORAGE),
      params: uploadWords(device, 'wcodec dispatch parameters', dispatchParams(device, plan, jobsPerWorkgroup, undefined), U.UNIFORM),
    };
  }

  /**
   * Compiles (or reuses) one pipeline per entry of `plan.kernels`, in parallel, and uploads the plan's tables.
   * @throws the device's GPUPipelineError when the WGSL does not compile
   */
  static async create(device: GPUDevice, plan: DecodePlan, shape: LanesShape): Promise<LanesDispatch> {
    const { lanes, groups, chunksPerGroup, tableWords, overrides } = shape;
    const key = `decode-${lanes}-${groups}-${chunksPerGroup}-${tableWords}-${JSON.stringify(overrides)}`;
    // One pipeline per class of segments (specialised to its constants) or the generic one.
    const pipelines = await Promise.all(
      plan.kernels.map((spec) => cachedPipeline(device, `${key}-${spec ? specKey(spec) : 'generic'}`, () => decodeKernelSource(lanes, groups, tableWords, overrides, chunksPerGroup, spec), 'decode_chunks', decodeLayout(device))),
    );
    return new LanesDispatch(device, plan, groups * chunksPerGroup, pipelines);
  }

  private bindGroupFor(k: number, slabs: GPUBuffer[], outputs: GPUBuffer[], status: GPUBuffer, transcoded: GPUBuffer[]): GPUBindGroup {
    if (this.bindGroups[k]) return this.bindGroups[k];
    const disp = this.plan.dispatches[k];
    const t = this.tables;
    const bg = this.device.createBindGroup({
      label: `wcodec decode dispatch ${k}`,
      layout: this.pipelines[disp.kernel].getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: disp.transcoded ? transcoded[disp.slab] : slabs[disp.slab] } },
        { binding: 1, resource: { buffer: outputs[disp.output], offset: disp.windowOffset, size: disp.windowBytes } },
        { binding: 2, resource: { buffer: t.entries } },
        { binding: 3, resource: { buffer: t.meta } },
        { binding: 4, resource: { buffer: t.jobs } },
        { binding: 5, resource: { buffer: status } },
        { binding: 6, resource: { buffer: t.params, offset: k * BINDING_ALIGN, size: 16 } },
      ],
    });
    this.bindGroups[k] = bg;
    return bg;
  }

  /**
   * Records the dispatches that read input slab `slab` (all slabs when undefined) into one compute pass.
   * @param slabs the plan's input slabs (those of the dispatches recorded must exist)
   * @param outputs the plan's output buffers
   * @param status the status words, one per chunk of the plan
   * @param transcoded the slabs' transcoded chunks (huffman-pass.ts), read by the dispatches of chunks with
   *   Huffman-coded planes
   */
  encode(encoder: GPUCommandEncoder, slabs: GPUBuffer[], outputs: GPUBuffer[], status: GPUBuffer, slab?: number, timestampWrites?: GPUComputePassTimestampWrites, transcoded: GPUBuffer[] = []): void {
    const pass = encoder.beginComputePass({ label: 'wcodec decode', timestampWrites });
    const perWorkgroup = this.jobsPerWorkgroup;
    const maxX = this.device.limits.maxComputeWorkgroupsPerDimension;
    this.plan.dispatches.forEach((disp, k) => {
      if (slab !== undefined && disp.slab !== slab) return;
      const workgroups = Math.ceil(Math.min(disp.jobCount, this.jobLimit ?? disp.jobCount) / perWorkgroup);
      const x = Math.min(workgroups, maxX);
      pass.setPipeline(this.pipelines[disp.kernel]);
      pass.setBindGroup(0, this.bindGroupFor(k, slabs, outputs, status, transcoded));
      pass.dispatchWorkgroups(x, Math.ceil(workgroups / x));
    });
    pass.end();
  }

  /**
   * Limits every dispatch to its first `count` jobs (benchmarks: time against the number of chunks in flight);
   * undefined restores all. Only for timing: the skipped chunks are not decoded.
   */
  limitJobs(count: number | undefined): void {
    this.jobLimit = count;
    this.device.queue.writeBuffer(this.tables.params, 0, dispatchParams(this.device, this.plan, this.jobsPerWorkgroup, count));
  }

  /** Frees the tables and bind groups (the pipelines stay cached with their device). */
  destroy(): void {
    for (const b of Object.values(this.tables)) b.destroy();
    this.bindGroups = [];
  }
}
