// The options and results of decodeToGPU (FORMAT.md §7.3: which checks a GPU decode runs and what it reports).
// Types only, so that every part of the GPU decode can name them without importing another part.

import type { GPU, GPUBuffer, GPUDevice } from './webgpu-types.js';
import type { TensorData, TensorInfo } from '../api/checkpoint.js';
import type { TensorReference } from '../format/tensor-reference.js';
import type { LaneVariant } from './kernels.js';

/** How compressed bytes reach the GPU. */
export type UploadMethod = 'mapped' | 'staging' | 'write-buffer';

/** Options of decodeToGPU. */
export interface GpuDecodeOptions {
  /** Decode on the CPU when no GPU device can be had (default true); the result says so. */
  allowCpuFallback?: boolean;
  /** The WebGPU entry point used when no device is given (default: navigator.gpu, else Dawn in Node); null: none. */
  gpu?: GPU | null;
  /**
   * Each chunk's CRC-32C (format versions 1-3): 'gpu' (default) with a kernel on the GPU (crc32c.wgsl: ~3 ms per GiB
   * on an H200), true on the host (re-reads each uploaded run: seconds per GiB), false not at all. rANS end conditions
   * and the padding bits of packed raw planes are always checked on the GPU. Chunks of format version 4 carry no
   * CRC-32C: their record holds a digest of the decoded bytes, which is always checked on the GPU after the chunk is
   * decoded (chunk-digest.wgsl, FORMAT.md §7.5), whatever this option says.
   */
  checkCrc?: boolean | 'gpu';
  /**
   * Read the decoded tensors back and check their SHA-256 (FORMAT.md §7.3), as the CPU decoder's option of the same
   * name: default on for containers of versions 1-3 (a chunk's CRC and rANS checks do not cover the bytes a damaged or
   * inconsistent index implies), off for version 4, whose chunk digests, checked on the GPU and bound to their
   * segment and place, cover every decoded byte. On costs a readback and a hash pass over every decoded byte
   * (~1.5 GB/s); it also compares each tensor with the SHA-256 recorded for it (what `sha256sum` of its bytes prints).
   */
  checkSha256?: boolean;
  /** false: the same as `checkSha256: false`; true: the same as `checkSha256: true`. `checkSha256` wins when both are given. */
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
  /**
   * Decode the segments of the common float layouts (one coded head plane, a raw head plane, raw byte planes, 32
   * lanes) with the lean kernel, decode-lean.wgsl (default true; used with specialised pipelines only). false: every
   * segment through decode.wgsl.
   */
  lean?: boolean;
  /** Replacement text for names in decode.wgsl (benchmarks only: e.g. WRITE_OUTPUT to time without stores). */
  kernelOverrides?: Record<string, string>;
  /** Bytes per input slab, the unit of upload/decode overlap (default 64 MiB). */
  inputSlabBytes?: number;
  /** Bytes per output buffer holding several tensors (default 1 GiB, capped by the device's limits). */
  outputSlabBytes?: number;
  /**
   * The reference checkpoint of a container with XOR deltas (FORMAT.md §3.5.2): each delta's reference tensor is read
   * from it, checked by its SHA-256 and uploaded into the tensor's place, where the decoded stream is XORed in.
   */
  reference?: TensorReference;
}

/** One decoded tensor on the GPU: its bytes are `buffer[offset, offset + byteLength)`, exactly the original bytes. */
export interface GpuTensor {
  info: TensorInfo;
  buffer: GPUBuffer;
  offset: number;
  byteLength: number;
  /**
   * Set when this tensor was decoded on the CPU and uploaded (a buffer of its own, offset 0), with the reason: the value
   * transforms QUANT_SCALE and INT_PREDICT (FORMAT.md §3.5.3) and Huffman-coded planes (§5.4) have no GPU kernel, a
   * ZERO_FLAGS tensor that is empty, has Huffman-coded streams, does not fit a storage binding or has a record its
   * inverse rejects is decoded on the CPU, and an XOR delta (§3.5.2) whose reference tensor is missing fails on the
   * CPU with the CPU's error. Absent: decoded on the GPU, DUPLICATE, XOR_DELTA and ZERO_FLAGS segments included.
   */
  cpuDecoded?: string;
}

/** Where the time went, in milliseconds of wall clock on the host. */
export interface GpuDecodeTimings {
  /** Planning and buffer creation (and the CPU decode of the tensors routed to the CPU). */
  setupMs: number;
  /**
   * From the first upload to the status readback: uploads overlapped with decoding, and the first input slab's upload
   * with compiling the pipelines and uploading the tables.
   */
  uploadAndDecodeMs: number;
  /**
   * The SHA-256 check (readback and hashing; 0 when it is off: `checkSha256`). The chunk digests of version 4, checked
   * on the GPU after each slab's decode, are part of uploadAndDecodeMs.
   */
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
