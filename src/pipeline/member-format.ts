// How the reference encoder splits a member, by its path (FORMAT.md §4.3 "Segments"): safetensors (§4.4), GGUF (§4.6),
// an ONNX model (§4.7), a NumPy array (§4.8), or not at all. Kept apart from the writer so that callers choose without
// loading the encoder.

import { FORMAT_VERSION_FLOAT_ARRAYS, FORMAT_VERSION_LAYOUTS } from '../format/constants.js';

/** How a member is split into segments. An ONNX model's external data files are split once the model is added. */
export type MemberFormat = 'safetensors' | 'gguf' | 'onnx' | 'npy' | 'bytes';

/**
 * A raw array (FORMAT.md §4.9): the whole file is one tensor of `dtype` (a known dtype of §4.1) and `shape` (default:
 * one dimension, the file's size over the dtype's width).
 */
export interface RawArray {
  dtype: string;
  shape?: number[];
}

/** The format a member is split as, from its path's extension (`.safetensors`, `.gguf`, `.onnx`, `.npy`). */
export function memberFormatOf(path: string): MemberFormat {
  if (path.endsWith('.safetensors')) return 'safetensors';
  if (path.endsWith('.gguf')) return 'gguf';
  if (path.endsWith('.onnx')) return 'onnx';
  if (path.endsWith('.npy')) return 'npy';
  return 'bytes';
}

/**
 * The format version to write for members at `paths` when the caller asked for none: 9 when one of them is a NumPy
 * array (its member layout needs it, FORMAT.md §3.2, §4.8), else 5 when one is a GGUF file or an ONNX model (§4.6,
 * §4.7), else undefined (the writer's default, 4), so that other inputs give the same containers as before.
 */
export function defaultFormatVersion(paths: Iterable<string>): 5 | 9 | undefined {
  let version: 5 | 9 | undefined;
  for (const p of paths) {
    const f = memberFormatOf(p);
    if (f === 'npy') return FORMAT_VERSION_FLOAT_ARRAYS;
    if (f === 'gguf' || f === 'onnx') version = FORMAT_VERSION_LAYOUTS;
  }
  return version;
}
