// Decoding tensors of a .wcodec container straight into GPU buffers (FORMAT.md §5.3 lockstep lanes, §6, §7.3):
// compressed chunks are uploaded slab by slab, each slab's chunks are decoded while the next one uploads, every
// chunk reports a status word that the host checks, and without a usable GPU the CPU decodes instead (reported).
/// <reference types="@webgpu/types" />

import type { GPU, GPUBuffer, GPUCommandEncoder, GPUComputePassTimestampWrites, GPUDevice } from './webgpu-types.js';
import { ChecksumError, GpuUnavailableError, makeError } from '../errors.js';
import { crc32c } from '../format/crc32c.js';
import { createSha256, sameBytes, toHex } from '../format/sha256.js';
import type { Checkpoint, TensorData, TensorInfo } from '../api/checkpoint.js';
import type { ByteSource } from '../io/byte-source.js';
import type { TensorReference } from '../format/tensor-reference.js';
import { BUFFER_USAGE, MAP_MODE, requestDecodeDevice, subgroupSizes, type DeviceResult } from './adapter.js';
import { cachedPipeline, chunksPerGroupOf, decodeKernelSource, groupsPerWorkgroup, kernelSource, specKey, type LaneVariant } from './kernels.js';
import { BINDING_ALIGN, JOB_WORDS, cpuOnlyReason, planDecode, type DecodePlan, type UploadRun } from './decode-plan.js';

/** How compressed bytes reach the GPU. */
export type UploadMethod = 'mapped' | 'staging' | 'write-buffer';

/** Options of decodeToGPU. */
export interface GpuDecodeOptions {
  /** Decode on the CPU when no GPU device can be had (default true); the result says so. */
  allowCpuFallback?: boolean;
  /** The WebGPU entry point used when no device is given (default: navigator.gpu, else Dawn in Node); null: none. */
  gpu?: GPU | null;
  /**
   * Each chunk's CRC-32C: 'gpu' (default) with a kernel on the GPU (crc32c.wgsl: ~3 ms per GiB on an H200), true
   * on the host (re-reads each uploaded run: seconds per GiB), false not at all. rANS end conditions are always
   * checked on the GPU.
   */
  checkCrc?: boolean | 'gpu';
  /**
   * Read the decoded tensors back and check their SHA-256 (default true, as FORMAT.md §7.3 requires: a chunk's CRC and
   * rANS checks do not cover the bytes a damaged or inconsistent container's index implies). false skips it at the
   * caller's explicit request, and saves a readback and a hash pass over every decoded byte.
   */
  checkDigests?: boolean;
  /** How compressed bytes are uploaded (default 'staging': a ring of mapped staging buffers, the fastest measured). */
  upload?: UploadMethod;
  /** Lane variant of the kernel (default: 'subgroup' when the adapter has subgroups of exactly 32). */
  lanes?: LaneVariant;
  /** Groups of 32 invocations (chunks in flight) per workgroup in the subgroup variant, 1 to 8 (default 8: 1.7x the throughput of 4 on the H200, run 8). */
  chunksPerWorkgroup?: number;
  /**
   * Chunks each group of 32 decodes one after another, 1 to 64 (default 1): a workgroup then copies its segment's
   * tables into workgroup memory once for chunksPerWorkgroup x chunksPerGroup chunks (pays with many small chunks).
   */
  chunksPerGroup?: number;
  /** Copy each segment's decode tables into workgroup memory when they fit (default true). */
  workgroupTables?: boolean;
  /**
   * Compile a pipeline per class of segments with the same value width, planes and lanes, their constants built in
   * (default true; false: one generic pipeline). Dispatches split by class.
   */
  specialize?: boolean;
  /** Replacement text for names in decode.wgsl (benchmarks only: e.g. WRITE_OUTPUT to time without stores). */
  kernelOverrides?: Record<string, string>;
  /** Bytes per input slab, the unit of upload/decode overlap (default 64 MiB). */
  inputSlabBytes?: number;
  /** Bytes per output buffer holding several tensors (default 1 GiB, capped by the device's limits). */
  outputSlabBytes?: number;
  /** The reference checkpoint of a container with XOR deltas (FORMAT.md §3.5.2), for the tensors decoded on the CPU. */
  reference?: TensorReference;
}

