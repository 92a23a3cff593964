// Streaming container writer (FORMAT.md §2-§6): header first, then each segment's chunks as they are coded,
// then the index and the footer. Memory stays bounded by one read block and one chunk, whatever the file size.

import { plainCoding, type EncodedChunk, type SegmentCoding } from '../entropy/chunk-codec.js';
import { createChunkEncoder, type ChunkEncoding } from '../wasm/chunk-engines.js';
import { encodeByteModel } from '../wasm/wasm-byte-model.js';
import { DEFAULT_CHUNK_BYTES, FORMAT_VERSION, FORMAT_VERSION_BYTE_MODEL, FORMAT_VERSION_CM, FORMAT_VERSION_COMPACT, FORMAT_VERSION_DIGESTS, FORMAT_VERSION_FLOAT_ARRAYS, FORMAT_VERSION_IDENTITY, FORMAT_VERSION_LAYOUTS, FORMAT_VERSION_LOSSY, FORMAT_VERSION_LOSSY_LEVELS, FORMAT_VERSION_TRANSFORMS, MAX_CHUNK_VALUES, MAX_NAME_BYTES, MAX_RANK, MAX_TRANSFORM_BYTES } from '../format/constants.js';
import { FormatError, IoError, LimitError, WcodecError } from '../errors.js';
import { crc32c } from '../format/crc32c.js';
import { chunkBinding } from '../format/chunk-binding.js';
import { writeIndexBlock } from './index-block.js';
import { writeFooter, writeHeader } from '../format/envelope.js';
import {
  displayPath,
  MAX_MEMBER_MODE,
  nonPortablePathReason,
  strictUtf8,
  unsafePathBytesReason,
  unsafePathReason,
  type MemberAttributes,
  type MemberLayout,
  usesTransforms,
  writeIndex,
  type ChunkRecord,
  type ContainerIndex,
  type ContainerKind,
  type MemberRecord,
  PRIMER_CONTINUATION,
  type SegmentRecord,
  type StreamRecord,
  type TransformRecord,
} from './index-codec.js';
import { createSha256, sha256, toHex, type Sha256 } from '../format/sha256.js';
import type { TensorReference } from '../format/tensor-reference.js';
import { MemorySource } from '../io/byte-source.js';
import { estimateCodedBytes } from './choose-transform.js';
import { xorBytes } from '../transform/xor-delta.js';
import type { TransformCandidate } from '../transform/segment-transform.js';
import { TRANSFORMS, TRANSFORM_DUPLICATE, TRANSFORM_XOR_DELTA } from '../transform/transform-registry.js';
import { chooseCoding, rawCoding, SegmentStats } from './choose-layout.js';
import { validLaneCount } from '../entropy/rans.js';
import { DTYPE_BYTES, dtypeBytes } from '../transform/dtypes.js';
import type { PlaneLayout, PlaneSpec } from '../transform/planes.js';
import { readSafetensorsLayout, type SafetensorsLayout } from '../safetensors/read-layout.js';
import { safetensorsPrimer } from '../safetensors/header-primer.js';
import { readGgufLayout } from '../gguf/read-layout.js';
import { onnxDataLayout, readOnnxLayout } from '../onnx/read-layout.js';
import { resolveLocation, type OnnxInitializer } from '../onnx/read-model.js';
import { blockFieldsBytes } from '../transform/block-fields.js';
import type { MemberFormat, RawArray } from './member-format.js';
import { readNpyLayout } from '../npy/read-layout.js';
import { arrayTensorName } from '../npy/array-name.js';
import { GROUP_QUANT_DTYPES, type QuantizedMatrix } from '../transform/group-quant.js';
import { groupQuantCandidate, lossyLabelProblem, widenFloats } from '../transform/group-quant-segment.js';
import type { ByteSink, ByteSource } from '../io/byte-source.js';
import { kernelsFor, type Engine, type Kernels } from '../wasm/kernels.js';
import { WasmSegmentStats } from './wasm-segment-stats.js';
import { chunksPerRun, ChunkWindow, type WindowSize } from '../workers/chunk-window.js';
import { CallerCoders } from '../workers/caller-coders.js';
import { checkThreads, errorFromWire, poolFor, type ThreadOptions, type WorkerPool } from '../workers/pool.js';
import type { EncodeCoder } from '../workers/protocol.js';
import { WorkerSha256 } from '../workers/worker-sha256.js';

/** Encoder options. Same input and options give the same bytes. */
export interface EncodeOptions extends ThreadOptions {
  /** Target original bytes per chunk (rounded down to whole values); default 256 KiB. */
  chunkBytes?: number;
  /** Called after each chunk with original bytes done so far in this member and the member's size. */
  onProgress?: (done: number, total: number) => void;
  /** 'wasm' (default): the WebAssembly kernels where they load, else TypeScript; 'ts': the TypeScript reference. Same bytes. */
  engine?: Engine;
  /**
   * Favour decode speed over size (default false): BF16, F16 and F32 tensors code only the plane that holds the
   * exponent and store sign and mantissa bits raw, one rANS symbol per value instead of two (about twice the
   * decode speed for BF16, about 0.5 % larger). Any decoder reads the result; the reference choice is unchanged.
   */
  fastDecode?: boolean;
  /**
   * Favour CPU decode speed most (default false): as fastDecode, but the exponent plane is Huffman-coded (FORMAT.md
   * §5.4), which decodes two to three values per table lookup: about 2x the WebAssembly decode speed of fastDecode,
   * about 1 % larger than the default for BF16. Needs format version 2; the GPU kernel does not decode these planes
   * (decodeToGPU decodes such tensors on the CPU and says so).
   */
  huffman?: boolean;
  /**
   * rANS lanes per chunk, a power of two from 1 to 32 (default: by chunk size, FORMAT.md §4.3). 32 lanes with
   * small `chunkBytes` (e.g. 16 KiB) make many short chunks, which GPU decoders run in parallel; each chunk then
   * carries 128 bytes of lane states.
   */
  lanes?: number;
  /**
   * Cost every candidate plane layout of a segment with its built tables (default false: the layout is chosen from
   * entropy estimates and only its tables are built, several times faster on files of small tensors and within about
   * 0.01 % of the size). The golden test vectors are made with it (FORMAT.md §4.3).
   */
  exactLayoutSearch?: boolean;
  /**
   * Structure-aware modes (default true): identical tensors stored once (DUPLICATE), XOR deltas against `reference`,
   * and the value transforms of the registry, each kept only where it saves bytes (FORMAT.md §3.5). With
   * `formatVersion: 2` they need a sink that can patch (the header's version is rewritten at the end) and are off
   * with any other sink; with `formatVersion: 1` they are off.
   */
  transforms?: boolean;
  /**
   * The container version to write (default 4, FORMAT_VERSION_DIGESTS: each chunk carries a digest of its decoded
   * bytes, FORMAT.md §7.5, and every member its identity digest, §7.4). 3: for readers of versions 1-3 (chunk
   * CRC-32Cs). 2: for readers of versions 1 and 2 only, version 1 unless a transform or a Huffman-coded plane needs
   * version 2; 1: version 1 only (transforms off, `huffman` refused). 5: version 4 with member layouts, which GGUF and
   * ONNX members need to be split into tensors (FORMAT.md §3.2, §4.6, §4.7); below 5 such members are plain bytes.
   * 6: version 5 with lossy tensors (FORMAT.md §3.5.3.5): the default with `lossy`, and refused without it. 7: version 6
   * with FP8 levels and 2:4 sparsity claims: the default with a `lossy` whose formatVersion is 7.
   * 8: version 7 (lossy tensors only with `lossy`) with the byte model (FORMAT.md §5.5) for byte segments and small
   * 1-byte tensors where it is smaller, and safetensors headers primed from their tensor labels (§4.4). 9: version 8
   * with the NumPy array and raw array member layouts (§4.8, §4.9), which `.npy` files and raw arrays need to be
   * stored as tensors; below 9 a `.npy` file is plain bytes and a raw array is refused (RangeError).
   * 10: version 9 with the tensor model (§5.6); written only with `level: 'max'`, which it is the default of. 11:
   * version 10 with byte-model groups (runs of small 1-byte tensors as one stream, §3.4) and members of one segment whose
   * segment digest is not stored twice (§3.3). Without `formatVersion` (and `lossy` and level max) the writer chooses:
   * see `byteModel`.
   */
  formatVersion?: 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11;
  /**
   * 'default' (the default): the coding above. 'max': the smallest container this writer makes, at a fraction of the
   * speed: format version 10, with every tensor of 2-, 4- or 8-byte values that no transform takes coded with the
   * tensor model (FORMAT.md §5.6) where that is smaller than the plain coding, in chunks of `chunkBytes` (default
   * TENSOR_MODEL_CHUNK_BYTES, 1 MiB, for these tensors) coded at a few MB/s (a tensor of several chunks on the workers
   * when there are any, others in this thread), the byte model for byte segments as in version 8, and the member
   * layouts of version 9. Decoding such tensors runs at a few MB/s per thread (chunks decode in parallel).
   */
  level?: 'default' | 'max';
  /**
   * Use the byte model where it makes the container smaller (FORMAT.md §5.5): default true when `formatVersion`,
   * `lossy` and level max are not given. The container is then version 11 when some segment is coded with the byte model, and
   * otherwise exactly what the writer writes without it: version 4, or `formatVersion` when that is given as 4, 5 or 9
   * (the file and buffer APIs give 5 for GGUF and ONNX inputs, 9 for NumPy and raw arrays). false: never (version 4,
   * 5 or 9, as before). Needs a sink
   * that can patch (the header's version is rewritten at the end); with any other sink it is off.
   */
  byteModel?: boolean;
  /**
   * Store tensors lossily (FORMAT.md §3.5.3.5, transform GROUP_QUANT; the container is then version 6). `quantize` is
   * called for each BF16, F16 or F32 tensor of rank >= 2 holding no NaN or infinity (others stay lossless), up to
   * MAX_TRANSFORM_BYTES; it returns the tensor as a QuantizedMatrix (rows: the product of all but the last dimension,
   * cols: the last) or undefined to keep the tensor lossless. The segment's and the member's SHA-256 are then those of
   * the dequantized bytes, which is what a decoder writes. `label` (1 … 32 printable ASCII characters) names the
   * quantizer in every lossy segment.
   */
  lossy?: LossyOptions;
  /**
   * A checkpoint to code XOR deltas against (`compress --ref`): each tensor whose name, dtype and shape match one of the
   * reference's (up to MAX_TRANSFORM_BYTES) is also tried as the XOR of the two, kept where that is smaller. Decoding
   * then needs the same reference (checked by SHA-256 per tensor).
   */
  reference?: TensorReference;
  /**
   * Refuse a `.safetensors` member that cannot be split into tensors (FORMAT.md §4.4): the safetensors library would
   * refuse it (BAD_SAFETENSORS), or it is beyond wcodec's bounds (LIMIT_EXCEEDED); likewise a GGUF file (BAD_GGUF,
   * §4.6), an ONNX model or external data file (BAD_ONNX, §4.7) or a `.npy` file (BAD_NPY, §4.8) that cannot be split.
   * Default false: such a member is stored as one byte segment, bit-exact, and an EncodeWarning says which file and why.
   */
  strict?: boolean;
}

