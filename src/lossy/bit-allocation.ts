// Mixed precision: bits per weight for each tensor of a model from a measured sensitivity, so that the average meets a
// budget. At high rate a tensor's loss increase falls by 4x per added bit (its squared error does), so with s_t the
// increase measured at `probeBits` and n_t its weights, the least total increase for the budget gives each tensor
// b_t = c + ½·log2(s_t / n_t), c set by the budget (reverse water-filling), within [minBits, maxBits].

/** A tensor as allocateBits sees it. */
export interface TensorSensitivity {
  name: string;
  /** Number of weights. */
  weights: number;
  /** Loss increase (any unit, the same for all) with this tensor alone quantized at the probe bits. */
  sensitivity: number;
}

/** Options of allocateBits. */
export interface AllocationOptions {
  /** Fewest and most bits per weight a tensor gets (default 2 and 8). */
  minBits?: number;
  maxBits?: number;
  /** Sensitivities below this share of the largest count as it: a measured increase near 0 is mostly noise. */
  floorShare?: number;
}

/** Bisection rounds on the water level c: 60 halvings of a 64-bit-wide bracket leave it below 1e-16 bits. */
const ALLOCATION_ROUNDS = 60;

/**
 * Bits per weight for each tensor: weighted by weights, they average at most `bitsPerWeight`.
 * @param tensors sensitivities (non-finite or negative ones count as the floor)
 * @param bitsPerWeight the budget, within [minBits, maxBits]
 * @returns per name, its bits per weight
 * @throws RangeError for a budget outside [minBits, maxBits] or an empty list
 */
export function allocateBits(tensors: readonly TensorSensitivity[], bitsPerWeight: number, options: AllocationOptions = {}): Map<string, number> {
  const minBits = options.minBits ?? 2;
  const maxBits = options.maxBits ?? 8;
  if (tensors.length === 0) throw new RangeError('no tensors to allocate bits to');
  if (!(bitsPerWeight >= minBits && bitsPerWeight <= maxBits)) throw new RangeError(`budget ${bitsPerWeight} bits per weight outside ${minBits} … ${maxBits}`);
  let top = 0;
  for (const t of tensors) if (Number.isFinite(t.sensitivity)) top = Math.max(top, t.sensitivity);
  const floor = top > 0 ? top * (options.floorShare ?? 1e-3) : 1;
  const level = tensors.map((t) => 0.5 * Math.log2(Math.max(floor, Number.isFinite(t.sensitivity) ? t.sensitivity : 0) / t.weights));
  let total = 0;
  for (const t of tensors) total += t.weights;
  const bitsAt = (c: number, i: number): number => Math.min(maxBits, Math.max(minBits, c + level[i]));
  const average = (c: number): number => tensors.reduce((a, t, i) => a + t.weights * bitsAt(c, i), 0) / total;
  // average(c) is non-decreasing in c; lo gives minBits everywhere, hi maxBits everywhere.
  let lo = minBits - Math.max(...level) - 1;
  let hi = maxBits - Math.min(...level) + 1;
  for (let k = 0; k < ALLOCATION_ROUNDS; k++) {
    const mid = (lo + hi) / 2;
    if (average(mid) <= bitsPerWeight) lo = mid;
    else hi = mid;
  }
  return new Map(tensors.map((t, i) => [t.name, bitsAt(lo, i)]));
}
