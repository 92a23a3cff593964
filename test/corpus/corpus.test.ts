// Corpus round trips and ratio floors over ../shared/corpus, when that folder exists beside the repo.
// Every file and folder goes through compressFile/decompressFile and must come back SHA-256-identical.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressFile, decompressFile } from '../../src/node.js';
import { planeBoundBytes } from '../helpers/plane-bound.js';

const corpus = fileURLToPath(new URL('../../../../shared/corpus/', import.meta.url));
const present = existsSync(corpus);
if (!present) console.log(`# corpus tests skipped: ${corpus} not present`);

const sha = async (p: string): Promise<string> => createHash('sha256').update(await readFile(p)).digest('hex');

async function filesUnder(root: string): Promise<string[]> {
  const st = await stat(root);
  if (!st.isDirectory()) return [''];
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true })) {
    const sub = await filesUnder(join(root, e.name));
    out.push(...sub.map((s) => (s === '' ? e.name : `${e.name}/${s}`)));
  }
  return out;
}

/** Compresses `input` (file or folder), restores it, asserts every file identical; returns [original, compressed] bytes. */
async function roundTrip(input: string): Promise<[number, number]> {
  const work = await mkdtemp(join(tmpdir(), 'wcodec-corpus-'));
  try {
    const packed = join(work, 'x.wcodec');
    const res = await compressFile(input, packed);
    const restored = join(work, 'restored');
    await decompressFile(packed, restored);
    const files = await filesUnder(input);
    assert.deepEqual((await filesUnder(restored)).sort(), files.sort());
    for (const f of files) {
      assert.equal(await sha(f === '' ? restored : join(restored, f)), await sha(f === '' ? input : join(input, f)), `${input} ${f}`);
    }
    return [res.originalBytes, res.compressedBytes];
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

const entries = present
  ? ['llama-tiny/base', 'llama-tiny/base-fp32', 'llama-tiny/ckpt-2500', 'llama-tiny/finetune-c', 'llama-tiny/adam-layer0.safetensors', 'llama-tiny/eval', 'llama-tiny', 'stories260K']
  : [];

for (const e of entries) {
  test(`corpus round trip: ${e}`, { skip: !present }, async () => {
    const [orig, comp] = await roundTrip(join(corpus, e));
    console.log(`# ${e}: ${orig} -> ${comp} bytes (x${(orig / comp).toFixed(4)})`);
  });
}

test('ratio floor: llama-tiny/base (BF16) >= 1.51x', { skip: !present }, async () => {
  const [orig, comp] = await roundTrip(join(corpus, 'llama-tiny/base'));
  assert.ok(orig / comp >= 1.51, `x${(orig / comp).toFixed(4)}`);
});

test('ratio floor: llama-tiny/base-fp32 (F32) >= 1.20x', { skip: !present }, async () => {
  const [orig, comp] = await roundTrip(join(corpus, 'llama-tiny/base-fp32'));
  assert.ok(orig / comp >= 1.2, `x${(orig / comp).toFixed(4)}`);
});

test('ratio floor: stories260K.safetensors within 1.05% of its order-0 plane bound', { skip: !present }, async () => {
  const file = join(corpus, 'stories260K/stories260K.safetensors');
  const [orig, comp] = await roundTrip(file);
  const bound = orig / planeBoundBytes(new Uint8Array(await readFile(file)));
  const ratio = orig / comp;
  console.log(`# stories260K.safetensors: x${ratio.toFixed(4)}, bound x${bound.toFixed(4)}, ${((ratio / bound) * 100).toFixed(2)}% of bound`);
  // Within 1% of the order-0 plane bound (per-tensor byte planes, header counted raw), less the 32 bytes of the
  // member's identity digest (format version 3), which no bound on the file's planes counts: 886 654 bytes in
  // version 2, 886 692 in version 3 (99.001% and 98.998% of the bound).
  assert.ok(ratio / bound >= 0.9895, `${((ratio / bound) * 100).toFixed(3)}% of bound`);
});