/** One decoded tensor on the GPU: its bytes are `buffer[offset, offset + byteLength)`, exactly the original bytes. */
export interface GpuTensor {
  info: TensorInfo;
  buffer: GPUBuffer;
  offset: number;
  byteLength: number;
  /**
   * Set when this tensor was decoded on the CPU and uploaded (a buffer of its own, offset 0), with the reason: a
   * transformed segment (format version 2, FORMAT.md §3.5) has no GPU kernel.
   */
  cpuDecoded?: string;
}

/** Where the time went, in milliseconds of wall clock on the host. */
export interface GpuDecodeTimings {
  /** Planning, pipeline compilation and buffer creation. */
  setupMs: number;
  /** From the first upload to the status readback (uploads overlapped with decoding). */
  uploadAndDecodeMs: number;
  /** The SHA-256 check (readback and hashing; 0 with `checkDigests: false`). */
  digestMs: number;
}

/** The result of decodeToGPU. */
export type GpuDecodeResult =
  | {
      backend: 'gpu';
      /** The device the buffers belong to (the one passed in, or the one requested; destroy it when done with it). */
      device: GPUDevice;
      tensors: GpuTensor[];
      /** The output buffers (owned by the caller: destroy them when done). */
      buffers: GPUBuffer[];
      lanes: LaneVariant;
      inputBytes: number;
      outputBytes: number;
      timings: GpuDecodeTimings;
    }
  | {
      backend: 'cpu';
      /** Why the GPU was not used. */
      reason: string;
      tensors: TensorData[];
    };

/** Status bits written by decode.wgsl. */
const STATUS_DONE = 1;
const STATUS_PROBLEMS: [number, string][] = [
  [2, 'a lane starts in a state below 2^16'],
  [4, 'the rANS stream ends before the last symbol'],
  [8, 'rANS words are left unread'],
  [16, 'a lane does not end in state 2^16'],
];
const STATUS_LANE_LAYOUT = 32;
/** Status bit of crc32c.wgsl: the chunk's CRC-32C differs from its record. */
const STATUS_CRC = 64;
const UPLOAD_PIECE_BYTES = 16 * 1024 * 1024;
const STAGING_BUFFERS = 4;
/** Largest workgroup table: 48 KiB (the common maximum of workgroup storage on discrete GPUs). */
const MAX_TABLE_WORDS = 12 * 1024;

/** The lane variant to use on `device`. */
export function chooseLanes(device: GPUDevice): LaneVariant {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  const sizes = subgroupSizes(info);
  return device.features.has('subgroups') && sizes?.min === 32 && sizes.max === 32 ? 'subgroup' : 'workgroup';
}

/**
 * A prepared GPU decode: plan, pipeline and buffers. decodeToGPU drives it; benchmarks use its parts to time
 * uploads and kernels separately.
 */
export class GpuDecodeJob {
  readonly outputs: GPUBuffer[];
  readonly slabs: GPUBuffer[] = [];
  private readonly statusBuffer: GPUBuffer;
  private readonly tables: { entries: GPUBuffer; meta: GPUBuffer; jobs: GPUBuffer; params: GPUBuffer };
  private bindGroups: GPUBindGroup[] = [];
  private crc: { pipeline: GPUComputePipeline; jobs: GPUBuffer; params: GPUBuffer; groups: GPUBindGroup[] } | undefined;

