// The built package in headless Chromium reading a container over HTTP: the page opens it by a relative URL with
// openCheckpoint (range requests through the browser's fetch, pinned by If-Match), lists it, reads one tensor and
// loads the whole model, then opens the same bytes as a Blob and as a File; it posts back the SHA-256 of every tensor,
// which must be the original's, and marks its steps so that the requests of each can be counted by the local range
// server (test/helpers/range-server.ts). Then it stops a load of a second container at 10 % and continues it, while
// the server corrupts one range of it once: the chunk is rejected, fetched again on its own, and every tensor comes
// back exact. Skipped (with the reason) where no Chromium is installed.

import '../../src/io/node-sha256.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressBuffer } from '../../src/api/buffers.js';
import { openContainer, segmentRanges } from '../../src/api/checkpoint.js';
import { MemorySource } from '../../src/io/byte-source.js';
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
  // An interrupted load of another container (one 1 MiB request at a time), stopped at 10 %, then continued; the server
  // corrupts one range of it once.
  const r = await openCheckpoint('resume.wcodec', { maxRangeBytes: 1 << 20, maxInFlight: 1 });
  const rTotal = r.tensors.reduce((a, t) => a + t.compressedBytes, 0);
  const controller = new AbortController();
  let stoppedAt = 0;
  let firstCode;
  try {
    await r.load({ signal: controller.signal, onProgress: (p) => { stoppedAt = p.loadedBytes; if (p.loadedBytes > rTotal * 0.1) controller.abort(); } });
  } catch (e) {
    firstCode = e.code;
  }
  const resumedAt = [];
  const resumed = Object.fromEntries(await Promise.all((await r.load({ onProgress: (p) => resumedAt.push(p.loadedBytes) })).map(async (t) => [t.info.name, await sha(t.bytes)])));
  await r.close();
  const resume = { firstCode, stoppedAt, total: rTotal, firstResumed: resumedAt[0], last: resumedAt[resumedAt.length - 1], resumed };
  await report({ ok: true, http, others, resume, progress: { monotonic, last: events[events.length - 1], total } });
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
  // The container the page stops and continues: a byte in the middle of a chunk near the end of its last tensor is served
  // corrupted once (past the point where the first attempt stops, and past what it fetched ahead).
  const resumeInputs = [0, 1, 2, 3].map((k) => ({ name: `layer.${k}.w`, dtype: 'BF16', shape: [1_000_000], data: makeValues('BF16', 1_000_000, 'gaussian', rng) }));
  const resumeContainer = await compressBuffer(buildSafetensors(resumeInputs).bytes);
  server.put('/resume.wcodec', resumeContainer);
  const local = await openContainer(new MemorySource(resumeContainer, 'resume.wcodec'));
  const chunks = segmentRanges(local.segmentOf(local.tensors.find((t) => t.name === 'layer.3.w')!), local.reader.index);
  const victim = chunks[chunks.length - 2];
  const at = victim.offset + (victim.length >> 1);
  server.faults.push({ kind: 'corrupt', at, when: (r) => r.path === '/resume.wcodec' && r.start !== undefined && r.start <= at && at < r.end! });
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
    const r = (await inChromium(chromium, `${server.origin}/`, result)) as { ok: boolean; error?: string; http: { one: string; all: Record<string, string> }; others: Record<string, Record<string, string>>; resume: { firstCode?: string; stoppedAt: number; total: number; firstResumed: number; last: number; resumed: Record<string, string> }; progress: { monotonic: boolean; last: number; total: number } };
    assert.ok(r.ok, r.error);
    const want = Object.fromEntries(inputs.map((i) => [i.name, createHash('sha256').update(i.data).digest('hex')]));
    assert.equal(r.http.one, want.big);
    assert.deepEqual(r.http.all, want);
    assert.deepEqual(r.others.blob, want);
    assert.deepEqual(r.others.file, want);
    assert.ok(r.progress.monotonic);
    // Stopped with ABORTED, continued from where it stopped, every tensor exact; the corrupted range was served, and the
    // chunk holding it fetched again on its own.
    const wantResume = Object.fromEntries(resumeInputs.map((i) => [i.name, createHash('sha256').update(i.data).digest('hex')]));
    assert.equal(r.resume.firstCode, 'ABORTED');
    assert.ok(r.resume.stoppedAt < r.resume.total);
    assert.ok(r.resume.firstResumed > r.resume.stoppedAt, `resumed at ${r.resume.firstResumed}, stopped at ${r.resume.stoppedAt}`);
    assert.equal(r.resume.last, r.resume.total);
    assert.deepEqual(r.resume.resumed, wantResume);
    assert.equal(server.faults.length, 0, 'the corrupted range was served');
    assert.ok(server.log.some((x) => x.path === '/resume.wcodec' && x.start === victim.offset && x.end === victim.offset + victim.length), `the failed chunk was fetched again: victim ${victim.offset}+${victim.length}, requests ${JSON.stringify(server.log.filter((x) => x.path === '/resume.wcodec').map((x) => [x.start, x.end, x.status]))}`);
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
