// onnxruntime-web in headless Chromium loads a model served only as `model.onnx.wcodec`, through wcodecFetch from the
// browser bundle (dist/browser/wcodec.js), and gives the outputs the original model gives in Node, bit for bit (the
// same WebAssembly runtime, one thread). Skipped (with the reason) where no Chromium is installed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { compressBuffer } from '../../src/api/buffers.js';
import { BROWSER_TIMEOUT_MS, findChromium, inChromium, postedJson, serveFolder } from '../helpers/chromium.js';
import { RangeServer } from '../helpers/range-server.js';
import { onnxMlp } from '../helpers/onnx-mlp.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const ORT_DIST = join(ROOT, 'node_modules/onnxruntime-web/dist');
const BUNDLE = join(ROOT, 'dist/browser');
const INPUT = Array.from({ length: 64 }, (_, i) => (i % 9) / 8 - 0.5);
const PAGE = `<!doctype html><meta charset="utf-8"><title>onnxruntime-web with wcodecFetch</title><script type="module">
import * as ort from '/ort/ort.wasm.min.mjs';
import { wcodecFetch } from '/lib/wcodec.js';
const post = (r) => fetch('/result', { method: 'POST', body: JSON.stringify(r) });
try {
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = 1;
  const bytes = new Uint8Array(await (await wcodecFetch()('/models/model.onnx')).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes);
  const x = new ort.Tensor('float32', Float32Array.from(${JSON.stringify(INPUT)}), [1, 64]);
  const y = (await session.run({ x })).y.data;
  await post({ ok: true, bytes: bytes.length, y: Array.from(y) });
} catch (e) {
  await post({ ok: false, error: String(e && e.stack || e) });
}
</script>`;

test('browser: onnxruntime-web runs a model served as model.onnx.wcodec through wcodecFetch, with the outputs of Node\'s run of the original', { timeout: BROWSER_TIMEOUT_MS + 30_000 }, async (t) => {
  const chromium = findChromium();
  if (!chromium) return t.skip('no chromium on PATH (apt-get install -y chromium)');
  const model = onnxMlp(64, 96, 10, 11);
  ort.env.wasm.numThreads = 1;
  const want = (await (await ort.InferenceSession.create(model)).run({ x: new ort.Tensor('float32', Float32Array.from(INPUT), [1, 64]) })).y.data as Float32Array;
  const server = await RangeServer.start();
  let reported: (r: Promise<unknown>) => void = () => {};
  const result = new Promise<unknown>((r) => (reported = r));
  server.put('/models/model.onnx.wcodec', await compressBuffer(model, { name: 'model.onnx' }));
  const others: string[] = [];
  server.fallback = async (req, res) => {
    const url = (req.url ?? '/').split('?')[0]!;
    others.push(url);
    if (url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    else if (url === '/result' && req.method === 'POST') reported(postedJson(req, res));
    else if (!(await serveFolder('/ort/', ORT_DIST, url, res)) && !(await serveFolder('/lib/', BUNDLE, url, res))) res.writeHead(404).end();
  };
  try {
    const r = (await inChromium(chromium, `${server.origin}/`, result)) as { ok: boolean; error?: string; bytes: number; y: number[] };
    assert.ok(r.ok, r.error);
    assert.equal(r.bytes, model.length);
    assert.deepEqual(r.y, [...want]);
    // The model came from its container: fetched from the server's files, and no request asked for the original.
    assert.ok(server.log.some((x) => x.path === '/models/model.onnx.wcodec' && x.status === 200), 'the container was fetched');
    assert.ok(!others.includes('/models/model.onnx'), 'no request for the original');
  } finally {
    await server.close();
  }
});