  private constructor(
    readonly device: GPUDevice,
    readonly plan: DecodePlan,
    readonly lanes: LaneVariant,
    readonly groups: number,
    /** Jobs (chunks) per workgroup: groups x chunks per group. */
    readonly jobsPerWorkgroup: number,
    /** One pipeline per entry of plan.kernels. */
    private readonly pipelines: GPUComputePipeline[],
    private readonly source: ByteSource,
    crcPipeline?: GPUComputePipeline,
  ) {
    const d = device;
    const U = BUFFER_USAGE;
    this.outputs = plan.outputSizes.map((size, k) =>
      d.createBuffer({ label: `wcodec output ${k}`, size, usage: U.STORAGE | U.COPY_SRC | U.COPY_DST }),
    );
    this.statusBuffer = d.createBuffer({ label: 'wcodec chunk status', size: Math.max(4, plan.origins.length * 4), usage: U.STORAGE | U.COPY_SRC | U.COPY_DST });
    const upload = (label: string, data: Uint32Array, usage: number): GPUBuffer => {
      const b = d.createBuffer({ label, size: Math.max(16, data.byteLength), usage: usage | U.COPY_DST });
      d.queue.writeBuffer(b, 0, data as Uint32Array<ArrayBuffer>);
      return b;
    };
    const params = new Uint32Array((plan.dispatches.length * BINDING_ALIGN) / 4 || 4);
    const maxX = d.limits.maxComputeWorkgroupsPerDimension;
    plan.dispatches.forEach((disp, k) => {
      const workgroups = Math.ceil(disp.jobCount / jobsPerWorkgroup);
      params.set([disp.jobCount, Math.min(workgroups, maxX), disp.jobStart, 0], (k * BINDING_ALIGN) / 4);
    });
    this.tables = {
      entries: upload('wcodec rANS decode entries', plan.entries, U.STORAGE),
      meta: upload('wcodec segment descriptors', plan.meta, U.STORAGE),
      jobs: upload('wcodec chunk jobs', plan.jobs, U.STORAGE),
      params: upload('wcodec dispatch parameters', params, U.UNIFORM),
    };
    if (crcPipeline) {
      const crcParams = new Uint32Array((plan.crcDispatches.length * BINDING_ALIGN) / 4 || 4);
      plan.crcDispatches.forEach((disp, k) => {
        crcParams.set([disp.jobCount, Math.min(disp.jobCount, maxX), disp.jobStart, 0], (k * BINDING_ALIGN) / 4);
      });
      this.crc = { pipeline: crcPipeline, jobs: upload('wcodec CRC jobs', plan.crcJobs, U.STORAGE), params: upload('wcodec CRC parameters', crcParams, U.UNIFORM), groups: [] };
    }
  }

  /**
   * Plans the decode of `tensors` and compiles (or reuses) the pipeline.
   * @throws CORRUPT_CHUNK, LIMIT_EXCEEDED (from the plan); RangeError for a transformed tensor (FORMAT.md §3.5)
   */
  static async create(device: GPUDevice, checkpoint: Checkpoint, tensors: TensorInfo[], options: GpuDecodeOptions = {}): Promise<GpuDecodeJob> {
    const cpuOnly = tensors.find((info) => cpuOnlyReason(checkpoint.segmentOf(info)));
    if (cpuOnly) throw new RangeError(`tensor '${cpuOnly.name}' is ${cpuOnlyReason(checkpoint.segmentOf(cpuOnly))}: the GPU kernel decodes plain rANS segments only (decodeToGPU decodes it on the CPU)`);
    const lanes = options.lanes ?? chooseLanes(device);
    if (lanes === 'subgroup' && !device.features.has('subgroups')) throw new RangeError("lanes 'subgroup' needs a device with the 'subgroups' feature");
    const lim = device.limits;
    const groups = groupsPerWorkgroup(lanes, options.chunksPerWorkgroup);
    const perGroup = chunksPerGroupOf(options.chunksPerGroup);
    // Workgroup tables up to 48 KiB, less what the lane primitives use; larger tables stay in global memory.
    const tableWords = options.workgroupTables === false ? 0 : Math.max(0, Math.min(MAX_TABLE_WORDS, Math.floor((lim.maxComputeWorkgroupStorageSize - 512) / 4)));
    const plan = planDecode(
      tensors.map((info) => ({ name: info.name, seg: checkpoint.segmentOf(info) })),
      {
        maxBinding: lim.maxStorageBufferBindingSize,
        maxBuffer: lim.maxBufferSize,
        inputSlabBytes: options.inputSlabBytes ?? 64 * 1024 * 1024,
        outputSlabBytes: options.outputSlabBytes ?? 1024 * 1024 * 1024,
        tableWords,
        groups: groups * perGroup,
        specialize: options.specialize,
      },
      checkpoint.reader.source.name,
    );
    const overrides = options.kernelOverrides ?? {};
    // Table size rounded up to 1 Ki words, so that few pipelines serve many checkpoints.
    const words = Math.min(Math.ceil(plan.tableWords / 1024) * 1024, tableWords);
    const key = `decode-${lanes}-${groups}-${perGroup}-${words}-${JSON.stringify(overrides)}`;
    // One pipeline per class of segments (specialised to its constants) or the generic one, compiled in parallel.
    const pipelines = await Promise.all(
      plan.kernels.map((spec) => cachedPipeline(device, `${key}-${spec ? specKey(spec) : 'generic'}`, () => decodeKernelSource(lanes, groups, words, overrides, perGroup, spec), 'decode_chunks')),
    );
    const crcPipeline = (options.checkCrc ?? 'gpu') === 'gpu' ? await cachedPipeline(device, 'crc32c', () => kernelSource('crc32c.wgsl'), 'check_crcs') : undefined;
    return new GpuDecodeJob(device, plan, lanes, groups, groups * perGroup, pipelines, checkpoint.reader.source, crcPipeline);
  }

