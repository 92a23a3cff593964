// Which segments of a container are lossy (FORMAT.md §3.5.3.5, transform GROUP_QUANT) and their labels, and the
// refusal of such a container by a caller that asked for lossless output only (LOSSY_REFUSED).

import { IoError } from '../errors.js';
import { readGroupQuantParams, TRANSFORM_GROUP_QUANT, type GroupQuantParams } from '../transform/group-quant-segment.js';
import type { ContainerIndex, SegmentRecord } from './index-codec.js';

/** The GROUP_QUANT params of a lossy segment (checked when the index was read), or undefined for a lossless one. */
export function lossyParamsOf(seg: SegmentRecord): GroupQuantParams | undefined {
  if (seg.transform?.code !== TRANSFORM_GROUP_QUANT) return undefined;
  const p = readGroupQuantParams(seg.transform.params);
  return typeof p === 'string' ? undefined : p;
}

/** The number of lossy segments in `index` (0: every decoded byte is the original's). */
export function lossySegmentCount(index: ContainerIndex): number {
  let n = 0;
  for (const m of index.members) for (const s of m.segments) if (s.transform?.code === TRANSFORM_GROUP_QUANT) n++;
  return n;
}

/**
 * Refuses a container that holds lossy segments, for a decode asked to give the original bytes only.
 * @param file names the container in the error
 * @throws LOSSY_REFUSED (an IoError) naming the first lossy tensor and the count
 */
export function refuseLossy(index: ContainerIndex, file: string): void {
  const n = lossySegmentCount(index);
  if (n === 0) return;
  const first = index.members.flatMap((m) => m.segments).find((s) => s.transform?.code === TRANSFORM_GROUP_QUANT)!;
  throw new IoError('LOSSY_REFUSED', `the container holds ${n} lossy tensor(s) (the first: '${first.name}'), and lossless output only was asked for`, { file });
}
