// The perplexity evaluator (src/eval/): its WebAssembly forward pass against a plain float64 one on small random
// Llama models (grouped-query attention, odd sizes, tied embeddings, BF16 and F16 shards), the window rules, loading
// from folders, files and .wcodec containers, and the refusal of configs it does not implement.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLlama } from '../src/eval/load-llama.js';
import { packModel } from '../src/eval/packed-model.js';
import { WindowForward } from '../src/eval/window-forward.js';
import { evaluatePerplexity } from '../src/eval/perplexity.js';
import { llamaTensorShapes, parseLlamaConfig } from '../src/eval/llama-config.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { compressFile } from '../src/node/file-api.js';
import { WcodecError } from '../src/errors.js';
import { referenceLogits, referenceWindowLoss, tinyConfig, writeTinyLlama } from './helpers/tiny-llama.js';
import { Rng, testSeed } from './helpers/prng.js';

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-eval-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Text whose bytes the tiny models see: random bytes. */
function randomText(n: number, seed: number): Uint8Array {
  return new Rng(seed).bytes(n);
}

/** Largest |a − b| / (1 + |b|) over the logits of a window. */
function logitError(got: Float32Array, want: Float64Array[], V: number): number {
  let worst = 0;
  want.forEach((row, t) => row.forEach((w, v) => (worst = Math.max(worst, Math.abs(got[t * V + v] - w) / (1 + Math.abs(w))))));
  return worst;
}

const MODELS: { name: string; config: Record<string, unknown>; dtype: 'F32' | 'BF16' | 'F16'; shards: number; window: number }[] = [
  { name: 'GQA 4 heads on 2, hidden 32', config: tinyConfig(), dtype: 'F32', shards: 1, window: 16 },
  {
    name: 'odd sizes: hidden 30, 3 heads of 10 on 1, intermediate 37, window 13',
    config: tinyConfig({ hidden_size: 30, num_attention_heads: 3, num_key_value_heads: 1, head_dim: 10, intermediate_size: 37 }),
    dtype: 'F32',
    shards: 1,
    window: 13,
  },
  {
    name: 'tied embeddings, BF16, 2 shards, no head_dim (hidden / heads), rope_theta at top level',
    config: (() => {
      const c = tinyConfig({ hidden_size: 24, num_attention_heads: 2, num_key_value_heads: 2, intermediate_size: 40, tie_word_embeddings: true, rope_theta: 500.0, num_hidden_layers: 3 });
      delete c.head_dim;
      delete c.rope_parameters;
      return c;
    })(),
    dtype: 'BF16',
    shards: 2,
    window: 21,
  },
  { name: 'F16, one layer, 8 heads on 4, window 40', config: tinyConfig({ hidden_size: 64, num_attention_heads: 8, num_key_value_heads: 4, intermediate_size: 20, num_hidden_layers: 1 }), dtype: 'F16', shards: 1, window: 40 },
];

for (const [i, m] of MODELS.entries()) {
  test(`forward pass equals a float64 reference: ${m.name}`, async () => {
    await withDir(async (dir) => {
      const seed = testSeed(1000 + i);
      const written = await writeTinyLlama(dir, m.config, { seed, dtype: m.dtype, shards: m.shards });
      const loaded = await loadLlama(dir);
      assert.deepEqual(loaded.config, written.config);
      for (const [name, values] of written.tensors) assert.deepEqual(loaded.tensors.get(name), values, name);
      const fwd = await WindowForward.create(packModel(loaded), m.window);
      const text = randomText(3 * m.window, seed);
      for (const T of [m.window, 1, 5, m.window - 1]) {
        const tokens = text.subarray(0, T);
        const err = logitError(fwd.logits(tokens), referenceLogits(loaded, tokens), 256);
        assert.ok(err < 2e-5, `seed ${seed}, T = ${T}: logits differ by ${err}`);
      }
      // Windows 2 and 3 of the text: the kernels keep no state between windows.
      for (let w = 1; w < 3; w++) {
        const tokens = text.subarray(w * m.window, (w + 1) * m.window);
        const want = referenceWindowLoss(loaded, tokens);
        const got = fwd.score(tokens);
        assert.ok(Math.abs(got - want) < 1e-5 * m.window, `seed ${seed}, window ${w}: loss ${got}, reference ${want}`);
      }
    });
  });
}

