// One error hierarchy for everything wcodec reads, writes or checks (docs/FORMAT.md §9, "Error codes").
// Callers branch on `code`, which comes from a closed list; `file` and `offset` say where the problem is.

/** Every error code wcodec throws. Kept in step with docs/FORMAT.md §9. */
export const ERROR_CODES = [
  'BAD_MAGIC', // the bytes are not a .wcodec container (header or footer magic wrong)
  'UNSUPPORTED_VERSION', // a container version this decoder does not know
  'TRUNCATED', // the data ends before a structure it announces
  'CORRUPT_HEADER', // header or footer fields inconsistent, reserved bits set, CRC wrong
  'CORRUPT_INDEX', // the index fails its CRC or holds inconsistent records
  'CORRUPT_CHUNK', // a chunk fails its CRC or its rANS stream does not end where it must
  'CHECKSUM_MISMATCH', // decoded bytes whose SHA-256 differs from the recorded one
  'LIMIT_EXCEEDED', // a size or count above a documented limit
  'BAD_SAFETENSORS', // an input .safetensors file that violates the safetensors rules
  'BAD_GGUF', // an input .gguf file that cannot be split into its tensors (FORMAT.md §4.6)
  'BAD_ONNX', // an input .onnx file (or its external data) that cannot be split into its initializers (FORMAT.md §4.7)
  'BAD_NPY', // an input .npy file whose header or size breaks the NumPy format rules (FORMAT.md §4.8)
  'BAD_RAW_ARRAY', // a raw array whose file size is not its dtype and shape's (FORMAT.md §4.9)
  'BAD_PATH', // a member path that could escape the output folder or is otherwise unsafe
  'NOT_FOUND', // a tensor or member name that the checkpoint does not hold
  'AMBIGUOUS_NAME', // a tensor name that several members hold, with no index to choose
  'OUTPUT_EXISTS', // the output path exists and overwriting was not asked for, or would delete files the container does not hold
  'IO_ERROR', // the operating system refused a read or write
  'GPU_UNAVAILABLE', // GPU decoding without CPU fallback, and no WebGPU device could be had
  'CORRUPT_TRANSFORM', // a transformed segment whose params or streams are inconsistent (FORMAT.md §3.5)
  'REFERENCE_MISSING', // an XOR delta without a reference checkpoint, or whose reference lacks the tensor
  'REFERENCE_MISMATCH', // an XOR delta whose reference tensor has another dtype, shape or SHA-256
  'LABEL_MISMATCH', // a member's names, dtypes, shapes or path disagree with its identity digest or its safetensors header
  'INPUT_CHANGED', // an input that changed while it was being compressed (its passes read different bytes)
  'OUTPUT_IS_INPUT', // an output path that is the input, lies inside the input folder, or is a folder that holds the input
  'NO_SPACE', // the output's file system has less free space than the output the container declares
  'WRONG_KIND', // a folder container given to an API that returns one file's bytes
  'HTTP_ERROR', // an HTTP request failed: a status that is not retried, or a transient failure that outlasted the retries
  'RANGE_UNSUPPORTED', // a server that ignores or misanswers range requests, for a file too large to take whole
  'SOURCE_CHANGED', // a remote file whose ETag, Last-Modified or size changed while it was being read
  'ABORTED', // the caller's AbortSignal fired
  'UNSUPPORTED_MODEL', // a model the evaluator does not implement: its config, a weight's dtype or shape
  'LOSSY_REFUSED', // a container holding lossy tensors (FORMAT.md §3.5.3.5), decoded with losslessOnly / --lossless-only
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Where an error happened: the file (path or label) and the byte offset in it, when known. */
export interface ErrorPlace {
  file?: string;
  offset?: number;
  cause?: unknown;
}

/**
 * Base class of every error wcodec throws on bad data or failed I/O.
 * `code` is from ERROR_CODES; `file` and `offset` locate the problem when known.
 */
export class WcodecError extends Error {
  readonly code: ErrorCode;
  readonly file: string | undefined;
  readonly offset: number | undefined;

  constructor(code: ErrorCode, problem: string, place: ErrorPlace = {}) {
    const where =
      place.file !== undefined || place.offset !== undefined
        ? ` (${place.file ?? '<input>'}${place.offset !== undefined ? ` at offset ${place.offset}` : ''})`
        : '';
    super(`${code}: ${problem}${where}`, place.cause !== undefined ? { cause: place.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    this.file = place.file;
    this.offset = place.offset;
  }

  /** A copy of this error with `file` filled in, for layers that know the file name but not the offset. */
  withFile(file: string): WcodecError {
    if (this.file !== undefined) return this;
    const copy = Object.create(Object.getPrototypeOf(this)) as WcodecError;
    Object.assign(copy, this);
    const where = this.offset !== undefined ? ` (${file} at offset ${this.offset})` : ` (${file})`;
    Object.defineProperty(copy, 'message', { value: this.message.replace(/ \(<input>[^)]*\)$/, '') + where });
    Object.defineProperty(copy, 'file', { value: file });
    Object.defineProperty(copy, 'stack', { value: this.stack });
    return copy;
  }

  /** The wire form used to carry an error across a worker boundary. */
  toWire(): WireError {
    return { code: this.code, message: this.message, file: this.file, offset: this.offset };
  }
}

/** The container or an input file is malformed (magic, version, structure, limits). */
export class FormatError extends WcodecError {}

/** Stored and computed checksums disagree: the data is corrupt. */
export class ChecksumError extends WcodecError {}

/** A size or count read from a file exceeds a documented limit (FORMAT.md §8). */
export class LimitError extends WcodecError {}

/**
 * An operating-system read or write failed, an HTTP request failed, an output already exists or does not fit, an input
 * changed while it was read, the caller aborted, or the caller refused a lossy container (LOSSY_REFUSED).
 */
export class IoError extends WcodecError {}

/** No WebGPU device could be had for a GPU decode that does not allow the CPU fallback. */
export class GpuUnavailableError extends WcodecError {}

/** Serializable form of a WcodecError. */
export interface WireError {
  code: ErrorCode;
  message: string;
  file: string | undefined;
  offset: number | undefined;
}

const CLASS_BY_CODE: Partial<Record<ErrorCode, typeof WcodecError>> = {
  CHECKSUM_MISMATCH: ChecksumError,
  CORRUPT_CHUNK: ChecksumError,
  LIMIT_EXCEEDED: LimitError,
  IO_ERROR: IoError,
  OUTPUT_EXISTS: IoError,
  INPUT_CHANGED: IoError,
  NO_SPACE: IoError,
  OUTPUT_IS_INPUT: IoError,
  HTTP_ERROR: IoError,
  RANGE_UNSUPPORTED: IoError,
  SOURCE_CHANGED: IoError,
  ABORTED: IoError,
  LOSSY_REFUSED: IoError,
  GPU_UNAVAILABLE: GpuUnavailableError,
};

/** The error class that carries `code` (FormatError unless a more specific class exists). */
export function errorClassFor(code: ErrorCode): typeof WcodecError {
  return CLASS_BY_CODE[code] ?? FormatError;
}

/** Builds the error of the class that belongs to `code`. */
export function makeError(code: ErrorCode, problem: string, place: ErrorPlace = {}): WcodecError {
  const Cls = errorClassFor(code);
  return new Cls(code, problem, place);
}

/** Rebuilds an error from its wire form (worker boundary). */
export function fromWire(w: WireError): WcodecError {
  const e = makeError(w.code, '', { file: w.file, offset: w.offset });
  Object.defineProperty(e, 'message', { value: w.message });
  return e;
}
