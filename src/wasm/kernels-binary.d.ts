// The compiled kernels, written to dist/src/wasm/kernels-binary.js by tools/build-wasm.mjs (npm run build:wasm).

/** The WebAssembly module of src/wasm/assembly/, base64-encoded. */
export declare const KERNELS_WASM_BASE64: string;
