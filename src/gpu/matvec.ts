// y = W·x on the GPU for a BF16 matrix W [rows, cols] of a .wcodec checkpoint, with W decoded inside the product
// (matvecFused: the coded bytes are read, the decoded matrix is never stored), and the same product over a decoded
// matrix (matvecDecoded). Both follow the summation order of matvec-order.wgsl for W's chunks, so they give the same
// bits for the same W and x.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUDevice } from './webgpu-types.js';
import type { Checkpoint } from '../api/checkpoint.js';
import type { UploadMethod } from './decode-options.js';
import { BUFFER_USAGE } from './adapter.js';
import { decodeToGPU } from './decode.js';
import { LaneLayoutError } from './chunk-status.js';
import type { LaneVariant } from './kernels.js';
import { CombinePass, DecodedProductPass } from './matvec-passes.js';
import { fusedUnavailableReason, MatvecFusedJob } from './matvec-fused-job.js';
import { matvecShape, partialSlots, type MatvecShape } from './matvec-shape.js';

/** Options of matvecFused. */
export interface MatvecFusedCallOptions {
  /** Lane variant of the fused kernel (default: 'subgroup' when the adapter has subgroups of exactly 32). */
  lanes?: LaneVariant;
  /** Groups of 32 invocations (chunks in flight) per workgroup in the subgroup variant, 1 to 8 (default 8). */
  chunksPerWorkgroup?: number;
  /** Chunks each group of 32 decodes one after another, 1 to 64 (default 1). */
  chunksPerGroup?: number;
  /** How the coded bytes are uploaded (default 'staging'). */
  upload?: UploadMethod;
}

/** The result of a product. */
export interface MatvecResult {
  /** y = W·x: `rows` f32 (a buffer of at least 4 bytes), owned by the caller. */
  y: GPUBuffer;
  rows: number;
  cols: number;
  /** The values per chunk that fixed the summation order (matvec-order.wgsl); matvecDecoded with them gives the same bits. */
  chunkValues: number;
  /** Whether W was decoded inside the product; false: decoded first (decodeToGPU), then multiplied, for `reason`. */
  fused: boolean;
  /** Why W was not decoded inside the product (fused false). */
  reason?: string;
  /** The fused kernel's lane variant (fused true). */
  lanes?: LaneVariant;
}

/** Options of matvecDecoded. */
export interface MatvecDecodedOptions {
  /** Byte offset of W in its buffer (a multiple of the device's minStorageBufferOffsetAlignment; default 0). */
  offset?: number;
  /** Values per chunk of the summation order (default: rows · cols, one chunk); W's chunkValues to match matvecFused. */
  chunkValues?: number;
}

const U = BUFFER_USAGE;

/** x as a storage buffer of cols f32: `x` itself, or an upload of it (then `owned`). */
function vectorBuffer(device: GPUDevice, x: GPUBuffer | Float32Array, cols: number): { buffer: GPUBuffer; owned: boolean } {
  if (x instanceof Float32Array) {
    if (x.length !== cols) throw new RangeError(`x has ${x.length} values; W has ${cols} columns`);
    const buffer = device.createBuffer({ label: 'wcodec matvec x', size: Math.max(4, cols * 4), usage: U.STORAGE | U.COPY_DST });
    device.queue.writeBuffer(buffer, 0, x as Float32Array<ArrayBuffer>);
    return { buffer, owned: true };
  }
  if ((x as { size: number }).size < cols * 4) throw new RangeError(`x is a buffer of ${(x as { size: number }).size} bytes; W's ${cols} columns need ${cols * 4}`);
  return { buffer: x, owned: false };
}

/** A buffer for y (rows f32, zeros). */
function vectorOut(device: GPUDevice, rows: number): GPUBuffer {
  return device.createBuffer({ label: 'wcodec matvec y', size: Math.max(4, rows * 4), usage: U.STORAGE | U.COPY_SRC | U.COPY_DST });
}

