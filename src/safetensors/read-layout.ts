// Reads and validates a safetensors file's header (FORMAT.md §4.4 lists the rules): 8-byte little-endian header
// length N, N bytes of JSON, then the data. A file passes only if the safetensors library would load it (its
// serde_json reading: unsigned integer literals, known dtypes, 64-bit products) and it has the documented form.

import { FormatError, LimitError, WcodecError } from '../errors.js';
import { MAX_DTYPE_BYTES, MAX_NAME_BYTES, MAX_RANK, MAX_SAFETENSORS_HEADER_BYTES, MAX_SEGMENTS } from '../format/constants.js';
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

/** Bits per element of each dtype the safetensors library knows (its `Dtype` enum); it refuses any other name. */
export const DTYPE_BITS: Readonly<Record<string, number>> = Object.freeze(Object.assign(Object.create(null) as Record<string, number>, {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
}));

/** The largest `usize` of the 64-bit platforms the safetensors library runs on; a larger literal is a float to serde_json. */
const USIZE_MAX = 2n ** 64n - 1n;

/** An unsigned integer literal that fits a `usize` (what serde_json reads into one: not `8.0`, `8e0`, `-0`). */
const isUsize = (v: JsonValue): boolean => typeof v === 'bigint' && v <= USIZE_MAX;

/** A JSON value for a message, bigints as their digits. */
const describe = (v: JsonValue | undefined): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? Number(x) : x)) ?? 'undefined';

/** Options of readSafetensorsLayout. */
export interface ReadLayoutOptions {
  /**
   * Accept dtypes the safetensors library does not know, as opaque bytes (default false: such a file is not
   * safetensors). Only for building containers that exercise decoders on unknown dtypes (test vectors); a tensor
   * of such a dtype needs `end - begin = 0` exactly when its shape has no elements.
   */
  opaqueDtypes?: boolean;
}

/**
 * Reads `source`'s header and checks every rule of FORMAT.md §4.4. Nothing is allocated from a size before it is
 * checked against the file size and MAX_SAFETENSORS_HEADER_BYTES.
 * @param source the file
 * @param options see ReadLayoutOptions
 * @returns the header's extent and the tensors sorted by position
 * @throws BAD_SAFETENSORS for a file the rules refuse; LIMIT_EXCEEDED for a header above 100,000,000 bytes or a
 *   file beyond wcodec's own bounds (rank, tensor count, name length, a dimension or running shape product above 2^53 - 1); both name the
 *   file and an offset in it
 */
