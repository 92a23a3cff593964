// A prepared fused product y = W·x (matvec-fused.wgsl; FORMAT.md §5.3, §6, §7.3): the plan of W's chunks
// (decode-plan.ts, one lean class), their upload into input slabs, the fused dispatches, and the checks of every
// chunk's status word and chunk digest (format version 4), which must all pass before y is used.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUCommandEncoder, GPUComputePipeline, GPUDevice } from './webgpu-types.js';
import type { Checkpoint, TensorInfo } from '../api/checkpoint.js';
import type { SegmentRecord } from '../pipeline/index-codec.js';
import type { ByteSource } from '../io/byte-source.js';
import type { UploadMethod } from './decode-options.js';
import { ChecksumError } from '../errors.js';
import { RANS_LANES } from '../format/constants.js';
import { chunkBinding } from '../format/chunk-binding.js';
import { BUFFER_USAGE } from './adapter.js';
import { chunksPerGroupOf, groupsPerWorkgroup, type LaneVariant } from './kernels.js';
import { BINDING_ALIGN, cpuOnlyReason, leanSpecOf, planDecode, type DecodePlan } from './decode-plan.js';
import { INPUT_SLAB_BYTES, workgroupTableWords } from './decode-job.js';
import { checkChunkStatus } from './chunk-status.js';
import { chooseLanes } from './lanes-dispatch.js';
import { readBuffer } from './readback.js';
import { uploadSlabs } from './slab-upload.js';
import { uploadWords } from './upload-words.js';
import { fusedPipeline } from './matvec-kernels.js';
import type { MatvecShape } from './matvec-shape.js';

/** Options of a fused product. */
export interface MatvecFusedOptions {
  /** Lane variant of the kernel (default: 'subgroup' when the adapter has subgroups of exactly 32). */
  lanes?: LaneVariant;
  /** Groups of 32 invocations (chunks in flight) per workgroup in the subgroup variant, 1 to 8 (default 8). */
  chunksPerWorkgroup?: number;
  /** Chunks each group of 32 decodes one after another, 1 to 64 (default 1). */
  chunksPerGroup?: number;
  /** Bytes per input slab (default 64 MiB, as decodeToGPU): one dispatch per slab. */
  inputSlabBytes?: number;
  /**
   * Replacement text for upper-case names of matvec-fused.wgsl (benchmarks only: MATVEC_DIGESTS = 'false' times the
   * kernel without chunk digests, and checkChunks then checks the status words alone).
   */
  kernelOverrides?: Record<string, string>;
}

/** Why the fused kernel cannot take W (`seg`, a BF16 tensor) on `device`, or undefined when it can. */
export function fusedUnavailableReason(seg: SegmentRecord, device: GPUDevice): string | undefined {
  const cpuOnly = cpuOnlyReason(seg);
  if (cpuOnly) return `no GPU kernel decodes W (${cpuOnly})`;
  if (seg.chunks.length === 0) return 'W has no chunks';
  if (seg.chunks[0].digest === undefined) return "W's chunks carry CRC-32Cs of their stored bytes (format versions 1-3), not the digests of their values that the fused kernel checks";
  if (seg.coding.lanes !== RANS_LANES) return `W's chunks are coded with ${seg.coding.lanes} lanes, as tensors of fewer than 32 Ki values are: the fused kernel decodes ${RANS_LANES}`;
  if (!leanSpecOf(seg, workgroupTableWords(device))) return `W's layout is not one the lean kernel decodes (a coded head plane, a raw head plane, tables that fit the workgroup)`;
  return undefined;
}

/** The fused product's plan, slabs, status words, digests and pipeline for one matrix on one device. */
export class MatvecFusedJob {
  readonly slabs: GPUBuffer[] = [];
  private readonly status: GPUBuffer;
  private readonly digestWords: GPUBuffer;
  private readonly tables: { meta: GPUBuffer; jobs: GPUBuffer; params: GPUBuffer };
  private bindGroups: { x: GPUBuffer; partials: GPUBuffer; groups: GPUBindGroup[] } | undefined;

