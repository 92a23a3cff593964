// The value transforms the writer tries per tensor and the reader inverts by code (docs/FORMAT.md §3.5).
// Codes 1 (DUPLICATE) and 2 (XOR_DELTA) are container-level and handled by the writer/reader themselves.

import { blockFieldsTransform } from './block-fields.js';
import { groupQuantTransform } from './group-quant-segment.js';
import { intPredictTransform } from './int-predict.js';
import { quantScaleTransform } from './quant-scale.js';
import type { SegmentTransform } from './segment-transform.js';
import { zeroFlagsTransform } from './zero-flags.js';

/** Transform code of a segment stored as a reference to an earlier identical segment (no streams). */
export const TRANSFORM_DUPLICATE = 1;
/** Transform code of a segment stored as the XOR against a reference checkpoint's tensor (one stream). */
export const TRANSFORM_XOR_DELTA = 2;

/** Value transforms (codes 3+), tried in this order; the order breaks ties in the writer's choice. */
export const TRANSFORMS: readonly SegmentTransform[] = [quantScaleTransform, zeroFlagsTransform, intPredictTransform, blockFieldsTransform];

/** Lossy value transforms: never tried by the writer's search, written only from a quantizer it is given (GROUP_QUANT). */
export const LOSSY_TRANSFORMS: readonly SegmentTransform[] = [groupQuantTransform];

/** The registered value transform of `code` (exact or lossy), or undefined when none has it. */
export function transformByCode(code: number): SegmentTransform | undefined {
  return TRANSFORMS.find((t) => t.code === code) ?? LOSSY_TRANSFORMS.find((t) => t.code === code);
}
