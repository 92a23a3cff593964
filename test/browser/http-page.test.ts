// The built package in headless Chromium reading a container over HTTP: the page opens it by a relative URL with
// openCheckpoint (range requests through the browser's fetch, pinned by If-Match), lists it, reads one tensor and
// loads the whole model, then opens the same bytes as a Blob and as a File; it posts back the SHA-256 of every tensor,
// which must be the original's, and marks its steps so that the requests of each can be counted by the local range
// server (test/helpers/range-server.ts). Skipped (with the reason) where no Chromium is installed.

import '../../src/io/node-sha256.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressBuffer } from '../../src/api/buffers.js';
import { buildSafetensors } from '../helpers/safetensors-builder.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { makeValues } from '../helpers/values.js';
import { BROWSER_TIMEOUT_MS, findChromium, inChromium, postedJson, serveBuiltScript } from '../helpers/chromium.js';
import { RangeServer } from '../helpers/range-server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const PAGE = `<!doctype html><meta charset="utf-8"><title>wcodec HTTP test</title><script type="module">
import { openCheckpoint } from '/dist/src/index.js';
const hex = (b) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, '0')).join('');
const sha = async (bytes) => hex(await crypto.subtle.digest('SHA-256', bytes));
const mark = (label) => fetch('/mark/' + label);
const report = (r) => fetch('/result', { method: 'POST', body: JSON.stringify(r) });
try {
  await mark('start');
  const ckpt = await openCheckpoint('model.wcodec');
  await mark('listed');
  const one = await ckpt.read('big');
  await mark('tensor');
  const events = [];
  const all = await ckpt.load({ onProgress: (p) => events.push(p.loadedBytes) });
  await mark('loaded');
  const monotonic = events.every((x, k) => k === 0 || x >= events[k - 1]);
  const total = ckpt.tensors.reduce((a, t) => a + t.compressedBytes, 0);
  const http = { one: await sha(one.bytes), all: Object.fromEntries(await Promise.all(all.map(async (t) => [t.info.name, await sha(t.bytes)]))) };
  await ckpt.close();
  const blob = await (await fetch('model.wcodec')).blob();
  const others = {};
  for (const [kind, input] of [['blob', blob], ['file', new File([blob], 'model.wcodec')]]) {
    const c = await openCheckpoint(input);
    others[kind] = Object.fromEntries(await Promise.all((await c.load()).map(async (t) => [t.info.name, await sha(t.bytes)])));
  }
  await report({ ok: true, http, others, progress: { monotonic, last: events[events.length - 1], total } });
} catch (e) {
  await report({ ok: false, error: String(e && e.stack || e) });
}
</script>`;

test('browser: headless Chromium opens a container by URL (range requests), a Blob and a File, with the original bytes', { timeout: BROWSER_TIMEOUT_MS + 30_000 }, async (t) => {
  const chromium = findChromium();
  if (!chromium) {
    t.skip('no chromium on PATH (apt-get install -y chromium)');
    return;
  }
  const rng = new Rng(testSeed(73));
  const inputs = [['big', 'BF16', 2_000_001], ['small', 'F32', 1000], ['mid', 'F16', 300_000]].map(([name, dtype, n]) => ({
    name: name as string, dtype: dtype as string, shape: [n as number], data: makeValues(dtype as string, n as number, 'gaussian', rng),
  }));
  const container = await compressBuffer(buildSafetensors(inputs).bytes);
  const server = await RangeServer.start();
  server.put('/model.wcodec', container);
  const marks = new Map<string, number>();
  let reported: (r: Promise<unknown>) => void = () => {};
  const result = new Promise<unknown>((r) => (reported = r));
  server.fallback = async (req, res) => {
    const url = req.url ?? '/';
    if (url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else if (url.startsWith('/mark/')) {
      marks.set(url.slice(6), server.log.filter((r) => r.path === '/model.wcodec').length);
      res.writeHead(204).end();
    } else if (url === '/result' && req.method === 'POST') {
      reported(postedJson(req, res));
    } else if (!(await serveBuiltScript(ROOT, url, res))) {
      res.writeHead(404).end();
    }
  };
  try {
    const r = (await inChromium(chromium, `${server.origin}/`, result)) as { ok: boolean; error?: string; http: { one: string; all: Record<string, string> }; others: Record<string, Record<string, string>>; progress: { monotonic: boolean; last: number; total: number } };
    assert.ok(r.ok, r.error);
    const want = Object.fromEntries(inputs.map((i) => [i.name, createHash('sha256').update(i.data).digest('hex')]));
    assert.equal(r.http.one, want.big);
    assert.deepEqual(r.http.all, want);
    assert.deepEqual(r.others.blob, want);
    assert.deepEqual(r.others.file, want);
    assert.ok(r.progress.monotonic);
    assert.equal(r.progress.last, r.progress.total);
    // Requests: two to list; one for the tensor (its chunks in one range); the model in ranges of up to 8 MiB.
    assert.equal(marks.get('listed')! - marks.get('start')!, 2);
    assert.equal(marks.get('tensor')! - marks.get('listed')!, 1);
    assert.ok(marks.get('loaded')! - marks.get('tensor')! <= 2, `${marks.get('loaded')! - marks.get('tensor')!} requests for the whole model`);
    // The source's own requests (the page's plain fetch for the Blob comes after 'loaded', and the browser's cache may
    // answer it with a range request of its own).
    const ours = server.log.filter((x) => x.path === '/model.wcodec').slice(marks.get('start'), marks.get('loaded'));
    assert.ok(ours.slice(2).every((x) => x.headers['if-match'] !== undefined), JSON.stringify(ours.map((x) => [x.headers.range, x.headers['if-match'], x.status])));
  } finally {
    await server.close();
  }
});
