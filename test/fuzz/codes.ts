// The error codes fuzzed container inputs may raise (FORMAT.md §9), shared by the fuzz targets.

import type { ErrorCode } from '../../src/errors.js';

/** Codes that container bytes can cause (FORMAT.md §9: the API-only codes and BAD_SAFETENSORS never arise from them). */
export const CONTAINER_CODES: readonly ErrorCode[] = [
  'BAD_MAGIC', 'UNSUPPORTED_VERSION', 'TRUNCATED', 'CORRUPT_HEADER', 'CORRUPT_INDEX', 'CORRUPT_CHUNK', 'CHECKSUM_MISMATCH', 'LIMIT_EXCEEDED', 'BAD_PATH',
  'CORRUPT_TRANSFORM', 'LABEL_MISMATCH',
];