/**
 * y = W·x for the BF16 matrix W named `tensorName` in `checkpoint`, W decoded inside the product by the fused kernel
 * (matvec-fused.wgsl) when its segment is in the lean layout of format version 4; otherwise (tensors under 32 Ki
 * values, whose chunks use fewer lanes, layouts the lean kernel does not decode, and containers of versions 1-3)
 * decoded by decodeToGPU and multiplied as matvecDecoded does, which the result reports (fused false, with the
 * reason). Both give the bits matvecDecoded gives on the decoded W with the result's chunkValues. Every chunk is
 * checked before y is returned: its status word as in decodeToGPU and the digest of the values it decoded to
 * (decodeToGPU's checks when W was decoded first); W's labels against its file's header first.
 * @param x cols f32: an array, or a storage buffer holding them at offset 0
 * @throws NOT_FOUND, AMBIGUOUS_NAME, LABEL_MISMATCH, CORRUPT_CHUNK, CHECKSUM_MISMATCH, LIMIT_EXCEEDED; RangeError
 *   when W is not a BF16 matrix (rank 2) or x does not have cols values
 */
export async function matvecFused(device: GPUDevice, checkpoint: Checkpoint, tensorName: string, x: GPUBuffer | Float32Array, options: MatvecFusedCallOptions = {}): Promise<MatvecResult> {
  const info = await checkpoint.find(tensorName);
  if (info.dtype !== 'BF16' || info.shape.length !== 2) throw new RangeError(`tensor '${info.name}' is ${info.dtype} [${info.shape.join(', ')}]: the product takes a BF16 matrix`);
  await checkpoint.checkLabels(info);
  const seg = checkpoint.segmentOf(info);
  const [rows, cols] = info.shape;
  const shape = matvecShape(rows, cols, Math.max(1, seg.chunkValues));
  const xs = vectorBuffer(device, x, cols);
  try {
    if (rows * cols === 0) return { y: vectorOut(device, rows), rows, cols, chunkValues: shape.chunkValues, fused: false, reason: 'W has no values: y is zeros' };
    const reason = fusedUnavailableReason(seg, device);
    if (reason) return await decodeThenMultiply(device, checkpoint, tensorName, shape, xs.buffer, reason);
    try {
      return await fusedProduct(device, checkpoint, tensorName, shape, xs.buffer, options);
    } catch (e) {
      if (!(e instanceof LaneLayoutError) || options.lanes === 'subgroup') throw e;
      return await fusedProduct(device, checkpoint, tensorName, shape, xs.buffer, { ...options, lanes: 'workgroup' });
    }
  } finally {
    if (xs.owned) xs.buffer.destroy();
  }
}

/** The fused product: y is returned only when every chunk passed its checks. */
async function fusedProduct(device: GPUDevice, checkpoint: Checkpoint, name: string, shape: MatvecShape, x: GPUBuffer, options: MatvecFusedCallOptions): Promise<MatvecResult> {
  const info = await checkpoint.find(name);
  const job = await MatvecFusedJob.create(device, checkpoint, info, shape, { lanes: options.lanes, chunksPerWorkgroup: options.chunksPerWorkgroup, chunksPerGroup: options.chunksPerGroup });
  let combine: CombinePass | undefined;
  let partials: GPUBuffer | undefined;
  const y = vectorOut(device, shape.rows);
  let ok = false;
  try {
    combine = await CombinePass.create(device, shape);
    partials = device.createBuffer({ label: 'wcodec matvec partials', size: partialSlots(shape) * 4, usage: U.STORAGE });
    await job.upload(options.upload);
    const enc = device.createCommandEncoder({ label: 'wcodec fused matvec' });
    job.encodeClear(enc);
    const pass = enc.beginComputePass({ label: 'wcodec fused matvec' });
    job.record(pass, x, partials);
    combine.record(pass, partials, y);
    pass.end();
    device.queue.submit([enc.finish()]);
    await job.checkChunks();
    ok = true;
    return { y, rows: shape.rows, cols: shape.cols, chunkValues: shape.chunkValues, fused: true, lanes: job.lanes };
  } finally {
    job.destroy();
    combine?.destroy();
    partials?.destroy();
    if (!ok) y.destroy();
  }
}