  /** Creates input slab `k` (mapped when `mapped`). */
  private createSlab(k: number, mapped: boolean): GPUBuffer {
    const U = BUFFER_USAGE;
    const b = this.device.createBuffer({ label: `wcodec input slab ${k}`, size: this.plan.slabSizes[k], usage: U.STORAGE | U.COPY_DST, mappedAtCreation: mapped });
    this.slabs[k] = b;
    return b;
  }

  private bindGroupFor(k: number): GPUBindGroup {
    if (this.bindGroups[k]) return this.bindGroups[k];
    const disp = this.plan.dispatches[k];
    const t = this.tables;
    const bg = this.device.createBindGroup({
      label: `wcodec decode dispatch ${k}`,
      layout: this.pipelines[disp.kernel].getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: this.slabs[disp.slab] } },
        { binding: 1, resource: { buffer: this.outputs[disp.output], offset: disp.windowOffset, size: disp.windowBytes } },
        { binding: 2, resource: { buffer: t.entries } },
        { binding: 3, resource: { buffer: t.meta } },
        { binding: 4, resource: { buffer: t.jobs } },
        { binding: 5, resource: { buffer: this.statusBuffer } },
        { binding: 6, resource: { buffer: t.params, offset: k * BINDING_ALIGN, size: 16 } },
      ],
    });
    this.bindGroups[k] = bg;
    return bg;
  }

  /** Records the CRC-32C checks of the chunks in input slab `slab` (all slabs when undefined), when the job has them. */
  encodeCrc(encoder: GPUCommandEncoder, slab?: number, timestampWrites?: GPUComputePassTimestampWrites): void {
    const crc = this.crc;
    if (!crc) return;
    const pass = encoder.beginComputePass({ label: 'wcodec CRC-32C', timestampWrites });
    pass.setPipeline(crc.pipeline);
    const maxX = this.device.limits.maxComputeWorkgroupsPerDimension;
    this.plan.crcDispatches.forEach((disp, k) => {
      if (slab !== undefined && disp.slab !== slab) return;
      crc.groups[k] ??= this.device.createBindGroup({
        label: `wcodec CRC dispatch ${k}`,
        layout: crc.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: this.slabs[disp.slab] } },
          { binding: 1, resource: { buffer: crc.jobs } },
          { binding: 2, resource: { buffer: this.statusBuffer } },
          { binding: 3, resource: { buffer: crc.params, offset: k * BINDING_ALIGN, size: 16 } },
        ],
      });
      pass.setBindGroup(0, crc.groups[k]);
      const x = Math.min(disp.jobCount, maxX);
      pass.dispatchWorkgroups(x, Math.ceil(disp.jobCount / x));
    });
    pass.end();
  }

  /** Records the dispatches that read input slab `slab` (all slabs when undefined) into one compute pass. */
  encodeDecode(encoder: GPUCommandEncoder, slab?: number, timestampWrites?: GPUComputePassTimestampWrites): void {
    const pass = encoder.beginComputePass({ label: 'wcodec decode', timestampWrites });
    const perWorkgroup = this.jobsPerWorkgroup;
    const maxX = this.device.limits.maxComputeWorkgroupsPerDimension;
    this.plan.dispatches.forEach((disp, k) => {
      if (slab !== undefined && disp.slab !== slab) return;
      const workgroups = Math.ceil(Math.min(disp.jobCount, this.jobLimit ?? disp.jobCount) / perWorkgroup);
      const x = Math.min(workgroups, maxX);
      pass.setPipeline(this.pipelines[disp.kernel]);
      pass.setBindGroup(0, this.bindGroupFor(k));
      pass.dispatchWorkgroups(x, Math.ceil(workgroups / x));
    });
    pass.end();
  }

  /**
   * Limits every dispatch to its first `count` jobs (benchmarks: time against the number of chunks in flight);
   * undefined restores all. Only for timing: the skipped chunks are not decoded.
   */
  limitJobs(count: number | undefined): void {
    const params = new Uint32Array((this.plan.dispatches.length * BINDING_ALIGN) / 4 || 4);
    const maxX = this.device.limits.maxComputeWorkgroupsPerDimension;
    this.jobLimit = count;
    this.plan.dispatches.forEach((disp, k) => {
      const jobs = Math.min(disp.jobCount, count ?? disp.jobCount);
      params.set([jobs, Math.min(Math.ceil(jobs / this.jobsPerWorkgroup), maxX), disp.jobStart, 0], (k * BINDING_ALIGN) / 4);
    });
    this.device.queue.writeBuffer(this.tables.params, 0, params);
  }

  private jobLimit: number | undefined;

  /** Clears the status words (before a decode). */
  encodeClearStatus(encoder: GPUCommandEncoder): void {
    encoder.clearBuffer(this.statusBuffer);
  }

  /** Reads bytes of `run` from the source into `target` (straight from a file when the source can). */
  private async readRun(run: UploadRun, target: Uint8Array, checkCrc: boolean): Promise<void> {
    const src = this.source as ByteSource & { readInto?: (offset: number, target: Uint8Array) => Promise<void> };
    if (src.readInto) await src.readInto(run.fileOffset, target);
    else target.set(await src.read(run.fileOffset, run.bytes));
    if (checkCrc) {
      for (const c of run.chunks) {
        const at = c.fileOffset - run.fileOffset;
        if (crc32c(target.subarray(at, at + c.bytes)) !== c.crc32c) {
          throw new ChecksumError('CORRUPT_CHUNK', `a chunk of ${c.bytes} bytes fails its CRC-32C`, { file: this.source.name, offset: c.fileOffset });
        }
      }
    }
  }

  /**
   * Uploads every slab with `method`, submitting each slab's decode as soon as its bytes are queued, so that
   * reading and copying the next slab overlaps decoding the previous one. Resolves when all work is submitted.
   */
  async uploadAndDecode(method: UploadMethod, checkCrc: boolean | 'gpu'): Promise<void> {
    const d = this.device;
    {
      const enc = d.createCommandEncoder({ label: 'wcodec clear status' });
      this.encodeClearStatus(enc);
      d.queue.submit([enc.finish()]);
    }
    const staging: { buffer: GPUBuffer; ready: Promise<void> }[] = [];
    let nextStaging = 0;
    try {
      await this.uploadSlabs(method, checkCrc === true, staging, () => {
        const k = nextStaging;
        nextStaging = (nextStaging + 1) % STAGING_BUFFERS;
        return k;
      });
      await Promise.all(staging.map((s) => s.ready));
    } finally {
      // Also on failure: no map request may outlive its buffer unobserved.
      await Promise.all(staging.map((s) => s.ready.catch(() => {})));
      for (const s of staging) s.buffer.destroy();
    }
  }

  private async uploadSlabs(method: UploadMethod, checkCrc: boolean, staging: { buffer: GPUBuffer; ready: Promise<void> }[], next: () => number): Promise<void> {
    const d = this.device;
    const U = BUFFER_USAGE;
    for (let k = 0; k < this.plan.slabSizes.length; k++) {
      const runs = this.plan.runs.filter((r) => r.slab === k);
      if (method === 'mapped') {
        const slab = this.createSlab(k, true);
        const view = new Uint8Array(slab.getMappedRange());
        for (const r of runs) await this.readRun(r, view.subarray(r.slabOffset, r.slabOffset + r.bytes), checkCrc);
        slab.unmap();
      } else if (method === 'write-buffer') {
        const slab = this.createSlab(k, false);
        for (const r of runs) {
          for (let o = 0; o < r.bytes; o += UPLOAD_PIECE_BYTES) {
            const len = Math.min(UPLOAD_PIECE_BYTES, r.bytes - o);
            const piece = new Uint8Array(Math.ceil(len / 4) * 4);
            await this.readRun({ ...r, fileOffset: r.fileOffset + o, bytes: len, chunks: [] }, piece.subarray(0, len), false);
            d.queue.writeBuffer(slab, r.slabOffset + o, piece as Uint8Array<ArrayBuffer>);
          }
          if (checkCrc) await this.checkRunCrc(r);
        }
      } else {
        const slab = this.createSlab(k, false);
        for (const r of runs) {
          // Staging buffers round-robin: fill one while the GPU copies from the others.
          for (let o = 0; o < r.bytes; o += UPLOAD_PIECE_BYTES) {
            const len = Math.min(UPLOAD_PIECE_BYTES, r.bytes - o);
            if (staging.length < STAGING_BUFFERS) {
              const buffer = d.createBuffer({ label: `wcodec staging ${staging.length}`, size: UPLOAD_PIECE_BYTES, usage: U.MAP_WRITE | U.COPY_SRC, mappedAtCreation: true });
              staging.push({ buffer, ready: Promise.resolve() });
            }
            const st = staging[next()];
            await st.ready;
            const view = new Uint8Array(st.buffer.getMappedRange(0, UPLOAD_PIECE_BYTES));
            await this.readRun({ ...r, fileOffset: r.fileOffset + o, bytes: len, chunks: [] }, view.subarray(0, len), false);
            st.buffer.unmap();
            const enc = d.createCommandEncoder({ label: 'wcodec staging copy' });
            enc.copyBufferToBuffer(st.buffer, 0, slab, r.slabOffset + o, Math.ceil(len / 4) * 4);
            d.queue.submit([enc.finish()]);
            st.ready = st.buffer.mapAsync(MAP_MODE.WRITE);
          }
          if (checkCrc) await this.checkRunCrc(r);
        }
      }
      const enc = d.createCommandEncoder({ label: `wcodec decode slab ${k}` });
      this.encodeCrc(enc, k);
      this.encodeDecode(enc, k);
      d.queue.submit([enc.finish()]);
    }
  }

  /** CRC check of a run re-read from the source (the write-buffer and staging paths do not keep the bytes). */
  private async checkRunCrc(r: UploadRun): Promise<void> {
    await this.readRun(r, new Uint8Array(r.bytes), true);
  }

  /**
   * Waits for the GPU, reads the status words and checks that every chunk decoded and met the end conditions.
   * @throws CORRUPT_CHUNK naming the first failed chunk; WcodecError LANE_LAYOUT problems surface as RangeError
   */
  async checkStatus(): Promise<void> {
    const d = this.device;
    const n = this.plan.origins.length;
    if (n === 0) {
      await d.queue.onSubmittedWorkDone();
      return;
    }
    const read = d.createBuffer({ label: 'wcodec status readback', size: n * 4, usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST });
    const enc = d.createCommandEncoder({ label: 'wcodec status readback' });
    enc.copyBufferToBuffer(this.statusBuffer, 0, read, 0, n * 4);
    d.queue.submit([enc.finish()]);
    await read.mapAsync(MAP_MODE.READ);
    const status = new Uint32Array(read.getMappedRange().slice(0));
    read.destroy();
    for (let k = 0; k < n; k++) {
      const s = status[k];
      if (s === STATUS_DONE) continue;
      const o = this.plan.origins[k];
      if (s & STATUS_CRC) {
        throw new ChecksumError('CORRUPT_CHUNK', `chunk ${o.chunk} of tensor '${o.tensor}' fails its CRC-32C (checked on the GPU)`, { file: this.source.name, offset: o.fileOffset });
      }
      if (s & STATUS_LANE_LAYOUT) throw new LaneLayoutError(`the adapter's subgroups are not laid out as 32 consecutive invocations (chunk ${o.chunk} of '${o.tensor}')`);
      const problems = STATUS_PROBLEMS.filter(([bit]) => s & bit).map(([, text]) => text);
      const what = (s & STATUS_DONE) === 0 ? 'was not decoded' : problems.join('; ');
      throw makeError('CORRUPT_CHUNK', `chunk ${o.chunk} of tensor '${o.tensor}' on the GPU: ${what} (status ${s})`, { file: this.source.name, offset: o.fileOffset });
    }
  }

  /** Copies `byteLength` bytes of output `k` at `offset` back to the host. */
  async readBack(k: number, offset: number, byteLength: number): Promise<Uint8Array> {
    const d = this.device;
    const size = Math.ceil(byteLength / 4) * 4;
    const start = Math.floor(offset / 4) * 4;
    const read = d.createBuffer({ label: 'wcodec readback', size: Math.max(4, size + 4), usage: BUFFER_USAGE.MAP_READ | BUFFER_USAGE.COPY_DST });
    const enc = d.createCommandEncoder({ label: 'wcodec readback' });
    const len = Math.min(Math.max(4, size + 4), this.plan.outputSizes[k] - start);
    enc.copyBufferToBuffer(this.outputs[k], start, read, 0, len);
    d.queue.submit([enc.finish()]);
    await read.mapAsync(MAP_MODE.READ);
    const out = new Uint8Array(read.getMappedRange(), offset - start, byteLength).slice();
    read.destroy();
    return out;
  }

  /** Frees the input slabs and tables (the outputs stay: they belong to the caller). */
  releaseInputs(): void {
    for (const s of this.slabs) s?.destroy();
    for (const b of Object.values(this.tables)) b.destroy();
    this.crc?.jobs.destroy();
    this.crc?.params.destroy();
    this.statusBuffer.destroy();
    this.bindGroups = [];
  }
}

