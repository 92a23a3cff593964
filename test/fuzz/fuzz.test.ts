// Bounded fuzzing in CI (docs/SECURITY.md, "Fuzzing"): each decoder entry point for a few seconds from a printed
// seed (WCODEC_TEST_SEED overrides it; `npm run fuzz -- --minutes N` runs longer). A failure prints its replay command.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { testSeed } from '../helpers/prng.js';
import { describeReport, fuzzTarget } from './run-fuzz.js';
import { cleanupTargets, TARGETS } from './targets.js';

/** Seconds per target in CI: eleven targets, about 55 s of the 2-minute fuzz budget, on two cores shared with other tests. */
const CI_SECONDS_PER_TARGET = 5;
/** Fewest inputs a target must get through in its time, or the run proves little. */
const MIN_INPUTS = 100;

describe('fuzz (time-bounded)', () => {
  after(cleanupTargets);
  for (const target of TARGETS) {
    test(`${target.name}: ${target.description}`, async (t) => {
      const seed = testSeed(0xf022 + target.name.length);
      t.diagnostic(`seed ${seed}`);
      const report = await fuzzTarget(target, { seed, budgetMs: CI_SECONDS_PER_TARGET * 1000, minIterations: MIN_INPUTS });
      t.diagnostic(describeReport(report));
      assert.ok(report.iterations >= MIN_INPUTS, `only ${report.iterations} inputs in ${(report.ms / 1000).toFixed(1)} s`);
    });
  }
});
