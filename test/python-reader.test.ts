// The Python reader in python/ (a NumPy decoder written from docs/FORMAT.md): its own unittest suite, which decodes
// every conformance vector and containers this package's CLI writes, run by every Python 3 found here that has NumPy
// (`python3` on the PATH and the system's /usr/bin/python3, when they differ), so that the reader is checked against
// each NumPy (and PyTorch, where one has it) installed. Skipped with a reason when none has NumPy.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Interpreter {
  command: string;
  versions: string;
}

/** Each distinct Python 3 with NumPy: its command and what it has (Python, NumPy and PyTorch versions). */
function interpretersWithNumpy(): Interpreter[] {
  const found: Interpreter[] = [];
  const seen = new Set<string>();
  const probe = 'import sys, numpy\ntry:\n import torch; t = torch.__version__\nexcept ImportError:\n t = None\nprint(sys.executable, sys.version.split()[0], numpy.__version__, t)';
  for (const command of ['python3', '/usr/bin/python3']) {
    const run = spawnSync(command, ['-c', probe], { encoding: 'utf8' });
    if (run.error || run.status !== 0) continue;
    const [exe, python, numpy, torch] = run.stdout.trim().split(' ');
    let key = exe;
    try {
      key = realpathSync(exe);
    } catch {
      // keep the name the interpreter gave
    }
    if (seen.has(key)) continue;
    seen.add(key);
    found.push({ command, versions: `Python ${python}, NumPy ${numpy}${torch === 'None' ? ', no PyTorch' : `, PyTorch ${torch}`}` });
  }
  return found;
}

const interpreters = interpretersWithNumpy();
if (interpreters.length === 0) console.log('# Python reader tests skipped: no python3 with NumPy (apt-get install python3-numpy)');

for (const { command, versions } of interpreters.length ? interpreters : [{ command: 'python3', versions: 'none found' }]) {
  test(`python reader: ${command} -m unittest discover -s python/tests passes (${versions})`, { skip: interpreters.length === 0, timeout: 300_000 }, () => {
    const run = spawnSync(command, ['-m', 'unittest', 'discover', '-s', 'python/tests'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    assert.equal(run.status, 0, `unittest failed:\n${run.stdout}\n${run.stderr}`);
  });
}
