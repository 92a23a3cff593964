// Reads and validates a safetensors file's header (FORMAT.md §4.4 lists the rules): 8-byte little-endian header
// length N, N bytes of JSON, then the data. Tensors must tile the data exactly: no overlap, no hole, nothing after.

import { FormatError, LimitError, WcodecError } from '../errors.js';
import { MAX_DTYPE_BYTES, MAX_NAME_BYTES, MAX_RANK, MAX_SAFETENSORS_HEADER_BYTES, MAX_SEGMENTS } from '../format/constants.js';
import { dtypeBytes } from '../transform/dtypes.js';
import type { ByteSource } from '../io/byte-source.js';
import { JsonProblem, parseStrictJson, type JsonObject, type JsonValue } from './strict-json.js';

/** One tensor as the header describes it, with absolute file offsets. */
export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** The parsed layout: header bytes [0, headerEnd), tensors sorted by position, metadata. */
export interface SafetensorsLayout {
  headerEnd: number;
  tensors: SafetensorsTensor[];
  metadata: Record<string, string> | undefined;
}

/**
 * Reads `source`'s header and checks every rule. Nothing is allocated from a size before it is checked
 * against the file size and MAX_SAFETENSORS_HEADER_BYTES.
 * @throws BAD_SAFETENSORS / LIMIT_EXCEEDED naming the file and offset
 */
