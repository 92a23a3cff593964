// `wcodec compress --level max`: format version 10 (FORMAT.md §5.6), tensors coded with the tensor model where smaller,
// smaller than the default, a byte-identical round trip; `--level default` is the default container; the option's
// values and its conflicts refused.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpoint } from '../src/node.js';
import { wcodec } from './helpers/cli.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/stories260K/stories260K.safetensors', import.meta.url));

const sha = async (p: string): Promise<string> => createHash('sha256').update(await readFile(p)).digest('hex');

test('CLI --level max: version 10, tensors coded with the tensor model, smaller, restored byte for byte', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-level-'));
  try {
    const max = join(dir, 'max.wcodec');
    const plain = join(dir, 'plain.wcodec');
    const dflt = join(dir, 'default.wcodec');
    const c = wcodec('compress', EXAMPLE, '-o', max, '--level', 'max', '-q');
    assert.equal(c.status, 0, c.stderr);
    assert.equal(wcodec('compress', EXAMPLE, '-o', plain, '-q').status, 0);
    assert.equal(wcodec('compress', EXAMPLE, '-o', dflt, '--level', 'default', '-q').status, 0);
    const bytes = await readFile(max);
    assert.equal(bytes[8] | (bytes[9] << 8), 10, 'header version 10');
    assert.deepEqual(await readFile(dflt), await readFile(plain), '--level default is the default container');
    const cp = await openCheckpoint(max);
    try {
      const segs = cp.reader.index.members[0].segments;
      assert.ok(segs.some((s) => s.coding.tensorModel !== undefined), 'a tensor coded with the tensor model');
    } finally {
      await cp.close();
    }
    assert.ok((await stat(max)).size < (await stat(plain)).size, 'smaller than the default container');
    const out = join(dir, 'restored.safetensors');
    const d = wcodec('decompress', max, '-o', out);
    assert.equal(d.status, 0, d.stderr);
    assert.equal(await sha(out), await sha(EXAMPLE));

    for (const [argv, message] of [
      [['compress', EXAMPLE, '--level', 'best'], /--level must be default or max, not 'best'/],
      [['compress', EXAMPLE, '--level', 'max', '--huffman'], /--level max goes with none of/],
      [['info', max, '--level', 'max'], /--level applies to compress, not info/],
    ] as const) {
      const bad = wcodec(...argv);
      assert.equal(bad.status, 1, argv.join(' '));
      assert.match(bad.stderr, message);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
