// Loader of the WebAssembly kernels (sources in src/wasm/assembly/, built by tools/build-wasm.mjs) and the
// allocator of their memory. The pure-TypeScript path stays the reference: every kernel result must equal it.

import { KERNELS_WASM_BASE64 } from './kernels-binary.js';

/** The kernels' exports (pointers are byte offsets into `memory`). */
export interface KernelExports {
  /**
   * The instance's WebAssembly.Memory, by the members used here: the published declarations then need no
   * WebAssembly types (a Node program compiled without the DOM lib has none).
   */
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  crc32cUpdate(crc: number, ptr: number, len: number): number;
  /** WD64 of `len` bytes at `ptr`, as the signed bigint the JS API makes of an i64 (chunkDigestInKernel makes it unsigned). */
  chunkDigest(ptr: number, len: number): bigint;
  buildDecodeTable(freqs: number, alphabet: number, pb: number, deposit: number, table: number): void;
  decodeRans(src: number, end: number, n: number, K: number, desc: number, P: number, heads: number, out: number, W: number, state: number, headsSet: boolean): number;
  decodeRansPacked(src: number, end: number, n: number, desc: number, raw: number, state: number, heads: number, out: number, W: number, b1: number, b0: number): number;
  depositPacked(raw: number, n: number, b: number, ranges: number, count: number, heads: number, first: boolean): void;
  packHeadBits(heads: number, n: number, extract: number, b: number, dst: number): void;
  decodeHuffman(src: number, avail: number, n: number, multi: number, single: number, out: number): number;
  encodeHuffman(symbols: number, n: number, codes: number, dst: number): number;
  encodeRans(src: number, n: number, W: number, K: number, desc: number, P: number, heads: number, top: number, state: number): number;
  depositRaw(raw: number, n: number, ranges: number, count: number, heads: number, first: boolean): void;
  depositRawPair(a: number, rangesA: number, countA: number, b: number, rangesB: number, countB: number, n: number, heads: number): void;
  mergeExpSign(a: number, b: number, n: number, heads: number): void;
  scatterBytes(raw: number, n: number, out: number, W: number, k: number): void;
  storeHeads(heads: number, n: number, out: number, W: number): void;
  mergeW4(heads: number, b1: number, b0: number, n: number, out: number): void;
  loadHeads(src: number, n: number, W: number, heads: number): void;
  gatherBytes(src: number, n: number, W: number, k: number, dst: number): void;
  extractBytes(heads: number, n: number, extract: number, dst: number): void;
  countHeads(src: number, n: number, W: number, hist: number): void;
  countBytes(src: number, n: number, W: number, k: number, hist: number): void;
  byteModelWorkBytes(total: number): number;
  encodeByteModel(buf: number, primerLen: number, total: number, work: number, out: number, cap: number): number;
  decodeByteModel(buf: number, primerLen: number, total: number, work: number, src: number, len: number): number;
  byteModelErrorAt(): number;
  tensorModelWorkBytes(n: number, planes: number): number;
  encodeTensorModel(syms: number, n: number, planes: number, desc: number, rowValues: number, work: number, out: number, cap: number): number;
  decodeTensorModel(syms: number, n: number, planes: number, desc: number, rowValues: number, work: number, src: number, len: number): number;
  tensorModelErrorAt(): number;
}

/** Allocation granularity: keeps every block 64-byte aligned (SIMD loads, cache lines). */
const ALIGN = 64;
/**
 * Tables Kernels.resident keeps at most (each up to 128 KiB: an encoder's head -> symbol table): the encoder's layouts
 * come from a short candidate list, so a handful are ever asked for.
 */
const MAX_RESIDENT_TABLES = 64;
const PAGE_BYTES = 65536;

/**
 * One instance of the kernels with a first-fit allocator over its memory. Not shared between threads:
 * each worker loads its own. Blocks are freed explicitly (decoders and encoders own theirs until dispose).
 */
export class Kernels {
  /** Free blocks as [start, size], sorted by start, never adjacent (merged on free). */
  private free: [number, number][] = [];
  private top: number;

  constructor(readonly k: KernelExports) {
    this.top = Math.ceil(k.heapBase() / ALIGN) * ALIGN;
  }

