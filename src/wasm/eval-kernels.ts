// Loader of the perplexity evaluator's WebAssembly kernels (sources in src/wasm/assembly-eval/, built by
// tools/build-wasm.mjs into a module of their own, so that the codec's decode path never compiles them) and a bump
// allocator over an instance's memory.

import { EVAL_KERNELS_WASM_BASE64 } from './eval-kernels-binary.js';

/** The evaluator kernels' exports (pointers are byte offsets into `memory`; see the AssemblyScript sources). */
export interface EvalKernelExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  gemm(a: number, lda: number, b: number, ldb: number, bPanel: number, c: number, ldc: number, M: number, N: number, K: number, causal: number, accumulate: number): void;
  packPanels(src: number, ld: number, N: number, K: number, dst: number): void;
  embed(E: number, H: number, tokens: number, T: number, x: number): void;
  rmsNorm(x: number, ldx: number, out: number, ldo: number, w: number, T: number, H: number, eps: number): void;
  rope(x: number, ld: number, T: number, heads: number, hd: number, cos: number, sin: number): void;
  softmaxCausal(s: number, ld: number, T: number, scale: number): void;
  siluMul(g: number, ld: number, T: number, I: number): void;
  nextByteLoss(logits: number, ld: number, V: number, tokens: number, T: number): number;
}

/** Every block starts on a 64-byte boundary (SIMD loads, cache lines). */
const ALIGN = 64;
const PAGE_BYTES = 65536;

/** One instance of the evaluator kernels with a bump allocator: blocks live as long as the instance. */
export class EvalKernels {
  private top: number;

  constructor(readonly k: EvalKernelExports) {
    this.top = Math.ceil(k.heapBase() / ALIGN) * ALIGN;
  }

  /** Reserves room for `count` f32 values (contents undefined); returns the byte pointer. */
  allocF32(count: number): number {
    return this.alloc(count * 4);
  }

  /** Reserves `bytes` bytes (contents undefined); returns the pointer. */
  alloc(bytes: number): number {
    const ptr = this.top;
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const need = ptr + size - this.k.memory.buffer.byteLength;
    if (need > 0) this.k.memory.grow(Math.ceil(need / PAGE_BYTES));
    this.top += size;
    return ptr;
  }

  /** A Float32Array over `count` values at `ptr` (re-take after any alloc: growing detaches the old buffer). */
  f32(ptr: number, count: number): Float32Array {
    return new Float32Array(this.k.memory.buffer, ptr, count);
  }

  /** A Uint8Array over `count` bytes at `ptr` (re-take after any alloc). */
  u8(ptr: number, count: number): Uint8Array {
    return new Uint8Array(this.k.memory.buffer, ptr, count);
  }
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let compiled: Promise<WebAssembly.Module> | undefined;

/**
 * A fresh instance of the evaluator kernels with its own memory (the module is compiled once per thread).
 * @throws Error where WebAssembly or its SIMD extension is unavailable (the evaluator has no other path)
 */
export async function instantiateEvalKernels(): Promise<EvalKernels> {
  compiled ??= WebAssembly.compile(decodeBase64(EVAL_KERNELS_WASM_BASE64));
  const instance = await WebAssembly.instantiate(await compiled, {});
  return new EvalKernels(instance.exports as unknown as EvalKernelExports);
}
