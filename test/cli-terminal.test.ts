// Names from a stranger's container cannot drive the terminal (docs/SECURITY.md, "Terminal output"): `wcodec info`
// and error messages print control and bidirectional-formatting characters as visible escapes.

import '../src/io/node-sha256.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { printable } from '../src/cli/printable.js';
import { ContainerWriter } from '../src/pipeline/container-writer.js';
import { MemorySink, MemorySource } from '../src/io/byte-source.js';
import { readSafetensorsLayout } from '../src/safetensors/read-layout.js';
import { editIndex } from '../tools/vectors/surgery.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { folderContainer } from './fuzz/seeds.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const work = await mkdtemp(join(tmpdir(), 'wcodec-terminal-'));
after(() => rm(work, { recursive: true, force: true }));

/** Clear screen, set the window title, a C1 CSI, and a right-to-left override. */
const HOSTILE = 'w\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202eexe.txt';
/** What must not reach the terminal raw (line feeds end lines, so they may). */
const UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/**
 * A container of `files` split as safetensors with any dtype: the encoder stores a file with a dtype the safetensors
 * library does not know as bytes (FORMAT.md §4.4), but a stranger's container may hold any dtype string.
 */
async function opaqueDtypeContainer(kind: 'file' | 'folder', files: { path: string; bytes: Uint8Array }[]): Promise<Uint8Array> {
  const sink = new MemorySink();
  const writer = await ContainerWriter.start(sink, kind);
  for (const f of files) {
    const source = new MemorySource(f.bytes, f.path);
    await writer.addFile(f.path, source, true, await readSafetensorsLayout(source, { opaqueDtypes: true }));
  }
  await writer.finish();
  return sink.toBytes();
}

const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } => {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};

test('printable escapes controls and bidi formatting, and leaves other text alone', () => {
  assert.equal(printable('a\u001b[2Jb\n\u009b\u202e\u2066é€😀'), 'a\\x1b[2Jb\\x0a\\x9b\\u202e\\u2066é€😀');
  assert.equal(printable('model.layers.0.weight'), 'model.layers.0.weight');
});

test('wcodec info prints hostile tensor names, dtypes and member paths as escapes', async () => {
  const st = buildSafetensors([{ name: HOSTILE, dtype: 'Q\u001b[1m', shape: [2], data: new Uint8Array(2) }]).bytes;
  const file = join(work, 'names.wcodec');
  await writeFile(file, await opaqueDtypeContainer('file', [{ path: 'm.safetensors', bytes: st }]));
  const folder = join(work, 'paths.wcodec');
  await writeFile(folder, await opaqueDtypeContainer('folder', [{ path: `d/${HOSTILE}.safetensors`, bytes: st }]));
  for (const f of [file, folder]) {
    const r = cli('info', f);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(!UNSAFE.test(r.stdout), `raw control characters in: ${JSON.stringify(r.stdout)}`);
    assert.ok(r.stdout.includes('w\\x1b[2J\\x1b]0;pwned\\x07\\x9b31m\\u202eexe.txt'), r.stdout);
  }
});

test('an error naming a hostile member path prints it as escapes', async () => {
  const st = buildSafetensors([{ name: 'w', dtype: 'U8', shape: [1], data: new Uint8Array(1) }]).bytes;
  const good = await folderContainer([{ path: 'a.safetensors', bytes: st }]);
  const bad = await editIndex(good, (index) => {
    index.members[0].path = `../${HOSTILE}`;
  });
  const file = join(work, 'bad-path.wcodec');
  await writeFile(file, bad);
  const r = cli('decompress', file, '-o', join(work, 'out'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /BAD_PATH/);
  assert.ok(!UNSAFE.test(r.stderr), `raw control characters in: ${JSON.stringify(r.stderr)}`);
});
