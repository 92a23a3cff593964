// How the reference encoder splits a member, by its path (FORMAT.md §4.3 "Segments"): safetensors (§4.4), GGUF (§4.6),
// an ONNX model (§4.7), or not at all. Kept apart from the writer so that callers choose without loading the encoder.

import { FORMAT_VERSION_LAYOUTS } from '../format/constants.js';

/** How a member is split into segments. An ONNX model's external data files are split once the model is added. */
export type MemberFormat = 'safetensors' | 'gguf' | 'onnx' | 'bytes';

/** The format a member is split as, from its path's extension (`.safetensors`, `.gguf`, `.onnx`). */
export function memberFormatOf(path: string): MemberFormat {
  if (path.endsWith('.safetensors')) return 'safetensors';
  if (path.endsWith('.gguf')) return 'gguf';
  if (path.endsWith('.onnx')) return 'onnx';
  return 'bytes';
}

/**
 * The format version to write for members at `paths` when the caller asked for none: 5 when one of them is a GGUF file
 * or an ONNX model (their member layouts need it, FORMAT.md §3.2), else undefined (the writer's default, 4), so that
 * other inputs give the same containers as before.
 */
export function defaultFormatVersion(paths: Iterable<string>): 5 | undefined {
  for (const p of paths) {
    const f = memberFormatOf(p);
    if (f === 'gguf' || f === 'onnx') return FORMAT_VERSION_LAYOUTS;
  }
  return undefined;
}
