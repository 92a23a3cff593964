// The compiled evaluator kernels, written to dist/src/wasm/eval-kernels-binary.js by tools/build-wasm.mjs.

/** The WebAssembly module of src/wasm/assembly-eval/, base64-encoded. */
export declare const EVAL_KERNELS_WASM_BASE64: string;
