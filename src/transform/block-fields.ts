// Block-structured tensors (FORMAT.md §3.5.3.4, transform BLOCK_FIELDS): a tensor of fixed-size blocks, each the same
// fields in the same order (a GGUF Q8_0 block: an F16 scale, then 32 int8 codes), stored as one stream per field, so
// scales are coded as floats and codes as bytes instead of interleaved.

import { FormatError } from '../errors.js';
import { MAX_TRANSFORM_STREAMS } from '../format/constants.js';
import type { SegmentTransform, TransformCandidate } from './segment-transform.js';

/** Transform code of BLOCK_FIELDS (FORMAT.md §3.5.3.4). */
export const TRANSFORM_BLOCK_FIELDS = 6;

/** One field of a block: its size and the dtype its stream is coded as (the encoder's choice of plane layouts). */
interface Field {
  bytes: number;
  dtype: string;
}

const f16 = (n: number): Field => ({ bytes: 2 * n, dtype: 'F16' });
const u8 = (n: number): Field => ({ bytes: n, dtype: 'U8' });
const i8 = (n: number): Field => ({ bytes: n, dtype: 'I8' });

/**
 * The fields of the GGUF block types the encoder splits (ggml's block_* structs, fields of one kind merged where they
 * are adjacent). A dtype not listed here is never split.
 */
const BLOCK_FIELDS: Readonly<Record<string, readonly Field[]>> = {
  Q4_0: [f16(1), u8(16)],
  Q4_1: [f16(2), u8(16)],
  Q5_0: [f16(1), u8(4), u8(16)],
  Q5_1: [f16(2), u8(4), u8(16)],
  Q8_0: [f16(1), i8(32)],
  Q2_K: [u8(16), u8(64), f16(2)],
  Q3_K: [u8(32), u8(64), u8(12), f16(1)],
  Q4_K: [f16(2), u8(12), u8(128)],
  Q5_K: [f16(2), u8(12), u8(32), u8(128)],
  Q6_K: [u8(128), u8(64), i8(16), f16(1)],
  IQ4_NL: [f16(1), u8(16)],
};

/** The size of one block of `dtype` when the encoder splits it, else undefined. */
export function blockFieldsBytes(dtype: string): number | undefined {
  return BLOCK_FIELDS[dtype]?.reduce((a, f) => a + f.bytes, 0);
}

/** The params of BLOCK_FIELDS: `u8` version 0, `u8` field count F, then F `u16` field sizes (little-endian). */
function writeParams(fields: readonly Field[]): Uint8Array {
  const params = new Uint8Array(2 + 2 * fields.length);
  params[1] = fields.length;
  fields.forEach((f, k) => {
    params[2 + 2 * k] = f.bytes & 0xff;
    params[3 + 2 * k] = f.bytes >>> 8;
  });
  return params;
}

/**
 * BLOCK_FIELDS: with field sizes b_0 … b_{F-1} and blocks of B = Σ b_k bytes, stream k holds bytes [o_k, o_k + b_k) of
 * every block in order (o_k = b_0 + … + b_{k-1}); the inverse interleaves them back.
 */
export const blockFieldsTransform: SegmentTransform = {
  code: TRANSFORM_BLOCK_FIELDS,
  name: 'block-fields',

  forward(data: Uint8Array, dtype: string): TransformCandidate | undefined {
    const fields = BLOCK_FIELDS[dtype];
    const blockBytes = blockFieldsBytes(dtype);
    if (!fields || !blockBytes || data.length === 0 || data.length % blockBytes !== 0) return undefined;
    const blocks = data.length / blockBytes;
    let o = 0;
    const streams = fields.map((f) => {
      const bytes = new Uint8Array(blocks * f.bytes);
      for (let b = 0, src = o; b < blocks; b++, src += blockBytes) bytes.set(data.subarray(src, src + f.bytes), b * f.bytes);
      o += f.bytes;
      return { bytes, dtype: f.dtype, valueBytes: f.dtype === 'F16' ? 2 : 1 };
    });
    return { code: TRANSFORM_BLOCK_FIELDS, params: writeParams(fields), streams };
  },

  inverse(params, streams, _dtype, _shape, out, where): void {
    const bad = (problem: string): FormatError => new FormatError('CORRUPT_TRANSFORM', `block-fields: ${problem}`, { file: where.file, offset: where.offset });
    if (params.length < 2) throw bad(`params are ${params.length} bytes, at least 2 are needed`);
    if (params[0] !== 0) throw bad(`params version ${params[0]}, not 0`);
    const count = params[1];
    if (count === 0 || count > MAX_TRANSFORM_STREAMS) throw bad(`${count} fields, not 1 to ${MAX_TRANSFORM_STREAMS}`);
    if (params.length !== 2 + 2 * count) throw bad(`params are ${params.length} bytes, ${2 + 2 * count} for ${count} fields`);
    const sizes: number[] = [];
    for (let k = 0; k < count; k++) {
      const b = params[2 + 2 * k] | (params[3 + 2 * k] << 8);
      if (b === 0) throw bad(`field ${k} has 0 bytes`);
      sizes.push(b);
    }
    const blockBytes = sizes.reduce((a, b) => a + b, 0);
    if (out.length % blockBytes !== 0) throw bad(`${out.length} bytes are not whole blocks of ${blockBytes}`);
    const blocks = out.length / blockBytes;
    if (streams.length !== count) throw bad(`${streams.length} streams for ${count} fields`);
    let o = 0;
    sizes.forEach((b, k) => {
      const st = streams[k];
      if (st.length !== blocks * b) throw bad(`stream ${k} holds ${st.length} bytes, ${blocks * b} for ${blocks} blocks of a ${b}-byte field`);
      for (let i = 0, dst = o; i < blocks; i++, dst += blockBytes) out.set(st.subarray(i * b, i * b + b), dst);
      o += b;
    });
  },
};
