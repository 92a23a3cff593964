// The demo page (examples/demo, `npm run demo`) in headless Chromium against its own server, started in-process with a
// models folder of the test's: the page opens the demo container by URL, loads it with progress and reports what its
// DOM shows (state, figures, every tensor's SHA-256 computed with crypto.subtle); that must be the original file's
// tensors, read in a few range requests. A multi-chunk container loaded with threads=2 must start the bundle's Web
// Worker (dist/browser/worker-web.js) and give the same bytes; where Chromium gives a WebGPU adapter, the page's GPU
// action decodes the demo container. Skipped (with the reason) where no Chromium is installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressBuffer } from '../../src/api/buffers.js';
import { openCheckpoint } from '../../src/node.js';
import { DEMO_MODEL, DEMO_SOURCE, startDemo } from '../../examples/demo/serve.js';
import { buildSafetensors } from '../helpers/safetensors-builder.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { makeValues } from '../helpers/values.js';
import { BROWSER_TIMEOUT_MS, WEBGPU_FLAGS, findChromium, inChromium, postedJson } from '../helpers/chromium.js';

/** What the page posts: its finished state read back from the DOM (domReport in examples/demo/demo.js). */
interface PageReport {
  state: string;
  status: string;
  error?: { code: string; text: string };
  overall: { value: number; max: number; text: string };
  summary: Record<string, { text: string } & Record<string, string>>;
  tensors: { name: string; sha256?: string; progress: number; check: string }[];
}

/** name -> SHA-256 of each tensor's bytes in a safetensors file, and their total bytes. */
function safetensorsDigests(file: Uint8Array): { sha: Record<string, string>; bytes: number } {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
  const sha: Record<string, string> = {};
  let bytes = 0;
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = t.data_offsets;
    sha[name] = createHash('sha256').update(file.subarray(8 + n + a, 8 + n + b)).digest('hex');
    bytes += b - a;
  }
  return { sha, bytes };
}

test('browser: the demo page loads the demo container by URL in a few range requests, every tensor as the original', { timeout: 3 * BROWSER_TIMEOUT_MS + 60_000 }, async (t) => {
  const chromium = findChromium();
  if (!chromium) return t.skip('no chromium on PATH (apt-get install -y chromium)');
  const models = await mkdtemp(join(tmpdir(), 'wcodec-demo-'));
  const requests: string[] = [];
  let reported: (r: Promise<unknown>) => void = () => {};
  const demo = await startDemo({
    models,
    handle: (req, res) => {
      const path = (req.url ?? '/').split('?')[0]!;
      requests.push(path);
      if (path !== '/result' || req.method !== 'POST') return false;
      reported(postedJson(req, res));
      return true;
    },
  });
  /** Opens the page on `src` with `load=1`; what it reports, and the requests the server saw meanwhile. */
  const visit = async (src: string, extra = '', flags?: string[]): Promise<{ report: PageReport; seen: string[] }> => {
    requests.length = 0;
    const result = new Promise<unknown>((r) => (reported = r));
    const report = (await inChromium(chromium, `${demo.origin}/?src=${encodeURIComponent(src)}&load=1&report=/result${extra}`, result, flags)) as PageReport;
    return { report, seen: [...requests] };
  };
  try {
    await t.test('the demo container: listing, figures, progress, SHA-256 of every tensor, requests', async (t) => {
      const original = safetensorsDigests(new Uint8Array(await readFile(DEMO_SOURCE)));
      const ckpt = await openCheckpoint(join(models, DEMO_MODEL));
      const count = ckpt.tensors.length;
      await ckpt.close();
      const { report: r, seen } = await visit(demo.modelPath);
      for (const [id, v] of Object.entries(r.summary)) t.diagnostic(`${id}: ${v.text}`);
      assert.equal(r.error, undefined, r.error?.text);
      assert.equal(r.state, 'done', r.status);
      assert.equal(Number(r.summary['sum-tensors']!.count), count);
      assert.equal(r.tensors.length, count);
      assert.equal(Number(r.summary['sum-decoded']!.bytes), original.bytes);
      assert.deepEqual(Object.fromEntries(r.tensors.map((x) => [x.name, x.sha256])), original.sha);
      assert.ok(r.tensors.every((x) => x.progress === 1 && x.check.startsWith('✓')), JSON.stringify(r.tensors.filter((x) => x.progress !== 1 || !x.check.startsWith('✓'))));
      assert.equal(r.summary['sum-sha']!.good, String(count));
      assert.equal(r.overall.value, r.overall.max);
      assert.equal(r.overall.text, '100 %');
      assert.match(r.summary['sum-speed']!.text, /^[\d.]+ MB\/s of original bytes/);
      assert.match(r.summary['sum-saved']!.text, /ratio \d+\.\d{3}$/);
      // Requests: two to list, then the data region (under 8 MiB) in one; the server saw exactly those the page counted.
      const listing = Number(r.summary['sum-requests']!.listing);
      const total = Number(r.summary['sum-requests']!.total);
      assert.ok(listing <= 2, `${listing} requests to list`);
      assert.ok(total <= 4, `${total} requests for the whole model`);
      assert.equal(seen.filter((p) => p === demo.modelPath).length, total);
      assert.ok(seen.includes('/lib/wcodec.js'), 'the page loaded the browser bundle');
      assert.ok(r.summary['gpu-status']!.text.length > 1, 'a line on WebGPU');
    });

    await t.test('threads=2: a multi-chunk container decodes with the bundle\'s Web Worker, the same bytes', async () => {
      const rng = new Rng(testSeed(907));
      const inputs = [['big', 'BF16', 1_000_003], ['f32', 'F32', 200_001], ['tiny', 'F16', 5]].map(([name, dtype, n]) => ({
        name: name as string, dtype: dtype as string, shape: [n as number], data: makeValues(dtype as string, n as number, 'gaussian', rng),
      }));
      const file = buildSafetensors(inputs).bytes;
      await writeFile(join(models, 'threads.wcodec'), await compressBuffer(file));
      const { report: r, seen } = await visit('/models/threads.wcodec', '&threads=2');
      assert.equal(r.error, undefined, r.error?.text);
      assert.equal(r.state, 'done', r.status);
      assert.deepEqual(Object.fromEntries(r.tensors.map((x) => [x.name, x.sha256])), safetensorsDigests(file).sha);
      assert.ok(seen.includes('/lib/worker-web.js'), `the pool started its worker from the bundle's folder: ${JSON.stringify(seen)}`);
    });

    await t.test('gpu=1: the demo container decoded to the GPU where Chromium gives a WebGPU adapter', async (t) => {
      const { report: r } = await visit(demo.modelPath, '&gpu=1', WEBGPU_FLAGS);
      assert.equal(r.error, undefined, r.error?.text);
      const line = r.summary['gpu-status']!.text;
      if (line.startsWith('WebGPU is not available')) return t.skip(line);
      t.diagnostic(line);
      assert.equal(r.state, 'done', r.status);
      assert.match(line, new RegExp(`^decoded ${r.tensors.length} tensors on .* in [\\d.]+ ms: [\\d.]+ MB/s of original bytes$`));
    });
  } finally {
    await demo.close();
    await rm(models, { recursive: true, force: true });
  }
});
