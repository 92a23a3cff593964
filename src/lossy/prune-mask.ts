// Pruning masks of a weight matrix: unstructured (the given share of the matrix's values with the least saliency) and
// 2:4 structured (in every run of 4 values of a row from column 0, the 2 with the least saliency). Saliency is |w|, or
// with calibration |w|·√H_jj (the weight times the norm of its input over the calibration text, as Wanda scores
// weights), so that weights fed by large inputs are kept. A pruned value's code is the zero level.

/** A pruning pattern: a share of the values, or 2 of every 4 along a row. */
export type PrunePattern = { kind: 'unstructured'; fraction: number } | { kind: '2:4' };

/** Largest pruned share that `N%` takes: 99 %, beyond which a matrix is nearly all zeros. */
export const MAX_PRUNE_PERCENT = 99;

/**
 * The pattern of its text: `2:4`, or `N%` with N an integer 1 … MAX_PRUNE_PERCENT.
 * @throws RangeError for any other text
 */
export function parsePrunePattern(text: string): PrunePattern {
  if (text === '2:4') return { kind: '2:4' };
  const m = /^(\d{1,2})%$/.exec(text);
  const n = m ? Number(m[1]) : NaN;
  if (!(n >= 1 && n <= MAX_PRUNE_PERCENT)) throw new RangeError(`pruning '${text}' is not 2:4 or N% (N = 1 … ${MAX_PRUNE_PERCENT})`);
  return { kind: 'unstructured', fraction: n / 100 };
}

/** The text of a pattern, as parsePrunePattern reads it. */
export function prunePatternText(p: PrunePattern): string {
  return p.kind === '2:4' ? '2:4' : `${Math.round(p.fraction * 100)}%`;
}

/**
 * The mask of values to prune (1: pruned) of a rows x cols matrix (row-major).
 * @param inputEnergy per column, the sum of its squared inputs over calibration text (H's diagonal), or undefined for
 *   plain magnitude
 * @returns rows · cols flags; unstructured: exactly round(fraction · n) values, the least salient (ties: the lower
 *   index first); 2:4: in each run of 4 values of a row (columns 4k … 4k + 3) the 2 least salient, in a row's last run
 *   of k < 4 values the ⌊k / 2⌋ least salient (ties: the lower column first)
 * @throws RangeError when the sizes disagree
 */
export function pruneMask(values: Float32Array, rows: number, cols: number, pattern: PrunePattern, inputEnergy?: Float64Array): Uint8Array {
  const n = rows * cols;
  if (values.length !== n) throw new RangeError(`${values.length} values for a ${rows} x ${cols} matrix`);
  if (inputEnergy && inputEnergy.length !== cols) throw new RangeError(`${inputEnergy.length} input energies for ${cols} columns`);
  const saliency = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) saliency[r * cols + c] = Math.abs(values[r * cols + c]) * (inputEnergy ? Math.sqrt(Math.max(0, inputEnergy[c])) : 1);
  }
  const mask = new Uint8Array(n);
  if (pattern.kind === '2:4') {
    const run = [0, 0, 0, 0];
    for (let r = 0; r < rows; r++) {
      for (let c0 = 0; c0 < cols; c0 += 4) {
        const k = Math.min(4, cols - c0);
        for (let j = 0; j < k; j++) run[j] = r * cols + c0 + j;
        const order = run.slice(0, k).sort((a, b) => saliency[a] - saliency[b] || a - b);
        for (let j = 0; j < k >> 1; j++) mask[order[j]] = 1;
      }
    }
    return mask;
  }
  const count = Math.round(pattern.fraction * n);
  if (count === 0) return mask;
  const sorted = Float64Array.from(saliency).sort();
  const threshold = sorted[count - 1];
  let pruned = 0;
  for (let i = 0; i < n; i++) {
    if (saliency[i] < threshold) {
      mask[i] = 1;
      pruned++;
    }
  }
  for (let i = 0; i < n && pruned < count; i++) {
    if (saliency[i] === threshold) {
      mask[i] = 1;
      pruned++;
    }
  }
  return mask;
}

/** `values` with every masked value set to 0 (a fresh array). */
export function applyMask(values: Float32Array, mask: Uint8Array | undefined): Float32Array {
  const out = Float32Array.from(values);
  if (mask) for (let i = 0; i < out.length; i++) if (mask[i]) out[i] = 0;
  return out;
}
