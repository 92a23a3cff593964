// Splits ONNX models and their external data files into tensors (FORMAT.md §4.7): the encoder's side. A model's
// inline initializers become tensor segments at their raw_data; an external data file is split at the ranges its
// model's initializers give it. The model is read through a block cache: the reader asks for tags and lengths only.

import { FormatError } from '../errors.js';
import type { ByteSource } from '../io/byte-source.js';
import { ProtoProblem, type ProtoBytes } from './proto-reader.js';
import { readOnnxInitializers, type OnnxInitializer } from './read-model.js';

/** One tensor with its absolute byte range in its file. */
export interface OnnxTensor {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

/** Bytes read from the file at once by SourceBytes: most tags and lengths of a model then cost no read of their own. */
const BLOCK_BYTES = 64 * 1024;

/** ProtoBytes over a ByteSource, one block cached. */
class SourceBytes implements ProtoBytes {
  private block: Uint8Array = new Uint8Array(0);
  private blockAt = 0;
  constructor(private readonly source: ByteSource) {}
  async read(at: number, length: number): Promise<Uint8Array> {
    if (at < 0 || length < 0 || at + length > this.source.size) throw new ProtoProblem(`a read of ${length} bytes at ${at} runs past the end of the ${this.source.size}-byte file`, at);
    if (at >= this.blockAt && at + length <= this.blockAt + this.block.length) return this.block.subarray(at - this.blockAt, at - this.blockAt + length);
    if (length > BLOCK_BYTES) return this.source.read(at, length);
    this.blockAt = at;
    this.block = await this.source.read(at, Math.min(BLOCK_BYTES, this.source.size - at));
    return this.block.subarray(0, length);
  }
  readUpTo(at: number, max: number): Promise<Uint8Array> {
    return this.read(at, Math.max(0, Math.min(max, this.source.size - at)));
  }
}

/**
 * Smallest inline tensor the encoder makes a tensor segment of: smaller ones (shape constants, scalars) stay in the
 * byte segments around them, where each costs nothing of its own; as segments, each would cost a segment record
 * (name, digest, coding) and split the model's structure into more byte segments. Measured on Silero VAD v5 (ONNX):
 * ratio 1.1828 with every tensor split, 1.2117 with this bound (docs/BENCHMARKS.md).
 */
export const MIN_INLINE_TENSOR_BYTES = 64;

/** A model's eligible initializers, and its inline ones as tensors in file order. */
export interface OnnxLayout {
  initializers: OnnxInitializer[];
  tensors: OnnxTensor[];
}

/**
 * Reads `source` as an ONNX model (FORMAT.md §4.7).
 * @returns the eligible initializers (inline and external) and the inline ones of at least MIN_INLINE_TENSOR_BYTES as
 *   tensors in file order
 * @throws BAD_ONNX naming the file and the offset, for bytes that are not a ModelProto as §4.7 reads one
 */
export async function readOnnxLayout(source: ByteSource): Promise<OnnxLayout> {
  let initializers: OnnxInitializer[];
  try {
    initializers = await readOnnxInitializers(new SourceBytes(source), source.size);
  } catch (e) {
    if (e instanceof ProtoProblem) throw new FormatError('BAD_ONNX', `not an ONNX model that can be split: ${e.message}`, { file: source.name, offset: e.offset });
    throw e;
  }
  const tensors = initializers
    .filter((i) => i.inline !== undefined && i.bytes >= MIN_INLINE_TENSOR_BYTES)
    .map((i) => ({ name: i.name, dtype: i.dtype, shape: i.shape, begin: i.inline!.begin, end: i.inline!.end }));
  return { initializers, tensors };
}

/**
 * The tensors of an external data file of `size` bytes that `initializers` (the model's external ones that name this
 * file) place in it, in file order.
 * @throws BAD_ONNX when a range ends past the end of the file or overlaps another
 */
export function onnxDataLayout(file: string, size: number, initializers: readonly OnnxInitializer[]): OnnxTensor[] {
  const sorted = [...initializers].sort((a, b) => a.external!.offset - b.external!.offset || a.k - b.k);
  const tensors: OnnxTensor[] = [];
  let end = 0;
  for (const i of sorted) {
    const begin = i.external!.offset;
    if (begin + i.bytes > size) throw new FormatError('BAD_ONNX', `initializer '${i.name}' (${i.bytes} bytes at offset ${begin}) ends past the end of the ${size}-byte external data file`, { file, offset: begin });
    if (begin < end) throw new FormatError('BAD_ONNX', `initializer '${i.name}' at offset ${begin} overlaps the one before it`, { file, offset: begin });
    tensors.push({ name: i.name, dtype: i.dtype, shape: i.shape, begin, end: begin + i.bytes });
    end = begin + i.bytes;
  }
  return tensors;
}
