// The caller's bound on decoded output (maxOutputBytes), checked against the sizes a container's index declares
// before any byte is decoded or written (docs/SECURITY.md §7): a container of a few megabytes can declare petabytes.

import { LimitError } from '../errors.js';

/** Options of every decoding call that produces output (decompressBuffer, decompressFile, Checkpoint.read). */
export interface OutputLimitOptions {
  /**
   * Largest output, in bytes, that the call may produce: a container whose index declares more is refused with
   * LIMIT_EXCEEDED before anything is decoded or written. Default: no limit (the caller's memory, or for files the
   * free space of the output's file system, is then the bound).
   */
  maxOutputBytes?: number;
}

/**
 * Refuses `declared` output bytes above `options.maxOutputBytes`.
 * @param what names the output in the message, e.g. "the container" or "tensor 'w'"
 * @throws RangeError for a maxOutputBytes that is not a non-negative integer (or Infinity); LIMIT_EXCEEDED, naming
 *   both sizes, when `declared` is above it
 */
export function checkOutputLimit(declared: number, options: OutputLimitOptions, file: string, what: string): void {
  const max = options.maxOutputBytes;
  if (max === undefined) return;
  if (typeof max !== 'number' || !(max >= 0) || (!Number.isSafeInteger(max) && max !== Infinity)) {
    throw new RangeError(`maxOutputBytes ${String(max)} must be a non-negative integer`);
  }
  if (declared > max) {
    throw new LimitError('LIMIT_EXCEEDED', `${what} declares ${declared} bytes of output, above the limit of ${max} bytes (maxOutputBytes / --max-size)`, { file });
  }
}
