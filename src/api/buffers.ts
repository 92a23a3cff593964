// In-memory compression and decompression of one file (browser-safe): the same streaming writer and reader
// as the file API, over a MemorySource and MemorySink.

import { ContainerReader, type DecodeOptions } from '../pipeline/container-reader.js';
import { ContainerWriter, type EncodeOptions, type EncodeWarning } from '../pipeline/container-writer.js';
import { FormatError, LimitError } from '../errors.js';
import { BufferSink, canShareMemory, MemorySink, MemorySource } from '../io/byte-source.js';
import { poolFor } from '../workers/pool.js';
import { memberFormatOf, type RawArray } from '../pipeline/member-format.js';
import { FORMAT_VERSION_FLOAT_ARRAYS, FORMAT_VERSION_LAYOUTS, FORMAT_VERSION_LOSSY } from '../format/constants.js';
import { refuseLossy } from '../pipeline/lossy-segments.js';
import { checkOutputLimit, type OutputLimitOptions } from './output-limit.js';

/** Options for compressBuffer. */
export interface CompressBufferOptions extends EncodeOptions {
  /** Member name recorded in the container (default 'model.safetensors'). */
  name?: string;
  /**
   * true: split as safetensors; false: store as bytes (default: by the name's extension, `.safetensors`, `.gguf`, `.onnx`
   * or `.npy`; a GGUF or ONNX name makes the container version 5, a `.npy` name version 9, unless `formatVersion` says
   * otherwise).
   */
  safetensors?: boolean;
  /**
   * Store the bytes as a raw array (FORMAT.md §4.9): one tensor of this dtype and shape, restored byte for byte; the
   * container is then version 9 unless `formatVersion` says otherwise (below 9: RangeError). Bytes whose size is not the
   * shape's are BAD_RAW_ARRAY. A name ending in `.npy` is split as a NumPy array (§4.8, version 9) without it.
   */
  array?: RawArray;
}

/**
 * Compresses one file held in memory into a single-file container. A safetensors input that cannot be split into
 * tensors (FORMAT.md §4.4) is stored as plain bytes; compressBufferWithWarnings says so, `strict` refuses it.
 * @throws BAD_SAFETENSORS / LIMIT_EXCEEDED for such an input with `strict`
 */
export async function compressBuffer(bytes: Uint8Array, options: CompressBufferOptions = {}): Promise<Uint8Array> {
  return (await compressBufferWithWarnings(bytes, options)).bytes;
}

/**
 * compressBuffer, also returning the warnings: a safetensors input stored as plain bytes, and why.
 * @throws BAD_SAFETENSORS / BAD_GGUF / BAD_ONNX / BAD_NPY / LIMIT_EXCEEDED for such an input with `strict`;
 *   BAD_RAW_ARRAY for an `array` whose shape is not the bytes' size
 */
export async function compressBufferWithWarnings(bytes: Uint8Array, options: CompressBufferOptions = {}): Promise<{ bytes: Uint8Array; warnings: EncodeWarning[] }> {
  const name = options.name ?? 'model.safetensors';
  // The writer's pieces (header, coded chunks, index, footer) are new arrays each, kept without a copy.
  const sink = new MemorySink(true);
  const format = options.safetensors === true ? 'safetensors' : options.safetensors === false ? 'bytes' : memberFormatOf(name);
  // `level: 'max'` has one version (10), which the writer picks (it holds every member layout of version 9).
  const formatVersion =
    options.level === 'max'
      ? options.formatVersion
      : options.formatVersion ??
        (options.lossy ? options.lossy.formatVersion ?? FORMAT_VERSION_LOSSY : undefined) ??
        (options.array !== undefined || format === 'npy' ? FORMAT_VERSION_FLOAT_ARRAYS : format === 'gguf' || format === 'onnx' ? FORMAT_VERSION_LAYOUTS : undefined);
  // The writer chooses version 11 where the byte model is used unless a version, a quantizer or level max was asked for.
  const byteModel = options.byteModel ?? (options.formatVersion === undefined && !options.lossy && options.level !== 'max');
  const writer = await ContainerWriter.start(sink, 'file', { ...options, formatVersion, byteModel });
  await writer.addFile(name, new MemorySource(bytes, name), options.array ?? format);
  const { warnings } = await writer.finish();
  return { bytes: sink.toBytes(), warnings };
}

/** Options for decompressBuffer. */
export interface DecompressBufferOptions extends DecodeOptions, OutputLimitOptions {
  /** Names the container in errors (default '<memory>'). */
  name?: string;
  /**
   * When the container is decoded with workers (`threads` > 1 on a large enough container): return the output in a
   * SharedArrayBuffer, which the workers write straight into (default true, where SharedArrayBuffer exists; in
   * browsers that needs cross-origin isolation). Such an array cannot be transferred, and WebCrypto refuses it:
   * `.slice()` copies it into an ArrayBuffer. false: always an ArrayBuffer, the calling thread copying each worker's
   * output into it (slower: the copies, and the first touch of every page, fall on one thread).
   */
  sharedOutput?: boolean;
  /** Refuse a container that holds lossy tensors (FORMAT.md §3.5.3.5) with LOSSY_REFUSED, before decoding anything. */
  losslessOnly?: boolean;
}

/**
 * Decompresses a single-file container held in memory; checks every checksum.
 * @throws WRONG_KIND for a folder container (its members are separate files: openContainer reads them one by one,
 *   decompressFile writes the folder); LIMIT_EXCEEDED for a declared size above `maxOutputBytes`; LOSSY_REFUSED for
 *   a lossy container with `losslessOnly`; any WcodecError
 *   for a corrupt or malformed container
 */
export async function decompressBuffer(container: Uint8Array, options: DecompressBufferOptions = {}): Promise<Uint8Array> {
  const reader = await ContainerReader.open(new MemorySource(container, options.name ?? '<memory>'));
  const members = reader.index.members;
  if (reader.index.kind !== 'file') {
    throw new FormatError('WRONG_KIND', `a folder container (${members.length} files) has no single output buffer: use openContainer to read its members, or decompressFile to write the folder`, { file: reader.source.name });
  }
  // Member sizes come from the index (checked against the container's limits by the reader); decoding writes straight into the result.
  const total = members.reduce((a, m) => a + m.originalBytes, 0);
  checkOutputLimit(total, options, reader.source.name, 'the container');
  if (options.losslessOnly === true) refuseLossy(reader.index, reader.source.name);
  // With workers, the output lives in shared memory where that exists, so that they decode straight into it.
  const shared = options.sharedOutput !== false && canShareMemory() && (await poolFor(options, total)) !== undefined;
  let sink: BufferSink;
  try {
    sink = new BufferSink(total, shared);
  } catch (e) {
    throw new LimitError('LIMIT_EXCEEDED', `${total} decoded bytes cannot be held in one buffer here`, { file: reader.source.name, cause: e });
  }
  for (const m of members) await reader.decodeMember(m, sink, options);
  return sink.bytes;
}
