// INT_PREDICT's inverse on the GPU (int-predict.wgsl; FORMAT.md §3.5.3.3): the predictors checked, the matrix rebuilt
// band by band as a wavefront (each value after its left, top and top-left neighbours), or a vector (one row) from the
// prefix sums of its residuals tile by tile, into a scratch buffer of one u32 per value, then packed into the tensor's
// place; the check of the CPU inverse that needs the decoded predictors (a
// predictor above 4) read back and reported with the CPU's code and message. The record's other checks come before, on
// the host (transform-routes.ts).
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUComputePipeline, GPUDevice } from './webgpu-types.js';
import { FormatError } from '../errors.js';
import { BUFFER_USAGE } from './adapter.js';
import { cachedPipeline, kernelSource } from './kernels.js';
import { placeBinding, type ComputeStep, type GpuPlace, type InverseWork } from './compute-steps.js';
import { readBuffer } from './readback.js';
import { BINDING_ALIGN } from './decode-plan.js';
import { planScanLevels, scanSteps } from './prefix-scan.js';

/** Invocations per workgroup of check_predictors and pack_values. */
const INVOCATIONS = 256;
/** Most rows of one wavefront band (predict_band's workgroup size): the device default of invocations per workgroup. */
const MAX_BAND_ROWS = 256;
/**
 * Wavefront steps per dispatch: bounds how long one dispatch runs (a band of a long row takes as many steps as the row
 * has values), so that no dispatch nears a driver's watchdog.
 */
const STEPS_PER_DISPATCH = 4096;
/** Bytes of a tensor's check buffer: word 0 the first tile with a predictor above 4 (as tiles − k); a vector's scan total at BINDING_ALIGN. */
const CHECK_BYTES = BINDING_ALIGN + 4;

/** One INT_PREDICT tensor: its decoded streams and its place, a `rows` × `cols` matrix of `W`-byte integers. */
export interface IntPredictTensor {
  name: string;
  rows: number;
  cols: number;
  tileRows: number;
  tileCols: number;
  W: 1 | 2 | 4;
  signed: boolean;
  predictors: GpuPlace;
  residuals: GpuPlace;
  out: GpuPlace;
  /** Where the segment lies in the container, for errors. */
  at: number;
}

/** The rows of a band for a matrix of `rows` rows: the power of two at or above it, at most MAX_BAND_ROWS (few pipelines). */
function bandRows(rows: number): number {
  let b = 1;
  while (b < rows && b < MAX_BAND_ROWS) b *= 2;
  return b;
}

/** int-predict.wgsl for bands of `band` rows: a barrier closes each wavefront step unless the band is one row. */
function bandSource(band: number): string {
  return kernelSource('int-predict.wgsl').split('BAND_ROWS').join(`${band}u`).split('STEP_BARRIER').join(band > 1 ? 'storageBarrier();' : '');
}

/** The wavefront pipeline for bands of `band` rows. */
function bandPipeline(device: GPUDevice, band: number): Promise<GPUComputePipeline> {
  return cachedPipeline(device, `int-predict-band-${band}`, () => bandSource(band), 'predict_band');
}

/**
 * Plans the inverses of `tensors` (each with rows, cols ≥ 1, streams of the sizes its record gives and a scratch of
 * 4 bytes per value within one binding, as transform-routes.ts checks): a matrix of several rows as a wavefront, a
 * vector from the prefix sums of its residuals.
 * @throws the device's GPUPipelineError when int-predict.wgsl does not compile
 */
