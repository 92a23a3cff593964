// The GPU decode page (examples/browser-gpu) in headless Chromium: WebGPU through Chromium's own adapter
// (SwiftShader on machines without a GPU), every tensor of a generated multi-dtype container decoded into GPU
// buffers with its SHA-256 checked on the read-back bytes, per-tensor timings reported. Skipped (with the
// reason) where no Chromium is installed, or where the browser exposes no WebGPU adapter.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { compressBuffer } from '../../src/api/buffers.js';
import { REPO_ROOT, servePage } from '../../examples/browser-gpu/serve.js';
import { buildSafetensors } from '../helpers/safetensors-builder.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { makeValues } from '../helpers/values.js';
import { BROWSER_TIMEOUT_MS, findChromium } from '../helpers/chromium.js';

interface PageReport {
  ok: boolean;
  error?: string;
  backend?: string;
  reason?: string;
  tensors?: { name: string; ms: number; backend: string; sha256Checked: boolean }[];
}

test('browser: the GPU page decodes every tensor on WebGPU, digests checked, timings shown', { timeout: BROWSER_TIMEOUT_MS + 30_000 }, async (t) => {
  const chromium = findChromium();
  if (!chromium) return t.skip('no chromium on PATH (apt-get install -y chromium)');
  const rng = new Rng(testSeed(611));
  const file = buildSafetensors(
    [['BF16', 70001], ['F32', 30001], ['F16', 1025], ['U8', 7], ['F64', 33]].map(([dtype, n], k) => ({
      name: `t${k}`, dtype: dtype as string, shape: [n as number], data: makeValues(dtype as string, n as number, 'gaussian', rng),
    })),
  ).bytes;
  const container = await compressBuffer(file);
  let resolve: (r: PageReport) => void = () => {};
  const result = new Promise<PageReport>((r) => (resolve = r));
  const server = await servePage(normalize(REPO_ROOT), 0, async (url, body) => {
    if (url === '/container') return { type: 'application/octet-stream', body: container };
    if (url === '/result') {
      resolve(JSON.parse(body.toString('utf8')) as PageReport);
      return { type: 'text/plain', body: 'ok' };
    }
    return undefined;
  });
  const { port } = server.address() as AddressInfo;
  const profile = await mkdtemp(join(tmpdir(), 'wcodec-chromium-'));
  const browser = spawn(chromium, [
    '--headless=new', '--no-sandbox', '--disable-gpu-sandbox', `--user-data-dir=${profile}`,
    '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--ignore-gpu-blocklist',
    `http://127.0.0.1:${port}/examples/browser-gpu/index.html?src=/container&report=/result`,
  ], { stdio: 'ignore' });
  try {
    const timeout = new Promise<PageReport>((_, reject) => setTimeout(() => reject(new Error('the page did not report in time')), BROWSER_TIMEOUT_MS).unref());
    const report = await Promise.race([result, timeout]);
    assert.ok(report.ok, report.error);
    if (report.backend !== 'gpu') return t.skip(`Chromium exposes no WebGPU adapter here: ${report.reason}`);
    assert.equal(report.tensors?.length, 5);
    for (const row of report.tensors ?? []) {
      assert.equal(row.backend, 'gpu', row.name);
      assert.ok(row.sha256Checked && row.ms > 0, row.name);
    }
  } finally {
    const exited = new Promise((r) => browser.once('exit', r));
    browser.kill();
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
    server.close();
    await rm(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
});
