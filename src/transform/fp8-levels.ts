// FP8 levels of a lossy tensor (FORMAT.md §3.5.3.5, `levels` 1 and 2, version 7): the binary32 value of every FP8 E4M3
// and E5M2 bit pattern, and the rounding of a binary32 value to the nearest pattern. Every finite FP8 value is exact in
// binary32, so a code's level is a table lookup and the rebuild stays one binary32 product.

/** `levels` of GROUP_QUANT params: integer codes (version 6), FP8 E4M3 codes, FP8 E5M2 codes. */
export const LEVELS_INTEGER = 0;
export const LEVELS_E4M3 = 1;
export const LEVELS_E5M2 = 2;
/** The levels a GROUP_QUANT matrix may use. */
export type GroupLevels = typeof LEVELS_INTEGER | typeof LEVELS_E4M3 | typeof LEVELS_E5M2;

/** Largest finite magnitude of E4M3 (OCP "E4M3FN": no infinities; S.1111.111 is NaN): 1.75 · 2^8. */
export const E4M3_MAX_LEVEL = 448;
/** Largest finite magnitude of E5M2 (IEEE-like: S.11111.00 is infinity, S.11111.xx NaN): 1.75 · 2^15. */
export const E5M2_MAX_LEVEL = 57344;

/** The exponent and mantissa widths of an FP8 kind. */
function fieldsOf(levels: GroupLevels): { e: number; m: number } {
  if (levels === LEVELS_E4M3) return { e: 4, m: 3 };
  if (levels === LEVELS_E5M2) return { e: 5, m: 2 };
  throw new RangeError(`levels ${levels} is not an FP8 kind`);
}

/**
 * The value of FP8 bit pattern `code` (0 … 255) of `levels`, or NaN for a pattern that is not a finite number
 * (E4M3: 0x7F and 0xFF; E5M2: exponent field all ones, 0x7C … 0x7F and 0xFC … 0xFF).
 */
function fp8Value(code: number, levels: GroupLevels): number {
  const { e, m } = fieldsOf(levels);
  const bias = (1 << (e - 1)) - 1;
  const sign = code & 0x80 ? -1 : 1;
  const exp = (code >> m) & ((1 << e) - 1);
  const man = code & ((1 << m) - 1);
  if (levels === LEVELS_E4M3 && exp === 15 && man === 7) return NaN;
  if (levels === LEVELS_E5M2 && exp === 31) return NaN;
  if (exp === 0) return sign * man * 2 ** (1 - bias - m);
  return sign * (2 ** m + man) * 2 ** (exp - bias - m);
}

const TABLES = new Map<GroupLevels, Float32Array>();

/**
 * The 256 levels of an FP8 kind as binary32, indexed by bit pattern (NaN for the patterns that are not finite numbers,
 * which a decoder refuses). 0x80 is −0.
 * @throws RangeError for LEVELS_INTEGER or an unknown kind
 */
export function fp8Levels(levels: GroupLevels): Float32Array {
  let t = TABLES.get(levels);
  if (!t) {
    t = new Float32Array(256);
    for (let c = 0; c < 256; c++) t[c] = fp8Value(c, levels);
    TABLES.set(levels, t);
  }
  return t;
}

/** The largest finite level of an FP8 kind. @throws RangeError for LEVELS_INTEGER */
export function fp8MaxLevel(levels: GroupLevels): number {
  fieldsOf(levels);
  return levels === LEVELS_E4M3 ? E4M3_MAX_LEVEL : E5M2_MAX_LEVEL;
}

/**
 * The FP8 pattern nearest to `x` (ties to the even pattern, which is the even mantissa), saturating at the largest
 * finite level; zero and values that round to zero give +0 (0x00), never −0.
 * @param x a finite number
 * @throws RangeError for a non-finite x or LEVELS_INTEGER
 */
export function fp8CodeOf(x: number, levels: GroupLevels): number {
  if (!Number.isFinite(x)) throw new RangeError(`value ${x} is not finite`);
  const t = fp8Levels(levels);
  const top = levels === LEVELS_E4M3 ? 0x7e : 0x7b; // the largest finite positive pattern
  const a = Math.abs(x);
  // Positive patterns 0 … top are increasing in value: binary search for the last level ≤ a.
  let lo = 0;
  let hi = top;
  if (a >= t[top]) lo = top;
  else {
    // Invariant: t[lo] <= a < t[hi].
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (t[mid] <= a) lo = mid;
      else hi = mid;
    }
    const dLo = a - t[lo];
    const dHi = t[hi] - a;
    if (dHi < dLo || (dHi === dLo && (hi & 1) === 0)) lo = hi;
  }
  return lo === 0 || x > 0 ? lo : lo | 0x80;
}