export async function readSafetensorsLayout(source: ByteSource, options: ReadLayoutOptions = {}): Promise<SafetensorsLayout> {
  const opaqueDtypes = options.opaqueDtypes === true;
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
  const dataBytes = BigInt(source.size - headerEnd);
  const tensors: SafetensorsTensor[] = [];
  let metadata: Record<string, string> | undefined;
  let entries = 0;
  const limit = (problem: string, offset: number): never => {
    throw new LimitError('LIMIT_EXCEEDED', problem, { file, offset });
  };
  // Each top-level member is checked as soon as it is parsed and only its checked form is kept: a header of a
  // million bogus entries stops at the first, and memory holds compact records rather than parsed JSON.
  const onTopMember = (name: string, info: JsonValue): void => {
    if (++entries > MAX_SEGMENTS) limit(`more than ${MAX_SEGMENTS} tensors`, 8);
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
    const where = `tensor ${JSON.stringify(name)}`;
    if (info === null || typeof info !== 'object' || Array.isArray(info)) return bad(`${where} is not an object`, 8);
    const extra = Object.keys(info).filter((k) => k !== 'dtype' && k !== 'shape' && k !== 'data_offsets');
    if (extra.length > 0) bad(`${where} has fields other than dtype, shape and data_offsets: ${extra.join(', ')}`, 8);
    const { dtype, shape, data_offsets: offsets } = info as JsonObject;
    if (dtype === undefined || shape === undefined || offsets === undefined) {
      return bad(`${where} lacks ${['dtype', 'shape', 'data_offsets'].filter((k) => !(k in info)).join(' and ')}`, 8);
    }
    if (typeof dtype !== 'string') return bad(`${where} dtype is not a string`, 8);
    const known = Object.prototype.hasOwnProperty.call(DTYPE_BITS, dtype);
    if (!known && !opaqueDtypes) return bad(`${where} has dtype ${JSON.stringify(dtype)}, not one of the safetensors dtypes`, 8);
    if (!known && (dtype.length === 0 || new TextEncoder().encode(dtype).length > MAX_DTYPE_BYTES)) limit(`${where}: opaque dtype of 0 or more than ${MAX_DTYPE_BYTES} bytes`, 8);
    if (!Array.isArray(shape) || !shape.every(isUsize)) return bad(`${where} shape ${describe(shape)} is not an array of unsigned integers`, 8);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isUsize)) {
      return bad(`${where} data_offsets ${describe(offsets)} is not [begin, end] of unsigned integers`, 8);
    }
    // The reference multiplies the dimensions left to right in 64 bits and refuses the file at the first overflow,
    // even if a later dimension is 0; then the bit count, which must be whole bytes (F4, F6_*: 4 and 6 bits).
    let elements = 1n;
    for (const d of shape as bigint[]) {
      elements *= d;
      if (elements > USIZE_MAX) bad(`${where} shape [${shape}] overflows 64 bits`, 8);
    }
    const [b, e] = offsets as bigint[];
    if (e < b) bad(`${where} data_offsets [${b}, ${e}] end before they begin`, 8);
    if (known) {
      const nbits = elements * BigInt(DTYPE_BITS[dtype]);
      if (nbits > USIZE_MAX) bad(`${where} shape [${shape}] of ${dtype} overflows 64 bits`, 8);
      if (nbits % 8n !== 0n) bad(`${where} shape [${shape}] of ${dtype} is ${nbits} bits, not whole bytes`, 8);
      if (e - b !== nbits / 8n) bad(`${where}: shape [${shape}] of ${dtype} is ${nbits / 8n} bytes, data_offsets span ${e - b}`, 8);
    } else if ((elements === 0n) !== (e === b)) {
      bad(`${where}: shape [${shape}] of opaque dtype ${JSON.stringify(dtype)} has ${elements} elements in ${e - b} bytes`, 8);
    }
    if (e > dataBytes) bad(`${where} ends at data offset ${e}, past the ${dataBytes} data bytes`, headerEnd);
    // Conforming so far; what follows are wcodec's own bounds (the index records, FORMAT.md §3.3), not the format's.
    const nameBytes = new TextEncoder().encode(name).length;
    if (nameBytes > MAX_NAME_BYTES) limit(`${where}: name of ${nameBytes} bytes, limit ${MAX_NAME_BYTES}`, 8);
    if (shape.length > MAX_RANK) limit(`${where}: rank ${shape.length}, limit ${MAX_RANK}`, 8);
    const dims = (shape as bigint[]).map(Number);
    let running = 1;
    for (const d of dims) {
      running *= d;
      if (!Number.isSafeInteger(d) || !Number.isSafeInteger(running)) limit(`${where}: shape [${shape}] has a dimension or running product above 2^53 - 1, which the index cannot record`, 8);
    }
    tensors.push({ name, dtype, shape: dims, begin: headerEnd + Number(b), end: headerEnd + Number(e) });
  };
  try {
    // The only arrays of a valid header are shapes (at most MAX_RANK items) and data_offsets (2).
    parseStrictJson(text, { maxArrayItems: MAX_RANK, maxObjectKeys: MAX_SEGMENTS + 1, onTopMember, exactIntegers: true });
  } catch (e) {
    if (e instanceof WcodecError) throw e;
    const pos = e instanceof JsonProblem ? e.position : 0;
    const at = 8 + new TextEncoder().encode(text.slice(0, pos)).length;
    if (e instanceof JsonProblem && e.limit) return limit(`header JSON: ${e.message}`, at);
    return bad(`header JSON: ${(e as Error).message}`, at);
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
