// The decoder's checks that a NumPy array member's or a raw array member's tensor segment carries the labels its
// stored header or its member gives it (FORMAT.md §4.8 and §4.9 "Labels", §7.3).

import { NpyProblem, parseNpyHeader } from './read-header.js';
import { arrayTensorName } from './array-name.js';
import type { LabelledSegment } from '../format/segment-labels.js';
import { dtypeBytes } from '../transform/dtypes.js';

/**
 * Compares a `.npy` member's stored header (its first segment's bytes) with its other segments.
 * @param path the member path, which names the tensor
 * @param header the first segment's decoded bytes
 * @param rest the member's segments after the first, in record order
 * @returns the first disagreement, as text, or undefined when the one tensor segment is the header's array
 */
export function npyLabelProblem(path: string, header: Uint8Array, rest: readonly LabelledSegment[]): string | undefined {
  let parsed;
  try {
    parsed = parseNpyHeader(header);
  } catch (e) {
    if (!(e instanceof NpyProblem)) throw e;
    return `the stored .npy header does not parse at byte ${e.offset}: ${e.message}`;
  }
  if (parsed.headerEnd !== header.length) return `the .npy header ends at byte ${parsed.headerEnd}, its segment holds ${header.length} bytes`;
  if (parsed.dtype === undefined) return `the stored header's descr ${parsed.descr === undefined ? '(a list)' : `'${parsed.descr}'`} is not stored as a tensor`;
  if (rest.length !== 1 || rest[0].kind !== 'tensor') return `the member has ${rest.length} segments after its header, not one tensor segment`;
  const seg = rest[0];
  const shape = parsed.fortranOrder ? [...parsed.shape].reverse() : parsed.shape;
  const where = `tensor segment '${seg.name}'`;
  if (seg.name !== arrayTensorName(path)) return `${where}: the member's array is named '${arrayTensorName(path)}'`;
  if (seg.dtype !== parsed.dtype) return `${where}: dtype ${seg.dtype} in the index, ${parsed.dtype} ('${parsed.descr}') in the header`;
  if (seg.shape.length !== shape.length || seg.shape.some((d, k) => d !== shape[k])) {
    return `${where}: shape [${seg.shape}] in the index, [${shape}] in the header${parsed.fortranOrder ? ' (Fortran order, reversed)' : ''}`;
  }
  if (seg.originalBytes !== parsed.dataBytes) return `${where}: ${seg.originalBytes} bytes in the index, ${parsed.dataBytes} in the header`;
  return undefined;
}

/**
 * Checks a raw array member's segments: one tensor segment of a known dtype, named after the member.
 * @returns the first problem, as text, or undefined
 */
export function rawArrayLabelProblem(path: string, segments: readonly LabelledSegment[]): string | undefined {
  if (segments.length !== 1 || segments[0].kind !== 'tensor') return `a raw array member has ${segments.length} segments, not one tensor segment`;
  const seg = segments[0];
  if (dtypeBytes(seg.dtype) === undefined) return `tensor segment '${seg.name}': dtype '${seg.dtype}' is not one of the known dtypes`;
  if (seg.name !== arrayTensorName(path)) return `tensor segment '${seg.name}': the member's array is named '${arrayTensorName(path)}'`;
  return undefined;
}
