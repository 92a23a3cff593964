// The committed src/gpu/wgsl-sources.ts must match the kernel files it embeds (tools/embed-wgsl.mjs).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

test('src/gpu/wgsl-sources.ts embeds the current src/gpu/*.wgsl', async () => {
  const tool = new URL('../../../tools/embed-wgsl.mjs', import.meta.url).href; // dist/test/gpu -> repo root
  const { renderWgslSources } = (await import(tool)) as { renderWgslSources: () => string };
  const committed = readFileSync(fileURLToPath(new URL('../../../src/gpu/wgsl-sources.ts', import.meta.url)), 'utf8');
  assert.equal(committed, renderWgslSources(), 'run `npm run build` to regenerate src/gpu/wgsl-sources.ts');
});
