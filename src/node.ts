// wcodec's public API for Node: everything in index.ts plus file and folder operations.

export * from './index.js';
export { compressFile, decompressFile, openCheckpoint, type CompressFileOptions, type CompressResult, type DecompressFileOptions } from './node/file-api.js';
export { FileSource } from './io/file-source.js';
export { openReference } from './node/reference-file.js';