/** The container version a lossy option asks for: its formatVersion, else 6 (FORMAT_VERSION_LOSSY). */
export function lossyFormatVersion(lossy: LossyOptions): number {
  return lossy.formatVersion ?? FORMAT_VERSION_LOSSY;
}

/** A quantizer for EncodeOptions.lossy. */
export interface LossyOptions {
  /** The quantizer's name as stored and shown ("q8", "q4", "bits=3.5"): 1 … 32 printable ASCII characters. */
  label: string;
  /**
   * The container version the quantizer's matrices need: 6 (the default) for integer levels and no sparsity claim, 7
   * when any may have FP8 levels or state 2:4 sparsity (FORMAT.md §3.5.3.5). A matrix that needs 7 in a version 6
   * container is refused (RangeError).
   */
  formatVersion?: 6 | 7;
  /**
   * The tensor `name` (dtype, shape) as codes and scales, from its values widened to binary32; undefined keeps it
   * lossless. Must be deterministic for the container to be.
   */
  quantize(name: string, dtype: string, shape: number[], values: Float32Array): QuantizedMatrix | undefined;
}

/**
 * Something the encoder did that the caller should know of: a `.safetensors`, `.gguf`, `.onnx` or `.npy` member (or an
 * ONNX external data file) stored as plain bytes, or a member path that does not round-trip on every OS (FORMAT.md §3.2).
 */
export interface EncodeWarning {
  /** The member path. */
  path: string;
  /** One line naming the file, the offset and the problem. */
  message: string;
  /**
   * For a member stored as bytes, the error that `strict` would have thrown (BAD_SAFETENSORS, BAD_GGUF, BAD_ONNX, BAD_NPY
   * or LIMIT_EXCEEDED, with `file` and `offset`); for a path that is not portable, the BAD_PATH a decoder on an OS that
   * cannot create it raises.
   */
  error: WcodecError;
}

/** Bytes of the leading sample on which value transforms are tried before a large tensor is read whole. */
const TRANSFORM_SAMPLE_BYTES = 4 * 1024 * 1024;

/** Bytes hashed between two looks at the workers' replies while a member is coded with workers (ContainerWriter.hash). */
const HASH_STEP_BYTES = 1024 * 1024;

/**
 * Largest byte segment the writer tries the byte model on where it was asked for (formatVersion 8 or 11, level max):
 * the trial codes the whole segment in this thread, held in memory, at about 1 MB/s.
 */
const BYTE_MODEL_MAX_SEGMENT_BYTES = 64 * 1024 * 1024;
/** Largest 1-byte tensor tried with the byte model where it was asked for: its decoding is slower than rANS. */
const BYTE_MODEL_MAX_TENSOR_BYTES = 16 * 1024 * 1024;
/**
 * Where the writer uses the byte model by default (no formatVersion given), the byte segments and the 1-byte tensors
 * (alone or in groups) it tries it on are at most this large, and at most BYTE_MODEL_DEFAULT_BUDGET_BYTES in all, so
 * that coding and decoding at about 1 MB/s adds a few seconds at most: tokenizers, vocabularies, configs and headers
 * keep it, while a large unknown file or a quantized model's tensors get the fast coders (an 8 MB raw float32 file
 * took 10.4 s to compress and 11.9 s to decompress with it, x1.201, against 0.09 and 0.17 s without, x1.086; as a raw
 * F32 array, `--dtype F32`, x1.205 at full speed).
 */
const BYTE_MODEL_DEFAULT_MAX_SEGMENT_BYTES = 2 * 1024 * 1024;
/** BYTE_MODEL_DEFAULT_MAX_SEGMENT_BYTES for a 1-byte tensor. */
const BYTE_MODEL_DEFAULT_MAX_TENSOR_BYTES = 1024 * 1024;
/** The bytes of a container the byte model is tried on in all where the writer uses it by default. */
const BYTE_MODEL_DEFAULT_BUDGET_BYTES = 8 * 1024 * 1024;
/**
 * Index bytes of a byte-model coding record beyond its chunk records, as estimateCodedBytes counts a plain one:
 * valueBytes, planeCount, lanes, chunkValues, chunkCount (11), the head plane of one range (5) and the primer (1).
 */
const BYTE_MODEL_RECORD_BYTES = 17;
/** Bytes of a chunk record as estimateCodedBytes counts them. */
const CHUNK_RECORD_ESTIMATE_BYTES = 8;
/**
 * The byte model decodes at about 1 MB/s per thread, float planes at hundreds: it is used for a segment, a group of
 * 1-byte tensors or the index only where it saves at least 1/BYTE_MODEL_MIN_SAVING_SHARE (0.5 %) of the member's bytes
 * (the container's, for the index), so that a large model does not spend most of its decode time on a few percent of
 * its bytes (a 27.6 MB model's 106 KB header: about 0.1 s for 0.3 %), while small models, tokenizers and configs, where
 * the savings are large, keep it. Where the plain coding is already smaller than that share, the model is not tried.
 */
const BYTE_MODEL_MIN_SAVING_SHARE = 200;
/** Leading bytes of a large segment the byte model is tried on first (ContainerWriter.tryByteModel). */
const BYTE_MODEL_SAMPLE_BYTES = 1024 * 1024;
/** Bytes per byte-model chunk: the largest chunk, since every chunk starts its model afresh. */
const BYTE_MODEL_CHUNK_BYTES = MAX_CHUNK_VALUES;
/**
 * Original bytes per tensor-model chunk (`level: 'max'`, unless `chunkBytes` is given): every chunk starts its model afresh, and 1 MiB costs about
 * 0.03 % more than whole tensors on llama-tiny (256 KiB: 0.05 %, 128 KiB: 0.1 %) while large tensors keep chunks to
 * decode in parallel. Chunks hold whole rows where a row fits.
 */
const TENSOR_MODEL_CHUNK_BYTES = 1024 * 1024;
/** Smallest tensor tried with the tensor model: below it the model barely learns, and tables cost little. */
const TENSOR_MODEL_MIN_VALUES = 1024;
/**
 * Index bytes of a tensor-model coding record beyond its chunk records, as estimateCodedBytes counts a plain one: 11
 * fixed (valueBytes, planeCount, lanes, chunkValues, chunkCount), then TENSOR_MODEL_PLANE_BYTES per plane (a plane
 * record of one or two ranges and its row length: 7 to 11).
 */
const TENSOR_MODEL_RECORD_BYTES = 11;
const TENSOR_MODEL_PLANE_BYTES = 9;
/**
 * Largest byte-model group (version 11, FORMAT.md §3.4): a tensor of a group is read by decoding the whole group, so
 * this bounds the work of one per-tensor read (about a second on one thread). Also the group's chunkValues.
 */
const BYTE_MODEL_GROUP_BYTES = 1024 * 1024;
/** Pass-one read size: large reads, bounded memory. A multiple of every value width. */
const READ_BLOCK_BYTES = 8 * 1024 * 1024;

/** A byte range of a member to be coded as one segment. */
interface SegmentPlan {
  kind: 'tensor' | 'bytes';
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
  /** A safetensors header's primer (FORMAT.md §4.4), for the byte model (version 8). */
  primer?: Uint8Array;
}

/** A source that can read into a caller's buffer (FileSource). */
type ReadIntoSource = ByteSource & { readInto(offset: number, target: Uint8Array): Promise<void> };

function hasReadInto(source: ByteSource): source is ReadIntoSource {
  return typeof (source as Partial<ReadIntoSource>).readInto === 'function';
}

/**
 * `length` bytes at `offset` in a buffer of their own, to transfer to a worker: one of `spare` when one is large
 * enough (taken from the list), else a new one. (Never a view of the source's memory: a Node Buffer's slice() is one,
 * and transferring it would detach the caller's whole buffer.)
 */
async function readOwned(source: ByteSource, offset: number, length: number, spare: ArrayBuffer[] = []): Promise<Uint8Array> {
  const k = spare.findIndex((b) => b.byteLength >= length);
  const bytes = k >= 0 ? new Uint8Array(spare.splice(k, 1)[0], 0, length) : new Uint8Array(length);
  if (hasReadInto(source)) await source.readInto(offset, bytes);
  else bytes.set(await source.read(offset, length));
  return bytes;
}

/** The XOR of a tensor's bytes in `source` (from `begin`) with the reference's tensor `name`, read range by range. */
class XorSource implements ByteSource {
  readonly name: string;
  constructor(private source: ByteSource, private begin: number, readonly size: number, private ref: TensorReference, private tensor: string) {
    this.name = source.name;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    const a = await this.source.read(this.begin + offset, length);
    const b = await this.ref.readRange(this.tensor, offset, length);
    const out = new Uint8Array(length);
    xorBytes(out, a, b);
    return out;
  }
  async close(): Promise<void> {}
}

/**
 * The window of a member coded with workers: each worker holds two runs (about 2 MiB of input, several milliseconds of
 * coding: this thread lets replies in only between steps of its own counting and hashing), and the window holds enough
 * runs to keep the workers busy while this thread counts and hashes the next segment.
 */
function encodeWindowSize(pool: WorkerPool): WindowSize {
  return { tasks: 4 * (pool.threads + 1), perWorker: 2 };
}

/** A SHA-256 over a member's bytes: in this thread, or in a worker (WorkerSha256). */
interface MemberHash {
  update(bytes: Uint8Array): void | Promise<void>;
  digest(): Uint8Array | Promise<Uint8Array>;
}

/** Run buffers kept for reuse at most: about as many as are in flight. */
const MAX_RUN_BUFFERS = 8;

/** Numbers segments, so that worker-side caches of prepared encoders never confuse two. */
let segmentKeys = 0;

/** A coded run of values: the segment's own coding or one stream's. */
interface CodedValues {
  coding: SegmentCoding;
  chunkValues: number;
  chunks: ChunkRecord[];
}

/** Where an earlier tensor lies (member and segment index), by dtype, shape, size and SHA-256: the DUPLICATE targets. */
type DuplicateKey = string;

/**
 * The plane layout the tensor model codes a dtype's values in (FORMAT.md §5.6, informative choice): for floats the
 * exponent's top 8 bits, then the sign with the next 7 bits (F16: the 5 exponent and top 3 mantissa bits, then the
 * sign and the next 7), then each byte below the head from the most significant; for integers the head's two bytes,
 * then the bytes below. Undefined for 1-byte and unknown dtypes.
 */
function tensorModelLayout(dtype: string): PlaneLayout | undefined {
  const W = dtypeBytes(dtype);
  if (W === undefined || W < 2) return undefined;
  const head: PlaneSpec[] =
    dtype === 'F16' ? [{ kind: 'head', ranges: [{ lo: 10, width: 5 }, { lo: 7, width: 3 }] }, { kind: 'head', ranges: [{ lo: 15, width: 1 }, { lo: 0, width: 7 }] }]
    : FLOAT_DTYPES.includes(dtype) ? [{ kind: 'head', ranges: [{ lo: 7, width: 8 }] }, { kind: 'head', ranges: [{ lo: 15, width: 1 }, { lo: 0, width: 7 }] }]
    : [{ kind: 'head', ranges: [{ lo: 8, width: 8 }] }, { kind: 'head', ranges: [{ lo: 0, width: 8 }] }];
  const bytes: PlaneSpec[] = [];
  for (let b = W - 3; b >= 0; b--) bytes.push({ kind: 'byte', byteIndex: b });
  return { valueBytes: W, planes: [...head, ...bytes] };
}

