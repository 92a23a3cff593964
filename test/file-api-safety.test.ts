// The Node file API on refused inputs and existing outputs (docs/SECURITY.md, "Output safety"): a refused container
// leaves no file descriptor open and no output or temporary file behind; an existing output is never replaced
// without `overwrite`.

import '../src/io/node-sha256.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressBuffer } from '../src/api/buffers.js';
import { WcodecError } from '../src/errors.js';
import { decompressFile, openCheckpoint } from '../src/node/file-api.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';

const work = await mkdtemp(join(tmpdir(), 'wcodec-file-api-'));
const openFds = (): number => readdirSync('/proc/self/fd').length;
const hasProcFd = existsSync('/proc/self/fd');

const original = buildSafetensors([{ name: 'w', dtype: 'U8', shape: [64], data: new Uint8Array(64).fill(7) }]).bytes;
const container = await compressBuffer(original);

describe('file API: refused inputs', () => {
  after(() => rm(work, { recursive: true, force: true }));

  test('a container refused at open closes its file (decompressFile and openCheckpoint)', { skip: hasProcFd ? false : 'no /proc/self/fd here' }, async () => {
    const bad = container.slice();
    bad[bad.length - 1] ^= 1; // footer magic
    const input = join(work, 'bad.wcodec');
    await writeFile(input, bad);
    const before = openFds();
    for (let k = 0; k < 20; k++) {
      await assert.rejects(decompressFile(input, join(work, `out-${k}`)), (e) => e instanceof WcodecError && e.code === 'BAD_MAGIC');
      await assert.rejects(openCheckpoint(input), (e) => e instanceof WcodecError && e.code === 'BAD_MAGIC');
    }
    assert.equal(openFds(), before, 'file descriptors left open by refused containers');
    assert.deepEqual((await readdir(work)).sort(), ['bad.wcodec'], 'outputs or temporary files left behind');
  });
});
