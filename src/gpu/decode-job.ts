// A prepared GPU decode (FORMAT.md §5.3, §5.4, §6, §7.3): its plan, the output and input buffers, the status words,
// the lanes dispatch, the Huffman transcode pass (chunks with Huffman-coded planes), the CRC pass (versions 1-3) and the
// chunk digest pass (version 4), driven slab by slab so that uploading the next slab overlaps decoding this one.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUCommandEncoder, GPUComputePassTimestampWrites, GPUDevice } from './webgpu-types.js';
import type { Checkpoint, TensorInfo } from '../api/checkpoint.js';
import type { ByteSource } from '../io/byte-source.js';
import type { GpuDecodeOptions, UploadMethod } from './decode-options.js';
import { BUFFER_USAGE } from './adapter.js';
import { chunksPerGroupOf, groupsPerWorkgroup, type LaneVariant } from './kernels.js';
import { cpuOnlyReason, planDecode, type DecodePlan, type PlanTensorInput } from './decode-plan.js';
import { checkChunkStatus } from './chunk-status.js';
import { CrcPass } from './crc-pass.js';
import { DigestPass } from './digest-pass.js';
import { HuffmanPass } from './huffman-pass.js';
import { chooseLanes, LanesDispatch } from './lanes-dispatch.js';
import { readBuffer } from './readback.js';
import { uploadSlabs } from './slab-upload.js';

/** Largest workgroup table: 48 KiB (the common maximum of workgroup storage on discrete GPUs). */
const MAX_TABLE_WORDS = 12 * 1024;
/** Default bytes per input slab, the unit of upload/decode overlap. */
export const INPUT_SLAB_BYTES = 64 * 1024 * 1024;
/** Default bytes per output buffer holding several tensors. */
const OUTPUT_SLAB_BYTES = 1024 * 1024 * 1024;

/**
 * The u32 words of the largest segment table a decode kernel keeps in workgroup memory on `device`: up to 48 KiB,
 * less what the lane primitives use.
 */
export function workgroupTableWords(device: GPUDevice): number {
  return Math.max(0, Math.min(MAX_TABLE_WORDS, Math.floor((device.limits.maxComputeWorkgroupStorageSize - 512) / 4)));
}

/** The passes of a job: its decode dispatches and, where its chunks need them, the CRC, digest and Huffman passes. */
interface JobPasses {
  dispatch: LanesDispatch;
  crc: CrcPass | undefined;
  digest: DigestPass | undefined;
  huffman: HuffmanPass | undefined;
}

function destroyPasses(p: JobPasses): void {
  p.dispatch.destroy();
  p.crc?.destroy();
  p.digest?.destroy();
  p.huffman?.destroy();
}

/**
 * A prepared GPU decode: plan, pipelines and buffers. decodeToGPU drives it; benchmarks use its parts to time
 * uploads and kernels separately. Its pipelines and tables may still be on their way when it is made (`start`):
 * uploading the input slabs does not need them, so uploadAndDecode overlaps the two.
 */
export class GpuDecodeJob {
  readonly outputs: GPUBuffer[];
  readonly slabs: GPUBuffer[] = [];
  /** Per input slab with chunks with Huffman-coded planes, those chunks transcoded into raw planes (huffman-pass.ts). */
  readonly transcoded: GPUBuffer[] = [];
  private readonly statusBuffer: GPUBuffer;
  /** The passes once created (`pending` resolved). */
  private passes: JobPasses | undefined;
  private readonly pending: Promise<JobPasses>;

  private constructor(
    readonly device: GPUDevice,
    readonly plan: DecodePlan,
    readonly lanes: LaneVariant,
    readonly groups: number,
    /** Jobs (chunks) per workgroup: groups x chunks per group. */
    readonly jobsPerWorkgroup: number,
    private readonly source: ByteSource,
    pending: Promise<JobPasses>,
  ) {
    const U = BUFFER_USAGE;
    this.outputs = plan.outputSizes.map((size, k) =>
      device.createBuffer({ label: `wcodec output ${k}`, size, usage: U.STORAGE | U.COPY_SRC | U.COPY_DST }),
    );
    this.statusBuffer = device.createBuffer({ label: 'wcodec chunk status', size: Math.max(4, plan.origins.length * 4), usage: U.STORAGE | U.COPY_SRC | U.COPY_DST });
    this.pending = pending.then((p) => (this.passes = p));
    // Observed here so that a failure is not unhandled when the job is released before it is awaited (ready()).
    this.pending.catch(() => undefined);
  }

