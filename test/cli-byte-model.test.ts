// The byte model by default (FORMAT.md §5.5, version 11): the byte segments of a folder coded with the byte model where
// smaller, a byte-identical round trip of every file; --no-byte-model writes version 4 as before; --byte-model writes
// version 11 even where nothing uses the byte model; both options refused by other commands and together.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpoint } from '../src/node.js';
import { wcodec } from './helpers/cli.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/stories260K/stories260K.safetensors', import.meta.url));

const sha = async (p: string): Promise<string> => createHash('sha256').update(await readFile(p)).digest('hex');

/** A tokenizer-like JSON vocabulary: repetitive text, where order-0 coding is far from what context modelling gets. */
function vocabularyJson(words: number): string {
  const vocab: Record<string, number> = {};
  for (let i = 0; i < words; i++) vocab[`\u0120tok${(i * 7919) % 4099}_${String.fromCharCode(97 + (i % 26))}${i % 7}`] = i;
  return JSON.stringify({ version: '1.0', model: { type: 'BPE', vocab, merges: Object.keys(vocab).slice(0, 500).map((k) => `${k} x`) } }, null, 2);
}

test('CLI: the byte model by default (version 11), --no-byte-model (version 4), folder restored byte for byte', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-bytemodel-'));
  try {
    const model = join(dir, 'm');
    await mkdir(model);
    await writeFile(join(model, 'model.safetensors'), await readFile(EXAMPLE));
    await writeFile(join(model, 'tokenizer.json'), vocabularyJson(3000));
    await writeFile(join(model, 'config.json'), JSON.stringify({ hidden_size: 64, num_attention_heads: 8, vocab_size: 512, model_type: 'llama' }));

    const v11 = join(dir, 'v11.wcodec');
    const forced = join(dir, 'forced.wcodec');
    const v4 = join(dir, 'v4.wcodec');
    const c = wcodec('compress', model, '-o', v11, '-q');
    assert.equal(c.status, 0, c.stderr);
    assert.equal(wcodec('compress', model, '-o', forced, '--byte-model', '-q').status, 0);
    assert.equal(wcodec('compress', model, '-o', v4, '--no-byte-model', '-q').status, 0);

    const bytes = await readFile(v11);
    assert.equal(bytes[8] | (bytes[9] << 8), 11, 'header version 11');
    assert.ok((await readFile(forced)).equals(bytes), '--byte-model gives the default container where the byte model is used');
    const old = await readFile(v4);
    assert.equal(old[8] | (old[9] << 8), 4, '--no-byte-model: header version 4');
    const cp = await openCheckpoint(v11);
    try {
      const tok = cp.reader.index.members.find((m) => m.path === 'tokenizer.json');
      assert.ok(tok, 'tokenizer.json is a member');
      assert.ok(tok.segments.some((s) => s.coding.byteModel !== undefined), 'tokenizer.json is coded with the byte model');
    } finally {
      await cp.close();
    }
    assert.ok((await stat(v11)).size < (await stat(v4)).size, 'smaller than the container without the byte model');

    for (const packed of [v11, v4]) {
      const out = join(dir, `restored-${packed === v4 ? 4 : 11}`);
      const d = wcodec('decompress', packed, '-o', out);
      assert.equal(d.status, 0, d.stderr);
      for (const f of ['model.safetensors', 'tokenizer.json', 'config.json']) assert.equal(await sha(join(out, f)), await sha(join(model, f)), f);
    }

    const bad = wcodec('info', v11, '--byte-model');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--byte-model applies to compress, not info/);
    const both = wcodec('compress', model, '-o', join(dir, 'x.wcodec'), '--byte-model', '--no-byte-model');
    assert.equal(both.status, 1);
    assert.match(both.stderr, /--byte-model and --no-byte-model contradict each other/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('CLI --byte-model: version 11 even for a file the byte model does not make smaller; the default is version 4 there', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-bytemodel-'));
  try {
    const input = join(dir, 'noise.bin');
    const noise = new Uint8Array(4096);
    let x = 0x9e3779b9; // xorshift32: bytes no model predicts
    for (let i = 0; i < noise.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      noise[i] = x >>> 24;
    }
    await writeFile(input, noise);
    assert.equal(wcodec('compress', input, '-o', join(dir, 'd.wcodec'), '-q').status, 0);
    assert.equal(wcodec('compress', input, '-o', join(dir, 'f.wcodec'), '--byte-model', '-q').status, 0);
    const d = await readFile(join(dir, 'd.wcodec'));
    const f = await readFile(join(dir, 'f.wcodec'));
    assert.equal(d[8], 4, 'nothing the byte model improves: version 4, as without it');
    assert.equal(f[8], 11, '--byte-model: version 11');
    const out = join(dir, 'back.bin');
    assert.equal(wcodec('decompress', join(dir, 'f.wcodec'), '-o', out).status, 0);
    assert.equal(await sha(out), await sha(input));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