/** Float dtypes whose head is sign, 8 exponent bits (the top 8 of F64's 11) and 7 more bits. */
const FLOAT_DTYPES = ['BF16', 'F32', 'F64'];

/** Writes one container to a sink, member by member. */
export class ContainerWriter {
  private offset = 0;
  private members: MemberRecord[] = [];
  private readonly chunkBytes: number;
  /** Whether the version 2 modes are on (the option, and a version that allows them without patching, or a sink that can patch). */
  private readonly transformsOn: boolean;
  /** The highest version this writer may write (the `formatVersion` option; 11 when it chooses, see byteModel). */
  private readonly formatVersion: number;
  /** Whether tensors are tried with the tensor model (`level: 'max'`). */
  private readonly levelMax: boolean;
  /** Bytes of the member being added (addFile): the byte model's savings are weighed against it. */
  private memberBytes = 0;
  /**
   * When the writer chooses the version (EncodeOptions.byteModel): the version written where no segment is coded with
   * the byte model (4 or 5), else undefined.
   */
  private readonly baseVersion: number | undefined;
  /** `.safetensors` members stored as plain bytes so far, and why. */
  private readonly warnings: EncodeWarning[] = [];
  /** Member paths so far, as their bytes in latin1 (two raw paths may show alike). */
  private readonly pathKeys = new Set<string>();
  /** Tensors stored with their own data so far, for DUPLICATE. */
  private stored = new Map<DuplicateKey, { member: number; segment: number }>();
  /** External initializers of the ONNX models added so far, by the member path of their data file (the first model naming a file). */
  private readonly externalData = new Map<string, { model: string; initializers: OnnxInitializer[] }>();
  /** The window of the member being added, when it is coded with workers. */
  private window: ChunkWindow | undefined;
  /** The workers of the member being added (the window's), for tensor-model trials. */
  private memberPool: WorkerPool | undefined;
  /** This thread's encoders of the segments whose chunks are in the window. */
  private readonly callerEncoders = new CallerCoders<ChunkEncoding>();
  /** Buffers of runs that workers coded, for the next runs' values (a new buffer costs the first touch of its pages). */
  private runBuffers: ArrayBuffer[] = [];

