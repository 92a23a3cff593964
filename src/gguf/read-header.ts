// GGUF header parsing (FORMAT.md §4.6): magic, version 2 or 3, tensor and metadata counts, the metadata key-value
// pairs, and the tensor infos; little-endian only. Every count and length is checked against the bytes that remain
// before anything is read or allocated from it, and arrays nest at most MAX_GGUF_ARRAY_DEPTH levels.

import { MAX_GGUF_ARRAY_DEPTH, MAX_NAME_BYTES, MAX_RANK, MAX_SEGMENTS } from '../format/constants.js';
import { ggmlType, type GgmlType } from './ggml-types.js';

/** `GGUF` read as a little-endian u32. */
const GGUF_MAGIC = 0x46554747;
/** Alignment of tensor data when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** Most dimensions of a ggml tensor (GGML_MAX_DIMS). */
const GGML_MAX_DIMS = 4;
/** Metadata value types (gguf_type) of fixed size, by code: bytes per value. */
const FIXED_BYTES: Readonly<Record<number, number>> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const TYPE_STRING = 8;
const TYPE_ARRAY = 9;
const TYPE_UINT32 = 4;

/** Why a header cannot be split: where, and whether it only ran past the bytes given (`truncated`). */
export class GgufProblem extends Error {
  constructor(message: string, readonly offset: number, readonly truncated = false, readonly limit = false) {
    super(message);
  }
}

/** One tensor info, with its position among the infos (`k`). */
export interface GgufTensorInfo {
  name: string;
  type: GgmlType;
  /** ggml dimensions, ne[0] (the fastest-varying) first. */
  dims: number[];
  /** The tensor's shape as a segment records it: the dimensions reversed, outermost first. */
  shape: number[];
  /** Offset of the tensor's data from the start of the data section. */
  offset: number;
  /** Size of the tensor's data in bytes. */
  bytes: number;
  k: number;
}

