// The decoder's check that a GGUF member's tensor segments are labelled and placed as its stored header says
// (FORMAT.md §4.6 "Labels", §7.3): the tensor infos, in data order, are the tensor segments one for one, each at the
// member position its data offset gives.

import { GgufProblem, parseGgufHeader } from './read-header.js';
import type { LabelledSegment } from '../format/segment-labels.js';

/**
 * Compares a GGUF member's stored header (its first segment's bytes) with its other segments.
 * @param header the first segment's decoded bytes
 * @param rest the member's segments after the first, in record order
 * @returns the first disagreement, as text, or undefined when every tensor segment is the header's
 */
export function ggufLabelProblem(header: Uint8Array, rest: readonly LabelledSegment[]): string | undefined {
  let parsed;
  try {
    parsed = parseGgufHeader(header);
  } catch (e) {
    if (!(e instanceof GgufProblem)) throw e;
    return `the stored GGUF header does not parse at byte ${e.offset}: ${e.message}`;
  }
  if (parsed.headerEnd !== header.length) return `the GGUF header ends at byte ${parsed.headerEnd}, its segment holds ${header.length} bytes`;
  let at = header.length;
  let i = 0;
  for (const seg of rest) {
    const segAt = at;
    at += seg.originalBytes;
    if (seg.kind !== 'tensor') continue;
    const t = parsed.tensors[i++];
    const where = `tensor segment '${seg.name}' at member byte ${segAt}`;
    if (!t) return `${where}: the header lists ${parsed.tensors.length} tensors, the index more`;
    if (t.name !== seg.name) return `${where}: the header has tensor '${t.name}' there`;
    if (t.type.dtype !== seg.dtype) return `${where}: dtype ${seg.dtype} in the index, ${t.type.dtype} in the header`;
    if (t.shape.length !== seg.shape.length || t.shape.some((d, k) => d !== seg.shape[k])) return `${where}: shape [${seg.shape}] in the index, [${t.shape}] in the header`;
    if (parsed.dataStart + t.offset !== segAt || t.bytes !== seg.originalBytes) {
      return `${where}: ${seg.originalBytes} bytes in the index, ${t.bytes} bytes at member byte ${parsed.dataStart + t.offset} in the header`;
    }
  }
  if (i !== parsed.tensors.length) return `the header lists ${parsed.tensors.length} tensors, the index ${i}`;
  return undefined;
}