  private constructor(private sink: ByteSink, private kind: ContainerKind, private options: EncodeOptions) {
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isSafeInteger(this.chunkBytes) || this.chunkBytes < 1) throw new RangeError(`chunkBytes ${this.chunkBytes} must be a positive integer`);
    checkThreads(options);
    if (options.lanes !== undefined && !validLaneCount(options.lanes)) throw new RangeError(`lanes ${options.lanes} must be 1, 2, 4, 8, 16 or 32`);
    if (options.level !== undefined && options.level !== 'default' && options.level !== 'max') throw new RangeError(`level ${String(options.level)} must be 'default' or 'max'`);
    this.levelMax = options.level === 'max' || (options.level === undefined && options.formatVersion === FORMAT_VERSION_CM);
    const asked = options.formatVersion ?? (this.levelMax ? FORMAT_VERSION_CM : options.lossy ? lossyFormatVersion(options.lossy) : FORMAT_VERSION_DIGESTS);
    const choose =
      (options.byteModel ?? options.formatVersion === undefined) &&
      !options.lossy &&
      !this.levelMax &&
      (asked === FORMAT_VERSION_DIGESTS || asked === FORMAT_VERSION_LAYOUTS || asked === FORMAT_VERSION_FLOAT_ARRAYS) &&
      typeof sink.patch === 'function';
    this.baseVersion = choose ? asked : undefined;
    this.formatVersion = choose ? FORMAT_VERSION_COMPACT : asked;
    if (![FORMAT_VERSION, FORMAT_VERSION_TRANSFORMS, FORMAT_VERSION_IDENTITY, FORMAT_VERSION_DIGESTS, FORMAT_VERSION_LAYOUTS, FORMAT_VERSION_LOSSY, FORMAT_VERSION_LOSSY_LEVELS, FORMAT_VERSION_BYTE_MODEL, FORMAT_VERSION_FLOAT_ARRAYS, FORMAT_VERSION_CM, FORMAT_VERSION_COMPACT].includes(this.formatVersion)) {
      throw new RangeError(`formatVersion ${String(options.formatVersion)} must be 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 or 11`);
    }
    if (this.levelMax !== (this.formatVersion === FORMAT_VERSION_CM)) throw new RangeError(`level 'max' writes formatVersion ${FORMAT_VERSION_CM}, and only it (formatVersion ${this.formatVersion}, level ${options.level ?? 'default'})`);
    if ((this.formatVersion === FORMAT_VERSION_LOSSY || this.formatVersion === FORMAT_VERSION_LOSSY_LEVELS) && !options.lossy) throw new RangeError(`formatVersion ${this.formatVersion} is written only with a lossy quantizer (the lossy option)`);
    if (options.lossy) {
      if (this.formatVersion < lossyFormatVersion(options.lossy)) throw new RangeError(`lossy tensors need formatVersion ${lossyFormatVersion(options.lossy)} or above, not ${this.formatVersion}`);
      const problem = lossyLabelProblem(options.lossy.label);
      if (problem) throw new RangeError(`lossy: ${problem}`);
    }
    if (this.formatVersion === FORMAT_VERSION && options.huffman === true) throw new RangeError('Huffman-coded planes need formatVersion 2 or above');
    this.transformsOn =
      options.transforms !== false &&
      (this.formatVersion >= FORMAT_VERSION_IDENTITY || (this.formatVersion === FORMAT_VERSION_TRANSFORMS && typeof sink.patch === 'function'));
  }

  /** Starts a container: writes the header (versions 3 and 4 as asked; with formatVersion 1 or 2, version 1 until finish() says otherwise). */
  static async start(sink: ByteSink, kind: ContainerKind, options: EncodeOptions = {}): Promise<ContainerWriter> {
    const w = new ContainerWriter(sink, kind, options);
    await w.emit(writeHeader(w.baseVersion ?? (w.formatVersion >= FORMAT_VERSION_IDENTITY ? w.formatVersion : FORMAT_VERSION)));
    return w;
  }

  /** Writes `bytes` to the sink. Every piece written is a new array that nothing changes afterwards (MemorySink keeps them). */
  private async emit(bytes: Uint8Array): Promise<void> {
    await this.sink.write(bytes);
    this.offset += bytes.length;
  }

  /**
   * Adds one original file. A `.safetensors` file is split into its header and tensors, each coded by dtype
   * (FORMAT.md §4.4); from format version 5 a GGUF file into its header, padding and tensors (§4.6), an ONNX model into
   * its bytes and inline initializers, and an external data file of an ONNX model added earlier into its initializers
   * (§4.7); from version 9 a `.npy` file into its header and its array (§4.8), and a raw array into one tensor (§4.9).
   * One that cannot be split is one byte segment with a warning (refused with `strict`); anything else is one byte
   * segment.
   * @param path the member path (shown, for a raw path, with `attrs.pathBytes` holding its bytes)
   * @param source the file's bytes (a symbolic link's target; nothing for a folder)
   * @param format how to split it (MemberFormat; true: 'safetensors', false: 'bytes'; a RawArray: one tensor of that
   *   dtype and shape; except that a file an earlier ONNX model names as its external data is split as such whatever
   *   `format` says)
   * @param layout a layout already read from `source` (readSafetensorsLayout), used instead of reading one
   * @param attrs version 3: the member's type, mode, modification time and raw path bytes (FORMAT.md §3.2)
   * @returns the member's index record
   * @throws BAD_PATH; BAD_SAFETENSORS / BAD_GGUF / BAD_ONNX / BAD_NPY / LIMIT_EXCEEDED for a file that cannot be split,
   *   with `strict`; BAD_RAW_ARRAY for a raw array whose size is not its shape's (always); RangeError for a raw array
   *   below formatVersion 9, of an unknown dtype or a shape that is not a list of safe integers;
   *   INPUT_CHANGED when the source's bytes differ between the encoder's passes (a symbol the first pass never counted);
   *   RangeError for attributes out of range or with formatVersion below 3
   */
  async addFile(path: string, source: ByteSource, format: MemberFormat | boolean | RawArray, layout?: SafetensorsLayout, attrs: MemberAttributes = {}): Promise<MemberRecord> {
    const raw = typeof format === 'object' ? this.checkRawArray(format, source, attrs) : undefined;
    this.memberBytes = source.size;
    const v3 = this.formatVersion >= FORMAT_VERSION_IDENTITY;
    const kept = this.checkAttributes(attrs, source.size, v3);
    let pathBytes = kept.pathBytes;
    if (pathBytes !== undefined) {
      // Flag bit 2 only where it is needed: a raw path that is valid UTF-8 is written as the text it is.
      const text = strictUtf8(pathBytes);
      path = text ?? displayPath(pathBytes);
      if (text !== undefined) {
        delete kept.pathBytes;
        pathBytes = undefined;
      }
    }
    const bytes = pathBytes ?? new TextEncoder().encode(path);
    // Refuse here what a reader would refuse (FORMAT.md §3.2), rather than write a container nobody can open.
    const bad = (v3 ? unsafePathBytesReason(bytes) : unsafePathReason(path)) ?? (this.kind === 'file' && path.includes('/') ? 'a single-file member path has a /' : undefined);
    if (bad) throw new FormatError('BAD_PATH', `${bad}: '${path}'`, { file: source.name });
    if (bytes.length > MAX_NAME_BYTES) {
      throw new LimitError('LIMIT_EXCEEDED', `member path of more than ${MAX_NAME_BYTES} UTF-8 bytes`, { file: source.name });
    }
    const key = String.fromCharCode(...bytes);
    if (this.pathKeys.has(key)) throw new FormatError('BAD_PATH', `member path '${path}' added twice`, { file: source.name });
    if (this.kind === 'file' && this.members.length > 0) throw new RangeError('a single-file container holds exactly one member');
    const plans: SegmentPlan[] = [];
    const byteRange = (begin: number, end: number): SegmentPlan => ({ kind: 'bytes', name: '', dtype: '', shape: [], begin, end });
    const as: MemberFormat = format === true ? 'safetensors' : format === false || typeof format === 'object' ? 'bytes' : format;
    let memberLayout: MemberLayout | undefined;
    // Tensors in file order after a header of `headerEnd` bytes; the bytes between and after them become byte segments.
    const tiled = (headerEnd: number, tensors: readonly { name: string; dtype: string; shape: number[]; begin: number; end: number }[]): void => {
      if (headerEnd > 0) plans.push(byteRange(0, headerEnd));
      let at = headerEnd;
      for (const t of tensors) {
        if (t.begin > at) plans.push(byteRange(at, t.begin));
        plans.push({ kind: 'tensor', name: t.name, dtype: t.dtype, shape: t.shape, begin: t.begin, end: t.end });
        at = t.end;
      }
      if (source.size > at) plans.push(byteRange(at, source.size));
    };
    const layouts = (this.baseVersion ?? this.formatVersion) >= FORMAT_VERSION_LAYOUTS && (attrs.type ?? 'file') === 'file';
    const data = layouts ? this.externalData.get(path) : undefined;
    const arrays = layouts && (this.baseVersion ?? this.formatVersion) >= FORMAT_VERSION_FLOAT_ARRAYS;
    if (raw) {
      plans.push({ kind: 'tensor', name: arrayTensorName(path), dtype: raw.dtype, shape: raw.shape, begin: 0, end: source.size });
      memberLayout = 'raw-array';
    } else if (data) {
      const tensors = await this.splitOrWarn(path, () => Promise.resolve(onnxDataLayout(source.name, source.size, data.initializers)));
      if (tensors) {
        tiled(0, tensors);
        memberLayout = 'onnx-data';
      }
    } else if (as === 'safetensors') {
      const split = layout ?? (await this.safetensorsLayoutOf(path, source));
      if (split) {
        const header = byteRange(0, split.headerEnd);
        if (this.formatVersion >= FORMAT_VERSION_BYTE_MODEL) header.primer = safetensorsPrimer(split.tensors.map((t) => ({ ...t, originalBytes: t.end - t.begin })));
        plans.push(header);
        for (const t of split.tensors) plans.push({ kind: 'tensor', ...t });
      }
    } else if (as === 'gguf' && layouts) {
      const split = await this.splitOrWarn(path, () => readGgufLayout(source));
      if (split) {
        tiled(split.headerEnd, split.tensors);
        memberLayout = 'gguf';
      }
    } else if (as === 'npy' && arrays) {
      const split = await this.splitOrWarn(path, () => readNpyLayout(source, path));
      if (split?.tensor) {
        plans.push(byteRange(0, split.headerEnd));
        plans.push({ kind: 'tensor', ...split.tensor });
        memberLayout = 'npy';
      }
    } else if (as === 'onnx' && layouts) {
      const split = await this.splitOrWarn(path, () => readOnnxLayout(source));
      if (split) {
        tiled(0, split.tensors);
        memberLayout = 'onnx';
        for (const i of split.initializers) {
          const target = i.external && resolveLocation(path, i.external.location);
          if (!target || this.pathKeys.has(target) || (this.externalData.has(target) && this.externalData.get(target)!.model !== path)) continue;
          const entry = this.externalData.get(target) ?? { model: path, initializers: [] };
          entry.initializers.push(i);
          this.externalData.set(target, entry);
        }
      }
    }
    if (plans.length === 0 && source.size > 0) plans.push(byteRange(0, source.size));
    const coded: SegmentRecord[] = [];
    let done = 0;
    // With workers, one window spans the member: chunks of a segment are coding while the next one is counted and
    // hashed. A segment's chunk records are complete once the window has drained. The member's digest is then
    // computed in a worker, while this thread hashes each segment.
    const pool = await poolFor(this.options, source.size);
    this.window = pool ? new ChunkWindow(pool, encodeWindowSize(pool)) : undefined;
    this.memberPool = pool;
    const workerHash = pool ? new WorkerSha256(pool) : undefined;
    const fileHash: MemberHash = workerHash ?? createSha256();
    let sha: Uint8Array;
    try {
      // Continuations of a byte-model group coded at its first segment, each hashed and recorded at its own turn.
      const continuations = new Map<SegmentPlan, { record: SegmentRecord; bytes: Uint8Array }>();
      const declined = new Set<SegmentPlan>();
      for (const plan of plans) {
        const where = { member: this.members.length, segment: coded.length };
        const waiting = continuations.get(plan);
        if (waiting) {
          await this.hash(waiting.bytes, fileHash);
          this.storeTarget(plan, waiting.record, where);
          coded.push(waiting.record);
          done += waiting.bytes.length;
          this.options.onProgress?.(done, source.size);
          continue;
        }
        // Version 11: the small 1-byte tensors from here on are tried as one byte-model stream (a group, FORMAT.md §3.4).
        const members = this.formatVersion >= FORMAT_VERSION_COMPACT && !this.options.reference ? groupPlans(plans, plans.indexOf(plan), declined) : [];
        if (members.length >= 2) {
          const group = await this.addGroup(source, members);
          // Plans left out of a group (all of them, where none was kept) are coded one by one.
          for (const m of members) if (!group?.plans.includes(m)) declined.add(m);
          if (group) {
            await this.hash(group.parts[0], fileHash);
            this.storeTarget(plan, group.records[0], where);
            coded.push(group.records[0]);
            for (let k = 1; k < group.plans.length; k++) continuations.set(group.plans[k], { record: group.records[k], bytes: group.parts[k] });
            done += group.parts[0].length;
            this.options.onProgress?.(done, source.size);
            continue;
          }
        }
        try {
          coded.push(await this.addSegment(source, plan, fileHash, where, (n) => {
            done += n;
            this.options.onProgress?.(done, source.size);
          }));
        } catch (e) {
          throw segmentError(e, plan, source.name);
        }
      }
      await this.window?.drain();
      sha = await fileHash.digest();
    } finally {
      this.window?.abandon();
      this.window = undefined;
      this.memberPool = undefined;
      this.callerEncoders.disposeAll();
      workerHash?.dispose();
    }
    const segments = this.formatVersion >= FORMAT_VERSION_DIGESTS ? coded.map(boundDigests) : coded;
    const member: MemberRecord = { path, originalBytes: source.size, sha256: sha, segments, ...kept };
    if (memberLayout) member.layout = memberLayout;
    this.members.push(member);
    this.pathKeys.add(key);
    const unportable = v3 ? nonPortablePathReason(bytes) : undefined;
    if (unportable) {
      const message = `member path '${path}' ${unportable}: it is restored only on systems that allow it`;
      this.warnings.push({ path, message, error: new FormatError('BAD_PATH', message, { file: source.name }) });
    }
    return member;
  }

  /**
   * The attributes a member record keeps (FORMAT.md §3.2): undefined fields and the default type dropped.
   * @throws RangeError for attributes out of range, or any attribute below formatVersion 3
   */
  private checkAttributes(attrs: MemberAttributes, size: number, v3: boolean): MemberAttributes {
    const kept: MemberAttributes = {};
    if (attrs.type !== undefined && attrs.type !== 'file') kept.type = attrs.type;
    if (attrs.mode !== undefined) kept.mode = attrs.mode;
    if (attrs.mtimeUs !== undefined) kept.mtimeUs = attrs.mtimeUs;
    if (attrs.pathBytes !== undefined) kept.pathBytes = attrs.pathBytes;
    if (Object.keys(kept).length > 0 && !v3) throw new RangeError('member types, modes, modification times and raw paths need formatVersion 3');
    if (kept.mode !== undefined && !(Number.isInteger(kept.mode) && kept.mode >= 0 && kept.mode <= MAX_MEMBER_MODE)) throw new RangeError(`mode ${kept.mode} is not an integer from 0 to 0o7777`);
    if (kept.mtimeUs !== undefined && !(Number.isSafeInteger(kept.mtimeUs) && kept.mtimeUs >= 0)) throw new RangeError(`mtimeUs ${kept.mtimeUs} is not an integer from 0 to 2^53 - 1`);
    if (kept.type !== undefined && this.kind === 'file') throw new RangeError(`a single-file container's member cannot be a ${kept.type}`);
    if (kept.type === 'folder' && size !== 0) throw new RangeError(`a folder member has no bytes (${size} given)`);
    if (kept.type === 'link' && (size === 0 || size > MAX_NAME_BYTES)) throw new RangeError(`a symbolic link target of ${size} bytes, not 1 to ${MAX_NAME_BYTES}`);
    return kept;
  }

  /**
   * A raw array's dtype and shape (FORMAT.md §4.9), the shape defaulting to one dimension.
   * @throws RangeError below formatVersion 9, for a member that is not a regular file, an unknown dtype or a shape that
   *   is not a list of at most MAX_RANK safe integers; BAD_RAW_ARRAY when the source's size is not the shape's
   */
  private checkRawArray(raw: RawArray, source: ByteSource, attrs: MemberAttributes): { dtype: string; shape: number[] } {
    if ((this.baseVersion ?? this.formatVersion) < FORMAT_VERSION_FLOAT_ARRAYS) throw new RangeError(`a raw array needs formatVersion ${FORMAT_VERSION_FLOAT_ARRAYS}, not ${this.baseVersion ?? this.formatVersion}`);
    if ((attrs.type ?? 'file') !== 'file') throw new RangeError(`a ${attrs.type} member cannot be a raw array`);
    const W = dtypeBytes(raw.dtype);
    if (W === undefined) throw new RangeError(`raw array dtype '${raw.dtype}' is not one of ${Object.keys(DTYPE_BYTES).join(', ')}`);
    if (raw.shape !== undefined && (!Array.isArray(raw.shape) || raw.shape.length > MAX_RANK || !raw.shape.every((d) => Number.isSafeInteger(d) && d >= 0))) {
      throw new RangeError(`raw array shape [${String(raw.shape)}] is not a list of at most ${MAX_RANK} non-negative integers`);
    }
    const file = source.name;
    if (source.size % W !== 0) throw new FormatError('BAD_RAW_ARRAY', `${source.size} bytes are not a whole number of ${raw.dtype} values (${W} bytes each)`, { file });
    const shape = raw.shape ?? [source.size / W];
    let values = 1;
    for (const d of shape) {
      values *= d;
      if (!Number.isSafeInteger(values)) throw new RangeError(`raw array shape [${shape}] holds 2^53 or more values`);
    }
    if (values * W !== source.size) throw new FormatError('BAD_RAW_ARRAY', `shape [${shape}] of ${raw.dtype} holds ${values * W} bytes, the file ${source.size}`, { file });
    return { dtype: raw.dtype, shape: [...shape] };
  }

  /**
   * The layout of a `.safetensors` member, or undefined (with a warning) when it cannot be split and `strict` is off.
   * @throws BAD_SAFETENSORS / LIMIT_EXCEEDED with `strict`
   */
  private async safetensorsLayoutOf(path: string, source: ByteSource): Promise<SafetensorsLayout | undefined> {
    return this.splitOrWarn(path, () => readSafetensorsLayout(source));
  }

  /**
   * The result of `split` (a reader of a member's layout), or undefined with a warning when it refuses the file and
   * `strict` is off. @throws BAD_SAFETENSORS / BAD_GGUF / BAD_ONNX / BAD_NPY / LIMIT_EXCEEDED with `strict`
   */
  private async splitOrWarn<T>(path: string, split: () => Promise<T>): Promise<T | undefined> {
    try {
      return await split();
    } catch (e) {
      const codes = ['BAD_SAFETENSORS', 'BAD_GGUF', 'BAD_ONNX', 'BAD_NPY', 'LIMIT_EXCEEDED'];
      if (this.options.strict === true || !(e instanceof WcodecError) || !codes.includes(e.code)) throw e;
      this.warnings.push({ path, message: `${e.message}; stored as plain bytes`, error: e });
      return undefined;
    }
  }

  private async addSegment(
    source: ByteSource,
    plan: SegmentPlan,
    fileHash: MemberHash,
    where: { member: number; segment: number },
    progress: (n: number) => void,
  ): Promise<SegmentRecord> {
    const W = (plan.kind === 'tensor' ? dtypeBytes(plan.dtype) : undefined) ?? 1;
    const size = plan.end - plan.begin;
    const record = (sha: Uint8Array, coded: CodedValues): SegmentRecord => ({
      kind: plan.kind,
      name: plan.name,
      dtype: plan.dtype,
      shape: plan.shape,
      originalBytes: size,
      sha256: sha,
      ...coded,
    });
    if (this.options.lossy && plan.kind === 'tensor' && GROUP_QUANT_DTYPES.includes(plan.dtype) && plan.shape.length >= 2 && size > 0 && size <= MAX_TRANSFORM_BYTES) {
      const lossy = await this.addLossy(source, plan, fileHash, progress);
      if (lossy) return lossy;
    }
    const ref = this.transformsOn && plan.kind === 'tensor' ? this.referenceFor(plan) : undefined;
    if (ref && size > TRANSFORM_SAMPLE_BYTES) return this.addXorStreamed(source, plan, W, fileHash, where, ref, progress);
    if (this.transformsOn && plan.kind === 'tensor' && size > 0 && size <= MAX_TRANSFORM_BYTES && (ref || (await this.valueTransformsMayApply(source, plan, W)))) {
      return this.addTransformable(source, plan, W, fileHash, where, ref, progress);
    }
    // Pass one: digests and symbol counts over the whole segment.
    const kernels = await kernelsFor(this.options.engine);
    const stats = this.statsFor(W, kernels);
    const segHash = createSha256();
    for (let at = plan.begin; at < plan.end; at += READ_BLOCK_BYTES) {
      const block = await this.readReusing(source, at, Math.min(READ_BLOCK_BYTES, plan.end - at), 'block');
      stats.add(block);
      await this.hash(block, segHash, fileHash);
    }
    const sha = segHash.digest();
    const dup = this.duplicateOf(plan, size, sha, where);
    if (dup) {
      await this.atTurn(() => progress(size));
      return dup;
    }
    const plainBytes = (): number => {
      const chunkValues = Math.max(1, Math.min(MAX_CHUNK_VALUES, Math.floor(this.chunkBytes / W)));
      const plain = chooseCoding(plan.kind === 'tensor' ? plan.dtype : 'bytes', stats, chunkValues, this.options.fastDecode === true, this.options.lanes, this.options.huffman === true, this.options.exactLayoutSearch === true, this.formatVersion);
      return estimateCodedBytes(plain, stats, chunkValues);
    };
    const modelled = (await this.tryByteModel(source, plan, kernels, progress, plainBytes)) ?? (await this.tryTensorModel(source, plan, W, kernels, progress, plainBytes));
    if (modelled) return record(sha, modelled);
    // Pass two: code chunk by chunk.
    const coded = await this.codeValues(plan, source, plan.begin, size, W, plan.kind === 'tensor' ? plan.dtype : 'bytes', stats, progress);
    return record(sha, coded);
  }

  /**
   * A tensor stored lossily (FORMAT.md §3.5.3.5), or undefined (nothing hashed or written) when it holds NaN or an
   * infinity or the quantizer keeps it lossless. The segment's and the member's digests cover the dequantized bytes.
   * Lossy segments take no part in DUPLICATE (as source or target): a duplicate of one would hide that it is lossy.
   * @throws RangeError for a QuantizedMatrix that does not fit the tensor's shape or that groupQuantProblem refuses
   */
  private async addLossy(source: ByteSource, plan: SegmentPlan, fileHash: MemberHash, progress: (n: number) => void): Promise<SegmentRecord | undefined> {
    const lossy = this.options.lossy!;
    const size = plan.end - plan.begin;
    const values = widenFloats(await source.read(plan.begin, size), plan.dtype);
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return undefined;
    const q = lossy.quantize(plan.name, plan.dtype, [...plan.shape], values);
    if (q === undefined) return undefined;
    if (this.formatVersion < FORMAT_VERSION_LOSSY_LEVELS && ((q.levels ?? 0) !== 0 || (q.sparsity ?? 0) !== 0)) {
      throw new RangeError(`lossy quantizer for tensor '${plan.name}': FP8 levels or a sparsity claim need formatVersion ${FORMAT_VERSION_LOSSY_LEVELS} (the lossy option's formatVersion)`);
    }
    let built: ReturnType<typeof groupQuantCandidate>;
    try {
      built = groupQuantCandidate(q, plan.dtype, plan.shape, values, lossy.label);
    } catch (e) {
      throw new RangeError(`lossy quantizer for tensor '${plan.name}': ${(e as Error).message}`);
    }
    const segHash = createSha256();
    await this.hash(built.dequantized, segHash, fileHash);
    const sha = segHash.digest();
    const kernels = await kernelsFor(this.options.engine);
    const streams: StreamRecord[] = [];
    for (const st of built.candidate.streams) {
      const stats = this.statsFor(st.valueBytes, kernels);
      stats.add(st.bytes);
      const chunkValues = Math.max(1, Math.min(MAX_CHUNK_VALUES, Math.floor(this.chunkBytes / st.valueBytes)));
      const coding = chooseCoding(st.dtype, stats, chunkValues, this.options.fastDecode === true, this.options.lanes, this.options.huffman === true, this.options.exactLayoutSearch === true, this.formatVersion);
      const coded = await this.codeValues(plan, new MemorySource(st.bytes, source.name), 0, st.bytes.length, st.valueBytes, st.dtype, undefined, () => {}, coding);
      streams.push({ originalBytes: st.bytes.length, ...coded });
    }
    await this.atTurn(() => progress(size));
    return transformedRecord(plan, size, sha, { code: built.candidate.code, params: built.candidate.params, streams });
  }

  /**
   * A DUPLICATE record when an earlier tensor of this container has the same dtype, shape, size and SHA-256 (FORMAT.md
   * §3.5); otherwise undefined, and this tensor becomes a target for later ones.
   */
  private duplicateOf(plan: SegmentPlan, size: number, sha: Uint8Array, where: { member: number; segment: number }): SegmentRecord | undefined {
    if (!this.transformsOn || plan.kind !== 'tensor' || size === 0) return undefined;
    const key = storedKey(plan, size, sha);
    const target = this.stored.get(key);
    if (!target) {
      this.stored.set(key, where);
      return undefined;
    }
    const params = new Uint8Array(8);
    const dv = new DataView(params.buffer);
    dv.setUint32(0, target.member, true);
    dv.setUint32(4, target.segment, true);
    return transformedRecord(plan, size, sha, { code: TRANSFORM_DUPLICATE, params, streams: [], target });
  }

  /**
   * Whether a registered value transform applies to a leading sample of the tensor (whole rows, at most
   * TRANSFORM_SAMPLE_BYTES; the whole tensor when it is that small). Only then is a large tensor read whole: the plain
   * path streams it, which keeps compressing a file of large tensors within its memory bound.
   */
  private async valueTransformsMayApply(source: ByteSource, plan: SegmentPlan, W: number): Promise<boolean> {
    if (TRANSFORMS.length === 0) return false;
    const size = plan.end - plan.begin;
    if (size <= TRANSFORM_SAMPLE_BYTES) return true;
    // Blocks of a split block type: the sample is whole blocks (rows of such a shape count values, not bytes).
    const blockBytes = blockFieldsBytes(plan.dtype);
    if (blockBytes !== undefined) {
      const sample = await readOwned(source, plan.begin, Math.floor(TRANSFORM_SAMPLE_BYTES / blockBytes) * blockBytes);
      return TRANSFORMS.some((t) => t.forward(sample, plan.dtype, [sample.length]) !== undefined);
    }
    const rowBytes = W * plan.shape.slice(1).reduce((a, d) => a * d, 1);
    const rows = plan.shape.length >= 2 ? Math.floor(TRANSFORM_SAMPLE_BYTES / rowBytes) : Math.floor(TRANSFORM_SAMPLE_BYTES / W);
    if (rows === 0) return false; // a single row larger than the sample: not tried
    const shape = plan.shape.length >= 2 ? [rows, ...plan.shape.slice(1)] : [rows];
    const sample = await readOwned(source, plan.begin, plan.shape.length >= 2 ? rows * rowBytes : rows * W);
    return TRANSFORMS.some((t) => t.forward(sample, plan.dtype, shape) !== undefined);
  }

  /** The reference's tensor of the plan's name when its dtype, shape and size match (an XOR delta then applies). */
  private referenceFor(plan: SegmentPlan): TensorReference | undefined {
    const ref = this.options.reference;
    const info = ref?.describe(plan.name);
    if (!ref || !info) return undefined;
    const sameShape = info.shape.length === plan.shape.length && info.shape.every((d, k) => d === plan.shape[k]);
    return info.dtype === plan.dtype && sameShape && info.originalBytes === plan.end - plan.begin ? ref : undefined;
  }

  /**
   * A tensor small enough to transform (<= MAX_TRANSFORM_BYTES): read whole, then stored as a DUPLICATE, or as the
   * cheapest of its plain coding and its transformed forms (XOR against the reference, the registry's transforms),
   * each costed by estimateCodedBytes. Ties keep the plain coding, so a transform is used only where it saves bytes.
   */
  private async addTransformable(
    source: ByteSource,
    plan: SegmentPlan,
    W: number,
    fileHash: MemberHash,
    where: { member: number; segment: number },
    ref: TensorReference | undefined,
    progress: (n: number) => void,
  ): Promise<SegmentRecord> {
    const size = plan.end - plan.begin;
    // Read only (hashed, counted, transformed into new arrays, coded): a view of the source's memory will do.
    const data = await source.read(plan.begin, size);
    const segHash = createSha256();
    await this.hash(data, segHash, fileHash);
    const sha = segHash.digest();
    const dup = this.duplicateOf(plan, size, sha, where);
    if (dup) {
      await this.atTurn(() => progress(size));
      return dup;
    }
    const kernels = await kernelsFor(this.options.engine);
    const chunkValuesOf = (w: number): number => Math.max(1, Math.min(MAX_CHUNK_VALUES, Math.floor(this.chunkBytes / w)));
    // The coding chooseCoding picks for a run of values, and (when `estimate`) its estimated container bytes.
    const costed = (bytes: Uint8Array, dtype: string, w: number, estimate = true): { coding: SegmentCoding; bytes: number } => {
      const stats = this.statsFor(w, kernels);
      stats.add(bytes);
      const chunkValues = chunkValuesOf(w);
      if (bytes.length === 0) return { coding: rawCoding(w), bytes: 11 };
      const coding = chooseCoding(dtype, stats, chunkValues, this.options.fastDecode === true, this.options.lanes, this.options.huffman === true, this.options.exactLayoutSearch === true, this.formatVersion);
      return { coding, bytes: estimate ? estimateCodedBytes(coding, stats, chunkValues) : Infinity };
    };
    const candidates: TransformCandidate[] = [];
    if (ref) {
      const refBytes = await ref.read(plan.name);
      if (refBytes.length !== size) {
        throw new FormatError('REFERENCE_MISMATCH', `the reference ${ref.label} gave ${refBytes.length} bytes for tensor '${plan.name}', which it lists as ${size}`, { file: source.name });
      }
      const xor = new Uint8Array(size);
      xorBytes(xor, data, refBytes);
      candidates.push({ code: TRANSFORM_XOR_DELTA, params: sha256(refBytes), streams: [{ bytes: xor, dtype: plan.dtype, valueBytes: W }] });
    }
    for (const t of TRANSFORMS) {
      const c = t.forward(data, plan.dtype, plan.shape);
      // A reader refuses streams of more than MAX_TRANSFORM_BYTES in all (they are held whole while decoding).
      if (c && c.streams.reduce((a, st) => a + st.bytes.length, 0) <= MAX_TRANSFORM_BYTES) candidates.push(c);
    }
    // Without candidates the plain coding needs no estimate (most tensors: it costs a second pass over the head bins).
    const plain = costed(data, plan.dtype, W, candidates.length > 0);
    let best: { candidate: TransformCandidate; codings: SegmentCoding[]; bytes: number } | undefined;
    for (const c of candidates) {
      // Transform record: code, param length, params, stream count, and a size per stream.
      let bytes = 6 + c.params.length;
      const codings: SegmentCoding[] = [];
      for (const st of c.streams) {
        const p = costed(st.bytes, st.dtype, st.valueBytes);
        codings.push(p.coding);
        bytes += 8 + p.bytes;
      }
      if (bytes < (best?.bytes ?? plain.bytes)) best = { candidate: c, codings, bytes };
    }
    // With `level: 'max'` the tensor model is kept where it beats both the plain coding and the best transform.
    const whole = new MemorySource(data, source.name);
    const bar = (): number => Math.min(best?.bytes ?? Infinity, plain.bytes === Infinity ? costed(data, plan.dtype, W).bytes : plain.bytes);
    const cm = await this.tryTensorModel(whole, { ...plan, begin: 0, end: size }, W, kernels, progress, bar);
    if (cm) return { kind: plan.kind, name: plan.name, dtype: plan.dtype, shape: plan.shape, originalBytes: size, sha256: sha, ...cm };
    if (!best) {
      const modelled = await this.tryByteModel(whole, { ...plan, begin: 0, end: size }, kernels, progress, () => costed(data, plan.dtype, W).bytes);
      if (modelled) return { kind: plan.kind, name: plan.name, dtype: plan.dtype, shape: plan.shape, originalBytes: size, sha256: sha, ...modelled };
      const coded = await this.codeValues(plan, new MemorySource(data, source.name), 0, size, W, plan.dtype, undefined, progress, plain.coding);
      return { kind: plan.kind, name: plan.name, dtype: plan.dtype, shape: plan.shape, originalBytes: size, sha256: sha, ...coded };
    }
    const streams: StreamRecord[] = [];
    for (let k = 0; k < best.candidate.streams.length; k++) {
      const st = best.candidate.streams[k];
      const coded = await this.codeValues(plan, new MemorySource(st.bytes, source.name), 0, st.bytes.length, st.valueBytes, st.dtype, undefined, () => {}, best.codings[k]);
      streams.push({ originalBytes: st.bytes.length, ...coded });
    }
    await this.atTurn(() => progress(size));
    return transformedRecord(plan, size, sha, { code: best.candidate.code, params: best.candidate.params, streams });
  }

  /**
   * A tensor over TRANSFORM_SAMPLE_BYTES that the reference holds too, streamed (any size): pass one counts the
   * symbols of the tensor and of its XOR with the reference side by side (and hashes both), then the cheaper of the
   * plain coding and an XOR_DELTA segment is coded in pass two, the XOR recomputed block by block. Value transforms are
   * not tried on such a tensor.
   */
  private async addXorStreamed(
    source: ByteSource,
    plan: SegmentPlan,
    W: number,
    fileHash: MemberHash,
    where: { member: number; segment: number },
    ref: TensorReference,
    progress: (n: number) => void,
  ): Promise<SegmentRecord> {
    const size = plan.end - plan.begin;
    const kernels = await kernelsFor(this.options.engine);
    const plainStats = this.statsFor(W, kernels);
    const xorStats = this.statsFor(W, kernels, 'xor');
    const segHash = createSha256();
    const refHash = createSha256();
    let xor = new Uint8Array(0);
    for (let at = 0; at < size; at += READ_BLOCK_BYTES) {
      const n = Math.min(READ_BLOCK_BYTES, size - at);
      const block = await this.readReusing(source, plan.begin + at, n, 'block');
      const refBlock = await ref.readRange(plan.name, at, n);
      if (xor.length < n) xor = new Uint8Array(n);
      const x = xor.subarray(0, n);
      xorBytes(x, block, refBlock);
      plainStats.add(block);
      xorStats.add(x);
      await this.hash(block, segHash, fileHash);
      await this.hash(refBlock, refHash);
    }
    const sha = segHash.digest();
    const dup = this.duplicateOf(plan, size, sha, where);
    if (dup) {
      await this.atTurn(() => progress(size));
      return dup;
    }
    const chunkValues = Math.max(1, Math.min(MAX_CHUNK_VALUES, Math.floor(this.chunkBytes / W)));
    const choose = (stats: SegmentStats): { coding: SegmentCoding; bytes: number } => {
      const coding = chooseCoding(plan.dtype, stats, chunkValues, this.options.fastDecode === true, this.options.lanes, this.options.huffman === true, this.options.exactLayoutSearch === true, this.formatVersion);
      return { coding, bytes: estimateCodedBytes(coding, stats, chunkValues) };
    };
    const plain = choose(plainStats);
    // The XOR_DELTA record adds code, param length, the 32-byte digest, stream count and stream size.
    const delta = choose(xorStats);
    const base = { kind: 'tensor' as const, name: plan.name, dtype: plan.dtype, shape: plan.shape, originalBytes: size, sha256: sha };
    if (!(delta.bytes + 6 + 32 + 8 < plain.bytes)) {
      return { ...base, ...(await this.codeValues(plan, source, plan.begin, size, W, plan.dtype, undefined, progress, plain.coding)) };
    }
    const xorSource = new XorSource(source, plan.begin, size, ref, plan.name);
    const coded = await this.codeValues(plan, xorSource, 0, size, W, plan.dtype, undefined, progress, delta.coding);
    return {
      ...base,
      coding: rawCoding(W),
      chunkValues: 1,
      chunks: [],
      transform: { code: TRANSFORM_XOR_DELTA, params: refHash.digest(), streams: [{ originalBytes: size, ...coded }] },
    };
  }

  /**
   * The segment coded with the byte model (version 8, FORMAT.md §5.5) when that is smaller than the plain coding,
   * whose estimated size `plainBytes` gives (for a 1-byte tensor, by more than 3 %, since it decodes more slowly) and by
   * at least BYTE_MODEL_MIN_SAVING_SHARE of the member's bytes, or
   * undefined. Only byte segments and 1-byte tensors up to their size bounds are tried; the chunks are written here,
   * after the window drains. `plan.begin` is where the segment's bytes start in `source`.
   */
  private async tryByteModel(source: ByteSource, plan: SegmentPlan, kernels: Kernels | undefined, progress: (n: number) => void, plainBytesOf: () => number): Promise<CodedValues | undefined> {
    const size = plan.end - plan.begin;
    const tensor = plan.kind === 'tensor';
    if (this.formatVersion < FORMAT_VERSION_BYTE_MODEL || size === 0 || size > this.byteModelLimit(tensor)) return undefined;
    if (tensor && dtypeBytes(plan.dtype) !== 1) return undefined;
    const plainBytes = plainBytesOf();
    const minSaved = this.memberBytes / BYTE_MODEL_MIN_SAVING_SHARE;
    if (plainBytes <= minSaved) return undefined;
    this.byteModelSpent += size;
    const coding: SegmentCoding = { ...rawCoding(1), byteModel: plan.primer ? { primer: 1, primerBytes: plan.primer } : { primer: 0 } };
    const bytes = await source.read(plan.begin, size);
    // A large segment is first tried on its leading MiB: where the model does not beat that sample's order-0 entropy,
    // coding the whole segment (about a second per MB) would be wasted.
    if (size > 2 * BYTE_MODEL_SAMPLE_BYTES) {
      const sample = bytes.subarray(0, BYTE_MODEL_SAMPLE_BYTES);
      if (encodeByteModel(kernels, sample, coding.byteModel!.primerBytes).length >= order0Bytes(sample)) return undefined;
    }
    const encoder = createChunkEncoder(coding, BYTE_MODEL_CHUNK_BYTES, kernels, this.formatVersion >= FORMAT_VERSION_DIGESTS);
    const coded: EncodedChunk[] = [];
    let total = 0;
    for (let v = 0; v < size; v += BYTE_MODEL_CHUNK_BYTES) {
      const n = Math.min(BYTE_MODEL_CHUNK_BYTES, size - v);
      const c = encoder.encode(bytes.subarray(v, v + n), n);
      if (c.bytes.length > n + 8) return undefined; // the chunk size bound of FORMAT.md §3.4
      coded.push(c);
      total += c.bytes.length;
    }
    // Costed as the plain estimate is: the coded bytes, the coding record and the chunk records.
    const modelBytes = total + BYTE_MODEL_RECORD_BYTES + coded.length * CHUNK_RECORD_ESTIMATE_BYTES;
    // A tensor needs a 3 % margin: it decodes more slowly, and the plain coding's tables shrink in a coded index.
    if (tensor ? modelBytes * 100 >= plainBytes * 97 : modelBytes >= plainBytes) return undefined;
    if (plainBytes - modelBytes < minSaved) return undefined;
    const chunks = await this.emitChunks(coded);
    progress(size);
    return { coding, chunkValues: BYTE_MODEL_CHUNK_BYTES, chunks };
  }

  /** Writes chunks coded outside the member's window, after it drains (their place follows every chunk queued before). */
  private async emitChunks(coded: EncodedChunk[]): Promise<ChunkRecord[]> {
    await this.window?.drain();
    const chunks: ChunkRecord[] = [];
    for (const c of coded) {
      chunks.push(chunkRecord(this.offset, c));
      await this.emit(c.bytes);
    }
    return chunks;
  }

  /**
   * The tensor coded with the tensor model (`level: 'max'`, version 10, FORMAT.md §5.6) when that is smaller than the
   * plain coding, whose estimated size `plainBytes` gives, and every chunk meets the bound of §3.4; or undefined. Chunks
   * are coded (on the member's workers when there are any and the tensor has several chunks, else in this thread) and
   * held until the choice is made, then written after the window drains.
   */
  private async tryTensorModel(source: ByteSource, plan: SegmentPlan, W: number, kernels: Kernels | undefined, progress: (n: number) => void, plainBytesOf: () => number): Promise<CodedValues | undefined> {
    const layout = this.levelMax && plan.kind === 'tensor' ? tensorModelLayout(plan.dtype) : undefined;
    if (!layout) return undefined;
    const size = plan.end - plan.begin;
    const values = size / W;
    if (values < TENSOR_MODEL_MIN_VALUES) return undefined;
    const rowValues = Math.max(1, Math.min(2 ** 32 - 1, plan.shape.length > 0 ? plan.shape[plan.shape.length - 1] : 1));
    const target = Math.max(1, Math.min(MAX_CHUNK_VALUES, Math.floor((this.options.chunkBytes ?? TENSOR_MODEL_CHUNK_BYTES) / W)));
    const chunkValues = rowValues <= target ? Math.floor(target / rowValues) * rowValues : target;
    const coding: SegmentCoding = { layout, tables: layout.planes.map(() => undefined), lanes: 1, tensorModel: { rowValues } };
    const counts: number[] = [];
    for (let v = 0; v < values; v += chunkValues) counts.push(Math.min(chunkValues, values - v));
    const maxValues = Math.min(chunkValues, values);
    const digests = this.formatVersion >= FORMAT_VERSION_DIGESTS;
    let coded: EncodedChunk[];
    if (this.memberPool && counts.length > 1) {
      await this.window?.drain();
      coded = await this.encodeOnPool(this.memberPool, source, plan.begin, W, counts, { coding: plainCoding(coding), maxValues, engine: this.options.engine, digests });
    } else {
      coded = [];
      const encoder = createChunkEncoder(coding, maxValues, kernels, digests);
      try {
        let v = 0;
        for (const n of counts) {
          coded.push(encoder.encode(await source.read(plan.begin + v * W, n * W), n));
          v += n;
        }
      } finally {
        encoder.dispose();
      }
    }
    let total = 0;
    for (let k = 0; k < coded.length; k++) {
      if (coded[k].bytes.length > counts[k] * W + 8) return undefined; // the chunk size bound of FORMAT.md §3.4
      total += coded[k].bytes.length;
    }
    const modelBytes = total + TENSOR_MODEL_RECORD_BYTES + TENSOR_MODEL_PLANE_BYTES * layout.planes.length + coded.length * CHUNK_RECORD_ESTIMATE_BYTES;
    if (modelBytes >= plainBytesOf()) return undefined;
    const chunks = await this.emitChunks(coded);
    progress(size);
    return { coding, chunkValues, chunks };
  }

  /**
   * Codes chunks of `counts` values each, read from `source` at `begin` on, with `coder`, on the workers of `pool`,
   * a few chunks per worker at a time; the chunks come back in order. The output is the same as in this thread.
   */
  private async encodeOnPool(pool: WorkerPool, source: ByteSource, begin: number, W: number, counts: number[], coder: EncodeCoder): Promise<EncodedChunk[]> {
    const key = `${segmentKeys++}`;
    const starts: number[] = [];
    let at = begin;
    for (const n of counts) {
      starts.push(at);
      at += n * W;
    }
    const out: EncodedChunk[] = new Array(counts.length);
    const step = Math.max(1, pool.maxInFlight);
    for (let k0 = 0; k0 < counts.length; k0 += step) {
      const jobs: Promise<void>[] = [];
      for (let k = k0; k < Math.min(counts.length, k0 + step); k++) {
        const bytes = await readOwned(source, starts[k], counts[k] * W);
        jobs.push(
          pool.run({ kind: 'encode', key, coder, bytes, counts: [counts[k]] }, [bytes.buffer as ArrayBuffer]).then((r) => {
            if (r.kind !== 'encode') throw new Error('internal: an encode job got a decode reply');
            if (r.done < 1) throw errorFromWire(r.error ?? { code: undefined, name: 'Error', message: 'internal: a run stopped without an error' });
            out[k] = { bytes: r.chunks[0], crc32c: r.crc32c[0], digest: r.digests?.[0] };
          }),
        );
      }
      await Promise.all(jobs);
    }
    return out;
  }

  /**
   * The segments of `plans` (consecutive 1-byte tensors, groupRun) as one byte-model group (version 11, FORMAT.md §3.4):
   * the first segment's one chunk codes the bytes of all of them and the others are continuations, when that costs at
   * least 1 % less than coding each as the plain coding of §4.3 is estimated to, and saves BYTE_MODEL_MIN_SAVING_SHARE of
   * the member; else undefined, with nothing written.
   * The group's chunk is written here; the caller hashes each part (`parts`, the bytes of the grouped `plans`) at its
   * turn. A tensor that repeats an earlier one is left out of the group (a DUPLICATE of it, FORMAT.md §3.5.1); grouped
   * tensors are DUPLICATE targets like any other.
   */
  private async addGroup(source: ByteSource, candidates: SegmentPlan[]): Promise<{ plans: SegmentPlan[]; records: SegmentRecord[]; parts: Uint8Array[] } | undefined> {
    // A tensor that repeats an earlier one (already stored, or earlier in the group) is left out, to be stored as a
    // DUPLICATE of it.
    const plans: SegmentPlan[] = [];
    const parts: Uint8Array[] = [];
    const shas: Uint8Array[] = [];
    const keys = new Set<DuplicateKey>();
    for (const plan of candidates) {
      const part = await source.read(plan.begin, plan.end - plan.begin);
      const sha = sha256(part);
      const key = storedKey(plan, part.length, sha);
      if (this.transformsOn && (this.stored.has(key) || keys.has(key))) continue;
      keys.add(key);
      plans.push(plan);
      parts.push(part);
      shas.push(sha);
    }
    if (plans.length < 2) return undefined;
    const total = parts.reduce((a, b) => a + b.length, 0);
    // No group can save BYTE_MODEL_MIN_SAVING_SHARE of the member where its bytes are fewer than that.
    const minSaved = this.memberBytes / BYTE_MODEL_MIN_SAVING_SHARE;
    if (total <= minSaved || total > this.byteModelLimit(true)) return undefined;
    this.byteModelSpent += total;
    const bytes = new Uint8Array(total);
    let o = 0;
    for (const part of parts) {
      bytes.set(part, o);
      o += part.length;
    }
    const kernels = await kernelsFor(this.options.engine);
    const chunkValues = Math.max(1, Math.min(MAX_CHUNK_VALUES, this.chunkBytes));
    let plainBytes = 0;
    for (let k = 0; k < plans.length; k++) {
      const plan = plans[k];
      const stats = this.statsFor(1, kernels);
      stats.add(parts[k]);
      plainBytes += estimateCodedBytes(chooseCoding(plan.dtype, stats, chunkValues, this.options.fastDecode === true, this.options.lanes, this.options.huffman === true, this.options.exactLayoutSearch === true, this.formatVersion), stats, chunkValues);
    }
    const coding: SegmentCoding = { ...rawCoding(1), byteModel: { primer: 0 } };
    const encoder = createChunkEncoder(coding, total, kernels, this.formatVersion >= FORMAT_VERSION_DIGESTS);
    const chunk = encoder.encode(bytes, total);
    encoder.dispose();
    // Costed as tryByteModel costs one segment: the stream, a coding record per segment and one chunk record.
    const groupBytes = chunk.bytes.length + plans.length * BYTE_MODEL_RECORD_BYTES + CHUNK_RECORD_ESTIMATE_BYTES;
    if (chunk.bytes.length > total + 8 || groupBytes * 100 >= plainBytes * 99 || plainBytes - groupBytes < minSaved) return undefined;
    await this.window?.drain();
    const records: SegmentRecord[] = [];
    let offset = 0;
    for (let k = 0; k < plans.length; k++) {
      const plan = plans[k];
      const base = { kind: 'tensor' as const, name: plan.name, dtype: plan.dtype, shape: plan.shape, originalBytes: parts[k].length, sha256: shas[k] };
      if (k === 0) records.push({ ...base, coding, chunkValues: BYTE_MODEL_GROUP_BYTES, chunks: [chunkRecord(this.offset, chunk)], groupBytes: total });
      else records.push({ ...base, coding: { ...rawCoding(1), byteModel: { primer: PRIMER_CONTINUATION } }, chunkValues: 1, chunks: [], group: { leader: records[0], offset } });
      offset += parts[k].length;
    }
    await this.emit(chunk.bytes);
    return { plans, records, parts };
  }

  /** Records a grouped tensor at `where` as a DUPLICATE target (duplicateOf), when transforms are on. */
  private storeTarget(plan: SegmentPlan, record: SegmentRecord, where: { member: number; segment: number }): void {
    const key = storedKey(plan, record.originalBytes, record.sha256);
    if (this.transformsOn && !this.stored.has(key)) this.stored.set(key, where);
  }

  /**
   * Codes `size` bytes at `begin` of `source` (a part of `plan`'s segment) as values of `W` bytes, chunk by chunk,
   * with `coding` or the one chooseCoding picks from `stats`. With workers the chunks go to the member's window and
   * the record's chunks are filled in as they are written (complete once the window has drained).
   */
  private async codeValues(
    plan: SegmentPlan,
    source: ByteSource,
    begin: number,
    size: number,
    W: number,
    dtype: string,
    stats: SegmentStats | undefined,
    progress: (n: number) => void,
    given?: SegmentCoding,
  ): Promise<CodedValues> {
    const values = size / W;
    const kernels = await kernelsFor(this.options.engine);
    const chunkValues = Math.max(1, Math.min(MAX_CHUNK_VALUES, Math.floor(this.chunkBytes / W)));
    const coding: SegmentCoding = given ?? (values > 0 && stats ? chooseCoding(dtype, stats, chunkValues, this.options.fastDecode === true, this.options.lanes, this.options.huffman === true, this.options.exactLayoutSearch === true, this.formatVersion) : rawCoding(W));
    const maxValues = Math.min(chunkValues, Math.max(values, 1));
    const chunks: ChunkRecord[] = [];
    const digests = this.formatVersion >= FORMAT_VERSION_DIGESTS;
    const window = this.window;
    if (window) {
      // Runs of chunks go to the member's window: workers code some, this thread the rest at their turn, and every
      // chunk is written in order, so the container is the same for any thread count.
      const key = `${segmentKeys++}`;
      const coder: EncodeCoder = { coding, maxValues, engine: this.options.engine, digests };
      let here: ChunkEncoding | undefined;
      let left = Math.ceil(values / chunkValues);
      // This thread's encoder for the segment goes once its last chunk is written (or with the rest, after an error).
      const finished = (count: number): void => {
        left -= count;
        if (left === 0 && here) this.callerEncoders.dispose(here);
      };
      const write = async (coded: EncodedChunk, n: number): Promise<void> => {
        chunks.push(chunkRecord(this.offset, coded));
        await this.emit(coded.bytes);
        progress(n * W);
      };
      // Codes the n values at value v of the segment in this thread.
      const encodeHere = async (v: number, n: number): Promise<EncodedChunk> => {
        here ??= this.callerEncoders.add(createChunkEncoder(coding, maxValues, kernels, digests));
        return here.encode(await this.readReusing(source, begin + v * W, n * W, 'chunk'), n);
      };
      const run = chunksPerRun(chunkValues * W) * chunkValues;
      for (let v0 = 0; v0 < values; v0 += run) {
        const v1 = Math.min(values, v0 + run);
        const counts: number[] = [];
        for (let v = v0; v < v1; v += chunkValues) counts.push(Math.min(chunkValues, v1 - v));
        await window.push({
          job: async () => {
            const bytes = await readOwned(source, begin + v0 * W, (v1 - v0) * W, this.runBuffers);
            return { request: { kind: 'encode' as const, key, coder, bytes, counts }, transfer: [bytes.buffer as ArrayBuffer] };
          },
          finish: async (r) => {
            if (r.kind !== 'encode') throw new Error('internal: an encode job got a decode reply');
            if (r.input instanceof ArrayBuffer && this.runBuffers.length < MAX_RUN_BUFFERS) this.runBuffers.push(r.input);
            finished(counts.length);
            for (let k = 0; k < r.done; k++) await write({ bytes: r.chunks[k], crc32c: r.crc32c[k], digest: r.digests?.[k] }, counts[k]);
            if (r.done < counts.length) throw errorFromWire(r.error ?? { code: undefined, name: 'Error', message: 'internal: a run stopped without an error' });
          },
          runHere: async () => {
            try {
              let v = v0;
              for (const n of counts) {
                await write(await encodeHere(v, n), n);
                v += n;
              }
            } finally {
              finished(counts.length);
            }
          },
          runAhead: async () => {
            const coded: EncodedChunk[] = [];
            let failure: unknown;
            try {
              let v = v0;
              for (const n of counts) {
                coded.push(await encodeHere(v, n));
                v += n;
              }
            } catch (e) {
              failure = e;
            }
            finished(counts.length);
            return async () => {
              for (let k = 0; k < coded.length; k++) await write(coded[k], counts[k]);
              if (failure !== undefined) throw failure;
            };
          },
          failure: (e) => segmentError(e, plan, source.name),
        });
      }
    } else {
      const encoder = createChunkEncoder(coding, maxValues, kernels, digests);
      try {
        for (let v = 0; v < values; v += chunkValues) {
          const n = Math.min(chunkValues, values - v);
          const raw = await this.readReusing(source, begin + v * W, n * W, 'chunk');
          const coded = encoder.encode(raw, n);
          chunks.push(chunkRecord(this.offset, coded));
          await this.emit(coded.bytes);
          progress(n * W);
        }
      } finally {
        encoder.dispose();
      }
    }
    if (values === 0) progress(0);
    return { coding, chunkValues, chunks };
  }

  /**
   * Adds `bytes` to each of `hashes`. With workers, in steps of HASH_STEP_BYTES with their replies let in between:
   * hashing is the longest stretch of this thread's own work, and a worker waits for its next chunk until then.
   */
  private async hash(bytes: Uint8Array, ...hashes: MemberHash[]): Promise<void> {
    const step = this.window ? HASH_STEP_BYTES : bytes.length;
    for (let o = 0; o < bytes.length; o += step) {
      const part = bytes.subarray(o, o + step);
      for (const h of hashes) await h.update(part);
      await this.window?.letWorkersIn();
    }
  }

  /** Runs `step` once every chunk before it is written (at once without workers): progress stays in step with the output. */
  private async atTurn(step: () => void): Promise<void> {
    if (this.window) await this.window.push({ runHere: step });
    else step();
  }

  /** Bytes the byte model has been tried on so far (segments, 1-byte tensors and groups). */
  private byteModelSpent = 0;

  /**
   * The largest segment (a 1-byte tensor or group: `tensor`) the byte model may be tried on now: where the writer uses
   * it by default, the default bounds and what is left of the budget; where it was asked for, the larger bounds.
   */
  private byteModelLimit(tensor: boolean): number {
    if (this.baseVersion === undefined) return tensor ? BYTE_MODEL_MAX_TENSOR_BYTES : BYTE_MODEL_MAX_SEGMENT_BYTES;
    return Math.min(tensor ? BYTE_MODEL_DEFAULT_MAX_TENSOR_BYTES : BYTE_MODEL_DEFAULT_MAX_SEGMENT_BYTES, BYTE_MODEL_DEFAULT_BUDGET_BYTES - this.byteModelSpent);
  }

  /** Buffers reused across reads where the source can read into one (files): each read would otherwise leave
   * garbage (8 MiB per pass-one block) that the collector frees late, which shows in the peak RSS. */
  private readBuffers: Record<'block' | 'chunk', Uint8Array | undefined> = { block: undefined, chunk: undefined };

  /** `length` bytes at `offset`, valid until the next read of the same kind (consumers copy what they keep). */
  private async readReusing(source: ByteSource, offset: number, length: number, kind: 'block' | 'chunk'): Promise<Uint8Array> {
    if (!hasReadInto(source)) return source.read(offset, length);
    let buf = this.readBuffers[kind];
    if (!buf || buf.length < length) buf = this.readBuffers[kind] = new Uint8Array(length);
    const view = buf.subarray(0, length);
    await source.readInto(offset, view);
    return view;
  }

  /** Counting state per value width (and engine), reused across segments: small tensors would otherwise each allocate and zero 2^16 bins. */
  private stats = new Map<string, SegmentStats>();

  private statsFor(W: number, kernels: Kernels | undefined, slot: 'plain' | 'xor' = 'plain'): SegmentStats {
    const key = `${W}:${kernels ? 'wasm' : 'ts'}:${slot}`;
    let s = this.stats.get(key);
    if (s) s.reset();
    else {
      s = kernels ? new WasmSegmentStats(kernels, W) : new SegmentStats(W);
      this.stats.set(key, s);
    }
    return s;
  }

  /** Writes the index and footer; returns the index, the container's total size and the warnings (EncodeWarning). */
  async finish(): Promise<{ index: ContainerIndex; bytes: number; warnings: EncodeWarning[] }> {
    const index: ContainerIndex = { kind: this.kind, members: this.members };
    // A writer that chooses writes version 11 only where some segment is coded with the byte model: otherwise the
    // container is byte for byte what it would be without the byte model.
    const version =
      this.baseVersion !== undefined ? (usesByteModel(index) ? FORMAT_VERSION_COMPACT : this.baseVersion)
      : this.formatVersion >= FORMAT_VERSION_IDENTITY ? this.formatVersion : usesTransforms(index) ? FORMAT_VERSION_TRANSFORMS : FORMAT_VERSION;
    const indexBytes = writeIndexBlock(writeIndex(index, version), version, { kernels: await kernelsFor(this.options.engine), minSavedBytes: Math.floor(this.offset / BYTE_MODEL_MIN_SAVING_SHARE) });
    const indexOffset = this.offset;
    await this.emit(indexBytes);
    await this.emit(writeFooter({ indexOffset, indexBytes: indexBytes.length, indexCrc32c: crc32c(indexBytes), version }));
    // With formatVersion 2 the header went out as version 1 before any segment was coded; it names version 2 only
    // once a transform was used.
    if (version === FORMAT_VERSION_TRANSFORMS || (this.baseVersion !== undefined && version !== this.baseVersion)) await this.sink.patch!(0, writeHeader(version));
    return { index, bytes: this.offset, warnings: [...this.warnings] };
  }
}