export async function intPredictSteps(device: GPUDevice, tensors: IntPredictTensor[], file: string): Promise<InverseWork> {
  const source = (): string => bandSource(1);
  const [checkPipeline, pack, vectorResiduals, vectorCarry, vectorValues] = await Promise.all([
    cachedPipeline(device, 'int-predict-check', source, 'check_predictors'),
    cachedPipeline(device, 'int-predict-pack', source, 'pack_values'),
    cachedPipeline(device, 'int-predict-vector-residuals', source, 'vector_residuals'),
    cachedPipeline(device, 'int-predict-vector-carry', source, 'vector_carry'),
    cachedPipeline(device, 'int-predict-vector-values', source, 'vector_values'),
  ]);
  const U = BUFFER_USAGE;
  const steps: ComputeStep[] = [];
  const buffers: GPUBuffer[] = [];
  const checks: GPUBuffer[] = [];
  const tileCounts: number[] = [];
  try {
    for (const t of tensors) {
      const n = t.rows * t.cols;
      const tiles = Math.ceil(t.rows / t.tileRows) * Math.ceil(t.cols / t.tileCols);
      tileCounts.push(tiles);
      const values = device.createBuffer({ label: `wcodec int-predict values '${t.name}'`, size: 4 * n, usage: U.STORAGE });
      buffers.push(values);
      const check = device.createBuffer({ label: `wcodec int-predict check '${t.name}'`, size: CHECK_BYTES, usage: U.STORAGE | U.COPY_SRC });
      buffers.push(check);
      checks.push(check);
      const kind = t.W | (t.signed ? 256 : 0);
      const head = [t.rows, t.cols, t.tileRows, t.tileCols, kind];
      steps.push({
        pipeline: checkPipeline,
        entries: [{ binding: 0, resource: placeBinding(t.predictors) }, { binding: 4, resource: { buffer: check, offset: 0, size: 4 } }],
        paramBinding: 3,
        params: (x) => [...head, x, tiles, 0],
        groups: Math.ceil(tiles / INVOCATIONS),
        label: `wcodec int-predict check '${t.name}'`,
      });
      const valuesBinding = { buffer: values, offset: 0, size: 4 * n };
      if (t.rows === 1) {
        // A vector: the prefix sums of its signed residuals, the carry into each tile, then every value at once.
        const levels = planScanLevels(n);
        const scan = device.createBuffer({ label: `wcodec int-predict sums '${t.name}'`, size: levels.bytes, usage: U.STORAGE });
        buffers.push(scan);
        const carry = device.createBuffer({ label: `wcodec int-predict carries '${t.name}'`, size: 4 * tiles, usage: U.STORAGE });
        buffers.push(carry);
        const sums = { buffer: scan, offset: 0, size: 4 * n };
        const groups = Math.ceil(n / INVOCATIONS);
        steps.push({
          pipeline: vectorResiduals,
          entries: [{ binding: 1, resource: placeBinding(t.residuals) }, { binding: 6, resource: sums }],
          paramBinding: 3,
          params: (x) => [...head, x, 0, 0],
          groups,
          label: `wcodec int-predict residuals '${t.name}'`,
        });
        steps.push(...(await scanSteps(device, scan, levels, { buffer: check, offset: BINDING_ALIGN }, `wcodec int-predict '${t.name}'`)));
        const all = [{ binding: 0, resource: placeBinding(t.predictors) }, { binding: 1, resource: placeBinding(t.residuals) }, { binding: 2, resource: valuesBinding }, { binding: 6, resource: sums }, { binding: 7, resource: { buffer: carry, offset: 0, size: 4 * tiles } }];
        steps.push({ pipeline: vectorCarry, entries: all, paramBinding: 3, params: (x) => [...head, x, 0, 0], groups: 1, label: `wcodec int-predict carries '${t.name}'` });
        steps.push({ pipeline: vectorValues, entries: all, paramBinding: 3, params: (x) => [...head, x, 0, 0], groups, label: `wcodec int-predict values '${t.name}'` });
      }
      const band = bandRows(t.rows);
      const wave = t.rows === 1 ? undefined : await bandPipeline(device, band);
      for (let b = 0; wave && b * band < t.rows; b++) {
        const total = t.cols + Math.min(band, t.rows - b * band) - 1;
        for (let k0 = 0; k0 < total; k0 += STEPS_PER_DISPATCH) {
          const k1 = Math.min(total, k0 + STEPS_PER_DISPATCH);
          steps.push({
            pipeline: wave,
            entries: [{ binding: 0, resource: placeBinding(t.predictors) }, { binding: 1, resource: placeBinding(t.residuals) }, { binding: 2, resource: valuesBinding }],
            paramBinding: 3,
            params: () => [...head, b, k0, k1],
            groups: 1,
            label: `wcodec int-predict band ${b} steps ${k0}-${k1} '${t.name}'`,
          });
        }
      }
      steps.push({
        pipeline: pack,
        entries: [{ binding: 2, resource: valuesBinding }, { binding: 5, resource: placeBinding(t.out) }],
        paramBinding: 3,
        params: (x) => [...head, x, 0, 0],
        groups: Math.ceil(Math.ceil((n * t.W) / 4) / INVOCATIONS),
        label: `wcodec int-predict pack '${t.name}'`,
      });
    }
  } catch (e) {
    for (const b of buffers) b.destroy();
    throw e;
  }
  const check = async (): Promise<void> => {
    for (const [k, t] of tensors.entries()) {
      const words = await readBuffer(device, checks[k], CHECK_BYTES, 0, CHECK_BYTES, `wcodec int-predict check '${t.name}'`);
      const firstBad = new DataView(words.buffer, words.byteOffset, words.byteLength).getUint32(0, true);
      if (firstBad === 0) continue;
      const tile = tileCounts[k] - firstBad;
      const [p] = await readBuffer(device, t.predictors.buffer, t.predictors.buffer.size, t.predictors.offset + tile, 1, `wcodec int-predict predictor '${t.name}'`);
      throw new FormatError('CORRUPT_TRANSFORM', `int-predict: predictor ${p} of tile ${tile} is not 0-4`, { file, offset: t.at });
    }
  };
  return { steps, buffers, check };
}
