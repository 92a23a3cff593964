// The tensor model (FORMAT.md §5.6) through the WebAssembly kernels, with the TypeScript reference
// (src/entropy/tensor-model.ts) where the kernels are unavailable. Both give the same bytes.

import { decodeTensorModel as decodeTensorModelTs, encodeTensorModel as encodeTensorModelTs, type TensorModelShape } from '../entropy/tensor-model.js';
import { binaryStreamError } from '../entropy/binary-coder.js';
import type { ErrorPlace } from '../errors.js';
import type { Kernels } from './kernels.js';

/**
 * Codes `n` values' plane symbols (value-major) with the tensor model.
 * @param kernels the WebAssembly kernels, or undefined for the TypeScript reference
 * @returns the coded stream
 */
export function encodeTensorModel(kernels: Kernels | undefined, syms: Uint8Array, n: number, shape: TensorModelShape): Uint8Array {
  if (!kernels) return encodeTensorModelTs(syms, n, shape);
  const k = kernels.k;
  const P = shape.widths.length;
  const count = n * P;
  const workBytes = k.tensorModelWorkBytes(n, P);
  const cap = count + (count >> 2) + 64;
  const src = kernels.alloc(count);
  const desc = kernels.alloc(descBytes(P));
  const work = kernels.alloc(workBytes);
  const out = kernels.alloc(cap);
  try {
    writeShape(kernels, desc, shape);
    kernels.u8.set(syms.subarray(0, count), src);
    const len = k.encodeTensorModel(src, n, P, desc, shape.rowValues, work, out, cap);
    if (len < 0) return encodeTensorModelTs(syms, n, shape);
    return kernels.u8.slice(out, out + len);
  } finally {
    kernels.release(out, cap);
    kernels.release(work, workBytes);
    kernels.release(desc, descBytes(P));
    kernels.release(src, count);
  }
}

/**
 * Decodes `n` values' plane symbols (value-major) from a tensor-model stream into `syms`.
 * @param kernels the WebAssembly kernels, or undefined for the TypeScript reference
 * @param place the chunk's file and offset, for errors
 * @throws CORRUPT_CHUNK when the stream is too short, ends early, has bytes left over or does not end in its flushed state
 */
export function decodeTensorModel(kernels: Kernels | undefined, stream: Uint8Array, n: number, shape: TensorModelShape, syms: Uint8Array, place: ErrorPlace = {}): void {
  if (!kernels || stream.length < 4) {
    decodeTensorModelTs(stream, n, shape, syms, place);
    return;
  }
  const k = kernels.k;
  const P = shape.widths.length;
  const count = n * P;
  const workBytes = k.tensorModelWorkBytes(n, P);
  const dst = kernels.alloc(count);
  const desc = kernels.alloc(descBytes(P));
  const work = kernels.alloc(workBytes);
  const src = kernels.alloc(stream.length + 4);
  try {
    writeShape(kernels, desc, shape);
    kernels.u8.set(stream, src);
    const status = k.decodeTensorModel(dst, n, P, desc, shape.rowValues, work, src, stream.length);
    if (status !== 0) throw binaryStreamError('tensor-model', `its ${n} values`, status, stream.length, k.tensorModelErrorAt(), place);
    syms.set(kernels.u8.subarray(dst, dst + count), 0);
  } finally {
    kernels.release(src, stream.length + 4);
    kernels.release(work, workBytes);
    kernels.release(desc, descBytes(P));
    kernels.release(dst, count);
  }
}

/** The kernel's shape descriptor: P width bytes, then P × 256 u16 deposit entries (little-endian, 2-byte aligned by padding P to even). */
function writeShape(kernels: Kernels, desc: number, shape: TensorModelShape): void {
  const P = shape.widths.length;
  const mem = kernels.u8;
  for (let k = 0; k < P; k++) mem[desc + k] = shape.widths[k];
  const dep = desc + P + (P & 1);
  for (let j = 0; j < shape.deposit.length; j++) {
    mem[dep + 2 * j] = shape.deposit[j] & 255;
    mem[dep + 2 * j + 1] = shape.deposit[j] >> 8;
  }
}

/** Bytes of the kernel's shape descriptor for P planes. */
function descBytes(P: number): number {
  return P + (P & 1) + P * 512;
}
