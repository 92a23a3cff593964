// `wcodec compress --profile gpu` (src/gpu/profile.ts): 16 KiB chunks with 32 lanes in every coded segment, a
// byte-identical round trip, --chunk-bytes overriding the profile's chunk size, and a usage error for an unknown
// profile.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openCheckpoint } from '../src/node.js';
import { GPU_PROFILE } from '../src/index.js';
import { wcodec } from './helpers/cli.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/stories260K/stories260K.safetensors', import.meta.url));

const sha = async (p: string): Promise<string> => createHash('sha256').update(await readFile(p)).digest('hex');

test('CLI --profile gpu: 16 KiB chunks, 32 lanes, lossless', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-profile-'));
  try {
    const packed = join(dir, 'gpu.wcodec');
    const c = wcodec('compress', EXAMPLE, '-o', packed, '--profile', 'gpu', '-q');
    assert.equal(c.status, 0, c.stderr);
    const cp = await openCheckpoint(packed);
    let coded = 0;
    try {
      for (const t of cp.tensors) {
        const seg = cp.segmentOf(t);
        const W = seg.coding.layout.valueBytes;
        assert.equal(seg.chunkValues, Math.floor(GPU_PROFILE.chunkBytes / W), t.name);
        if (seg.coding.tables.some((x) => x !== undefined)) {
          assert.equal(seg.coding.lanes, GPU_PROFILE.lanes, t.name);
          coded++;
        }
      }
    } finally {
      await cp.close();
    }
    assert.ok(coded > 0, 'some tensors are coded');
    const out = join(dir, 'restored.safetensors');
    assert.equal(wcodec('decompress', packed, '-o', out).status, 0);
    assert.equal(await sha(out), await sha(EXAMPLE));

    const wider = join(dir, 'wider.wcodec');
    assert.equal(wcodec('compress', EXAMPLE, '-o', wider, '--profile', 'gpu', '--chunk-bytes', '65536', '-q').status, 0);
    const cp2 = await openCheckpoint(wider);
    try {
      const seg = cp2.segmentOf(cp2.tensors.find((t) => t.dtype === 'F32')!);
      assert.equal(seg.chunkValues, 16384);
    } finally {
      await cp2.close();
    }
    const bad = wcodec('compress', EXAMPLE, '-o', join(dir, 'x.wcodec'), '--profile', 'tpu');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--profile must be/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
