// Builds NumPy `.npy` files (format 1.0, 2.0 or 3.0) byte for byte as numpy.save writes them: the magic, the version,
// the header length and the dict literal padded with spaces and a newline to a multiple of 64 bytes (FORMAT.md §4.8).
// For tests, test vectors, the data extractors and the generators of tools/.

/** What a `.npy` file holds. */
export interface NpySpec {
  /** The NumPy type string ('<f4', '|u1', '>f8', …) or, for a structured dtype, the list literal as text. */
  descr: string;
  shape: number[];
  data: Uint8Array;
  fortranOrder?: boolean;
  /** Format major version (default 1, as numpy.save writes whenever the header fits a 16-bit length). */
  version?: 1 | 2 | 3;
  /** The dict literal instead of the one numpy writes (for malformed files); padding and newline still added. */
  dict?: string;
  /** Total header alignment (default 64, what numpy writes; older numpy wrote 16). */
  align?: number;
}

/** The little-endian type string NumPy gives each dtype of FORMAT.md §4.1 that it has. */
export const NPY_DESCR: Readonly<Record<string, string>> = {
  F16: '<f2', F32: '<f4', F64: '<f8', I8: '|i1', I16: '<i2', I32: '<i4', I64: '<i8', U8: '|u1', U16: '<u2', U32: '<u4', U64: '<u8', BOOL: '|b1',
};

/** The dict literal numpy.save writes (its repr of the header dict). */
export function npyDict(descr: string, shape: number[], fortranOrder = false): string {
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  const d = descr.startsWith('[') ? descr : `'${descr}'`;
  return `{'descr': ${d}, 'fortran_order': ${fortranOrder ? 'True' : 'False'}, 'shape': ${tuple}, }`;
}

/** The bytes of a `.npy` file. */
export function buildNpy(spec: NpySpec): Uint8Array {
  const version = spec.version ?? 1;
  const dict = spec.dict ?? npyDict(spec.descr, spec.shape, spec.fortranOrder);
  const pre = version === 1 ? 10 : 12;
  const align = spec.align ?? 64;
  const pad = (align - ((pre + dict.length + 1) % align)) % align;
  const header = new TextEncoder().encode(dict + ' '.repeat(pad) + '\n');
  const out = new Uint8Array(pre + header.length + spec.data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, header.length, true);
  else dv.setUint32(8, header.length, true);
  out.set(header, pre);
  out.set(spec.data, pre + header.length);
  return out;
}

/** The bytes of a `.npy` file of little-endian float32 values of `shape`. */
export function float32Npy(values: Float32Array, shape: number[]): Uint8Array {
  return buildNpy({ descr: '<f4', shape, data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) });
}
