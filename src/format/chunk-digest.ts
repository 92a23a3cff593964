// WD64, the 64-bit digest of a chunk's decoded bytes (format version 4, chunk record): the TypeScript reference, and
// the path taken where WebAssembly SIMD is absent. src/wasm/assembly/chunk-digest.ts must equal it on every input.

/** Bytes per stripe: eight little-endian u64 words w[0..7], one per accumulator. */
export const DIGEST_STRIPE_BYTES = 64;

/** K0..K7 of the definition; a[j] starts at K[j], and K[j] is mixed into every word w[j]. */
export const DIGEST_KEYS: readonly bigint[] = [
  0x9e3779b185ebca87n, 0xc2b2ae3d27d4eb4fn, 0x165667b19e3779f9n, 0x85ebca77c2b2ae63n,
  0x27d4eb2f165667c5n, 0xd6e8feb86659fd93n, 0xff51afd7ed558ccdn, 0xc4ceb9fe1a85ec53n,
];

/** K[j] as int32 halves: KEY_WORDS[2j] the low 32 bits, KEY_WORDS[2j + 1] the high 32 bits. */
const KEY_WORDS = new Int32Array(16);
DIGEST_KEYS.forEach((k, j) => {
  KEY_WORDS[2 * j] = Number(k & 0xffffffffn);
  KEY_WORDS[2 * j + 1] = Number(k >> 32n);
});
const [K1_LO, K1_HI, K2_LO, K2_HI, K3_LO, K3_HI] = KEY_WORDS.subarray(2, 8);
/** K5's low half as a u32 (it is added as a number), its high half as an int32. */
const K5_LO = KEY_WORDS[10] >>> 0;
const K5_HI = KEY_WORDS[11];
const TWO_POW_32 = 2 ** 32;
const TWO_POW_MINUS_32 = 2 ** -32;

/** State words: a[j] as int32 halves at 2j (low) and 2j + 1 (high), then m = s * K5 of the next stripe s (low, high). */
const STATE_WORDS = 18;
/**
 * Stripes copied per round into SCRATCH when the input cannot be read in place (an offset that is not a multiple of
 * 4, or a big-endian platform): bounds the scratch at 16 KiB whatever the input's length.
 */
const SCRATCH_STRIPES = 256;
const SCRATCH = new Int32Array((SCRATCH_STRIPES * DIGEST_STRIPE_BYTES) / 4);
const SCRATCH_BYTES = new Uint8Array(SCRATCH.buffer);
/** The state of the digest in progress (chunkDigest runs to completion, so one serves every call). */
const STATE = new Int32Array(STATE_WORDS);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Folds `stripes` stripes of words (`w[16s + 2j]` the low and `w[16s + 2j + 1]` the high half of word j of stripe s)
 * into `state`. Every value is exact: each 32x32-bit product is split into its low half (Math.imul) and its high half
 * (the double product less the low half, scaled by 2^-32 and rounded to an integer: the product and the difference
 * each round by at most 2^10, far inside the 2^31 that rounding to a multiple of 2^32 allows, whereas truncating would
 * lose one where the double falls just below a multiple of 2^32), and each u64 sum carries from its low half into its
 * high half.
 */
function absorbStripes(w: Int32Array, stripes: number, state: Int32Array): void {
  let mLo = state[16];
  let mHi = state[17];
  for (let s = 0, o = 0; s < stripes; s++, o += 16) {
    for (let j = 0; j < 16; j += 2) {
      const tLo = w[o + j] ^ KEY_WORDS[j] ^ mLo;
      const tHi = w[o + j + 1] ^ KEY_WORDS[j + 1] ^ mHi;
      const pLo = Math.imul(tLo, tHi) >>> 0;
      const pHi = Math.round(((tLo >>> 0) * (tHi >>> 0) - pLo) * TWO_POW_MINUS_32);
      // w[j XOR 1]: the other word of the same aligned pair.
      const x = o + (j ^ 2);
      const lo = (state[j] >>> 0) + pLo + (w[x] >>> 0);
      state[j] = lo | 0;
      state[j + 1] = (state[j + 1] + pHi + w[x + 1] + Math.floor(lo * TWO_POW_MINUS_32)) | 0;
    }
    const lo = (mLo >>> 0) + K5_LO;
    mHi = (mHi + K5_HI + (lo >= TWO_POW_32 ? 1 : 0)) | 0;
    mLo = lo | 0;
  }
  state[16] = mLo;
  state[17] = mHi;
}

