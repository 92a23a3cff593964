// ZERO_FLAGS's inverse on the GPU (zero-flags.wgsl, prefix-scan.wgsl; FORMAT.md §3.5.3.2): the flags counted per
// word, the counts scanned into the place of each word's first non-zero value, each tensor's bytes written from the
// flags and values streams (in windows where the tensor or its values stream is larger than a binding); then the checks of the CPU inverse that need the decoded flags (a flag past the last value,
// the values stream's size), read back and reported with the CPU's code and message.
/// <reference types="@webgpu/types" />

import type { GPUBuffer, GPUDevice } from './webgpu-types.js';
import { FormatError } from '../errors.js';
import { BUFFER_USAGE } from './adapter.js';
import { cachedPipeline, kernelSource } from './kernels.js';
import { BINDING_ALIGN } from './decode-plan.js';
import { placeBinding, type ComputeStep, type GpuPlace, type InverseWork } from './compute-steps.js';
import { planScanLevels, scanSteps } from './prefix-scan.js';
import { readBuffer } from './readback.js';

/** Invocations per workgroup of zero-flags.wgsl. */
const INVOCATIONS = 256;
/** Bytes of a tensor's check buffer: word 0 says a flag past n is set; the total of set flags at BINDING_ALIGN. */
const CHECK_BYTES = BINDING_ALIGN + 4;

export type { GpuPlace } from './compute-steps.js';

/** One ZERO_FLAGS tensor: its decoded streams and its place, `n` values of `W` bytes. */
export interface ZeroFlagsTensor {
  name: string;
  n: number;
  W: number;
  flags: GpuPlace;
  values: GpuPlace;
  out: GpuPlace;
  /** Where the segment lies in the container, for errors. */
  at: number;
}

/**
 * The recorded inverses of some ZERO_FLAGS tensors; `check` throws CORRUPT_TRANSFORM as the CPU inverse reports it: a
 * flag bit past the last value set, or a values stream that is not W bytes per set flag.
 */
export type ZeroFlagsWork = InverseWork;

const binding = placeBinding;

/** Values a window of the inverse's output starts at a multiple of: whole flag words, and 256-byte aligned bindings for any W. */
const WINDOW_VALUES = 2048;

/**
 * The windows of one tensor's inverse: output windows of `values` values each and values-stream windows of `bytes`
 * bytes, both within `maxBinding`; one window of each when the tensor and its values stream fit a binding.
 */
function inverseWindows(t: ZeroFlagsTensor, maxBinding: number): { values: number; bytes: number } {
  if (t.n * t.W <= maxBinding && t.values.bytes <= maxBinding) return { values: t.n, bytes: Math.max(4, t.values.bytes) };
  const values = Math.floor(maxBinding / (t.W * WINDOW_VALUES)) * WINDOW_VALUES;
  const bytes = Math.floor(maxBinding / BINDING_ALIGN) * BINDING_ALIGN;
  if (values === 0) throw new RangeError(`a binding of ${maxBinding} bytes cannot hold a window of the zero-flags inverse`);
  return { values, bytes };
}

/**
 * Plans the inverses of `tensors` (each with n ≥ 1 and its flags stream ⌈n / 8⌉ bytes, as transform-routes.ts checks).
 * A tensor or values stream larger than `maxBinding` is written in windows (zero-flags.wgsl): one dispatch per output
 * window and values window that can meet (a value's bytes lie at or before its own place in the tensor); the flags
 * and their counts are bound whole (an eighth of the values: at most MAX_TRANSFORM_BYTES / 8, within every device's
 * bindings).
 * @param maxBinding the largest binding to use (default: the device's)
 * @throws the device's GPUPipelineError when zero-flags.wgsl or prefix-scan.wgsl does not compile
 */