  /** The passes; the encode methods need them (after ready(), or a job from create / forSegments). */
  private get ps(): JobPasses {
    if (!this.passes) throw new RangeError('the decode job is not ready: await ready() before recording its passes');
    return this.passes;
  }

  /**
   * Resolves once the job's pipelines are compiled and its tables uploaded.
   * @throws the device's GPUPipelineError when a kernel does not compile
   */
  async ready(): Promise<void> {
    await this.pending;
  }

  /**
   * Plans the decode of `tensors` and compiles (or reuses) the pipelines.
   * @throws CORRUPT_CHUNK, LIMIT_EXCEEDED (from the plan); RangeError for a tensor the kernel cannot decode
   *   (transformed, FORMAT.md §3.5; decodeToGPU decodes transformed segments from their targets or streams through
   *   forSegments) and for options out of range
   */
  static async create(device: GPUDevice, checkpoint: Checkpoint, tensors: TensorInfo[], options: GpuDecodeOptions = {}): Promise<GpuDecodeJob> {
    const cpuOnly = tensors.find((info) => cpuOnlyReason(checkpoint.segmentOf(info)));
    if (cpuOnly) throw new RangeError(`tensor '${cpuOnly.name}' is ${cpuOnlyReason(checkpoint.segmentOf(cpuOnly))}: the GPU kernel decodes untransformed segments only (decodeToGPU decodes transformed ones from their streams)`);
    return GpuDecodeJob.forSegments(device, checkpoint.reader.source, tensors.map((info) => ({ name: info.name, seg: checkpoint.segmentOf(info) })), options);
  }

  /**
   * Plans the decode of `inputs`, segments of the container `source` holds or their stand-ins (a transformed segment's
   * stream, FORMAT.md §3.5; a segment without chunks, which only reserves its place in the outputs), and compiles (or
   * reuses) the pipelines.
   * @throws as create; RangeError for a segment with a transform
   */
  static async forSegments(device: GPUDevice, source: ByteSource, inputs: PlanTensorInput[], options: GpuDecodeOptions = {}): Promise<GpuDecodeJob> {
    const job = GpuDecodeJob.start(device, source, inputs, options);
    await job.ready();
    return job;
  }

