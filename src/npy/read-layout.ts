// Splits a NumPy `.npy` file into its header and its data (FORMAT.md §4.8): the encoder's side. The header is read from
// a bounded prefix and parsed strictly; the data must fill the rest of the file exactly.

import { FormatError, LimitError } from '../errors.js';
import type { ByteSource } from '../io/byte-source.js';
import { MAX_NPY_HEADER_SEGMENT_BYTES, NpyProblem, parseNpyHeader } from './read-header.js';
import { arrayTensorName } from './array-name.js';

/** A `.npy` file's split: the header [0, headerEnd), then the array's data as one tensor, or none (data kept as bytes). */
export interface NpyLayout {
  headerEnd: number;
  /** The tensor over [headerEnd, file size), or undefined when the header's dtype is not stored as a tensor. */
  tensor: { name: string; dtype: string; shape: number[]; begin: number; end: number } | undefined;
  /** The header's 'descr', for messages. */
  descr: string | undefined;
}


/**
 * Reads and checks `source` as a `.npy` file of format 1.0, 2.0 or 3.0.
 * @param path the member path, which names the tensor (FORMAT.md §4.8)
 * @returns the header's extent and the tensor, if its dtype is one stored as a tensor
 * @throws BAD_NPY naming the file and the offset of the problem; LIMIT_EXCEEDED for a header above MAX_NPY_HEADER_BYTES or
 *   a shape beyond wcodec's bounds
 */
export async function readNpyLayout(source: ByteSource, path: string): Promise<NpyLayout> {
  const file = source.name;
  let header;
  try {
    header = parseNpyHeader(await source.read(0, Math.min(source.size, MAX_NPY_HEADER_SEGMENT_BYTES)));
  } catch (e) {
    if (!(e instanceof NpyProblem)) throw e;
    if (e.limit) throw new LimitError('LIMIT_EXCEEDED', e.message, { file, offset: e.offset });
    throw new FormatError('BAD_NPY', e.message, { file, offset: e.offset });
  }
  const { headerEnd, dtype, dataBytes, shape, fortranOrder, descr } = header;
  if (dtype === undefined || dataBytes === undefined) return { headerEnd, tensor: undefined, descr };
  if (headerEnd + dataBytes !== source.size) {
    const what = headerEnd + dataBytes > source.size ? 'the file ends before them' : `${source.size - headerEnd - dataBytes} bytes follow them`;
    throw new FormatError('BAD_NPY', `the header's ${descr} shape (${shape.join(', ')}) gives ${dataBytes} data bytes, and ${what}`, { file, offset: headerEnd });
  }
  // A Fortran-ordered array's bytes are, read in C order, its transpose: the segment's shape is the reversed shape.
  const segShape = fortranOrder ? [...shape].reverse() : shape;
  return { headerEnd, tensor: { name: arrayTensorName(path), dtype, shape: segShape, begin: headerEnd, end: source.size }, descr };
}
