// Entry point of the WebAssembly kernels (compiled by `npm run build:wasm`, loaded by src/wasm/kernels.ts).
// Kernels take raw pointers into this module's memory; the loader owns allocation.

export { crc32cUpdate } from './crc32c';
export { chunkDigest } from './chunk-digest';
export { buildDecodeTable, decodeRans } from './rans-decode';
export { decodeRansPacked } from './rans-decode-packed';
export { depositPacked, packHeadBits } from './bit-pack';
export { encodeRans } from './rans-encode';
export { decodeHuffman } from './huffman-decode';
export { encodeHuffman } from './huffman-encode';
export { depositRaw, depositRawPair, mergeExpSign, scatterBytes, storeHeads, mergeW4, loadHeads, gatherBytes, extractBytes } from './planes';
export { countHeads, countBytes } from './histogram';
export { byteModelWorkBytes, encodeByteModel, decodeByteModel, byteModelErrorAt } from './byte-model';
export { tensorModelWorkBytes, encodeTensorModel, decodeTensorModel, tensorModelErrorAt } from './tensor-model';

/** First byte the loader may allocate (after the kernels' static tables). */
export function heapBase(): usize {
  return __heap_base;
}
