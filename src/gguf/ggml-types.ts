// The ggml tensor types a GGUF file may hold (FORMAT.md §4.6, "Tensor types"): each type's code, the dtype name its
// tensor segments carry, and its block: values per block and bytes per block. A tensor of a type not listed here is
// not split.

/** One ggml tensor type. */
export interface GgmlType {
  /** The `ggml_type` code in a GGUF tensor info. */
  code: number;
  /** The dtype of the tensor segment (the safetensors name for plain types, the ggml name in capitals for blocks). */
  dtype: string;
  /** Values per block (1 for plain types). */
  blockValues: number;
  /** Bytes per block. */
  blockBytes: number;
}

const TYPES: GgmlType[] = [
  { code: 0, dtype: 'F32', blockValues: 1, blockBytes: 4 },
  { code: 1, dtype: 'F16', blockValues: 1, blockBytes: 2 },
  { code: 2, dtype: 'Q4_0', blockValues: 32, blockBytes: 18 },
  { code: 3, dtype: 'Q4_1', blockValues: 32, blockBytes: 20 },
  { code: 6, dtype: 'Q5_0', blockValues: 32, blockBytes: 22 },
  { code: 7, dtype: 'Q5_1', blockValues: 32, blockBytes: 24 },
  { code: 8, dtype: 'Q8_0', blockValues: 32, blockBytes: 34 },
  { code: 9, dtype: 'Q8_1', blockValues: 32, blockBytes: 36 },
  { code: 10, dtype: 'Q2_K', blockValues: 256, blockBytes: 84 },
  { code: 11, dtype: 'Q3_K', blockValues: 256, blockBytes: 110 },
  { code: 12, dtype: 'Q4_K', blockValues: 256, blockBytes: 144 },
  { code: 13, dtype: 'Q5_K', blockValues: 256, blockBytes: 176 },
  { code: 14, dtype: 'Q6_K', blockValues: 256, blockBytes: 210 },
  { code: 15, dtype: 'Q8_K', blockValues: 256, blockBytes: 292 },
  { code: 16, dtype: 'IQ2_XXS', blockValues: 256, blockBytes: 66 },
  { code: 17, dtype: 'IQ2_XS', blockValues: 256, blockBytes: 74 },
  { code: 18, dtype: 'IQ3_XXS', blockValues: 256, blockBytes: 98 },
  { code: 19, dtype: 'IQ1_S', blockValues: 256, blockBytes: 50 },
  { code: 20, dtype: 'IQ4_NL', blockValues: 32, blockBytes: 18 },
  { code: 21, dtype: 'IQ3_S', blockValues: 256, blockBytes: 110 },
  { code: 22, dtype: 'IQ2_S', blockValues: 256, blockBytes: 82 },
  { code: 23, dtype: 'IQ4_XS', blockValues: 256, blockBytes: 136 },
  { code: 24, dtype: 'I8', blockValues: 1, blockBytes: 1 },
  { code: 25, dtype: 'I16', blockValues: 1, blockBytes: 2 },
  { code: 26, dtype: 'I32', blockValues: 1, blockBytes: 4 },
  { code: 27, dtype: 'I64', blockValues: 1, blockBytes: 8 },
  { code: 28, dtype: 'F64', blockValues: 1, blockBytes: 8 },
  { code: 29, dtype: 'IQ1_M', blockValues: 256, blockBytes: 56 },
  { code: 30, dtype: 'BF16', blockValues: 1, blockBytes: 2 },
  { code: 34, dtype: 'TQ1_0', blockValues: 256, blockBytes: 54 },
  { code: 35, dtype: 'TQ2_0', blockValues: 256, blockBytes: 66 },
  { code: 39, dtype: 'MXFP4', blockValues: 32, blockBytes: 17 },
];

const BY_CODE = new Map(TYPES.map((t) => [t.code, t]));

/** The ggml type of `code`, or undefined for a code FORMAT.md §4.6 does not list. */
export function ggmlType(code: number): GgmlType | undefined {
  return BY_CODE.get(code);
}

/** Every listed type, by code. */
export const GGML_TYPES: readonly GgmlType[] = TYPES;
