// `wcodec eval` (src/cli/eval-command.ts): its JSON and text output on a small random model, its exit codes and
// error codes, and its help.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluatePerplexity } from '../src/eval/perplexity.js';
import { loadLlama } from '../src/eval/load-llama.js';
import { wcodec } from './helpers/cli.js';
import { tinyConfig, writeTinyLlama } from './helpers/tiny-llama.js';
import { Rng, testSeed } from './helpers/prng.js';

const dir = await mkdtemp(join(tmpdir(), 'wcodec-cli-eval-'));
test.after(() => rm(dir, { recursive: true, force: true }));
const model = join(dir, 'model');
const textFile = join(dir, 'text.txt');
const text = new Rng(testSeed(7)).bytes(2 * 512 + 100);
await writeTinyLlama(model, tinyConfig({ max_position_embeddings: 512 }), { seed: testSeed(8), dtype: 'BF16' });
await writeFile(textFile, text);

test('eval --json: nats_per_byte, bytes_scored and perplexity, the same as the library gives for any --threads', async () => {
  const want = await evaluatePerplexity(await loadLlama(model), text);
  for (const threads of ['1', '2']) {
    const r = wcodec('eval', model, '--text', textFile, '--json', '--threads', threads);
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out.ok, true);
    assert.equal(out.command, 'eval');
    assert.equal(out.model, model);
    assert.equal(out.nats_per_byte, want.natsPerByte);
    assert.equal(out.bytes_scored, 2 * 511);
    assert.equal(out.perplexity, want.perplexity);
    assert.equal(out.windows, 2);
    assert.equal(out.variant, null);
    assert.equal(typeof out.seconds, 'number');
  }
});

test('eval prints the loss as text; --variant and --windows change what is scored', () => {
  const r = wcodec('eval', model, '--text', textFile, '--threads', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /: \d\.\d{6} nats\/byte, perplexity \d+\.\d{4}\n {2}1022 bytes scored in 2 windows of 512 bytes/);
  const base = JSON.parse(wcodec('eval', model, '--text', textFile, '--json', '--windows', '1').stdout) as { nats_per_byte: number; bytes_scored: number };
  assert.equal(base.bytes_scored, 511);
  const pruned = JSON.parse(wcodec('eval', model, '--text', textFile, '--json', '--windows', '1', '--variant', 'prune30_magnitude').stdout) as { nats_per_byte: number; variant: string };
  assert.equal(pruned.variant, 'prune30_magnitude');
  assert.notEqual(pruned.nats_per_byte, base.nats_per_byte);
});

test('eval exit codes: 1 for a missing text or a wrong command line, 2 for an unsupported model', async () => {
  const missing = wcodec('eval', model, '--text', join(dir, 'absent.txt'), '--json');
  assert.equal(missing.status, 1);
  assert.equal((JSON.parse(missing.stdout) as { code: string }).code, 'IO_ERROR');
  assert.match(missing.stderr, /^wcodec: IO_ERROR: cannot read the text/);

  const bad = join(dir, 'bad');
  await writeTinyLlama(bad, tinyConfig({ max_position_embeddings: 512 }), { seed: 1 });
  await writeFile(join(bad, 'config.json'), JSON.stringify(tinyConfig({ max_position_embeddings: 512, rope_scaling: { rope_type: 'dynamic', factor: 2 } })));
  const refused = wcodec('eval', bad, '--text', textFile, '--json');
  assert.equal(refused.status, 2);
  const err = JSON.parse(refused.stdout) as { ok: boolean; code: string; message: string };
  assert.equal(err.ok, false);
  assert.equal(err.code, 'UNSUPPORTED_MODEL');
  assert.match(err.message, /rope_scaling/);

  for (const args of [[model], [model, '--text'], [model, model, '--text', textFile], [model, '--text', textFile, '--variant', 'int3'], [model, '--text', textFile, '--threads', '0'], [model, '--text', textFile, '--bogus']]) {
    const r = wcodec('eval', ...args, '--json');
    assert.equal(r.status, 1, args.join(' '));
    assert.equal((JSON.parse(r.stdout) as { code: string }).code, 'USAGE', args.join(' '));
    assert.match(r.stderr, /see 'wcodec eval --help'/);
  }
  const short = join(dir, 'short.txt');
  await writeFile(short, text.subarray(0, 511));
  assert.equal(wcodec('eval', model, '--text', short).status, 1);
  assert.match(wcodec('eval', model, '--text', textFile, '--window-bytes', '1024').stderr, /max_position_embeddings 512/);
});

test('eval --help fits 80 columns; the overview names the command', () => {
  const r = wcodec('eval', '--help');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^usage: wcodec eval MODEL --text FILE/);
  for (const line of r.stdout.split('\n')) assert.ok(line.length <= 80, line);
  assert.match(wcodec('--help').stdout, /wcodec eval MODEL --text FILE/);
});
