// The Python reader in python/ (a NumPy decoder written from docs/FORMAT.md): its own unittest suite, which decodes
// every conformance vector and containers this package's CLI writes. Skipped with a reason when python3 with NumPy
// is not installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function pythonWithNumpy(): string | undefined {
  const probe = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (probe.error) return 'python3 is not installed';
  if (probe.status !== 0) return 'python3 has no NumPy (apt-get install python3-numpy)';
  return undefined;
}

const missing = pythonWithNumpy();
if (missing) console.log(`# Python reader tests skipped: ${missing}`);

test('python reader: python3 -m unittest discover -s python/tests passes', { skip: missing ?? false, timeout: 300_000 }, () => {
  const run = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', 'python/tests'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
  });
  assert.equal(run.status, 0, `unittest failed:\n${run.stdout}\n${run.stderr}`);
});
