// The repository's prose speaks of the project as it is (HOUSE_STYLE "Docs speak of the project, not of its history"):
// no issue numbers, sessions, lent machines or notes between people in README, docs/ or comments, and the README's
// layout list names every folder of src/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Wording that describes how the project was built rather than what it is. */
const HISTORY = [
  /\bissue[- ]?#?\d+/i,
  /\bsessions?\b/i,
  /\bthe lent\b|\blent (?:gpu|machine|h100|h200)/i,
  /\b(?:another|helper|lead) engineer/i,
  /\bdocs\/notes\b/,
  /\blater work\b/i,
];

/** Every file under `dir` (relative to the root) whose name passes `keep`. */
function files(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const rel = join(dir, name);
    if (statSync(join(ROOT, rel)).isDirectory()) out.push(...files(rel, keep));
    else if (keep(name)) out.push(rel);
  }
  return out;
}

test('README, docs and source comments carry no history of how the project was built', () => {
  const texts = ['README.md', ...files('docs', (n) => n.endsWith('.md')), ...files('src', (n) => n.endsWith('.ts') || n.endsWith('.wgsl'))];
  const found: string[] = [];
  for (const file of texts) {
    readFileSync(join(ROOT, file), 'utf8').split('\n').forEach((line, k) => {
      for (const re of HISTORY) if (re.test(line)) found.push(`${file}:${k + 1}: ${line.trim().slice(0, 100)}`);
    });
  }
  assert.deepEqual(found, []);
  assert.throws(() => statSync(join(ROOT, 'docs/notes')), 'docs/notes/ is gone');
});

test("the README's layout list names every folder of src/", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const folders = readdirSync(join(ROOT, 'src')).filter((n) => statSync(join(ROOT, 'src', n)).isDirectory());
  const missing = folders.filter((f) => !readme.includes(`src/${f}`)).map((f) => relative(ROOT, join(ROOT, 'src', f)));
  assert.deepEqual(missing, []);
});
