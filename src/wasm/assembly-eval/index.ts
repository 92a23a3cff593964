// Entry point of the perplexity evaluator's WebAssembly kernels (compiled by `npm run build:wasm` into their own
// module, loaded by src/wasm/eval-kernels.ts; the codec's kernels never load them). Kernels take raw pointers into
// this module's memory; the loader owns allocation.

export { gemm, packPanels } from './gemm';
export { embed, rmsNorm, rope, softmaxCausal, siluMul, nextByteLoss } from './layers';

/** First byte the loader may allocate. */
export function heapBase(): usize {
  return __heap_base;
}