/**
 * Copies bytes[start, end) into SCRATCH as little-endian words, zero-padded to whole stripes (end - start is at most
 * SCRATCH_STRIPES stripes). @returns the stripes copied
 */
function copyStripes(bytes: Uint8Array, start: number, end: number): number {
  const n = end - start;
  const stripes = Math.ceil(n / DIGEST_STRIPE_BYTES);
  SCRATCH_BYTES.set(bytes.subarray(start, end));
  SCRATCH_BYTES.fill(0, n, stripes * DIGEST_STRIPE_BYTES);
  if (!LITTLE_ENDIAN) {
    // In place: word i is read from its own four bytes before it is written over them.
    const b = SCRATCH_BYTES;
    for (let i = 0; i < stripes * 16; i++) SCRATCH[i] = b[4 * i] | (b[4 * i + 1] << 8) | (b[4 * i + 2] << 16) | (b[4 * i + 3] << 24);
  }
  return stripes;
}

/** The result of multiply64: the low and the high half of a u64 (as int32). */
const PRODUCT = new Int32Array(2);

/** PRODUCT = (aHi:aLo) * (bHi:bLo) mod 2^64: aLo * bLo split as in absorbStripes; the store into PRODUCT wraps the high half. */
function multiply64(aLo: number, aHi: number, bLo: number, bHi: number): void {
  const lo = Math.imul(aLo, bLo) >>> 0;
  PRODUCT[0] = lo;
  PRODUCT[1] = Math.round(((aLo >>> 0) * (bLo >>> 0) - lo) * TWO_POW_MINUS_32) + Math.imul(aLo, bHi) + Math.imul(aHi, bLo);
}

/** Step 3 of the definition, over the accumulators in `state`, for an input of `length` bytes. */
function finishDigest(state: Int32Array, length: number): bigint {
  multiply64(length >>> 0, Math.floor(length / TWO_POW_32), K1_LO, K1_HI);
  let lo = PRODUCT[0];
  let hi = PRODUCT[1];
  for (let j = 0; j < 16; j += 2) {
    multiply64(lo ^ state[j], hi ^ state[j + 1], K2_LO, K2_HI);
    lo = PRODUCT[0];
    hi = PRODUCT[1];
    lo ^= (lo >>> 31) | (hi << 1); // h ^= h >> 31
    hi ^= hi >>> 31;
  }
  lo ^= hi >>> 1; // h ^= h >> 33
  multiply64(lo, hi, K3_LO, K3_HI);
  lo = PRODUCT[0];
  hi = PRODUCT[1];
  lo ^= (lo >>> 29) | (hi << 3); // h ^= h >> 29
  hi ^= hi >>> 29;
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/**
 * WD64 of `bytes` (any length, 0 included; any offset into its buffer).
 * @returns the digest as an unsigned bigint below 2^64: the chunk record's u64, which DataView getBigUint64 and
 *   setBigUint64 (little-endian) read and write as is
 */
export function chunkDigest(bytes: Uint8Array): bigint {
  const state = STATE;
  state.set(KEY_WORDS);
  state[16] = 0;
  state[17] = 0;
  const length = bytes.length;
  const full = Math.floor(length / DIGEST_STRIPE_BYTES) * DIGEST_STRIPE_BYTES;
  let at = 0;
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) {
    absorbStripes(new Int32Array(bytes.buffer, bytes.byteOffset, full / 4), full / DIGEST_STRIPE_BYTES, state);
    at = full;
  }
  while (at < length) {
    const end = Math.min(length, at + SCRATCH_STRIPES * DIGEST_STRIPE_BYTES);
    absorbStripes(SCRATCH, copyStripes(bytes, at, end), state);
    at = end;
  }
  return finishDigest(state, length);
}
