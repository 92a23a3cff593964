// The byte model (FORMAT.md §5.5) through the WebAssembly kernels, with the TypeScript reference
// (src/entropy/byte-model.ts) where the kernels are unavailable. Both give the same bytes.

import { decodeByteModel as decodeByteModelTs, encodeByteModel as encodeByteModelTs } from '../entropy/byte-model.js';
import { binaryStreamError } from '../entropy/binary-coder.js';
import type { ErrorPlace } from '../errors.js';
import type { Kernels } from './kernels.js';

/**
 * Codes `data` after priming the model with `primer` (FORMAT.md §5.5).
 * @param kernels the WebAssembly kernels, or undefined for the TypeScript reference
 * @returns the coded stream
 */
export function encodeByteModel(kernels: Kernels | undefined, data: Uint8Array, primer: Uint8Array = new Uint8Array(0)): Uint8Array {
  if (!kernels) return encodeByteModelTs(data, primer);
  const k = kernels.k;
  const total = primer.length + data.length;
  const workBytes = k.byteModelWorkBytes(total);
  const cap = data.length + (data.length >> 2) + 64;
  const buf = kernels.alloc(total);
  const work = kernels.alloc(workBytes);
  const out = kernels.alloc(cap);
  try {
    const mem = kernels.u8;
    mem.set(primer, buf);
    mem.set(data, buf + primer.length);
    const len = k.encodeByteModel(buf, primer.length, total, work, out, cap);
    if (len < 0) return encodeByteModelTs(data, primer);
    return kernels.u8.slice(out, out + len);
  } finally {
    kernels.release(out, cap);
    kernels.release(work, workBytes);
    kernels.release(buf, total);
  }
}

/**
 * Decodes `n` bytes of a byte-model stream into `out`.
 * @param kernels the WebAssembly kernels, or undefined for the TypeScript reference
 * @param place the chunk's file and offset, for errors
 * @throws CORRUPT_CHUNK when the stream ends early, has bytes left over or does not end in its flushed state
 */
export function decodeByteModel(kernels: Kernels | undefined, stream: Uint8Array, n: number, primer: Uint8Array, out: Uint8Array, place: ErrorPlace = {}): void {
  if (!kernels) {
    decodeByteModelTs(stream, n, primer, out, place);
    return;
  }
  const k = kernels.k;
  const total = primer.length + n;
  const workBytes = k.byteModelWorkBytes(total);
  const buf = kernels.alloc(total);
  const work = kernels.alloc(workBytes);
  const src = kernels.alloc(stream.length + 4);
  try {
    const mem = kernels.u8;
    mem.set(primer, buf);
    mem.set(stream, src);
    const status = k.decodeByteModel(buf, primer.length, total, work, src, stream.length);
    if (status !== 0) throw binaryStreamError('byte-model', `its ${n} bytes`, status, stream.length, k.byteModelErrorAt(), place);
    out.set(kernels.u8.subarray(buf + primer.length, buf + total), 0);
  } finally {
    kernels.release(src, stream.length + 4);
    kernels.release(work, workBytes);
    kernels.release(buf, total);
  }
}
