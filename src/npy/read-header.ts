// Parses the header of a NumPy `.npy` file, format 1.0, 2.0 or 3.0 (FORMAT.md §4.8): magic, version, header length
// and the Python dict literal with 'descr', 'fortran_order' and 'shape', strictly, with every length bounded. Shared by
// the encoder (which splits a file) and the decoder (which checks a stored header against the index's labels).

import { MAX_NPY_HEADER_BYTES, MAX_NPY_LITERAL_DEPTH, MAX_RANK } from '../format/constants.js';

/** The six bytes that open every `.npy` file: 0x93 then "NUMPY". */
export const NPY_MAGIC = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/**
 * The little-endian NumPy type strings stored as tensors, with the dtype of §4.1 each maps to. 1-byte types take the
 * byte-order character '|' (what NumPy writes) or '<'. Anything else (big-endian, complex, strings, objects, voids,
 * datetimes, structured) is a valid header whose data wcodec keeps as bytes.
 */
export const NPY_DTYPES: Readonly<Record<string, string>> = {
  '<f2': 'F16', '<f4': 'F32', '<f8': 'F64',
  '|i1': 'I8', '<i1': 'I8', '<i2': 'I16', '<i4': 'I32', '<i8': 'I64',
  '|u1': 'U8', '<u1': 'U8', '<u2': 'U16', '<u4': 'U32', '<u8': 'U64',
  '|b1': 'BOOL', '<b1': 'BOOL',
};

/** Largest first segment of a NumPy array member: magic, version, a 4-byte length and a dict of MAX_NPY_HEADER_BYTES. */
export const MAX_NPY_HEADER_SEGMENT_BYTES = 12 + MAX_NPY_HEADER_BYTES;

/** A problem in a header: what is wrong and the byte offset in the file where it shows. */
export class NpyProblem extends Error {
  constructor(
    message: string,
    readonly offset: number,
    /** The header ends past the bytes given: a longer prefix may parse. */
    readonly truncated = false,
    /** A wcodec bound (header size, rank, dimension), not a broken rule of the format. */
    readonly limit = false,
  ) {
    super(message);
  }
}

/** What a header says. */
export interface NpyHeader {
  /** Format major version: 1, 2 or 3. */
  version: number;
  /** Bytes from the magic through the header's final newline: where the data begins. */
  headerEnd: number;
  /** The 'descr' value when it is a string (a structured dtype's list gives undefined). */
  descr: string | undefined;
  /** The dtype of §4.1 that `descr` maps to (NPY_DTYPES), or undefined: the data is not stored as a tensor. */
  dtype: string | undefined;
  fortranOrder: boolean;
  shape: number[];
  /** Bytes of the data: product of `shape` times the item size; undefined when `dtype` is. */
  dataBytes: number | undefined;
}

/** A Python literal as the header may hold it. */
type Literal = string | number | boolean | Literal[] | { tuple: Literal[] };

/**
 * Parses the header at the start of `bytes` (the whole file or a prefix of it).
 * @returns the header's fields and extent
 * @throws NpyProblem for anything the rules of FORMAT.md §4.8 refuse (truncated when `bytes` ends inside the header)
 */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  const need = (n: number): void => {
    if (bytes.length < n) throw new NpyProblem(`the header ends past the ${bytes.length} bytes of the file`, bytes.length, true);
  };
  need(8);
  for (let k = 0; k < NPY_MAGIC.length; k++) if (bytes[k] !== NPY_MAGIC[k]) throw new NpyProblem('not a .npy file: the magic is not \\x93NUMPY', k);
  const version = bytes[6];
  if (version < 1 || version > 3) throw new NpyProblem(`format version ${version}.${bytes[7]} (1.0, 2.0 and 3.0 are known)`, 6);
  if (bytes[7] !== 0) throw new NpyProblem(`format version ${version}.${bytes[7]} (1.0, 2.0 and 3.0 are known)`, 7);
  const start = version === 1 ? 10 : 12;
  need(start);
  const len = version === 1 ? bytes[8] | (bytes[9] << 8) : (bytes[8] | (bytes[9] << 8) | (bytes[10] << 16)) + bytes[11] * 2 ** 24;
  if (len > MAX_NPY_HEADER_BYTES) throw new NpyProblem(`header of ${len} bytes, limit ${MAX_NPY_HEADER_BYTES}`, 8, false, true);
  const headerEnd = start + len;
  need(headerEnd);
  if (len === 0 || bytes[headerEnd - 1] !== 0x0a) throw new NpyProblem('the header does not end with a newline', headerEnd - 1);
  // Only printable ASCII before the final newline: what NumPy writes for every dtype stored as a tensor.
  for (let k = start; k < headerEnd - 1; k++) {
    if (bytes[k] < 0x20 || bytes[k] > 0x7e) throw new NpyProblem(`byte 0x${bytes[k].toString(16).padStart(2, '0')} in the header (printable ASCII only)`, k);
  }
  const text = new TextDecoder('ascii').decode(bytes.subarray(start, headerEnd - 1));
  const p = new LiteralParser(text, start);
  if (text[0] !== '{') p.fail("the header does not begin with '{'");
  const dict = p.dict();
  p.spaces();
  if (p.at !== text.length) p.fail('bytes other than spaces after the dict');
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shapeValue = dict.get('shape');
  if (descr === undefined || fortran === undefined || shapeValue === undefined || dict.size !== 3) {
    throw new NpyProblem(`the dict's keys are [${[...dict.keys()].map((k) => `'${k}'`).join(', ')}], not exactly 'descr', 'fortran_order' and 'shape'`, start);
  }
  if (typeof descr !== 'string' && !Array.isArray(descr)) throw new NpyProblem("'descr' is neither a string nor a list", start);
  if (typeof fortran !== 'boolean') throw new NpyProblem("'fortran_order' is not True or False", start);
  if (typeof shapeValue !== 'object' || Array.isArray(shapeValue) || !shapeValue.tuple.every((d) => typeof d === 'number')) {
    throw new NpyProblem("'shape' is not a tuple of integers", start);
  }
  const shape = shapeValue.tuple as number[];
  if (shape.length > MAX_RANK) throw new NpyProblem(`shape of rank ${shape.length}, limit ${MAX_RANK}`, start, false, true);
  let count = 1;
  for (const d of shape) {
    count *= d;
    if (!Number.isSafeInteger(count)) throw new NpyProblem(`shape (${shape.join(', ')}) holds 2^53 or more values`, start, false, true);
  }
  const dtype = typeof descr === 'string' ? NPY_DTYPES[descr] : undefined;
  const width = dtype === undefined ? undefined : Number(descr.toString().slice(2));
  const dataBytes = width === undefined ? undefined : count * width;
  if (dataBytes !== undefined && !Number.isSafeInteger(dataBytes)) throw new NpyProblem(`shape (${shape.join(', ')}) holds 2^53 or more bytes`, start, false, true);
  return { version, headerEnd, descr: typeof descr === 'string' ? descr : undefined, dtype, fortranOrder: fortran, shape, dataBytes };
}

