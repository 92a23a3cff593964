// Walking a stranger's model folder (docs/SECURITY.md, "Output safety" and "Threat model"): link loops, two links
// into one folder and dangling links are refused with IO_ERROR instead of an untyped error, an endless walk or an
// exponential one; ordinary links (a Hugging Face cache snapshot) are followed.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WcodecError } from '../src/errors.js';
import { listFolder } from '../src/node/folder-walk.js';

const work = await mkdtemp(join(tmpdir(), 'wcodec-walk-'));
after(() => rm(work, { recursive: true, force: true }));

/** A fresh folder under `work` built from `files` (path -> content) and `links` (path -> target). */
function folder(name: string, files: Record<string, string>, links: Record<string, string> = {}): string {
  const root = join(work, name);
  mkdirSync(root);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  for (const [p, target] of Object.entries(links)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    symlinkSync(target, join(root, p));
  }
  return root;
}

const refused = (root: string, pattern: RegExp) =>
  assert.rejects(listFolder(root), (e: unknown) => {
    assert.ok(e instanceof WcodecError, `untyped: ${String(e)}`);
    assert.equal(e.code, 'IO_ERROR');
    assert.match(e.message, pattern);
    return true;
  });

describe('folder walk', { skip: process.platform === 'win32' ? 'symbolic links need privileges' : false }, () => {
  test('file and folder links are followed, in path order', async () => {
    const outside = folder('outside', { 'x.txt': 'x' });
    const root = folder('snapshot', { 'blobs/1': 'a', 'blobs/2': 'b' }, { 'model.safetensors': 'blobs/1', 'config.json': 'blobs/2', 'linked': outside });
    assert.deepEqual(await listFolder(root), ['blobs/1', 'blobs/2', 'config.json', 'linked/x.txt', 'model.safetensors']);
  });

  test('a second link into a folder already walked is refused (its files would appear twice)', async () => {
    await refused(folder('twice', { 'real/x.txt': 'x' }, { 'again': 'real' }), /reached twice/);
  });

  test('a link back to an ancestor is refused at once', async () => {
    await refused(folder('loop', { 'a.txt': 'a' }, { 'sub/up': '..' }), /reached twice/);
  });

  test('two links to the parent at each of many levels: refused, not 2^40 paths', async () => {
    const links: Record<string, string> = {};
    for (let d = 0; d < 5; d++) {
      const at = 'd/'.repeat(d);
      links[`${at}x`] = '.';
      links[`${at}y`] = '.';
    }
    const t0 = performance.now();
    await refused(folder('fan', { 'f.txt': 'f' }, links), /reached twice/);
    assert.ok(performance.now() - t0 < 2000);
  });

  test('a dangling link is IO_ERROR naming it', async () => {
    await refused(folder('dangling', { 'a.txt': 'a' }, { 'gone': 'nowhere' }), /cannot read/);
  });
});
