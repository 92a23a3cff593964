// The decoder's check that a safetensors member's tensor segments are labelled as its own stored header says
// (FORMAT.md §4.4 "Labels", §7.3): same names, dtypes, shapes, sizes and order, so a tensor is never presented
// under a label its file does not give it.

import { MAX_JSON_DEPTH, MAX_RANK, MAX_SAFETENSORS_HEADER_BYTES, MAX_SEGMENTS } from '../format/constants.js';
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
  // The native parser where it gives what the strict one would; the strict one decides and words every problem.
  const entries = quickEntries(text) ?? strictEntries(text);
  if (typeof entries === 'string') return entries;
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

/** The header's tensor entries, in header order, by parseStrictJson; else the problem. */
function strictEntries(text: string): HeaderEntry[] | string {
  const entries: HeaderEntry[] = [];
  try {
    const top = parseStrictJson(text, {
      ...HEADER_JSON_LIMITS,
      onTopMember: (name, info) => {
        if (name === '__metadata__') return;
        if (info === null || typeof info !== 'object' || Array.isArray(info)) throw new JsonProblem(`tensor ${JSON.stringify(name)} is not an object`, 0);
        entries.push(headerEntry(name, info as JsonObject, entries.length));
      },
    });
    if (top === null || typeof top !== 'object' || Array.isArray(top)) return 'the header is not a JSON object';
  } catch (e) {
    return `the header does not parse: ${(e as Error).message}`;
  }
  return entries;
}

/** The fields of tensor entry `name`, the k-th of its header. */
function headerEntry(name: string, info: JsonObject, k: number): HeaderEntry {
  const { dtype, shape, data_offsets: offsets } = info;
  const [begin, end] = Array.isArray(offsets) && offsets.length === 2 ? offsets : [null, null];
  return { name, dtype, shape, begin, end, k };
}

/**
 * Longest header text given to the native parse: JSON.parse builds every value before any limit can be checked (a
 * text of `0,` grows several times in memory), so a longer text goes to the strict parser, which keeps one tensor
 * entry at a time. Headers of thousands of tensors fit.
 */
const QUICK_PARSE_MAX_CHARS = 1024 * 1024;

/** Most keys in one object of a header, and most items in one array: parseStrictJson's limits in headerLabelProblem. */
const HEADER_JSON_LIMITS = { maxArrayItems: MAX_RANK, maxObjectKeys: MAX_SEGMENTS + 1 };

/**
 * The header's tensor entries as headerLabelProblem's strict parse would give them, read with the native JSON.parse;
 * undefined wherever the two could differ, and then the strict parser decides (and words any problem). The native
 * parse accepts the same grammar, numbers and whitespace; it is used only when the text is at most
 * QUICK_PARSE_MAX_CHARS long and, besides parsing, has no `\u` escape (no lone surrogate to refuse), as many object
 * keys as the parsed objects hold (no duplicate key), nesting and sizes within the strict parse's limits, a top-level
 * object with at least one tensor and no integer-like key (objects list those first, not in text order), and only
 * objects as tensor entries.
 */
function quickEntries(text: string): HeaderEntry[] | undefined {
  if (text.length > QUICK_PARSE_MAX_CHARS || text.includes('\\u')) return undefined;
  let top: unknown;
  try {
    top = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (top === null || typeof top !== 'object' || Array.isArray(top)) return undefined;
  // Keys of every object, and whether every value is within the limits.
  let keys = 0;
  const fits = (v: unknown, depth: number): boolean => {
    if (depth > MAX_JSON_DEPTH) return false;
    if (v === null || typeof v !== 'object') return true;
    if (Array.isArray(v)) {
      if (v.length > HEADER_JSON_LIMITS.maxArrayItems) return false;
      for (const item of v) if (!fits(item, depth + 1)) return false;
      return true;
    }
    const own = Object.keys(v);
    if (own.length > HEADER_JSON_LIMITS.maxObjectKeys) return false;
    keys += own.length;
    for (const k of own) if (!fits((v as Record<string, unknown>)[k], depth + 1)) return false;
    return true;
  };
  if (!fits(top, 0) || keys !== objectKeysInText(text)) return undefined;
  const entries: HeaderEntry[] = [];
  for (const name of Object.keys(top)) {
    if (/^(?:0|[1-9]\d*)$/.test(name)) return undefined;
    if (name === '__metadata__') continue;
    const info = (top as Record<string, unknown>)[name];
    if (info === null || typeof info !== 'object' || Array.isArray(info)) return undefined;
    entries.push(headerEntry(name, info as JsonObject, entries.length));
  }
  return entries.length > 0 ? entries : undefined;
}

/** One JSON string, escapes included. */
const JSON_STRING = /"(?:[^"\\]|\\.)*"/g;

/**
 * How many strings of a valid JSON text are object keys, duplicates included: the colons outside strings. A valid
 * text has quotes only in strings, so matching strings from the start finds each one from its opening quote.
 */
function objectKeysInText(text: string): number {
  const bare = text.replace(JSON_STRING, '""');
  let colons = 0;
  for (let at = bare.indexOf(':'); at >= 0; at = bare.indexOf(':', at + 1)) colons++;
  return colons;
}

/** Whether a member is a safetensors file as the index records one: some segment is a tensor (FORMAT.md §4.4). */
export function isSafetensorsMember(segments: readonly { kind: 'tensor' | 'bytes' }[]): boolean {
  return segments.some((s) => s.kind === 'tensor');
}