  private constructor(
    readonly device: GPUDevice,
    readonly plan: DecodePlan,
    readonly shape: MatvecShape,
    readonly lanes: LaneVariant,
    private readonly seg: SegmentRecord,
    private readonly source: ByteSource,
    private readonly pipeline: GPUComputePipeline,
    private readonly jobsPerWorkgroup: number,
    /** Whether the kernel computes chunk digests (always, but for benchmarks that turn them off). */
    private readonly digests: boolean,
  ) {
    const U = BUFFER_USAGE;
    const chunks = plan.origins.length;
    this.status = device.createBuffer({ label: 'wcodec matvec chunk status', size: Math.max(4, chunks * 4), usage: U.STORAGE | U.COPY_SRC | U.COPY_DST });
    this.digestWords = device.createBuffer({ label: 'wcodec matvec chunk digests', size: Math.max(8, chunks * 8), usage: U.STORAGE | U.COPY_SRC | U.COPY_DST });
    const maxX = device.limits.maxComputeWorkgroupsPerDimension;
    const params = new Uint32Array((plan.dispatches.length * BINDING_ALIGN) / 4 || 8);
    plan.dispatches.forEach((d, k) => {
      params.set([d.jobCount, Math.min(Math.ceil(d.jobCount / jobsPerWorkgroup), maxX), d.jobStart, shape.cols, shape.chunkValues], (k * BINDING_ALIGN) / 4);
    });
    this.tables = {
      meta: uploadWords(device, 'wcodec matvec segment descriptors', plan.meta, U.STORAGE),
      jobs: uploadWords(device, 'wcodec matvec chunk jobs', plan.jobs, U.STORAGE),
      params: uploadWords(device, 'wcodec matvec dispatch parameters', params, U.UNIFORM),
    };
  }

  /**
   * Plans the chunks of W (the tensor `info` of `checkpoint`, [shape.rows, shape.cols] BF16) and compiles (or
   * reuses) the fused pipeline.
   * @throws RangeError when the fused kernel cannot take W (fusedUnavailableReason) or an option is out of range;
   *   CORRUPT_CHUNK, LIMIT_EXCEEDED from the plan
   */
  static async create(device: GPUDevice, checkpoint: Checkpoint, info: TensorInfo, shape: MatvecShape, options: MatvecFusedOptions = {}): Promise<MatvecFusedJob> {
    const seg = checkpoint.segmentOf(info);
    const reason = fusedUnavailableReason(seg, device);
    if (reason) throw new RangeError(`tensor '${info.name}': ${reason}`);
    if (seg.dtype !== 'BF16' || seg.chunkValues !== shape.chunkValues || seg.originalBytes !== shape.rows * shape.cols * 2) {
      throw new RangeError(`tensor '${info.name}' is not a BF16 matrix of ${shape.rows} x ${shape.cols} in chunks of ${shape.chunkValues} values`);
    }
    const lanes = options.lanes ?? chooseLanes(device);
    if (lanes === 'subgroup' && !device.features.has('subgroups')) throw new RangeError("lanes 'subgroup' needs a device with the 'subgroups' feature");
    const groups = groupsPerWorkgroup(lanes, options.chunksPerWorkgroup);
    const perGroup = chunksPerGroupOf(options.chunksPerGroup);
    const lim = device.limits;
    const tableWords = workgroupTableWords(device);
    const plan = planDecode(
      [{ name: info.name, seg }],
      { maxBinding: lim.maxStorageBufferBindingSize, maxBuffer: lim.maxBufferSize, inputSlabBytes: options.inputSlabBytes ?? INPUT_SLAB_BYTES, outputSlabBytes: lim.maxBufferSize, tableWords, groups: groups * perGroup, lean: true },
      checkpoint.reader.source.name,
    );
    const lean = plan.kernels.length === 1 ? plan.kernels[0]?.lean : undefined;
    // The kernel takes status word k as chunk k of W: true of a plan of one tensor, checked here.
    if (!lean || plan.origins.some((o, k) => o.chunk !== k)) throw new RangeError(`tensor '${info.name}' is not planned as one class of lean chunks`);
    // Table size rounded up to 1 Ki words, so that few pipelines serve many checkpoints.
    const words = Math.min(Math.ceil(plan.tableWords / 1024) * 1024, tableWords);
    const overrides = options.kernelOverrides ?? {};
    const pipeline = await fusedPipeline(device, lean, { lanes, groups, chunksPerGroup: perGroup, tableWords: words, overrides });
    return new MatvecFusedJob(device, plan, shape, lanes, seg, checkpoint.reader.source, pipeline, groups * perGroup, overrides.MATVEC_DIGESTS !== 'false');
  }

