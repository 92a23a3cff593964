// Sparse tensors (FORMAT.md §3.5.3.2, transform ZERO_FLAGS): a bitmap of the non-zero values (all-zero bytes are
// "zero"; -0.0 is not) and the non-zero values themselves, in order. The flags carry the zeros at about the entropy of
// the zero pattern, and the values' planes no longer pay for the zeros among them.

import { FormatError } from '../errors.js';
import { dtypeBytes } from './dtypes.js';
import type { SegmentTransform, TransformCandidate } from './segment-transform.js';

/** Transform code of ZERO_FLAGS (FORMAT.md §3.5.3.2). */
export const TRANSFORM_ZERO_FLAGS = 4;
/** Below this fraction of zero values the flags cannot pay for themselves: forward declines. */
const MIN_ZERO_FRACTION = 1 / 8;

/** Values sampled before a whole tensor is scanned. */
const SAMPLE_VALUES = 4096;

/** Whether value i (of W bytes) is all zero bytes. */
function isZero(data: Uint8Array, i: number, W: number): boolean {
  for (let k = i * W; k < (i + 1) * W; k++) if (data[k] !== 0) return false;
  return true;
}

/**
 * ZERO_FLAGS: stream 0 is a bitmap of ceil(n / 8) bytes, bit i % 8 (least significant first) of byte i / 8 set when
 * value i is not zero; stream 1 holds the non-zero values in order. The inverse puts them back and zeros the rest.
 */
export const zeroFlagsTransform: SegmentTransform = {
  code: TRANSFORM_ZERO_FLAGS,
  name: 'zero-flags',

  forward(data: Uint8Array, dtype: string): TransformCandidate | undefined {
    const W = dtypeBytes(dtype) ?? 1;
    if (data.length === 0 || data.length % W !== 0) return undefined;
    const n = data.length / W;
    // Dense tensors (most weights) are declined from an evenly spaced sample of SAMPLE_VALUES values, without a scan
    // of the whole tensor (which cost ~14% of compressing dense BF16): fewer than half the needed zeros in the sample.
    if (n > SAMPLE_VALUES) {
      let zeros = 0;
      for (let j = 0; j < SAMPLE_VALUES; j++) if (isZero(data, Math.floor((j * n) / SAMPLE_VALUES), W)) zeros++;
      if (zeros < (SAMPLE_VALUES * MIN_ZERO_FRACTION) / 2) return undefined;
    }
    const flags = new Uint8Array(Math.ceil(n / 8));
    let nonZero = 0;
    for (let i = 0; i < n; i++) {
      if (!isZero(data, i, W)) {
        flags[i >>> 3] |= 1 << (i & 7);
        nonZero++;
      }
    }
    if (n - nonZero < n * MIN_ZERO_FRACTION) return undefined;
    const values = new Uint8Array(nonZero * W);
    for (let i = 0, k = 0; i < n; i++) {
      if (flags[i >>> 3] & (1 << (i & 7))) {
        for (let b = 0; b < W; b++) values[k * W + b] = data[i * W + b];
        k++;
      }
    }
    return {
      code: TRANSFORM_ZERO_FLAGS,
      params: new Uint8Array(0),
      streams: [
        { bytes: flags, dtype: 'U8', valueBytes: 1 },
        { bytes: values, dtype, valueBytes: W },
      ],
    };
  },

  inverse(params, streams, dtype, _shape, out, where): void {
    const bad = (problem: string): FormatError => new FormatError('CORRUPT_TRANSFORM', `zero-flags: ${problem}`, { file: where.file, offset: where.offset });
    const W = dtypeBytes(dtype) ?? 1;
    if (params.length !== 0) throw bad(`params are ${params.length} bytes, not 0`);
    if (out.length % W !== 0) throw bad(`${out.length} bytes are not whole ${dtype} values`);
    if (streams.length !== 2) throw bad(`${streams.length} streams, not 2`);
    const n = out.length / W;
    const [flags, values] = streams;
    if (flags.length !== Math.ceil(n / 8)) throw bad(`${flags.length} flag bytes for ${n} values`);
    if (n % 8 !== 0 && flags[flags.length - 1] >>> (n % 8) !== 0) throw bad('flag bits past the last value are set');
    let nonZero = 0;
    for (const b of flags) {
      let x = b;
      while (x) {
        x &= x - 1;
        nonZero++;
      }
    }
    if (values.length !== nonZero * W) throw bad(`${values.length} value bytes for ${nonZero} non-zero values`);
    out.fill(0);
    for (let i = 0, k = 0; i < n; i++) {
      if (flags[i >>> 3] & (1 << (i & 7))) {
        for (let b = 0; b < W; b++) out[i * W + b] = values[k * W + b];
        k++;
      }
    }
  },
};
