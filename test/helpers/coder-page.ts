// The harness of the browser tests in which a page decodes containers made by Node and codes a stream with a model's
// WebAssembly kernel and its TypeScript reference (test/browser/byte-model-page.test.ts, tensor-model-page.test.ts):
// the page, the server it talks to, and the checks of what it reports.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inChromium, postedJson, serveBuiltScript } from './chromium.js';

/** What such a page posts to /result. */
export interface CoderPageReport {
  ok: boolean;
  error?: string;
  kernels: boolean;
  results: { name: string; engine: string; bytes: number; sha256: string }[];
  streams: { wasm: string; ts: string };
}

/**
 * The page runCoderPage serves: it loads the built package's kernels, decodes every container on both engines, then
 * runs `streamCode` (statements after the module imports `imports`; `kernels` and `hex`, the SHA-256 of bytes as hex,
 * are in scope) which must define `streams`, { wasm, ts }, and posts the report (or the error) to /result.
 */
export function coderPage(title: string, imports: string, streamCode: string): string {
  return `<!doctype html><meta charset="utf-8"><title>${title}</title><script type="module">
import { decompressBuffer } from '/dist/src/index.js';
import { loadKernels } from '/dist/src/wasm/kernels.js';
${imports}
const hex = async (b) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', b))].map((x) => x.toString(16).padStart(2, '0')).join('');
const report = (r) => fetch('/result', { method: 'POST', body: JSON.stringify(r) });
try {
  const kernels = await loadKernels();
  const names = await (await fetch('/containers')).json();
  const results = [];
  for (const name of names) {
    const container = new Uint8Array(await (await fetch('/container/' + name)).arrayBuffer());
    for (const engine of ['wasm', 'ts']) {
      const out = await decompressBuffer(container, { engine, threads: 1 });
      results.push({ name, engine, bytes: out.length, sha256: await hex(out) });
    }
  }
${streamCode}
  await report({ ok: true, results, streams, kernels: kernels !== undefined });
} catch (e) {
  await report({ ok: false, error: String(e && e.stack || e) });
}
</script>`;
}

/**
 * Serves `page` at /, the names of `containers` at /containers and each one's bytes at /container/NAME, each of `files`
 * at its own path, and the built package's scripts under /dist/ (of `root`); opens the page in headless Chromium and
 * returns what it posts to /result.
 */
export async function runCoderPage(chromium: string, root: string, page: string, containers: Map<string, Uint8Array>, files: Record<string, Uint8Array>): Promise<CoderPageReport> {
  let reported: (r: Promise<unknown>) => void = () => {};
  const result = new Promise<unknown>((r) => (reported = r));
  const server = createServer(async (req, res) => {
    const url = req.url ?? '/';
    const octets = (b: Uint8Array): void => void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(b);
    if (url === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(page);
    else if (url === '/containers') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([...containers.keys()]));
    else if (url.startsWith('/container/')) {
      const c = containers.get(decodeURIComponent(url.slice('/container/'.length)));
      if (c) octets(c);
      else res.writeHead(404).end();
    } else if (Object.hasOwn(files, url)) octets(files[url]);
    else if (url === '/result' && req.method === 'POST') reported(postedJson(req, res));
    else if (!(await serveBuiltScript(root, url, res))) res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    return (await inChromium(chromium, `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, result)) as CoderPageReport;
  } finally {
    server.close();
  }
}

/**
 * Checks a page's report: no error, the WebAssembly kernels loaded, every container decoded on both engines to its
 * original (`inputs`, by name: length and SHA-256), and both engines' streams with the SHA-256 `nodeStream` of Node's.
 */
export function assertCoderPageReport(r: CoderPageReport, inputs: Map<string, Uint8Array>, nodeStream: string): void {
  assert.ok(r.ok, r.error);
  assert.ok(r.kernels, 'the WebAssembly SIMD kernels load in Chromium');
  assert.equal(r.results.length, inputs.size * 2);
  const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  for (const x of r.results) {
    const original = inputs.get(x.name)!;
    assert.equal(x.bytes, original.length, `${x.name} on ${x.engine}: length`);
    assert.equal(x.sha256, sha(original), `${x.name} on ${x.engine}: bytes differ`);
  }
  assert.equal(r.streams.wasm, nodeStream, 'the WebAssembly kernel in Chromium codes the same stream as Node');
  assert.equal(r.streams.ts, nodeStream, 'the TypeScript reference in Chromium codes the same stream as Node');
}
