// safetensors dtypes and their value widths (FORMAT.md §4.1). Unknown dtypes are kept as opaque bytes.

/** Bytes per value of each safetensors dtype that wcodec transforms. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  I64: 8,
  U64: 8,
  F64: 8,
};

/** Bytes per value of `dtype`, or undefined for a dtype wcodec does not know (stored as bytes). */
export function dtypeBytes(dtype: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype) ? DTYPE_BYTES[dtype] : undefined;
}
