// The tensor model (FORMAT.md §5.6) in a real browser: headless Chromium loads the built package and decodes version 10
// containers made here by Node (BF16, F32 and F16 matrices at `level: 'max'`) on the WebAssembly kernel and on the
// TypeScript reference, and codes a tensor's plane symbols with both; the SHA-256 of every decoded output and every
// stream must equal Node's. Skipped (with the reason) where no Chromium is installed.

import '../../src/io/node-sha256.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressBuffer } from '../../src/api/buffers.js';
import { ContainerReader } from '../../src/pipeline/container-reader.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { encodeTensorModel } from '../../src/entropy/tensor-model.js';
import { tensorModelShape } from '../../src/entropy/chunk-codec.js';
import { buildSafetensors } from '../helpers/safetensors-builder.js';
import { makeValues } from '../helpers/values.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { BROWSER_TIMEOUT_MS, findChromium } from '../helpers/chromium.js';
import { assertCoderPageReport, coderPage, runCoderPage } from '../helpers/coder-page.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
/** The plane layout of a BF16 tensor at level max, and the row length, as the page uses them. */
const LAYOUT = { valueBytes: 2, planes: [{ kind: 'head' as const, ranges: [{ lo: 7, width: 8 }] }, { kind: 'head' as const, ranges: [{ lo: 15, width: 1 }, { lo: 0, width: 7 }] }] };
const ROW = 48;
const PAGE = coderPage(
  'wcodec tensor model',
  "import { encodeTensorModel } from '/dist/src/wasm/wasm-tensor-model.js';\nimport { tensorModelShape } from '/dist/src/entropy/chunk-codec.js';",
  `  const syms = new Uint8Array(await (await fetch('/symbols')).arrayBuffer());
  const shape = tensorModelShape(${JSON.stringify(LAYOUT)}, ${ROW});
  const n = syms.length / 2;
  const streams = { wasm: await hex(encodeTensorModel(kernels, syms, n, shape)), ts: await hex(encodeTensorModel(undefined, syms, n, shape)) };`,
);

test('browser: headless Chromium decodes version 10 tensor-model containers and codes tensor-model streams as Node does', { timeout: BROWSER_TIMEOUT_MS + 30_000 }, async (t) => {
  const chromium = findChromium();
  if (!chromium) {
    t.skip('no chromium on PATH (apt-get install -y chromium)');
    return;
  }
  const rng = new Rng(testSeed(104));
  const model = buildSafetensors([
    { name: 'bf16.weight', dtype: 'BF16', shape: [64, ROW], data: makeValues('BF16', 64 * ROW, 'gaussian', rng) },
    { name: 'f32.weight', dtype: 'F32', shape: [32, 64], data: makeValues('F32', 32 * 64, 'gaussian', rng) },
    { name: 'f16.weight', dtype: 'F16', shape: [40, 40], data: makeValues('F16', 1600, 'gaussian', rng) },
  ]).bytes;
  const inputs = new Map<string, Uint8Array>([['model.safetensors', model]]);
  const containers = new Map<string, Uint8Array>();
  for (const [name, bytes] of inputs) containers.set(name, await compressBuffer(bytes, { name, level: 'max', chunkBytes: 2048 }));
  const ix = (await ContainerReader.open(new MemorySource(containers.get('model.safetensors')!))).index;
  assert.ok(ix.members[0].segments.some((s) => s.coding.tensorModel && s.chunks.length > 1), 'a tensor-model segment of several chunks');
  const symbols = new Uint8Array(2 * 3000);
  for (let i = 0; i < 3000; i++) {
    symbols[2 * i] = 118 + Math.min(10, Math.floor(Math.abs(rng.gaussian()) * 3));
    symbols[2 * i + 1] = rng.int(256);
  }

  const r = await runCoderPage(chromium, ROOT, PAGE, containers, { '/symbols': symbols });
  assertCoderPageReport(r, inputs, createHash('sha256').update(encodeTensorModel(symbols, 3000, tensorModelShape(LAYOUT, ROW))).digest('hex'));
});
