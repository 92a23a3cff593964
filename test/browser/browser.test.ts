// The built package in a real browser: headless Chromium (Debian's `chromium`) loads dist/src/index.js as an ES
// module from a local HTTP server, decodes containers made here by Node (a corpus file when ../shared/corpus is
// present, and a generated multi-dtype file always; each with the default and the huffman coding), in the page's thread and with a pool of 2 Web Workers, and
// posts back the SHA-256 of what it decoded, which must equal the original's. Skipped (with the reason) where
// no Chromium is installed; CI installs it (.ci/run).

import '../../src/io/node-sha256.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressBuffer } from '../../src/api/buffers.js';
import { buildSafetensors } from '../helpers/safetensors-builder.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { makeValues } from '../helpers/values.js';
import { BROWSER_TIMEOUT_MS, findChromium, inChromium, postedJson, serveBuiltScript } from '../helpers/chromium.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const CORPUS_FILE = join(ROOT, '../shared/corpus/llama-tiny/base/model-00001-of-00002.safetensors');
const PAGE = `<!doctype html><meta charset="utf-8"><title>wcodec browser test</title><script type="module">
import { decompressBuffer } from '/dist/src/index.js';
import { loadKernels } from '/dist/src/wasm/kernels.js';
const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const report = (r) => fetch('/result', { method: 'POST', body: JSON.stringify(r) });
try {
  const names = await (await fetch('/containers')).json();
  const results = [];
  for (const name of names) {
    const container = new Uint8Array(await (await fetch('/container/' + name)).arrayBuffer());
    for (const threads of [1, 2]) {
      const out = await decompressBuffer(container, { threads, minPoolBytes: 0 });
      results.push({ name, threads, bytes: out.length, sha256: hex(await crypto.subtle.digest('SHA-256', out)) });
    }
  }
  await report({ ok: true, results, kernels: (await loadKernels()) !== undefined });
} catch (e) {
  await report({ ok: false, error: String(e && e.stack || e) });
}
</script>`;

test('browser: headless Chromium decodes the built package\'s containers to the same bytes as Node', { timeout: BROWSER_TIMEOUT_MS + 30_000 }, async (t) => {
  const chromium = findChromium();
  if (!chromium) {
    t.skip('no chromium on PATH (apt-get install -y chromium)');
    return;
  }
  const rng = new Rng(testSeed(31));
  const generated = buildSafetensors(
    [['BF16', 300001], ['F32', 70001], ['F16', 1025], ['U8', 7], ['F64', 33]].map(([dtype, n], k) => ({
      name: `t${k}`, dtype: dtype as string, shape: [n as number], data: makeValues(dtype as string, n as number, 'gaussian', rng),
    })),
  ).bytes;
  const inputs = new Map<string, Uint8Array>([['generated', generated]]);
  if (existsSync(CORPUS_FILE)) inputs.set('llama-tiny-base-1', new Uint8Array(await readFile(CORPUS_FILE)));
  const containers = new Map<string, Uint8Array>();
  // Each input twice: the default coding (rANS) and the huffman option (Huffman-coded exponent planes, version 2).
  for (const [name, bytes] of inputs) {
    containers.set(name, await compressBuffer(bytes));
    containers.set(`${name}.huffman`, await compressBuffer(bytes, { huffman: true }));
  }

  let reported: (r: Promise<unknown>) => void = () => {};
  const result = new Promise<unknown>((r) => (reported = r));
  const server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    if (url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else if (url === '/containers') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([...containers.keys()]));
    } else if (url.startsWith('/container/')) {
      const c = containers.get(url.slice('/container/'.length));
      if (c) res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(c);
      else res.writeHead(404).end();
    } else if (url === '/result' && req.method === 'POST') {
      reported(postedJson(req, res));
    } else if (!(await serveBuiltScript(ROOT, url, res))) {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const r = (await inChromium(chromium, `http://127.0.0.1:${port}/`, result)) as { ok: boolean; error?: string; kernels: boolean; results: { name: string; threads: number; bytes: number; sha256: string }[] };
    assert.ok(r.ok, r.error);
    assert.ok(r.kernels, 'the WebAssembly SIMD kernels load in Chromium');
    assert.equal(r.results.length, containers.size * 2);
    for (const x of r.results) {
      const original = inputs.get(x.name.replace(/\.huffman$/, ''))!;
      assert.equal(x.bytes, original.length, `${x.name} threads ${x.threads}: length`);
      assert.equal(x.sha256, createHash('sha256').update(original).digest('hex'), `${x.name} threads ${x.threads}: bytes differ`);
    }
  } finally {
    server.close();
  }
});
