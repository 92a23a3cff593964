// The perplexity evaluator against the llama-tiny reference (../shared/corpus/llama-tiny/eval/REFERENCE.json, computed
// with PyTorch in float32), when the corpus exists beside the repo: the base model within 1e-4 nats per byte and each
// lossy variant within 1e-3, from the BF16 folder and from a .wcodec container of it. Each variant is evaluated once,
// from the container, after checking that the folder gives bit-identical float32 weights under it (the forward pass
// is a deterministic function of those weights, for any thread count); the base model is evaluated from both.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressFile } from '../../src/node.js';
import { loadLlama } from '../../src/eval/load-llama.js';
import { evaluatePerplexity } from '../../src/eval/perplexity.js';
import { LOSSY_VARIANTS } from '../../src/lossy/reference-quantizers.js';
import { wcodec } from '../helpers/cli.js';

const corpus = fileURLToPath(new URL('../../../../shared/corpus/', import.meta.url));
const base = join(corpus, 'llama-tiny/base');
const textPath = join(corpus, 'llama-tiny/eval/gyp.py.txt');
const present = existsSync(join(corpus, 'llama-tiny/eval/REFERENCE.json')) && existsSync(base);
if (!present) console.log(`# evaluator corpus tests skipped: ${corpus}llama-tiny not present`);

interface Reference {
  bytes_scored: number;
  loss_nats_per_byte: Record<string, number>;
}

const BASE_TOLERANCE = 1e-4;
const VARIANT_TOLERANCE = 1e-3;
const threads = availableParallelism();

test('llama-tiny: the base model and its four lossy variants reproduce REFERENCE.json, from the folder and from a .wcodec container', { skip: !present }, async (t) => {
  const ref = JSON.parse(readFileSync(join(corpus, 'llama-tiny/eval/REFERENCE.json'), 'utf8')) as Reference;
  const text = readFileSync(textPath);
  const work = await mkdtemp(join(tmpdir(), 'wcodec-eval-corpus-'));
  t.after(() => rm(work, { recursive: true, force: true }));
  const container = join(work, 'base.wcodec');
  await compressFile(base, container);

  await t.test('base, from the folder (library) and from the container (wcodec eval --json)', async () => {
    const started = performance.now();
    const r = await evaluatePerplexity(await loadLlama(base), text, { threads });
    const seconds = (performance.now() - started) / 1000;
    console.log(`# base_bf16 (folder): ${r.natsPerByte} nats/byte, reference ${ref.loss_nats_per_byte.base_bf16}, ${seconds.toFixed(1)} s on ${threads} threads`);
    assert.equal(r.bytesScored, ref.bytes_scored);
    assert.ok(Math.abs(r.natsPerByte - ref.loss_nats_per_byte.base_bf16) < BASE_TOLERANCE, `${r.natsPerByte} vs ${ref.loss_nats_per_byte.base_bf16}`);
    const cli = wcodec('eval', container, '--text', textPath, '--json');
    assert.equal(cli.status, 0, cli.stderr);
    const out = JSON.parse(cli.stdout) as { nats_per_byte: number; bytes_scored: number; perplexity: number; seconds: number };
    console.log(`# base_bf16 (container, CLI): ${out.nats_per_byte} nats/byte, ${out.seconds.toFixed(1)} s`);
    assert.equal(out.nats_per_byte, r.natsPerByte, 'the container gives the folder result bit for bit');
    assert.equal(out.bytes_scored, ref.bytes_scored);
    assert.equal(out.perplexity, Math.exp(out.nats_per_byte));
  });

  for (const variant of LOSSY_VARIANTS) {
    await t.test(variant, async () => {
      const fromContainer = await loadLlama(container, { variant });
      const fromFolder = await loadLlama(base, { variant });
      assert.deepEqual(fromContainer.tensors, fromFolder.tensors, 'the folder and the container give the same weights under the variant');
      const started = performance.now();
      const r = await evaluatePerplexity(fromContainer, text, { threads });
      const seconds = (performance.now() - started) / 1000;
      const want = ref.loss_nats_per_byte[variant];
      console.log(`# ${variant}: ${r.natsPerByte} nats/byte, reference ${want}, ${seconds.toFixed(1)} s`);
      assert.ok(Math.abs(r.natsPerByte - want) < VARIANT_TOLERANCE, `${r.natsPerByte} vs ${want}`);
    });
  }
});