export async function readSafetensorsLayout(source: ByteSource): Promise<SafetensorsLayout> {
  const file = source.name;
  const bad = (problem: string, offset: number): never => {
    throw new FormatError('BAD_SAFETENSORS', problem, { file, offset });
  };
  if (source.size < 8) bad(`${source.size} bytes cannot hold the 8-byte header length`, 0);
  const lenBytes = await source.read(0, 8);
  const dv = new DataView(lenBytes.buffer, lenBytes.byteOffset, 8);
  const lo = dv.getUint32(0, true);
  const hi = dv.getUint32(4, true);
  const n = hi * 2 ** 32 + lo;
  if (n > MAX_SAFETENSORS_HEADER_BYTES) {
    throw new LimitError('LIMIT_EXCEEDED', `header length ${n} above the limit of ${MAX_SAFETENSORS_HEADER_BYTES} bytes`, { file, offset: 0 });
  }
  if (8 + n > source.size) bad(`header length ${n} runs past the end of the ${source.size}-byte file`, 0);
  if (n < 2) bad(`header length ${n} is too short for a JSON object`, 0);
  const headerBytes = await source.read(8, n);
  if (headerBytes[0] !== 0x7b) bad("header does not start with '{'", 8);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    return bad('header is not valid UTF-8', 8);
  }
  const headerEnd = 8 + n;
  const dataBytes = source.size - headerEnd;
  const tensors: SafetensorsTensor[] = [];
  let metadata: Record<string, string> | undefined;
  let entries = 0;
  // Each top-level member is checked as soon as it is parsed and only its checked form is kept: a header of a
  // million bogus entries stops at the first, and memory holds compact records rather than parsed JSON.
  const onTopMember = (name: string, info: JsonValue): void => {
    if (++entries > MAX_SEGMENTS) {
      throw new LimitError('LIMIT_EXCEEDED', `more than ${MAX_SEGMENTS} tensors`, { file, offset: 8 });
    }
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Array.isArray(info)) bad('__metadata__ is not an object', 8);
      const meta: Record<string, string> = Object.create(null);
      for (const [k, v] of Object.entries(info as JsonObject)) {
        if (typeof v !== 'string') bad(`__metadata__.${k} is not a string`, 8);
        meta[k] = v as string;
      }
      metadata = meta;
      return;
    }
    // The index records names and dtypes in UTF-8 bytes up to MAX_NAME_BYTES / MAX_DTYPE_BYTES: refuse here what it cannot hold.
    const nameBytes = new TextEncoder().encode(name).length;
    if (nameBytes > MAX_NAME_BYTES) {
      throw new LimitError('LIMIT_EXCEEDED', `tensor name of ${nameBytes} bytes, limit ${MAX_NAME_BYTES}`, { file, offset: 8 });
    }
    const where = `tensor ${JSON.stringify(name)}`;
    if (info === null || typeof info !== 'object' || Array.isArray(info)) return bad(`${where} is not an object`, 8);
    const { dtype, shape, data_offsets: offsets } = info as JsonObject;
    const extra = Object.keys(info).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
    if (extra.length > 0) bad(`${where} has unknown fields ${extra.join(', ')}`, 8);
    if (typeof dtype !== 'string' || dtype.length === 0 || new TextEncoder().encode(dtype).length > MAX_DTYPE_BYTES) return bad(`${where} has no valid dtype`, 8);
    if (!Array.isArray(shape) || shape.length > MAX_RANK) return bad(`${where} shape is not an array of at most ${MAX_RANK} dimensions`, 8);
    let elements = 1;
    for (const d of shape) {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) return bad(`${where} shape holds ${JSON.stringify(d)}`, 8);
      elements *= d;
      if (!Number.isSafeInteger(elements)) bad(`${where} shape product overflows 2^53`, 8);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2) return bad(`${where} data_offsets is not [begin, end]`, 8);
    const [b, e] = offsets;
    if (typeof b !== 'number' || typeof e !== 'number' || !Number.isSafeInteger(b) || !Number.isSafeInteger(e) || b < 0 || e < b) {
      return bad(`${where} data_offsets [${b}, ${e}] are not 0 <= begin <= end`, 8);
    }
    if (e > dataBytes) bad(`${where} ends at data offset ${e}, past the ${dataBytes} data bytes`, headerEnd);
    const vb = dtypeBytes(dtype);
    if (vb !== undefined && elements * vb !== e - b) {
      bad(`${where}: shape [${shape}] of ${dtype} is ${elements * vb} bytes, data_offsets span ${e - b}`, 8);
    }
    // An unknown dtype's width is unknown (packed 4-bit, block-quantised, ...), but every dtype has some bytes per
    // element: no elements with bytes, or elements in no bytes, is inconsistent whatever the dtype.
    if (vb === undefined && (elements === 0) !== (e === b)) {
      bad(`${where}: shape [${shape}] of unknown dtype ${JSON.stringify(dtype)} has ${elements} elements, data_offsets span ${e - b} bytes`, 8);
    }
    tensors.push({ name, dtype, shape: shape as number[], begin: headerEnd + b, end: headerEnd + e });
  };
  try {
    // The only arrays of a valid header are shapes (at most MAX_RANK items) and data_offsets (2).
    parseStrictJson(text, { maxArrayItems: MAX_RANK, maxObjectKeys: MAX_SEGMENTS + 1, onTopMember });
  } catch (e) {
    if (e instanceof WcodecError) throw e;
    const pos = e instanceof JsonProblem ? e.position : 0;
    return bad(`header JSON: ${(e as Error).message}`, 8 + new TextEncoder().encode(text.slice(0, pos)).length);
  }
  // Sort by position (zero-size tensors keep header order among themselves) and demand an exact tiling.
  const order = tensors.map((t, k) => ({ t, k }));
  order.sort((x, y) => x.t.begin - y.t.begin || x.t.end - y.t.end || x.k - y.k);
  let at = headerEnd;
  for (const { t } of order) {
    if (t.begin < at) bad(`tensor ${JSON.stringify(t.name)} overlaps the tensor before it`, t.begin);
    if (t.begin > at) bad(`${t.begin - at} bytes before tensor ${JSON.stringify(t.name)} belong to no tensor`, at);
    at = t.end;
  }
  if (at !== source.size) bad(`${source.size - at} bytes after the last tensor belong to no tensor`, at);
  return { headerEnd, tensors: order.map((o) => o.t), metadata };
}