/**
 * `e` as it is reported for the segment of `plan` in `file`: the entropy coders raise INPUT_CHANGED without knowing
 * the input, so such an error gets the file and the segment's byte range; any other error is returned as it is.
 */
function segmentError(e: unknown, plan: SegmentPlan, file: string): unknown {
  if (e instanceof WcodecError && e.code === 'INPUT_CHANGED' && e.file === undefined) {
    return new IoError('INPUT_CHANGED', `${e.message.replace(/^INPUT_CHANGED: /, '')} (segment at bytes ${plan.begin}-${plan.end})`, { file, offset: plan.begin, cause: e });
  }
  return e;
}

/**
 * `seg` with its chunk records' digests bound to their places (FORMAT.md §7.5 "Binding"): each digest XOR
 * chunkBinding(the segment's SHA-256, its stream, its number), as a version 4 index stores them.
 */
function boundDigests(seg: SegmentRecord): SegmentRecord {
  const bind = (chunks: ChunkRecord[], stream: number): ChunkRecord[] => chunks.map((c, k) => ({ ...c, digest: c.digest! ^ chunkBinding(seg.sha256, stream, k) }));
  if (seg.transform) return { ...seg, transform: { ...seg.transform, streams: seg.transform.streams.map((st, k) => ({ ...st, chunks: bind(st.chunks, k + 1) })) } };
  return { ...seg, chunks: bind(seg.chunks, 0) };
}