test('windows: whole ones only, the last partial window dropped; bytes 1..T-1 scored; any thread count gives the same bits', async () => {
  await withDir(async (dir) => {
    const seed = testSeed(2000);
    const model = await writeTinyLlama(dir, tinyConfig(), { seed });
    const W = 16;
    const text = randomText(3 * W + 7, seed + 1);
    const want = [0, 1, 2].map((w) => referenceWindowLoss(model, text.subarray(w * W, (w + 1) * W)));
    const one = await evaluatePerplexity(model, text, { windowBytes: W });
    assert.equal(one.windows, 3);
    assert.equal(one.bytesScored, 3 * (W - 1));
    assert.ok(Math.abs(one.natsPerByte - (want[0] + want[1] + want[2]) / (3 * (W - 1))) < 1e-6);
    assert.equal(one.perplexity, Math.exp(one.natsPerByte));
    for (const threads of [2, 3, 8]) assert.deepEqual(await evaluatePerplexity(model, text, { windowBytes: W, threads }), one, `threads ${threads}`);
    const exactlyOne = await evaluatePerplexity(model, text.subarray(0, W), { windowBytes: W, threads: 2 });
    assert.equal(exactlyOne.windows, 1);
    assert.ok(Math.abs(exactlyOne.natsPerByte - want[0] / (W - 1)) < 1e-6);
    const first2 = await evaluatePerplexity(model, text, { windowBytes: W, maxWindows: 2 });
    assert.equal(first2.bytesScored, 2 * (W - 1));
    await assert.rejects(evaluatePerplexity(model, text.subarray(0, W - 1), { windowBytes: W }), RangeError);
    await assert.rejects(evaluatePerplexity(model, text, { windowBytes: 65 }), /max_position_embeddings 64/);
    await assert.rejects(WindowForward.create(packModel(model), 40000), /above the \d+ a 32-bit WebAssembly memory can hold/);
  });
});

test('a .safetensors file and a .wcodec container of the folder or of the file load the same weights', async () => {
  await withDir(async (dir) => {
    const folder = join(dir, 'm');
    const written = await writeTinyLlama(folder, tinyConfig(), { seed: testSeed(3000), dtype: 'BF16' });
    await compressFile(folder, join(dir, 'm.wcodec'));
    await compressFile(join(folder, 'model.safetensors'), join(folder, 'model.safetensors.wcodec'));
    for (const path of [join(folder, 'model.safetensors'), join(dir, 'm.wcodec'), join(folder, 'model.safetensors.wcodec')]) {
      const loaded = await loadLlama(path);
      assert.deepEqual(loaded.config, written.config, path);
      for (const [name, values] of written.tensors) assert.deepEqual(loaded.tensors.get(name), values, `${path}: ${name}`);
    }
    const variant = await loadLlama(join(dir, 'm.wcodec'), { variant: 'int4_g128_rtn' });
    assert.deepEqual(variant.tensors, (await loadLlama(folder, { variant: 'int4_g128_rtn' })).tensors);
    assert.deepEqual(variant.tensors.get('model.norm.weight'), written.tensors.get('model.norm.weight'), '1-D weights are left as they are');
    assert.notDeepEqual(variant.tensors.get('model.embed_tokens.weight'), written.tensors.get('model.embed_tokens.weight'), 'the embedding is a 2-D weight');
  });
});

/** The code of the error `fn` rejects with. */
async function codeOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof WcodecError, String(e));
    return e.code;
  }
  assert.fail('no error');
}