export async function zeroFlagsSteps(device: GPUDevice, tensors: ZeroFlagsTensor[], file: string, maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize)): Promise<ZeroFlagsWork> {
  const [count, inverse] = await Promise.all([
    cachedPipeline(device, 'zero-flags-count', () => kernelSource('zero-flags.wgsl'), 'count_flags'),
    cachedPipeline(device, 'zero-flags-inverse', () => kernelSource('zero-flags.wgsl'), 'zero_flags_inverse'),
  ]);
  const U = BUFFER_USAGE;
  const steps: ComputeStep[] = [];
  const buffers: GPUBuffer[] = [];
  const checks: GPUBuffer[] = [];
  try {
    // An empty values stream (all values zero) has no place to bind: a word of zeros stands in.
    let empty: GPUBuffer | undefined;
    for (const t of tensors) {
      const words = Math.ceil(t.n / 32);
      const levels = planScanLevels(words);
      const scan = device.createBuffer({ label: `wcodec zero-flags counts '${t.name}'`, size: levels.bytes, usage: U.STORAGE });
      buffers.push(scan);
      const check = device.createBuffer({ label: `wcodec zero-flags check '${t.name}'`, size: CHECK_BYTES, usage: U.STORAGE | U.COPY_SRC });
      buffers.push(check);
      checks.push(check);
      if (t.values.bytes === 0 && !empty) {
        empty = device.createBuffer({ label: 'wcodec zero-flags empty values', size: 4, usage: U.STORAGE });
        buffers.push(empty);
      }
      const params = (x: number) => [t.n, t.W, t.flags.bytes, t.values.bytes, x, 0, 0, Math.max(4, t.values.bytes)];
      const counts = { buffer: scan, offset: 0, size: 4 * words };
      steps.push({
        pipeline: count,
        entries: [{ binding: 0, resource: binding(t.flags) }, { binding: 1, resource: counts }, { binding: 2, resource: { buffer: check, offset: 0, size: 4 } }],
        paramBinding: 3,
        params,
        groups: Math.ceil(words / INVOCATIONS),
        label: `wcodec zero-flags count '${t.name}'`,
      });
      steps.push(...(await scanSteps(device, scan, levels, { buffer: check, offset: BINDING_ALIGN }, `wcodec zero-flags '${t.name}'`)));
      const win = inverseWindows(t, maxBinding);
      for (let v0 = 0; v0 < t.n; v0 += win.values) {
        const v1 = Math.min(t.n, v0 + win.values);
        const out = { buffer: t.out.buffer, offset: t.out.offset + v0 * t.W, size: Math.ceil(((v1 - v0) * t.W) / 4) * 4 };
        // Values windows that can hold a byte of this output window: those that start before its end.
        for (let a = 0; a === 0 || (a < t.values.bytes && a < v1 * t.W); a += win.bytes) {
          const values = t.values.bytes === 0 ? { buffer: empty!, offset: 0, size: 4 } : { buffer: t.values.buffer, offset: t.values.offset + a, size: Math.ceil(Math.min(win.bytes, t.values.bytes - a) / 4) * 4 };
          steps.push({
            pipeline: inverse,
            entries: [{ binding: 0, resource: binding(t.flags) }, { binding: 1, resource: counts }, { binding: 4, resource: values }, { binding: 5, resource: out }],
            paramBinding: 3,
            params: (x) => [t.n, t.W, t.flags.bytes, t.values.bytes, x, v0, a, values.size],
            groups: Math.ceil(out.size / 4 / INVOCATIONS),
            label: `wcodec zero-flags inverse '${t.name}' values ${v0}-${v1} from byte ${a}`,
          });
        }
      }
    }
  } catch (e) {
    for (const b of buffers) b.destroy();
    throw e;
  }
  const check = async (): Promise<void> => {
    for (const [k, t] of tensors.entries()) {
      const words = await readBuffer(device, checks[k], CHECK_BYTES, 0, CHECK_BYTES, `wcodec zero-flags check '${t.name}'`);
      const view = new DataView(words.buffer, words.byteOffset, words.byteLength);
      const bad = (problem: string): FormatError => new FormatError('CORRUPT_TRANSFORM', `zero-flags: ${problem}`, { file, offset: t.at });
      if (view.getUint32(0, true) !== 0) throw bad('flag bits past the last value are set');
      const nonZero = view.getUint32(BINDING_ALIGN, true);
      if (t.values.bytes !== nonZero * t.W) throw bad(`${t.values.bytes} value bytes for ${nonZero} non-zero values`);
    }
  };
  return { steps, buffers, check };
}