/** The chunk record of a chunk coded at `offset`: its size and its CRC-32C, or its digest in version 4. */
function chunkRecord(offset: number, coded: EncodedChunk): ChunkRecord {
  return coded.digest === undefined ? { offset, bytes: coded.bytes.length, crc32c: coded.crc32c } : { offset, bytes: coded.bytes.length, crc32c: 0, digest: coded.digest };
}

/**
 * The record of a transformed tensor segment (FORMAT.md §3.5): its bytes come from `transform`; the plain coding
 * fields hold the placeholder a reader expects (raw planes of the value width, no chunks).
 */
function transformedRecord(plan: SegmentPlan, size: number, sha: Uint8Array, transform: TransformRecord): SegmentRecord {
  return {
    kind: 'tensor',
    name: plan.name,
    dtype: plan.dtype,
    shape: plan.shape,
    originalBytes: size,
    sha256: sha,
    coding: rawCoding(dtypeBytes(plan.dtype) ?? 1),
    chunkValues: 1,
    chunks: [],
    transform,
  };
}

/**
 * The plans of a byte-model group that would start at plan `p` (version 11, FORMAT.md §3.4): `p` and the non-empty
 * tensors of 1-byte dtypes after it, other segments between them skipped, together at most BYTE_MODEL_GROUP_BYTES;
 * none when `p` is not such a tensor. Plans in `declined` (tried in a group that was not kept) take no part.
 */