/** The adapter's subgroups are not 32 consecutive invocations: decodeToGPU retries with the workgroup variant. */
class LaneLayoutError extends RangeError {}

/**
 * Decodes tensors of a checkpoint straight into GPU buffers. Each tensor's bytes land in one of the returned
 * buffers at a 256-byte aligned offset, exactly as the CPU path produces them. Every chunk is checked: its
 * CRC-32C on the GPU (on the host while uploading with `checkCrc: true`; not with false) and its rANS end
 * conditions on the GPU
 * (a status word per chunk), each tensor's SHA-256 after a readback (unless `checkDigests: false`), and its labels against
 * its file's stored safetensors header before anything is decoded.
 * @param checkpoint an open container (openContainer / openCheckpoint)
 * @param names tensor names (as Checkpoint.find resolves them)
 * @param device the GPU device to decode on; undefined: request one (navigator.gpu, or Dawn in Node)
 * @returns the GPU tensors, or, when no device can be had and the fallback is allowed, the tensors decoded
 *   on the CPU with the reason (`backend: 'cpu'`)
 * @throws NOT_FOUND, AMBIGUOUS_NAME, LABEL_MISMATCH, CORRUPT_CHUNK, CHECKSUM_MISMATCH, LIMIT_EXCEEDED; GPU_UNAVAILABLE when there is no device and `allowCpuFallback` is false
 */