  /**
   * Uploads W's chunks into the input slabs (once; later products reuse them).
   * @throws the upload's errors (slab-upload.ts)
   */
  async upload(method: UploadMethod = 'staging'): Promise<void> {
    for await (const k of uploadSlabs(this.device, this.plan, this.source, method, false, this.slabs)) void k;
  }

  /** Records the clearing of the status words and digests (before each product). */
  encodeClear(encoder: GPUCommandEncoder): void {
    encoder.clearBuffer(this.status);
    encoder.clearBuffer(this.digestWords);
  }

  /**
   * Records the fused dispatches into `pass`: partials[r + k] for every row r and chunk k that share values.
   * @param x cols f32
   * @param partials partialSlots(shape) f32
   */
  record(pass: GPUComputePassEncoder, x: GPUBuffer, partials: GPUBuffer): void {
    if (this.bindGroups?.x !== x || this.bindGroups.partials !== partials) this.bindGroups = { x, partials, groups: [] };
    const groups = this.bindGroups.groups;
    const t = this.tables;
    pass.setPipeline(this.pipeline);
    this.plan.dispatches.forEach((d, k) => {
      groups[k] ??= this.device.createBindGroup({
        label: `wcodec matvec dispatch ${k}`,
        layout: this.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: this.slabs[d.slab] } },
          { binding: 1, resource: { buffer: t.meta } },
          { binding: 2, resource: { buffer: t.jobs } },
          { binding: 3, resource: { buffer: this.status } },
          { binding: 4, resource: { buffer: t.params, offset: k * BINDING_ALIGN, size: 32 } },
          { binding: 5, resource: { buffer: x, size: this.shape.cols * 4 } },
          { binding: 6, resource: { buffer: partials } },
          { binding: 7, resource: { buffer: this.digestWords } },
        ],
      });
      pass.setBindGroup(0, groups[k]);
      const x0 = Math.min(Math.ceil(d.jobCount / this.jobsPerWorkgroup), this.device.limits.maxComputeWorkgroupsPerDimension);
      pass.dispatchWorkgroups(x0, Math.ceil(Math.ceil(d.jobCount / this.jobsPerWorkgroup) / x0));
    });
  }

  /**
   * Waits for the GPU, reads the status words and digests back and checks every chunk: its status (as decodeToGPU),
   * then its digest against its record.
   * @throws CORRUPT_CHUNK naming the first failed chunk (a rANS end condition, raw padding);
   *   CHECKSUM_MISMATCH for a chunk whose values' digest is not its record's; LaneLayoutError (a RangeError) when the
   *   subgroups are not laid out as the subgroup variant needs
   */
  async checkChunks(): Promise<void> {
    const n = this.plan.origins.length;
    const file = this.source.name;
    const status = await readBuffer(this.device, this.status, this.status.size, 0, n * 4, 'wcodec matvec status readback');
    checkChunkStatus(new Uint32Array(status.buffer, status.byteOffset, n), this.plan.origins, file);
    if (!this.digests) return;
    const bytes = await readBuffer(this.device, this.digestWords, this.digestWords.size, 0, n * 8, 'wcodec matvec digest readback');
    const got = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let k = 0; k < n; k++) {
      const rec = this.seg.chunks[k];
      const expected = rec.digest! ^ chunkBinding(this.seg.sha256, this.seg.stream ?? 0, k);
      if (got.getBigUint64(8 * k, true) !== expected) {
        throw new ChecksumError('CHECKSUM_MISMATCH', `chunk ${k} of tensor '${this.plan.origins[k].tensor}' decodes on the GPU to values whose chunk digest is not the one its record gives`, { file, offset: rec.offset });
      }
    }
  }

  /** Frees the slabs, tables, status words and digests (the pipeline stays cached with its device). */
  destroy(): void {
    for (const s of this.slabs) s?.destroy();
    for (const b of Object.values(this.tables)) b.destroy();
    this.status.destroy();
    this.digestWords.destroy();
    this.bindGroups = undefined;
  }
}
