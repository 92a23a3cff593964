// The Node file API on refused inputs and existing outputs (docs/SECURITY.md, "Output safety"): a refused container
// leaves no file descriptor open and no output or temporary file behind; an existing output, even one that appears
// while the output is written, is never replaced without `overwrite`; leftovers of killed runs are removed.

import '../src/io/node-sha256.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { WcodecError } from '../src/errors.js';
import { tempPathFor } from '../src/io/file-source.js';
import { compressFile, decompressFile, openCheckpoint } from '../src/node/file-api.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { folderContainer } from './fuzz/seeds.js';

const work = await mkdtemp(join(tmpdir(), 'wcodec-file-api-'));
const openFds = (): number => readdirSync('/proc/self/fd').length;
const hasProcFd = existsSync('/proc/self/fd');

const original = buildSafetensors([{ name: 'w', dtype: 'U8', shape: [64], data: new Uint8Array(64).fill(7) }]).bytes;
const container = await compressBuffer(original);

after(() => rm(work, { recursive: true, force: true }));

describe('file API: refused inputs', () => {

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

describe('file API: an output that appears while the output is being written', () => {
  const inputFile = join(work, 'race-in.safetensors');
  const someoneElses = new TextEncoder().encode('written by another process meanwhile');

  test('compressFile does not replace it without overwrite (OUTPUT_EXISTS), and leaves no temporary file', async () => {
    await writeFile(inputFile, original);
    const out = join(work, 'race-compress.wcodec');
    await assert.rejects(
      compressFile(inputFile, out, { onMember: () => writeFileSync(out, someoneElses) }),
      (e) => e instanceof WcodecError && e.code === 'OUTPUT_EXISTS',
    );
    assert.deepEqual(new Uint8Array(await readFile(out)), someoneElses, 'the other file was replaced');
    assert.deepEqual((await readdir(work)).filter((f) => f.includes('race-compress') && f !== 'race-compress.wcodec'), []);
    // With overwrite it is replaced, by the whole container.
    await compressFile(inputFile, out, { overwrite: true, onMember: () => writeFileSync(out, someoneElses) });
    assert.deepEqual(await decompressBuffer(new Uint8Array(await readFile(out))), original);
  });

  test('decompressFile (file) does not replace it without overwrite', async () => {
    const packed = join(work, 'race-file.wcodec');
    await writeFile(packed, container);
    const out = join(work, 'race-file.out');
    await assert.rejects(decompressFile(packed, out, { onMember: () => writeFileSync(out, someoneElses) }), (e) => e instanceof WcodecError && e.code === 'OUTPUT_EXISTS');
    assert.deepEqual(new Uint8Array(await readFile(out)), someoneElses);
  });

  test('decompressFile (folder) neither deletes nor replaces a folder that appeared meanwhile', async () => {
    const packed = join(work, 'race-folder.wcodec');
    await writeFile(packed, await folderContainer([{ path: 'a.safetensors', bytes: original }, { path: 'b/c.txt', bytes: someoneElses }]));
    const out = join(work, 'race-folder.out');
    const theirs = join(out, 'theirs.txt');
    await assert.rejects(
      decompressFile(packed, out, { onMember: (_p, k) => { if (k === 1) { mkdirSync(out); writeFileSync(theirs, someoneElses); } } }),
      (e) => e instanceof WcodecError && e.code === 'OUTPUT_EXISTS',
    );
    assert.deepEqual(readdirSync(out), ['theirs.txt'], 'the folder that appeared was changed');
    assert.deepEqual((await readdir(work)).filter((f) => f.startsWith('.race-folder.out')), [], 'temporary folder left behind');
  });
});

describe('file API: leftovers of killed runs', () => {
  test('the next run into the same folder removes temporaries of dead processes on this host, for any output, and only those', async () => {
    const dir = await mkdtemp(join(work, 'stale-'));
    const out = join(dir, 'model.wcodec');
    const probe = basename(tempPathFor(out)); // .model.wcodec.<host>.<pid>.<hex>.wcodec-tmp
    const host = probe.split('.')[3];
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid is free (or reused, then kept)
    const names = {
      deadFile: `.model.wcodec.${host}.${dead}.0badf00d.wcodec-tmp`,
      deadFolder: `.model.wcodec.${host}.${dead}.0badf00e.wcodec-tmp`,
      alive: `.model.wcodec.${host}.${process.ppid}.0badf00f.wcodec-tmp`,
      otherHost: `.model.wcodec.elsewhere.${dead}.0badf010.wcodec-tmp`,
      otherTarget: `.other.wcodec.${host}.${dead}.0badf011.wcodec-tmp`,
      notOurs: `.model.wcodec.${host}.${dead}.notours`,
    };
    for (const [k, n] of Object.entries(names)) {
      if (k === 'deadFolder') {
        mkdirSync(join(dir, n));
        writeFileSync(join(dir, n, 'half.safetensors'), 'x');
      } else writeFileSync(join(dir, n), 'x');
    }
    await writeFile(join(dir, 'in.safetensors'), original);
    await compressFile(join(dir, 'in.safetensors'), out);
    const left = new Set(await readdir(dir));
    for (const k of ['deadFile', 'deadFolder', 'otherTarget'] as const) assert.ok(!left.has(names[k]), `${k}: a dead run's temporary was kept`);
    for (const k of ['alive', 'otherHost', 'notOurs'] as const) assert.ok(left.has(names[k]), `${k} was removed`);
  });
});