test('configs the forward pass does not implement are refused with UNSUPPORTED_MODEL', () => {
  const refused: Record<string, unknown>[] = [
    { model_type: 'mistral' },
    { architectures: ['LlamaForSequenceClassification'] },
    { rope_scaling: { rope_type: 'linear', factor: 2 } },
    { rope_parameters: { rope_theta: 10000, rope_type: 'llama3', factor: 8 } },
    { rope_parameters: { rope_theta: 10000, rope_type: 'default', partial_rotary_factor: 0.5 } },
    { partial_rotary_factor: 0.5 },
    { attention_bias: true },
    { mlp_bias: true },
    { hidden_act: 'gelu' },
    { vocab_size: 32000 },
    { num_key_value_heads: 3 },
    { head_dim: 7 },
    { hidden_size: 0 },
    { hidden_size: 2.5 },
    { intermediate_size: '48' },
    { num_hidden_layers: 1e9 },
    { quantization_config: { quant_method: 'gptq' } },
    { tie_word_embeddings: 'yes' },
  ];
  for (const fields of refused) {
    assert.throws(() => parseLlamaConfig(JSON.stringify(tinyConfig(fields)), 'config.json'), (e: unknown) => e instanceof WcodecError && e.code === 'UNSUPPORTED_MODEL', JSON.stringify(fields));
  }
  assert.throws(() => parseLlamaConfig('[1]', 'c'), /UNSUPPORTED_MODEL/);
  assert.throws(() => parseLlamaConfig('{', 'c'), /UNSUPPORTED_MODEL/);
  const c = parseLlamaConfig(JSON.stringify(tinyConfig({ rope_parameters: undefined, rope_theta: 123.0, num_key_value_heads: undefined })), 'c');
  assert.equal(c.ropeTheta, 123);
  assert.equal(c.numKvHeads, 4);
});

test('weights of another shape or dtype than the config implies, or missing, are refused', async () => {
  await withDir(async (dir) => {
    await writeTinyLlama(dir, tinyConfig(), { seed: 1 });
    await writeFile(join(dir, 'config.json'), JSON.stringify(tinyConfig({ intermediate_size: 50 })));
    assert.equal(await codeOf(() => loadLlama(dir)), 'UNSUPPORTED_MODEL');
    await writeFile(join(dir, 'config.json'), JSON.stringify(tinyConfig({ num_hidden_layers: 3 })));
    assert.equal(await codeOf(() => loadLlama(dir)), 'NOT_FOUND');
    await writeFile(join(dir, 'config.json'), JSON.stringify(tinyConfig({ model_type: 'gpt2' })));
    assert.equal(await codeOf(() => loadLlama(dir)), 'UNSUPPORTED_MODEL');
    assert.equal(await codeOf(() => loadLlama(join(dir, 'absent'))), 'IO_ERROR');
  });
  await withDir(async (dir) => {
    const written = await writeTinyLlama(dir, tinyConfig(), { seed: 1 });
    const inputs = [...written.tensors].map(([name, v]) =>
      name === 'model.norm.weight' ? { name, dtype: 'I8', shape: [v.length], data: new Uint8Array(v.length) } : { name, dtype: 'F32', shape: [...llamaTensorShapes(written.config).get(name)!], data: new Uint8Array(v.buffer.slice(0)) },
    );
    await writeFile(join(dir, 'model.safetensors'), buildSafetensors(inputs).bytes);
    await assert.rejects(loadLlama(dir), /UNSUPPORTED_MODEL: tensor 'model.norm.weight' has dtype I8/);
    await rm(join(dir, 'config.json'));
    assert.equal(await codeOf(() => loadLlama(dir)), 'IO_ERROR');
  });
});

test('the library entries never reach the evaluator or its WebAssembly module (decoding does not compile it)', () => {
  const src = fileURLToPath(new URL('../../src/', import.meta.url));
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    if (!existsSync(join(src, file))) return; // a generated module (the embedded binaries): no imports
    const code = readFileSync(join(src, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
    for (const m of code.matchAll(/(?:from\s*|import\s*\(?\s*)(['"])(\.[^'"]+)\1/g)) {
      visit(posix.normalize(posix.join(dirname(file), m[2])).replace(/\.js$/, '.ts'));
    }
  };
  visit('index.ts');
  visit('node.ts');
  assert.ok(seen.has('wasm/kernels-binary.ts') && seen.has('api/checkpoint.ts'), 'the walk follows imports');
  assert.deepEqual([...seen].filter((f) => f.startsWith('eval/') || f.startsWith('lossy/') || f.startsWith('wasm/eval-kernels')), []);
});
