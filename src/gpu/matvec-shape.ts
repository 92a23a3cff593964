// The shape of y = W·x over a chunked matrix W [rows, cols] (matvec-order.wgsl): the bounds that keep every flat
// index of the kernels in u32 arithmetic, and where the partial sums go.

/**
 * Most values of W: a flat index plus a chunk's values then stays below 2^32 in the kernels' u32 arithmetic
 * (4 GiB of BF16, beyond any storage binding a device offers for the decoded matrix).
 */
export const MAX_MATVEC_VALUES = 2 ** 31 - 1;

/** W's rows and columns, and the values per chunk that fix the summation order (matvec-order.wgsl). */
export interface MatvecShape {
  rows: number;
  cols: number;
  chunkValues: number;
}

/**
 * Checks a shape.
 * @throws RangeError when rows or cols is not a non-negative integer, rows · cols exceeds MAX_MATVEC_VALUES, or
 *   chunkValues is not an integer from 1 to MAX_MATVEC_VALUES
 */
export function matvecShape(rows: number, cols: number, chunkValues: number): MatvecShape {
  for (const [what, v] of [['rows', rows], ['cols', cols]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} ${v} is not a non-negative integer`);
  }
  if (rows * cols > MAX_MATVEC_VALUES) throw new RangeError(`a matrix of ${rows} x ${cols} values exceeds the ${MAX_MATVEC_VALUES} a matrix-vector product takes`);
  if (!Number.isSafeInteger(chunkValues) || chunkValues < 1 || chunkValues > MAX_MATVEC_VALUES) {
    throw new RangeError(`chunk values ${chunkValues} is not an integer from 1 to ${MAX_MATVEC_VALUES}`);
  }
  return { rows, cols, chunkValues };
}

/** Chunks of W. */
export function chunkCount(s: MatvecShape): number {
  return Math.ceil((s.rows * s.cols) / s.chunkValues);
}

/** Partial sums of the product: one per row and chunk they share, at row + chunk, so fewer than rows + chunks. */
export function partialSlots(s: MatvecShape): number {
  return s.rows + chunkCount(s);
}

/** Rows scanned one by one below this many; above, piecesPerRow bounds the count instead. */
const EXACT_PIECES_ROWS = 1 << 20;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The most chunks one row's values lie in (matvec-decoded.wgsl runs that many groups per row). Row r starts at
 * offset (r · cols) mod chunkValues into its first chunk, a multiple of g = gcd(cols, chunkValues) that repeats
 * every chunkValues / g rows; the count is exact when those rows (or all rows) are few enough to scan, else the
 * bound from the largest such offset, chunkValues − g.
 */
export function piecesPerRow(s: MatvecShape): number {
  if (s.rows === 0 || s.cols === 0) return 0;
  const g = gcd(s.cols, s.chunkValues);
  const scan = Math.min(s.rows, s.chunkValues / g);
  const span = (offset: number): number => Math.floor((offset + s.cols - 1) / s.chunkValues) + 1;
  if (scan > EXACT_PIECES_ROWS) return span(s.chunkValues - g);
  let most = 0;
  for (let r = 0; r < scan; r++) most = Math.max(most, span((r * s.cols) % s.chunkValues));
  return most;
}