  /**
   * Plans the decode of `inputs` as forSegments does and starts compiling the pipelines and uploading the tables
   * without waiting for them (ready() does; uploadAndDecode uploads the first input slab meanwhile).
   * @throws as forSegments, except a kernel's compile error, which ready() and uploadAndDecode report
   */
  static start(device: GPUDevice, source: ByteSource, inputs: PlanTensorInput[], options: GpuDecodeOptions = {}): GpuDecodeJob {
    const cpuOnly = inputs.find((t) => (t.seg.chunks.length > 0 || t.seg.group !== undefined) && cpuOnlyReason(t.seg));
    if (cpuOnly) throw new RangeError(`'${cpuOnly.name}' is ${cpuOnlyReason(cpuOnly.seg)}: the GPU kernel decodes untransformed segments only`);
    const lanes = options.lanes ?? chooseLanes(device);
    if (lanes === 'subgroup' && !device.features.has('subgroups')) throw new RangeError("lanes 'subgroup' needs a device with the 'subgroups' feature");
    const lim = device.limits;
    const groups = groupsPerWorkgroup(lanes, options.chunksPerWorkgroup);
    const perGroup = chunksPerGroupOf(options.chunksPerGroup);
    // Larger tables stay in global memory.
    const tableWords = options.workgroupTables === false ? 0 : workgroupTableWords(device);
    const plan = planDecode(
      inputs,
      {
        maxBinding: lim.maxStorageBufferBindingSize,
        maxBuffer: lim.maxBufferSize,
        inputSlabBytes: options.inputSlabBytes ?? INPUT_SLAB_BYTES,
        outputSlabBytes: options.outputSlabBytes ?? OUTPUT_SLAB_BYTES,
        tableWords,
        groups: groups * perGroup,
        specialize: options.specialize,
        lean: options.lean !== false,
      },
      source.name,
    );
    // Table size rounded up to 1 Ki words, so that few pipelines serve many checkpoints.
    const words = Math.min(Math.ceil(plan.tableWords / 1024) * 1024, tableWords);
    const passes = async (): Promise<JobPasses> => {
      // Compiled side by side; whatever was made is freed when another fails.
      const made = await Promise.allSettled([
        LanesDispatch.create(device, plan, { lanes, groups, chunksPerGroup: perGroup, tableWords: words, overrides: options.kernelOverrides ?? {} }),
        // No CRC pass when no chunk has a CRC-32C (format version 4 records carry a digest of the decoded bytes instead).
        (options.checkCrc ?? 'gpu') === 'gpu' && plan.crcDispatches.length > 0 ? CrcPass.create(device, plan) : undefined,
        // The digest pass runs whenever a chunk has a digest (version 4): FORMAT.md §7.3 makes that check mandatory.
        plan.digestDispatches.length > 0 ? DigestPass.create(device, plan.digestDispatches, plan.digestJobs, plan.origins.length) : undefined,
        // The Huffman pass runs whenever a chunk has Huffman-coded planes (FORMAT.md §5.4).
        plan.huffmanDispatches.length > 0 ? HuffmanPass.create(device, plan) : undefined,
      ] as const);
      const failed = made.find((m) => m.status === 'rejected');
      if (failed) {
        for (const m of made) if (m.status === 'fulfilled') m.value?.destroy();
        throw failed.reason;
      }
      const value = <T>(m: PromiseSettledResult<T>): T => (m as PromiseFulfilledResult<T>).value;
      return { dispatch: value(made[0]), crc: value(made[1]), digest: value(made[2]), huffman: value(made[3]) };
    };
    return new GpuDecodeJob(device, plan, lanes, groups, groups * perGroup, source, passes());
  }

  /** Records the CRC-32C checks of the chunks in input slab `slab` (all slabs when undefined), when the job has them. */
  encodeCrc(encoder: GPUCommandEncoder, slab?: number, timestampWrites?: GPUComputePassTimestampWrites): void {
    this.ps.crc?.encode(encoder, this.slabs, this.statusBuffer, slab, timestampWrites);
  }

  /**
   * Records the chunk digest checks of the chunks decoded from input slab `slab` (all slabs when undefined), when the
   * job has them (format version 4); after that slab's decode.
   */
  encodeDigest(encoder: GPUCommandEncoder, slab?: number, timestampWrites?: GPUComputePassTimestampWrites): void {
    this.ps.digest?.encode(encoder, this.outputs, this.statusBuffer, slab, timestampWrites);
  }

  /** Whether the job checks chunk digests on the GPU (its chunks carry them: format version 4). */
  get checksDigests(): boolean {
    return this.ps.digest !== undefined;
  }

  /**
   * Records the transcoding of the chunks with Huffman-coded planes of input slab `slab` (all slabs when undefined),
   * when it has any, creating its transcoded buffer; before that slab's decode.
   */
  encodeHuffman(encoder: GPUCommandEncoder, slab?: number, timestampWrites?: GPUComputePassTimestampWrites): void {
    const huffman = this.ps.huffman;
    if (!huffman) return;
    if (slab !== undefined) huffman.encode(encoder, this.slabs, this.transcoded, this.statusBuffer, slab, timestampWrites);
    else for (let k = 0; k < this.plan.slabSizes.length; k++) huffman.encode(encoder, this.slabs, this.transcoded, this.statusBuffer, k, timestampWrites);
  }

