// The passes of y = W·x that read no coded bytes (matvec-order.wgsl): the product over a decoded BF16 matrix
// (matvec-decoded.wgsl) and the sum of the partials into y (matvec-combine.wgsl), recorded into a caller's compute
// pass, so that a pass can hold the fused kernel's dispatches and the sum, or a decode's output and its product.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUComputePipeline, GPUDevice } from './webgpu-types.js';
import { BUFFER_USAGE } from './adapter.js';
import { uploadWords } from './upload-words.js';
import { combinePipeline, decodedPipeline, COMBINE_ROWS_PER_WORKGROUP, DECODED_PIECES_PER_WORKGROUP } from './matvec-kernels.js';
import { piecesPerRow, type MatvecShape } from './matvec-shape.js';

/** `count` workgroups as an x × y grid within the device's limit per dimension. */
export function workgroupGrid(device: GPUDevice, count: number): [number, number] {
  const x = Math.max(1, Math.min(count, device.limits.maxComputeWorkgroupsPerDimension));
  return [x, Math.ceil(count / x)];
}

/** The sum of the partials into y for one shape (matvec-combine.wgsl). */
export class CombinePass {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    private readonly params: GPUBuffer,
    private readonly grid: [number, number],
  ) {}

  /** Compiles (or reuses) the pipeline. @throws RangeError for a matrix without values */
  static async create(device: GPUDevice, shape: MatvecShape): Promise<CombinePass> {
    if (shape.rows * shape.cols === 0) throw new RangeError('a matrix without values has no partials to add');
    const pipeline = await combinePipeline(device);
    const grid = workgroupGrid(device, Math.ceil(shape.rows / COMBINE_ROWS_PER_WORKGROUP));
    const params = uploadWords(device, 'wcodec matvec combine parameters', new Uint32Array([shape.rows, shape.cols, shape.chunkValues, grid[0]]), BUFFER_USAGE.UNIFORM);
    return new CombinePass(device, pipeline, params, grid);
  }

  /**
   * Records the sum into `pass`.
   * @param partials partialSlots(shape) f32, those of every (row, chunk) written
   * @param y rows f32
   */
  record(pass: GPUComputePassEncoder, partials: GPUBuffer, y: GPUBuffer): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.device.createBindGroup({
      label: 'wcodec matvec combine',
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: partials } },
        { binding: 1, resource: { buffer: y } },
        { binding: 2, resource: { buffer: this.params } },
      ],
    }));
    pass.dispatchWorkgroups(...this.grid);
  }

  /** Frees the parameters (the pipeline stays cached with its device). */
  destroy(): void {
    this.params.destroy();
  }
}

/** The product over a decoded BF16 matrix for one shape (matvec-decoded.wgsl), into the partials. */
export class DecodedProductPass {
  private constructor(
    private readonly device: GPUDevice,
    private readonly shape: MatvecShape,
    private readonly pipeline: GPUComputePipeline,
    private readonly params: GPUBuffer,
    private readonly grid: [number, number],
  ) {}

  /** Compiles (or reuses) the pipeline. @throws RangeError for a matrix without values */
  static async create(device: GPUDevice, shape: MatvecShape): Promise<DecodedProductPass> {
    if (shape.rows * shape.cols === 0) throw new RangeError('a matrix without values has no product to form');
    const pipeline = await decodedPipeline(device);
    const pieces = piecesPerRow(shape);
    const grid = workgroupGrid(device, Math.ceil((shape.rows * pieces) / DECODED_PIECES_PER_WORKGROUP));
    const params = uploadWords(device, 'wcodec matvec product parameters', new Uint32Array([shape.rows, shape.cols, shape.chunkValues, pieces, grid[0], 0, 0, 0]), BUFFER_USAGE.UNIFORM);
    return new DecodedProductPass(device, shape, pipeline, params, grid);
  }

  /**
   * Records the product into `pass`.
   * @param w the decoded matrix: rows · cols BF16 values at byte `offset` (a multiple of the device's
   *   minStorageBufferOffsetAlignment), the buffer holding the word of the last value whole
   * @param x cols f32
   * @param partials partialSlots(shape) f32
   */
  record(pass: GPUComputePassEncoder, w: GPUBuffer, offset: number, x: GPUBuffer, partials: GPUBuffer): void {
    const bytes = Math.ceil((this.shape.rows * this.shape.cols * 2) / 4) * 4;
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, this.device.createBindGroup({
      label: 'wcodec matvec product',
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: w, offset, size: bytes } },
        { binding: 1, resource: { buffer: x, size: this.shape.cols * 4 } },
        { binding: 2, resource: { buffer: partials } },
        { binding: 3, resource: { buffer: this.params } },
      ],
    }));
    pass.dispatchWorkgroups(...this.grid);
  }

  /** Frees the parameters (the pipeline stays cached with its device). */
  destroy(): void {
    this.params.destroy();
  }
}
