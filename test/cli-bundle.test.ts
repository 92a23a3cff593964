// The command line as installed (`bin`: dist/src/cli/wcodec.js, the single-file bundle of tools/bundle-cli.mjs) behaves
// as dist/src/cli/main.js does: the same version and usage, a bit-exact round trip, and its pool's workers start (the
// worker entry is a file of its own, found from the bundle's location; a pool whose script does not load would
// silently code in the calling thread instead).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { POOL_MIN_BYTES } from '../src/workers/pool.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { makeValues } from './helpers/values.js';
import { Rng } from './helpers/prng.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
const BUNDLE = join(ROOT, PKG.bin.wcodec);
const MAIN = join(ROOT, 'dist/src/cli/main.js');
/** Preloaded into the bundle's process: reports on stderr each worker whose script loaded (its first message is the ready message). */
const WATCH_WORKERS =
  "data:text/javascript,import wt from 'node:worker_threads'; const W = wt.Worker; wt.Worker = class extends W { constructor(...a) { super(...a); this.once('message', () => process.stderr.write('worker ready\\n')); } };";

const node = (args: string[]) => spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('cli bundle: the bin is the bundle, and it prints the same version and usage as main.js', () => {
  assert.equal(PKG.bin.wcodec, 'dist/src/cli/wcodec.js');
  for (const args of [['--version'], ['--help'], ['info', '--help']]) {
    const a = node([BUNDLE, ...args]);
    const b = node([MAIN, ...args]);
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout, args.join(' '));
  }
});

test('cli bundle: the worker entries it names exist beside the bundle and beside the modules that start them', () => {
  const text = readFileSync(BUNDLE, 'utf8');
  for (const [name, module] of [['NODE_WORKER_FILE', 'dist/src/workers/spawn-worker.js'], ['EVAL_WORKER_FILE', 'dist/src/eval/perplexity.js']]) {
    const m = new RegExp(`${name} = "([^"]+)"`).exec(text);
    assert.ok(m, `the bundle names ${name}`);
    assert.ok(existsSync(fileURLToPath(new URL(m[1], `file://${BUNDLE}`))), `${m[1]} from the bundle`);
    assert.ok(existsSync(fileURLToPath(new URL(m[1], `file://${join(ROOT, module)}`))), `${m[1]} from ${module}`);
  }
});

test('cli bundle: a file over the pool threshold round-trips with --threads 2, its workers started', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-bundle-'));
  try {
    const input = join(dir, 'w.safetensors');
    const n = (POOL_MIN_BYTES + 4096) / 2;
    const original = buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [n], data: makeValues('BF16', n, 'gaussian', new Rng(7)) }]).bytes;
    await writeFile(input, original);
    const compress = node(['--import', WATCH_WORKERS, BUNDLE, 'compress', input, '-o', join(dir, 'w.wcodec'), '-q', '--threads', '2']);
    assert.equal(compress.status, 0, compress.stderr);
    assert.match(compress.stderr, /worker ready/);
    const decompress = node(['--import', WATCH_WORKERS, BUNDLE, 'decompress', join(dir, 'w.wcodec'), '-o', join(dir, 'out.safetensors'), '-q', '--threads', '2']);
    assert.equal(decompress.status, 0, decompress.stderr);
    assert.match(decompress.stderr, /worker ready/);
    assert.equal(sha256(await readFile(join(dir, 'out.safetensors'))), sha256(original));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