  /** Records the dispatches that read input slab `slab` (all slabs when undefined) into one compute pass. */
  encodeDecode(encoder: GPUCommandEncoder, slab?: number, timestampWrites?: GPUComputePassTimestampWrites): void {
    this.ps.dispatch.encode(encoder, this.slabs, this.outputs, this.statusBuffer, slab, timestampWrites, this.transcoded);
  }

  /**
   * Limits every dispatch to its first `count` jobs (benchmarks: time against the number of chunks in flight);
   * undefined restores all. Only for timing: the skipped chunks are not decoded.
   */
  limitJobs(count: number | undefined): void {
    this.ps.dispatch.limitJobs(count);
  }

  /** Clears the status words (before a decode). */
  encodeClearStatus(encoder: GPUCommandEncoder): void {
    encoder.clearBuffer(this.statusBuffer);
  }

  /**
   * Uploads every slab with `method`, submitting each slab's CRC checks, decode and chunk digest checks as soon as its
   * bytes are queued, so that reading and copying the next slab overlaps decoding the previous one, and reading and
   * copying the first overlaps compiling the pipelines (a job from start). Resolves when all work is submitted.
   * @param checkCrc 'gpu': on the GPU, when the job was created with the CRC pass; true: on the host; false: not at all
   * @throws the upload's errors (slab-upload.ts), CORRUPT_CHUNK from the host's CRC check among them; the device's
   *   GPUPipelineError when a kernel does not compile
   */
  async uploadAndDecode(method: UploadMethod, checkCrc: boolean | 'gpu'): Promise<void> {
    const d = this.device;
    {
      const enc = d.createCommandEncoder({ label: 'wcodec clear status' });
      this.encodeClearStatus(enc);
      d.queue.submit([enc.finish()]);
    }
    for await (const k of uploadSlabs(d, this.plan, this.source, method, checkCrc === true, this.slabs)) {
      // The first slab is read and queued while the pipelines compile.
      if (!this.passes) await this.pending;
      const enc = d.createCommandEncoder({ label: `wcodec decode slab ${k}` });
      this.encodeCrc(enc, k);
      this.encodeHuffman(enc, k);
      this.encodeDecode(enc, k);
      this.encodeDigest(enc, k);
      d.queue.submit([enc.finish()]);
    }
    await this.pending;
  }

  /**
   * Waits for the GPU, reads the status words and checks that every chunk decoded, met the end conditions and (format
   * version 4) decoded to the bytes its digest gives.
   * @throws CORRUPT_CHUNK naming the first failed chunk; CHECKSUM_MISMATCH naming the first chunk whose digest differs;
   *   LaneLayoutError (a RangeError) when the subgroups are not laid out as the subgroup variant needs
   */
  async checkStatus(): Promise<void> {
    const d = this.device;
    const n = this.plan.origins.length;
    if (n === 0) {
      await d.queue.onSubmittedWorkDone();
      return;
    }
    const bytes = await readBuffer(d, this.statusBuffer, n * 4, 0, n * 4, 'wcodec status readback');
    checkChunkStatus(new Uint32Array(bytes.buffer, bytes.byteOffset, n), this.plan.origins, this.source.name);
  }

  /**
   * Reads back the WD64 the digest pass computed for each chunk (after checkStatus; before releaseInputs).
   * @returns one digest per chunk, indexed as `plan.origins`; 0n for a chunk without a digest (versions 1-3)
   */
  async readChunkDigests(): Promise<BigUint64Array> {
    const digest = this.ps.digest;
    return digest ? digest.readDigests() : new BigUint64Array(this.plan.origins.length);
  }

  /** Copies `byteLength` bytes of output `k` at `offset` back to the host. */
  readBack(k: number, offset: number, byteLength: number): Promise<Uint8Array> {
    return readBuffer(this.device, this.outputs[k], this.plan.outputSizes[k], offset, byteLength);
  }

  /** Frees the input slabs, tables, digest results and status words (the outputs stay: they belong to the caller). */
  releaseInputs(): void {
    for (const s of this.slabs) s?.destroy();
    for (const s of this.transcoded) s?.destroy();
    if (this.passes) destroyPasses(this.passes);
    else this.pending.then(destroyPasses, () => undefined);
    this.statusBuffer.destroy();
  }
}
