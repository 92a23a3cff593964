// The transform interface of format version 2 (docs/FORMAT.md §3.5): a reversible, pure rewrite of one tensor's bytes
// into streams that are each coded like a version-1 segment; the decoder inverts it after decoding the streams.

export { MAX_TRANSFORM_PARAM_BYTES } from '../format/constants.js';

/** One stream of a transformed segment: coded like a v1 segment (dtype picks the plane candidates). */
export interface TransformStream { bytes: Uint8Array; dtype: string; valueBytes: number }

/** A transform's output for one tensor; params are the transform's own bytes (<= MAX_TRANSFORM_PARAM_BYTES). */
export interface TransformCandidate { code: number; params: Uint8Array; streams: TransformStream[] }

/** A reversible transform of one tensor's bytes, registered under a code of FORMAT.md §3.5. */
export interface SegmentTransform {
  readonly code: number; readonly name: string;   // name as shown by `wcodec info`
  /** The transformed form of a tensor's bytes, or undefined when the transform does not apply exactly. Pure. */
  forward(data: Uint8Array, dtype: string, shape: readonly number[]): TransformCandidate | undefined;
  /** Rebuilds the original bytes into `out` (its length is the original size) from params and decoded streams.
   *  Pure; throws FormatError('CORRUPT_TRANSFORM', ..., {file, offset}) on params/streams that are inconsistent. */
  inverse(params: Uint8Array, streams: readonly Uint8Array[], dtype: string, shape: readonly number[], out: Uint8Array, where: { file?: string; offset: number }): void;
}