export async function decodeToGPU(checkpoint: Checkpoint, names: string[], device?: GPUDevice, options: GpuDecodeOptions = {}): Promise<GpuDecodeResult> {
  const infos: TensorInfo[] = [];
  for (const name of names) infos.push(await checkpoint.find(name));
  // Labels first: a tensor is never decoded, on any device, under a name, dtype or shape its file does not give it.
  for (const info of infos) await checkpoint.checkLabels(info);
  let dev = device;
  if (!dev) {
    const got: DeviceResult = options.gpu === null ? { device: undefined, reason: 'no WebGPU entry point was given (gpu: null)' } : await requestDecodeDevice('wcodec decode', options.gpu);
    if (!got.device) {
      if (options.allowCpuFallback === false) throw new GpuUnavailableError('GPU_UNAVAILABLE', `no GPU for decoding: ${got.reason}`);
      const tensors: TensorData[] = [];
      for (const info of infos) tensors.push(await checkpoint.read(info.name, { reference: options.reference }));
      return { backend: 'cpu', reason: got.reason, tensors };
    }
    dev = got.device;
  }
  try {
    return await decodeOn(dev, checkpoint, infos, options);
  } catch (e) {
    if (!(e instanceof LaneLayoutError) || options.lanes === 'subgroup') throw e;
    return decodeOn(dev, checkpoint, infos, { ...options, lanes: 'workgroup' });
  }
}