function groupPlans(plans: SegmentPlan[], p: number, declined: Set<SegmentPlan>): SegmentPlan[] {
  const fits = (q: SegmentPlan): boolean => q.kind === 'tensor' && dtypeBytes(q.dtype) === 1 && q.end > q.begin && !declined.has(q);
  if (!fits(plans[p])) return [];
  const out: SegmentPlan[] = [];
  let total = 0;
  for (let k = p; k < plans.length; k++) {
    const q = plans[k];
    if (!fits(q)) continue;
    if (total + (q.end - q.begin) > BYTE_MODEL_GROUP_BYTES) break;
    total += q.end - q.begin;
    out.push(q);
  }
  return out;
}

/** The key of a tensor among the DUPLICATE targets: its dtype, shape, size and SHA-256. */
function storedKey(plan: SegmentPlan, size: number, sha: Uint8Array): DuplicateKey {
  return `${plan.dtype}\u0000${plan.shape.join(',')}\u0000${size}\u0000${toHex(sha)}`;
}

/** Whether some segment of the index is coded with the byte model (FORMAT.md §5.5): what makes a chosen version 11. */
function usesByteModel(index: ContainerIndex): boolean {
  return index.members.some((m) => m.segments.some((s) => s.coding.byteModel !== undefined));
}

/** The order-0 entropy of `bytes` in bytes (no table): what a static byte code could reach at best. */
function order0Bytes(bytes: Uint8Array): number {
  const counts = new Float64Array(256);
  for (let i = 0; i < bytes.length; i++) counts[bytes[i]]++;
  let bits = 0;
  for (const c of counts) if (c > 0) bits -= c * Math.log2(c / bytes.length);
  return bits / 8;
}
