// The security campaigns tool (tools/security-campaigns.ts, docs/SECURITY.md §8) exits 0 exactly when every row holds:
// run here with few bit flips (the truncations and invalid vectors in full), its JSON checked row by row.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TOOL = fileURLToPath(new URL('../tools/security-campaigns.js', import.meta.url));
const EXAMPLE = fileURLToPath(new URL('../../examples/stories260K/stories260K.safetensors', import.meta.url));

test('npm run campaigns: every invalid vector rejected as FORMAT.md §7.3 says, every truncation rejected, exit 0', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-campaigns-'));
  try {
    const out = join(dir, 'campaigns.json');
    const r = spawnSync(process.execPath, [TOOL, '--flips', '50', '--file', EXAMPLE, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
    const res = JSON.parse(await readFile(out, 'utf8')) as {
      flips: { total: number; detected: number };
      truncations: { total: number; rejected: number };
      invalidVectors: { total: number; rejected: number; rightCode: number; rightOffset: number; wrong: string[] };
    };
    assert.equal(res.flips.detected, res.flips.total);
    assert.ok(res.truncations.total > 1000);
    assert.equal(res.truncations.rejected, res.truncations.total);
    assert.ok(res.invalidVectors.total >= 127, `${res.invalidVectors.total} invalid vectors`);
    assert.equal(res.invalidVectors.rejected, res.invalidVectors.total);
    assert.equal(res.invalidVectors.rightCode, res.invalidVectors.total);
    assert.deepEqual(res.invalidVectors.wrong, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
