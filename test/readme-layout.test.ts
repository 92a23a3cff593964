// The README's layout list covers the source tree: every folder of src/ is named there, and docs/ holds only the
// documents the README links (no stray notes folder).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test("the README's layout list names every folder of src/", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const folders = readdirSync(join(ROOT, 'src')).filter((n) => statSync(join(ROOT, 'src', n)).isDirectory());
  assert.deepEqual(folders.filter((f) => !readme.includes(`src/${f}`)), []);
});

test('docs/ holds files only, each a document or a chart', () => {
  const entries = readdirSync(join(ROOT, 'docs'));
  assert.deepEqual(entries.filter((n) => statSync(join(ROOT, 'docs', n)).isDirectory()), []);
  assert.deepEqual(entries.filter((n) => !/\.(md|svg)$/.test(n)), []);
});
