// The one-line summary per input, in zstd's style:
//   base: 9.71 MB -> 6.39 MB (x1.521, 99.7% of bound), enc 15.2 MB/s, dec 52.1 MB/s | zstd-3 x1.284 enc 528 dec 950 | ...

import { isSkipped, type InputResult } from './results-schema.js';
import type { MeasureResult } from './measure.js';

/** Bytes in MB (10^6) with 2 decimals. */
export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;

/** A throughput figure with 3 significant digits (at least the integer part). */
export const mbps = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** The single-thread result of `codec` for an input, if it ran. */
export function singleThread(r: InputResult, codec: string): MeasureResult | undefined {
  const x = r.results.find((c) => c.codec === codec && c.threads === 1);
  return x && !isSkipped(x) ? x : undefined;
}

/** wcodec's ratio as a percentage of the order-0 bound's ratio (100% = reaches the bound). */
export function percentOfBound(r: InputResult, m: MeasureResult): number {
  return (100 * m.ratio * r.bounds.order0Bytes) / r.bytes;
}

/** The summary line of one input; `primary` is the codec described first (wcodec). */
export function summaryLine(r: InputResult, primary = 'wcodec'): string {
  const parts: string[] = [];
  const w = singleThread(r, primary);
  if (w) {
    parts.push(
      `${r.input.name}: ${mb(r.bytes)} -> ${mb(r.bytes / w.ratio)} (x${w.ratio.toFixed(3)}, ${percentOfBound(r, w).toFixed(1)}% of bound), ` +
        `enc ${mbps(w.encode.median)} MB/s, dec ${mbps(w.decode.median)} MB/s`,
    );
  } else parts.push(`${r.input.name}: ${mb(r.bytes)}`);
  const seen = new Set<string>([primary]);
  for (const c of r.results) {
    if (seen.has(c.codec) || isSkipped(c) || c.threads !== 1) continue;
    seen.add(c.codec);
    const sliced = c.ratioBytes < c.originalBytes ? '*' : '';
    parts.push(`${c.codec} x${c.ratio.toFixed(3)}${sliced} enc ${mbps(c.encode.median)} dec ${mbps(c.decode.median)}`);
  }
  return parts.join(' | ');
}