/**
 * Decodes on the CPU the tensors the GPU kernel cannot (transformed, FORMAT.md §3.5, or with Huffman-coded planes, §5.4),
 * checks them and uploads each into a buffer of its own; the GPU decodes the others. Each such tensor says so.
 */
async function decodeOn(device: GPUDevice, checkpoint: Checkpoint, infos: TensorInfo[], options: GpuDecodeOptions): Promise<GpuDecodeResult> {
  const onGpu = infos.filter((info) => !cpuOnlyReason(checkpoint.segmentOf(info)));
  if (onGpu.length === infos.length) return decodeOnGpu(device, checkpoint, infos, options);
  const t0 = performance.now();
  const uploaded = new Map<TensorInfo, GpuTensor>();
  try {
    for (const info of infos) {
      const reason = cpuOnlyReason(checkpoint.segmentOf(info));
      if (!reason) continue;
      const { bytes } = await checkpoint.read(info.name, { reference: options.reference });
      // Buffer sizes are multiples of 4; the tensor is the first byteLength bytes.
      const buffer = device.createBuffer({ label: `wcodec CPU-decoded '${info.name}'`, size: Math.max(4, Math.ceil(bytes.length / 4) * 4), usage: BUFFER_USAGE.STORAGE | BUFFER_USAGE.COPY_SRC | BUFFER_USAGE.COPY_DST, mappedAtCreation: true });
      new Uint8Array(buffer.getMappedRange()).set(bytes);
      buffer.unmap();
      uploaded.set(info, { info, buffer, offset: 0, byteLength: bytes.length, cpuDecoded: `${info.transform ? `stored with transform '${info.transform}'` : reason}: decoded on the CPU and uploaded` });
    }
  } catch (e) {
    for (const t of uploaded.values()) t.buffer.destroy();
    throw e;
  }
  const cpuMs = performance.now() - t0;
  const own = [...uploaded.values()].map((t) => t.buffer);
  if (onGpu.length === 0) {
    return { backend: 'gpu', device, tensors: infos.map((i) => uploaded.get(i)!), buffers: own, lanes: options.lanes ?? chooseLanes(device), inputBytes: 0, outputBytes: 0, timings: { setupMs: cpuMs, uploadAndDecodeMs: 0, digestMs: 0 } };
  }
  let gpu: GpuDecodeResult;
  try {
    gpu = await decodeOnGpu(device, checkpoint, onGpu, options);
  } catch (e) {
    for (const b of own) b.destroy();
    throw e;
  }
  if (gpu.backend !== 'gpu') return gpu;
  const byInfo = new Map(gpu.tensors.map((t) => [t.info, t]));
  return { ...gpu, tensors: infos.map((i) => uploaded.get(i) ?? byInfo.get(i)!), buffers: [...gpu.buffers, ...own], timings: { ...gpu.timings, setupMs: gpu.timings.setupMs + cpuMs } };
}

