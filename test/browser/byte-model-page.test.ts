// The byte model (FORMAT.md §5.5) in a real browser: headless Chromium loads the built package and decodes version 8
// containers made here by Node (a tokenizer-like JSON file, a safetensors file with a primed header, a U8 tensor with
// repeats) on the WebAssembly kernel and on the TypeScript reference, and codes a byte string with both; the SHA-256
// of every decoded output and every stream must equal Node's. Skipped (with the reason) where no Chromium is installed.

import '../../src/io/node-sha256.js';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressBuffer } from '../../src/api/buffers.js';
import { encodeByteModel } from '../../src/entropy/byte-model.js';
import { buildSafetensors } from '../helpers/safetensors-builder.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { BROWSER_TIMEOUT_MS, findChromium } from '../helpers/chromium.js';
import { assertCoderPageReport, coderPage, runCoderPage } from '../helpers/coder-page.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const PAGE = coderPage(
  'wcodec byte model',
  "import { encodeByteModel } from '/dist/src/wasm/wasm-byte-model.js';",
  `  const text = new Uint8Array(await (await fetch('/text')).arrayBuffer());
  const streams = { wasm: await hex(encodeByteModel(kernels, text)), ts: await hex(encodeByteModel(undefined, text)) };`,
);

test('browser: headless Chromium decodes version 8 byte-model containers and codes byte-model streams as Node does', { timeout: BROWSER_TIMEOUT_MS + 30_000 }, async (t) => {
  const chromium = findChromium();
  if (!chromium) {
    t.skip('no chromium on PATH (apt-get install -y chromium)');
    return;
  }
  const rng = new Rng(testSeed(84));
  const vocab: Record<string, number> = {};
  for (let i = 0; i < 2000; i++) vocab[`\u2581p${(i * 7919) % 4001}${String.fromCharCode(97 + (i % 26))}`] = i;
  const text = new TextEncoder().encode(JSON.stringify({ model: { type: 'BPE', vocab } }, null, 2));
  const u8 = new Uint8Array(30_000);
  for (let i = 0; i < u8.length; i++) u8[i] = i % 3000 < 1500 ? 120 + rng.int(17) : u8[i - 1500];
  const model = buildSafetensors(
    Array.from({ length: 40 }, (_, k) => ({ name: `layers.${k >> 2}.w${k & 3}`, dtype: 'F32', shape: [3, 2 + (k % 3)], data: new Uint8Array(12 * (2 + (k % 3))).map(() => rng.int(256)) })),
    { metadata: { format: 'pt' } },
  ).bytes;
  const quantized = buildSafetensors([{ name: 'q', dtype: 'U8', shape: [u8.length], data: u8 }]).bytes;
  const inputs = new Map<string, Uint8Array>([['tokenizer.json', text], ['model.safetensors', model], ['quantized.safetensors', quantized]]);
  const containers = new Map<string, Uint8Array>();
  for (const [name, bytes] of inputs) containers.set(name, await compressBuffer(bytes, { name, formatVersion: 8 }));

  const r = await runCoderPage(chromium, ROOT, PAGE, containers, { '/text': text });
  assertCoderPageReport(r, inputs, createHash('sha256').update(encodeByteModel(text)).digest('hex'));
});
