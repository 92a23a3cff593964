// Seeded pseudo-random numbers for tests (no Math.random: every run sees the same data, and a failure names
// its seed): the generator of tools/seeded-rng.ts; WCODEC_TEST_SEED overrides the seed a test passes, to explore.

export { Rng } from '../../tools/seeded-rng.js';

/** The seed to use: WCODEC_TEST_SEED when set (a u32), otherwise `fixed`. */
export function testSeed(fixed: number): number {
  const env = process.env.WCODEC_TEST_SEED;
  if (env === undefined || env === '') return fixed >>> 0;
  const v = Number(env);
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`WCODEC_TEST_SEED=${env} is not a non-negative integer`);
  return v >>> 0;
}
