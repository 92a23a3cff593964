// The decoder's check that a safetensors member's tensor segments are labelled as its own stored header says
// (FORMAT.md §4.4 "Labels", §7.3): same names, dtypes, shapes, sizes and order, so a tensor is never presented
// under a label its file does not give it.

import { MAX_RANK, MAX_SAFETENSORS_HEADER_BYTES, MAX_SEGMENTS } from '../format/constants.js';
import { JsonProblem, parseStrictJson, type JsonObject, type JsonValue } from './strict-json.js';

/** The labels of one tensor segment, in member order. */
export interface LabelledTensor {
  kind: 'tensor' | 'bytes';
  name: string;
  dtype: string;
  shape: number[];
  originalBytes: number;
}

/** Largest header segment a safetensors member can have: the 8-byte length and a header at the safetensors cap. */
export const MAX_HEADER_SEGMENT_BYTES = 8 + MAX_SAFETENSORS_HEADER_BYTES;

/** One tensor entry as the header gives it, with its position among the entries. */
interface HeaderEntry {
  name: string;
  dtype: JsonValue;
  shape: JsonValue;
  begin: JsonValue;
  end: JsonValue;
  k: number;
}

/**
 * Compares a safetensors member's stored header (its first segment's bytes: the 8-byte length N and N bytes of
 * JSON) with the labels of the member's other segments. The header's tensors, ordered by (begin, end, position in
 * the header) as FORMAT.md §4.4 rule 7 orders them, must be the segments one for one: the same name, dtype and
 * shape, and data offsets [begin, end) equal to where the segment lies after the header. Only what the labels
 * need is read from the header; its other rules were the encoder's to check.
 * @param header the first segment's decoded bytes
 * @param tensors the member's segments after the first
 * @returns the first disagreement, as text, or undefined when the labels are the header's
 */
export function headerLabelProblem(header: Uint8Array, tensors: readonly LabelledTensor[]): string | undefined {
  if (header.length < 8) return `a ${header.length}-byte first segment cannot hold the safetensors header length`;
  const dv = new DataView(header.buffer, header.byteOffset, 8);
  const n = dv.getUint32(4, true) * 2 ** 32 + dv.getUint32(0, true);
  if (n !== header.length - 8) return `the header length field says ${n} bytes, the first segment holds ${header.length - 8} after it`;
  if (n > MAX_SAFETENSORS_HEADER_BYTES) return `a header of ${n} bytes, above the safetensors limit of ${MAX_SAFETENSORS_HEADER_BYTES}`;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(header.subarray(8));
  } catch {
    return 'the header is not valid UTF-8';
  }
  const entries: HeaderEntry[] = [];
  try {
    const top = parseStrictJson(text, {
      maxArrayItems: MAX_RANK,
      maxObjectKeys: MAX_SEGMENTS + 1,
      onTopMember: (name, info) => {
        if (name === '__metadata__') return;
        if (info === null || typeof info !== 'object' || Array.isArray(info)) throw new JsonProblem(`tensor ${JSON.stringify(name)} is not an object`, 0);
        const { dtype, shape, data_offsets: offsets } = info as JsonObject;
        const [begin, end] = Array.isArray(offsets) && offsets.length === 2 ? offsets : [null, null];
        entries.push({ name, dtype, shape, begin, end, k: entries.length });
      },
    });
    if (top === null || typeof top !== 'object' || Array.isArray(top)) return 'the header is not a JSON object';
  } catch (e) {
    return `the header does not parse: ${(e as Error).message}`;
  }
  const tensorSegments = tensors.filter((t) => t.kind === 'tensor').length;
  if (tensorSegments !== tensors.length) return 'a safetensors member holds a byte segment after its header';
  if (entries.length !== tensors.length) return `the header lists ${entries.length} tensors, the index ${tensors.length}`;
  for (const e of entries) {
    if (typeof e.begin !== 'number' || typeof e.end !== 'number') return `the header gives tensor ${JSON.stringify(e.name)} no [begin, end] data offsets`;
  }
  entries.sort((x, y) => (x.begin as number) - (y.begin as number) || (x.end as number) - (y.end as number) || x.k - y.k);
  let at = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    const t = tensors[i];
    const where = `segment ${i + 1} ('${t.name}')`;
    if (e.name !== t.name) return `${where}: the header has tensor ${JSON.stringify(e.name)} there`;
    if (e.dtype !== t.dtype) return `${where}: dtype ${t.dtype} in the index, ${JSON.stringify(e.dtype)} in the header`;
    const shape = e.shape;
    if (!Array.isArray(shape) || shape.length !== t.shape.length || shape.some((d, k) => d !== t.shape[k])) {
      return `${where}: shape [${t.shape}] in the index, ${JSON.stringify(shape)} in the header`;
    }
    if (e.begin !== at || (e.end as number) - at !== t.originalBytes) {
      return `${where}: data offsets [${at}, ${at + t.originalBytes}] in the index, [${String(e.begin)}, ${String(e.end)}] in the header`;
    }
    at += t.originalBytes;
  }
  return undefined;
}

/** Whether a member is a safetensors file as the index records one: some segment is a tensor (FORMAT.md §4.4). */
export function isSafetensorsMember(segments: readonly { kind: 'tensor' | 'bytes' }[]): boolean {
  return segments.some((s) => s.kind === 'tensor');
}
