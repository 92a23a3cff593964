// The CLI's delta mode (FORMAT.md §3.5.2): `compress NEW --ref REF` and `decompress --ref REF` with the reference as
// a .safetensors file, a folder of shards or a .wcodec container; a missing or wrong reference exits 2 naming the
// tensor; `info` shows each tensor's transform.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng, bf16s, buildSafetensors } from '../tools/vectors/inputs.js';
import { wcodec } from './helpers/cli.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');


test('cli: compress/decompress --ref with a file, a folder and a .wcodec reference; errors without it; info shows transforms', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-cli-ref-'));
  try {
    const rng = Prng.forName('cli-ref');
    const a = Array.from({ length: 6000 }, () => rng.gauss() * 0.02);
    const b = Array.from({ length: 3000 }, () => rng.gauss() * 0.02);
    const tweak = (xs: number[]): number[] => xs.map((x, i) => (i % 4 === 0 ? x * 1.01 : x));
    const refA = { name: 'a', dtype: 'BF16', shape: [60, 100], data: bf16s(a) };
    const refB = { name: 'b', dtype: 'BF16', shape: [3000], data: bf16s(b) };
    await writeFile(join(dir, 'ref.safetensors'), buildSafetensors([refA, refB]));
    await mkdir(join(dir, 'ref-folder'));
    await writeFile(join(dir, 'ref-folder', 'model-1.safetensors'), buildSafetensors([refA]));
    await writeFile(join(dir, 'ref-folder', 'model-2.safetensors'), buildSafetensors([refB]));
    const input = buildSafetensors([
      { name: 'a', dtype: 'BF16', shape: [60, 100], data: bf16s(tweak(a)) },
      { name: 'b', dtype: 'BF16', shape: [3000], data: bf16s(tweak(b)) },
      { name: 'tied', dtype: 'BF16', shape: [3000], data: bf16s(tweak(b)) },
    ]);
    const inPath = join(dir, 'new.safetensors');
    await writeFile(inPath, input);
    const refWcodec = join(dir, 'ref.wcodec');
    assert.equal(wcodec('compress', join(dir, 'ref.safetensors'), '-o', refWcodec, '-q').status, 0);

    const plain = join(dir, 'plain.wcodec');
    assert.equal(wcodec('compress', inPath, '-o', plain, '-q').status, 0);
    for (const ref of [join(dir, 'ref.safetensors'), join(dir, 'ref-folder'), refWcodec]) {
      const out = join(dir, 'delta.wcodec');
      const c = wcodec('compress', inPath, '--ref', ref, '-o', out, '-f', '-q', '--json');
      assert.equal(c.status, 0, c.stderr);
      assert.ok((JSON.parse(c.stdout) as { compressedBytes: number }).compressedBytes < (await readFile(plain)).length, `${ref}: the delta is smaller`);
      const back = join(dir, 'back.safetensors');
      const d = wcodec('decompress', out, '--ref', ref, '-o', back, '-f', '-q');
      assert.equal(d.status, 0, d.stderr);
      assert.equal(sha(await readFile(back)), sha(input), `${ref}: round trip`);
      assert.equal(wcodec('verify', out, '--ref', ref, '-q').status, 0);
      const info = wcodec('info', out, '--json');
      const tensors = (JSON.parse(info.stdout) as { tensors: { name: string; transform: string }[] }).tensors;
      assert.deepEqual(tensors.map((t) => [t.name, t.transform]), [['a', 'xor-delta'], ['b', 'xor-delta'], ['tied', 'dup']]);
      assert.match(wcodec('info', out).stdout, /transform/);
    }
    const delta = join(dir, 'delta.wcodec');
    const missing = wcodec('decompress', delta, '-o', join(dir, 'x.safetensors'), '-q');
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /REFERENCE_MISSING: tensor 'a'/);
    const wrong = wcodec('decompress', delta, '--ref', inPath, '-o', join(dir, 'x.safetensors'), '-q');
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /REFERENCE_MISMATCH: tensor 'a'/);
    assert.equal(wcodec('info', delta, '--ref', inPath).status, 1, '--ref is refused where it does nothing');
    const v1 = join(dir, 'v1.wcodec');
    // --no-byte-model too: by default the header would be coded with the byte model, which is version 11.
    assert.equal(wcodec('compress', inPath, '--no-transforms', '--no-byte-model', '-o', v1, '-q').status, 0);
    assert.equal((await readFile(v1))[8], 4, '--no-transforms writes version 4 (without transformed segments)');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
