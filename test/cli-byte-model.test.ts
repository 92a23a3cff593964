// `wcodec compress --byte-model`: format version 8 (FORMAT.md §5.5), the byte segments of a folder coded with the byte
// model where smaller, a byte-identical round trip of every file, and the option refused by other commands.

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

test('CLI --byte-model: version 8, byte segments coded with the byte model, folder restored byte for byte', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-bytemodel-'));
  try {
    const model = join(dir, 'm');
    await mkdir(model);
    await writeFile(join(model, 'model.safetensors'), await readFile(EXAMPLE));
    await writeFile(join(model, 'tokenizer.json'), vocabularyJson(3000));
    await writeFile(join(model, 'config.json'), JSON.stringify({ hidden_size: 64, num_attention_heads: 8, vocab_size: 512, model_type: 'llama' }));

    const v8 = join(dir, 'v8.wcodec');
    const v4 = join(dir, 'v4.wcodec');
    const c8 = wcodec('compress', model, '-o', v8, '--byte-model', '-q');
    assert.equal(c8.status, 0, c8.stderr);
    assert.equal(wcodec('compress', model, '-o', v4, '-q').status, 0);

    const bytes = await readFile(v8);
    assert.equal(bytes[8] | (bytes[9] << 8), 8, 'header version 8');
    const cp = await openCheckpoint(v8);
    try {
      const tok = cp.reader.index.members.find((m) => m.path === 'tokenizer.json');
      assert.ok(tok, 'tokenizer.json is a member');
      assert.ok(tok.segments.some((s) => s.coding.byteModel !== undefined), 'tokenizer.json is coded with the byte model');
    } finally {
      await cp.close();
    }
    assert.ok((await stat(v8)).size < (await stat(v4)).size, 'smaller than the default container');

    const out = join(dir, 'restored');
    const d = wcodec('decompress', v8, '-o', out);
    assert.equal(d.status, 0, d.stderr);
    for (const f of ['model.safetensors', 'tokenizer.json', 'config.json']) assert.equal(await sha(join(out, f)), await sha(join(model, f)), f);

    const bad = wcodec('info', v8, '--byte-model');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--byte-model applies to compress, not info/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
