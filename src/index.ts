// wcodec's public API (browser-safe part). Node adds compressFile, decompressFile, and file paths to openCheckpoint
// (src/node.ts).

export { compressBuffer, compressBufferWithWarnings, decompressBuffer, type CompressBufferOptions, type DecompressBufferOptions } from './api/buffers.js';
export { openContainer, Checkpoint, typedView, type TensorInfo, type MemberInfo, type TensorData, type TensorView, type LoadProgress, type TensorReadOptions, type ReadTensorOptions } from './api/checkpoint.js';
export { openCheckpoint, openSource, type CheckpointInput, type OpenCheckpointOptions } from './api/open-checkpoint.js';
export { toFloat32 } from './api/to-float32.js';
export { wcodecFetch, type WcodecFetchOptions } from './api/wcodec-fetch.js';
export { ContainerReader, type DecodeOptions } from './pipeline/container-reader.js';
export type { OutputLimitOptions } from './api/output-limit.js';
export { ContainerWriter, type EncodeOptions, type EncodeWarning, type LossyOptions } from './pipeline/container-writer.js';
export { dequantizeGroups, groupQuantProblem, GROUP_QUANT_DTYPES, MAX_GROUP_QUANT_CODE, type QuantizedMatrix } from './transform/group-quant.js';
export { TRANSFORM_GROUP_QUANT, type LossyMetrics } from './transform/group-quant-segment.js';
export { MemorySource, MemorySink, BufferSink, type ByteSource, type ByteSink, type ByteRange, type ReadOptions } from './io/byte-source.js';
export { HttpSource, type HttpSourceOptions, type HttpStats } from './io/http-source.js';
export { BlobSource } from './io/blob-source.js';
export { FORMAT_VERSION, FORMAT_VERSION_TRANSFORMS, FORMAT_VERSION_IDENTITY, FORMAT_VERSION_LOSSY, FORMAT_VERSION_BYTE_MODEL, FORMAT_VERSION_FLOAT_ARRAYS, MAX_TRANSFORM_BYTES } from './format/constants.js';
export type { RawArray } from './pipeline/member-format.js';
export { referenceFromSafetensors, referenceFromCheckpoint } from './api/reference.js';
export type { TensorReference, ReferenceTensorInfo } from './format/tensor-reference.js';
export { WorkerPool, closeSharedPools, type ThreadOptions, type WorkerPoolOptions } from './workers/pool.js';
export type { Engine } from './wasm/kernels.js';
export {
  WcodecError,
  FormatError,
  ChecksumError,
  LimitError,
  IoError,
  GpuUnavailableError,
  ERROR_CODES,
  fromWire,
  type ErrorCode,
  type WireError,
} from './errors.js';
export { decodeToGPU } from './gpu/decode.js';
export { GpuDecodeJob } from './gpu/decode-job.js';
export type { GpuDecodeOptions, GpuDecodeResult, GpuTensor, UploadMethod } from './gpu/decode-options.js';
export { requestDecodeDevice, findGpu } from './gpu/adapter.js';
export { GPU_PROFILE } from './gpu/profile.js';
export { matvecFused, matvecDecoded, type MatvecResult, type MatvecFusedCallOptions, type MatvecDecodedOptions } from './gpu/matvec.js';