/** W decoded by decodeToGPU (every check of its own), then multiplied by the product over decoded values. */
async function decodeThenMultiply(device: GPUDevice, checkpoint: Checkpoint, name: string, shape: MatvecShape, x: GPUBuffer, reason: string): Promise<MatvecResult> {
  const decoded = await decodeToGPU(checkpoint, [name], device, { allowCpuFallback: false });
  if (decoded.backend !== 'gpu') throw new RangeError(`tensor '${name}' was not decoded on the GPU: ${decoded.reason}`);
  try {
    const t = decoded.tensors[0];
    const y = await multiplyDecoded(device, t.buffer, t.offset, shape, x);
    return { y, rows: shape.rows, cols: shape.cols, chunkValues: shape.chunkValues, fused: false, reason };
  } finally {
    for (const b of decoded.buffers) b.destroy();
  }
}

/** Records and submits the product over decoded values and the sum of its partials; returns y. */
async function multiplyDecoded(device: GPUDevice, w: GPUBuffer, offset: number, shape: MatvecShape, x: GPUBuffer): Promise<GPUBuffer> {
  const product = await DecodedProductPass.create(device, shape);
  const combine = await CombinePass.create(device, shape);
  const partials = device.createBuffer({ label: 'wcodec matvec partials', size: partialSlots(shape) * 4, usage: U.STORAGE });
  const y = vectorOut(device, shape.rows);
  try {
    const enc = device.createCommandEncoder({ label: 'wcodec matvec over decoded values' });
    const pass = enc.beginComputePass({ label: 'wcodec matvec over decoded values' });
    product.record(pass, w, offset, x, partials);
    combine.record(pass, partials, y);
    pass.end();
    device.queue.submit([enc.finish()]);
  } finally {
    // Buffers still in use by submitted work are freed when it completes.
    product.destroy();
    combine.destroy();
    partials.destroy();
  }
  return y;
}

/**
 * y = W·x for a decoded BF16 matrix W [rows, cols] (row-major, little-endian, as decodeToGPU leaves it or as a
 * safetensors file holds it), in the summation order of matvec-order.wgsl for chunks of `chunkValues` values: with
 * W's own chunkValues (MatvecResult.chunkValues) it gives the bits matvecFused gives.
 * @param decodedW a storage buffer holding the rows · cols values at `offset` (the word of the last value whole)
 * @param x cols f32: an array, or a storage buffer holding them at offset 0
 * @returns y (fused false); the product is submitted, not awaited
 * @throws RangeError for a shape, offset or buffer out of range
 */
export async function matvecDecoded(device: GPUDevice, decodedW: GPUBuffer, rows: number, cols: number, x: GPUBuffer | Float32Array, options: MatvecDecodedOptions = {}): Promise<MatvecResult> {
  const shape = matvecShape(rows, cols, options.chunkValues ?? Math.max(1, rows * cols));
  const offset = options.offset ?? 0;
  const align = device.limits.minStorageBufferOffsetAlignment;
  if (!Number.isSafeInteger(offset) || offset < 0 || offset % align !== 0) throw new RangeError(`offset ${offset} is not a multiple of ${align}`);
  const need = offset + Math.ceil((rows * cols * 2) / 4) * 4;
  const size = (decodedW as { size: number }).size;
  if (size < need) throw new RangeError(`W is a buffer of ${size} bytes; ${rows} x ${cols} BF16 values at offset ${offset} need ${need}`);
  const xs = vectorBuffer(device, x, cols);
  try {
    const y = rows * cols === 0 ? vectorOut(device, rows) : await multiplyDecoded(device, decodedW, offset, shape, xs.buffer);
    return { y, rows, cols, chunkValues: shape.chunkValues, fused: false, reason: 'W was given decoded' };
  } finally {
    if (xs.owned) xs.buffer.destroy();
  }
}