async function decodeOnGpu(device: GPUDevice, checkpoint: Checkpoint, infos: TensorInfo[], options: GpuDecodeOptions): Promise<GpuDecodeResult> {
  const t0 = performance.now();
  const job = await GpuDecodeJob.create(device, checkpoint, infos, options);
  const t1 = performance.now();
  let ok = false;
  try {
    await job.uploadAndDecode(options.upload ?? 'staging', options.checkCrc ?? 'gpu');
    await job.checkStatus();
    ok = true;
  } finally {
    job.releaseInputs();
    if (!ok) for (const b of job.outputs) b.destroy();
  }
  const t2 = performance.now();
  const tensors: GpuTensor[] = job.plan.tensors.map((t, k) => ({ info: infos[k], buffer: job.outputs[t.output], offset: t.offset, byteLength: t.byteLength }));
  if (options.checkDigests !== false) {
    for (const t of job.plan.tensors) {
      const bytes = await job.readBack(t.output, t.offset, t.byteLength);
      const h = createSha256();
      h.update(bytes);
      if (!sameBytes(h.digest(), t.seg.sha256)) {
        for (const b of job.outputs) b.destroy();
        throw new ChecksumError('CHECKSUM_MISMATCH', `tensor '${t.name}' decodes on the GPU to bytes whose SHA-256 is not the recorded ${toHex(t.seg.sha256)}`, { file: checkpoint.reader.source.name });
      }
    }
  }
  const t3 = performance.now();
  return {
    backend: 'gpu',
    device,
    tensors,
    buffers: job.outputs,
    lanes: job.lanes,
    inputBytes: job.plan.inputBytes,
    outputBytes: job.plan.outputBytes,
    timings: { setupMs: t1 - t0, uploadAndDecodeMs: t2 - t1, digestMs: t3 - t2 },
  };
}