/** A parsed header. */
export interface GgufHeader {
  version: number;
  /** Bytes from the magic through the last tensor info. */
  headerEnd: number;
  alignment: number;
  /** Start of the data section: headerEnd rounded up to a multiple of `alignment`. */
  dataStart: number;
  /** The tensor infos sorted by (offset, position). */
  tensors: GgufTensorInfo[];
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses the GGUF header at the start of `bytes` (a prefix of the file, or a stored header segment).
 * @returns the header; its tensors' data is not read
 * @throws GgufProblem: `truncated` when the header runs past the end of `bytes` (a longer prefix may parse), `limit`
 *   for wcodec's own bounds (names above MAX_NAME_BYTES, more than MAX_SEGMENTS tensors), otherwise a header that is
 *   not GGUF version 2 or 3 as FORMAT.md §4.6 reads it
 */
export function parseGgufHeader(bytes: Uint8Array): GgufHeader {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  let pos = 0;
  const need = (n: number, what: string): void => {
    if (n > bytes.length - pos) throw new GgufProblem(`${what} of ${n} bytes runs past the ${bytes.length} bytes of the header`, pos, true);
  };
  const u32 = (what: string): number => {
    need(4, what);
    const v = dv.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (what: string): number => {
    need(8, what);
    const lo = dv.getUint32(pos, true);
    const hi = dv.getUint32(pos + 4, true);
    if (hi >= 2 ** 21) throw new GgufProblem(`${what} is 2^53 or more`, pos);
    pos += 8;
    return hi * 2 ** 32 + lo;
  };
  const string = (what: string): Uint8Array => {
    const n = u64(`${what} length`);
    need(n, what);
    const s = bytes.subarray(pos, pos + n);
    pos += n;
    return s;
  };
  // Skips one value of metadata type `type` at nesting `depth`, checking each length against what remains.
  const skipValue = (type: number, depth: number, at: number): void => {
    const fixed = FIXED_BYTES[type];
    if (fixed !== undefined) {
      need(fixed, 'metadata value');
      pos += fixed;
    } else if (type === TYPE_STRING) {
      string('metadata string');
    } else if (type === TYPE_ARRAY) {
      if (depth >= MAX_GGUF_ARRAY_DEPTH) throw new GgufProblem(`metadata arrays nested more than ${MAX_GGUF_ARRAY_DEPTH} deep`, at);
      const itemType = u32('array item type');
      const n = u64('array length');
      const itemFixed = FIXED_BYTES[itemType];
      if (itemFixed !== undefined) {
        need(n * itemFixed, 'array');
        pos += n * itemFixed;
      } else if (itemType === TYPE_STRING || itemType === TYPE_ARRAY) {
        // Each string or array item takes at least 8 bytes: a longer count cannot fit in what remains.
        need(n * 8, 'array');
        for (let i = 0; i < n; i++) skipValue(itemType, depth + 1, pos);
      } else throw new GgufProblem(`metadata array item type ${itemType} is not a GGUF value type`, pos - 12);
    } else throw new GgufProblem(`metadata value type ${type} is not a GGUF value type`, at);
  };

  if (u32('magic') !== GGUF_MAGIC) throw new GgufProblem('the file does not begin with the GGUF magic', 0);
  const version = u32('version');
  if (version !== 2 && version !== 3) throw new GgufProblem(`GGUF version ${version} (versions 2 and 3, little-endian, are split)`, 4);
  const tensorCount = u64('tensor count');
  const kvCount = u64('metadata count');
  if (tensorCount > MAX_SEGMENTS) throw new GgufProblem(`${tensorCount} tensors, limit ${MAX_SEGMENTS}`, 8, false, true);
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  const keys = new Set<string>();
  // Each pair takes at least 12 bytes (key length, value type): a larger count is checked as the pairs are read.
  for (let i = 0; i < kvCount; i++) {
    const at = pos;
    const key = string('metadata key');
    const text = latin1(key);
    if (keys.has(text)) throw new GgufProblem(`metadata key '${safeText(key)}' appears twice`, at);
    keys.add(text);
    const typeAt = pos;
    const type = u32('metadata value type');
    if (text === 'general.alignment') {
      if (type !== TYPE_UINT32) throw new GgufProblem(`general.alignment has value type ${type}, not UINT32 (4)`, typeAt);
      alignment = u32('general.alignment');
      if (alignment === 0 || (alignment & (alignment - 1)) !== 0) throw new GgufProblem(`general.alignment ${alignment} is not a power of two`, pos - 4);
    } else skipValue(type, 0, typeAt);
  }
  const seen = new Set<string>();
  const tensors: GgufTensorInfo[] = [];
  for (let k = 0; k < tensorCount; k++) {
    const at = pos;
    const nameBytes = string('tensor name');
    if (nameBytes.length > MAX_NAME_BYTES) throw new GgufProblem(`tensor name of ${nameBytes.length} bytes, limit ${MAX_NAME_BYTES}`, at, false, true);
    let name: string;
    try {
      name = utf8Strict.decode(nameBytes);
    } catch {
      throw new GgufProblem('tensor name is not valid UTF-8', at);
    }
    if (seen.has(name)) throw new GgufProblem(`tensor name '${name}' appears twice`, at);
    seen.add(name);
    const nDims = u32('dimension count');
    if (nDims > GGML_MAX_DIMS || nDims > MAX_RANK) throw new GgufProblem(`tensor '${name}' has ${nDims} dimensions, at most ${GGML_MAX_DIMS}`, pos - 4);
    const dims: number[] = [];
    let elements = 1;
    for (let d = 0; d < nDims; d++) {
      const dim = u64('dimension');
      elements *= dim;
      if (!Number.isSafeInteger(elements)) throw new GgufProblem(`tensor '${name}' has 2^53 or more elements`, pos - 8);
      dims.push(dim);
    }
    const typeAt = pos;
    const code = u32('tensor type');
    const type = ggmlType(code);
    if (!type) throw new GgufProblem(`tensor '${name}' has ggml type ${code}, which FORMAT.md §4.6 does not list`, typeAt);
    if ((dims[0] ?? 1) % type.blockValues !== 0) throw new GgufProblem(`tensor '${name}' of ${type.dtype} has ${dims[0] ?? 1} values per row, not whole blocks of ${type.blockValues}`, typeAt);
    const offsetAt = pos;
    const offset = u64('tensor offset');
    if (offset % alignment !== 0) throw new GgufProblem(`tensor '${name}' at data offset ${offset}, not a multiple of the alignment ${alignment}`, offsetAt);
    const bytes = (elements / type.blockValues) * type.blockBytes;
    tensors.push({ name, type, dims, shape: dims.slice().reverse(), offset, bytes, k });
  }
  const headerEnd = pos;
  tensors.sort((a, b) => a.offset - b.offset || a.k - b.k);
  return { version, headerEnd, alignment, dataStart: Math.ceil(headerEnd / alignment) * alignment, tensors };
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

/** A key for a message: its text, shortened, invalid UTF-8 replaced. */
function safeText(b: Uint8Array): string {
  const s = new TextDecoder().decode(b.subarray(0, 80));
  return b.length > 80 ? `${s}…` : s;
}