  /** A view of the whole memory (re-take after any alloc: growing detaches the old buffer). */
  get u8(): Uint8Array {
    return new Uint8Array(this.k.memory.buffer);
  }

  /** Reserves `bytes` bytes (contents undefined); returns the pointer. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    for (let j = 0; j < this.free.length; j++) {
      const [start, have] = this.free[j];
      if (have < size) continue;
      if (have === size) this.free.splice(j, 1);
      else this.free[j] = [start + size, have - size];
      return start;
    }
    const ptr = this.top;
    const need = ptr + size - this.k.memory.buffer.byteLength;
    if (need > 0) this.k.memory.grow(Math.ceil(need / PAGE_BYTES));
    this.top += size;
    return ptr;
  }

  /** Returns a block from alloc (with the size it was asked for). */
  release(ptr: number, bytes: number): void {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let j = 0;
    while (j < this.free.length && this.free[j][0] < ptr) j++;
    this.free.splice(j, 0, [ptr, size]);
    // Merge with the next block, then with the previous one.
    if (j + 1 < this.free.length && this.free[j][0] + this.free[j][1] === this.free[j + 1][0]) {
      this.free[j][1] += this.free[j + 1][1];
      this.free.splice(j + 1, 1);
    }
    if (j > 0 && this.free[j - 1][0] + this.free[j - 1][1] === this.free[j][0]) {
      this.free[j - 1][1] += this.free[j][1];
      this.free.splice(j, 1);
      j--;
    }
    // A free block at the top goes back to the bump pointer.
    if (this.free[j][0] + this.free[j][1] === this.top) {
      this.top = this.free[j][0];
      this.free.splice(j, 1);
    }
  }

  /** Read-only tables kept in kernel memory for this instance's life (resident()), by key. */
  private residents = new Map<string, number>();

  /**
   * The address of a copy of `make()` kept under `key` for the life of this instance, shared by every coder that asks
   * (they only read it), or undefined once MAX_RESIDENT_TABLES are kept: the caller then copies its own.
   */
  resident(key: string, make: () => Uint8Array): number | undefined {
    const at = this.residents.get(key);
    if (at !== undefined || this.residents.size >= MAX_RESIDENT_TABLES) return at;
    const ptr = this.copyIn(make());
    this.residents.set(key, ptr);
    return ptr;
  }

  /** Copies `bytes` into a new block; returns its pointer. */
  copyIn(bytes: Uint8Array, extra = 0): number {
    const ptr = this.alloc(bytes.length + extra);
    this.u8.set(bytes, ptr);
    return ptr;
  }
}

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let compiled: Promise<WebAssembly.Module | undefined> | undefined;
let shared: Promise<Kernels | undefined> | undefined;

/** Compiles the module once per thread; undefined where WebAssembly (or its SIMD) is unavailable. */
function compileKernels(): Promise<WebAssembly.Module | undefined> {
  compiled ??= (async () => {
    try {
      if (typeof WebAssembly === 'undefined') return undefined;
      return await WebAssembly.compile(decodeBase64(KERNELS_WASM_BASE64));
    } catch {
      return undefined; // no SIMD support (or WebAssembly disabled): the TypeScript path takes over
    }
  })();
  return compiled;
}

/** A fresh instance with its own memory (for a caller that needs one to itself). */
export async function instantiateKernels(): Promise<Kernels | undefined> {
  const module = await compileKernels();
  if (!module) return undefined;
  const instance = await WebAssembly.instantiate(module, {});
  return new Kernels(instance.exports as unknown as KernelExports);
}

/** The thread's shared instance, or undefined when WebAssembly SIMD is unavailable. */
export function loadKernels(): Promise<Kernels | undefined> {
  shared ??= instantiateKernels();
  return shared;
}

/** Which implementation of the hot loops to use: the WebAssembly kernels (with TypeScript fallback) or the TypeScript reference. */
export type Engine = 'wasm' | 'ts';

/** The kernels for `engine` (undefined means: use the TypeScript reference). */
export async function kernelsFor(engine: Engine | undefined): Promise<Kernels | undefined> {
  return engine === 'ts' ? undefined : loadKernels();
}
