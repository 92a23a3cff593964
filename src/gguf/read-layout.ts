// Splits a GGUF file into its header and tensors (FORMAT.md §4.6): the encoder's side. The header is read in growing
// prefixes (at most MAX_GGUF_HEADER_BYTES), then every tensor's data range is checked against the file: inside it, and
// no two overlapping.

import { FormatError, LimitError } from '../errors.js';
import { MAX_GGUF_HEADER_BYTES } from '../format/constants.js';
import type { ByteSource } from '../io/byte-source.js';
import { GgufProblem, parseGgufHeader, type GgufHeader } from './read-header.js';

/** One tensor with its absolute byte range in the file. */
export interface GgufTensor {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** A GGUF file's split: the header [0, headerEnd), then the tensors in file order (the bytes between are padding). */
export interface GgufLayout {
  headerEnd: number;
  tensors: GgufTensor[];
}

/** First prefix read for the header; each retry reads four times more, up to MAX_GGUF_HEADER_BYTES. */
const FIRST_READ_BYTES = 1024 * 1024;

/**
 * Reads and checks `source` as a GGUF file of version 2 or 3.
 * @returns the header's extent and the tensors in file order
 * @throws BAD_GGUF naming the file and the offset of the problem; LIMIT_EXCEEDED for a header above
 *   MAX_GGUF_HEADER_BYTES or beyond wcodec's bounds (tensor count, name length)
 */
export async function readGgufLayout(source: ByteSource): Promise<GgufLayout> {
  const file = source.name;
  let header: GgufHeader | undefined;
  for (let n = Math.min(source.size, FIRST_READ_BYTES); header === undefined; n = Math.min(source.size, MAX_GGUF_HEADER_BYTES, n * 4)) {
    try {
      header = parseGgufHeader(await source.read(0, n));
    } catch (e) {
      if (!(e instanceof GgufProblem)) throw e;
      if (e.truncated && n < source.size && n < MAX_GGUF_HEADER_BYTES) continue;
      if (e.truncated && n >= MAX_GGUF_HEADER_BYTES) throw new LimitError('LIMIT_EXCEEDED', `GGUF header larger than ${MAX_GGUF_HEADER_BYTES} bytes`, { file, offset: e.offset });
      if (e.limit) throw new LimitError('LIMIT_EXCEEDED', e.message, { file, offset: e.offset });
      throw new FormatError('BAD_GGUF', e.truncated ? `${e.message.replace(/ of the header$/, ' of the file')}` : e.message, { file, offset: e.offset });
    }
  }
  const tensors: GgufTensor[] = [];
  let end = header.headerEnd;
  for (const t of header.tensors) {
    const begin = header.dataStart + t.offset;
    if (begin + t.bytes > source.size) {
      throw new FormatError('BAD_GGUF', `tensor '${t.name}' (${t.bytes} bytes at data offset ${t.offset}) ends past the end of the ${source.size}-byte file`, { file, offset: begin });
    }
    if (begin < end) throw new FormatError('BAD_GGUF', `tensor '${t.name}' at data offset ${t.offset} overlaps the tensor before it`, { file, offset: begin });
    tensors.push({ name: t.name, dtype: t.type.dtype, shape: t.shape, begin, end: begin + t.bytes });
    end = begin + t.bytes;
  }
  return { headerEnd: header.headerEnd, tensors };
}