/** A parser of the Python literal subset NumPy writes: dicts, lists, tuples, quoted strings, integers, True, False. */
class LiteralParser {
  at = 0;
  private depth = 0;
  constructor(private text: string, private base: number) {}

  fail(message: string): never {
    throw new NpyProblem(`${message} at header character ${this.at}`, this.base + this.at);
  }

  spaces(): void {
    while (this.text[this.at] === ' ') this.at++;
  }

  /** A dict with string keys, no key twice; `{` is at the cursor. */
  dict(): Map<string, Literal> {
    const out = new Map<string, Literal>();
    this.enter();
    this.items('}', () => {
      const keyAt = this.at;
      const key = this.value();
      if (typeof key !== 'string') this.fail('a dict key that is not a string');
      if (out.has(key)) {
        this.at = keyAt;
        this.fail(`the key '${key}' appears twice`);
      }
      this.spaces();
      if (this.text[this.at] !== ':') this.fail("no ':' after a dict key");
      this.at++;
      this.spaces();
      out.set(key, this.value());
    });
    this.depth--;
    return out;
  }

  private enter(): void {
    if (++this.depth > MAX_NPY_LITERAL_DEPTH) this.fail(`literals nested more than ${MAX_NPY_LITERAL_DEPTH} deep`);
    this.at++;
    this.spaces();
  }

  /**
   * Items up to `close`, separated by commas, an optional comma after the last; the opening bracket is consumed.
   * @returns the count of items and whether a comma followed the last one
   */
  private items(close: string, item: () => void): { count: number; trailingComma: boolean } {
    let count = 0;
    let trailingComma = false;
    while (this.text[this.at] !== close) {
      if (count > 0 && !trailingComma) this.fail(`',' or '${close}' expected`);
      if (this.at >= this.text.length) this.fail(`'${close}' expected`);
      item();
      count++;
      this.spaces();
      trailingComma = this.text[this.at] === ',';
      if (trailingComma) {
        this.at++;
        this.spaces();
      }
    }
    this.at++;
    return { count, trailingComma };
  }

  private value(): Literal {
    const c = this.text[this.at];
    if (c === "'" || c === '"') {
      const end = this.text.indexOf(c, this.at + 1);
      if (end < 0) this.fail('an unterminated string');
      const s = this.text.slice(this.at + 1, end);
      if (s.includes('\\')) this.fail('a string with a backslash escape');
      this.at = end + 1;
      return s;
    }
    if (c === '{') return this.fail('a nested dict');
    if (c === '(' || c === '[') {
      const list: Literal[] = [];
      this.enter();
      const { count, trailingComma } = this.items(c === '(' ? ')' : ']', () => void list.push(this.value()));
      this.depth--;
      // (x) is x in Python, not a tuple: a one-item tuple needs its comma.
      if (c === '(' && count === 1 && !trailingComma) return list[0];
      return c === '(' ? { tuple: list } : list;
    }
    const word = /^(?:True|False|0|[1-9][0-9]*)(?![A-Za-z0-9_.])/.exec(this.text.slice(this.at, this.at + 40));
    if (!word) this.fail('a value that is not a string, tuple, list, non-negative integer, True or False');
    this.at += word[0].length;
    if (word[0] === 'True' || word[0] === 'False') return word[0] === 'True';
    const n = Number(word[0]);
    if (!Number.isSafeInteger(n)) throw new NpyProblem(`the integer ${word[0]} is 2^53 or more`, this.base + this.at - word[0].length, false, true);
    return n;
  }
}
