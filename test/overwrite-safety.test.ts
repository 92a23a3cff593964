// What -f / overwrite may replace (docs/SECURITY.md §5): the output itself, never a user's files that the container
// did not write, and never the input (an output equal to the input, inside the input folder, or a folder holding it).

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { wcodec } from './helpers/cli.js';

const work = await mkdtemp(join(tmpdir(), 'wcodec-overwrite-'));
after(() => rm(work, { recursive: true, force: true }));

const model = buildSafetensors([{ name: 'w', dtype: 'U8', shape: [256], data: Uint8Array.from({ length: 256 }, (_, i) => i % 7) }]).bytes;
const notes = 'my own notes, not in any container\n';

/** A folder 'src' of two files, compressed to base.wcodec; returns its path. */
function folderContainer(dir: string): string {
  mkdirSync(join(dir, 'src', 'sub'), { recursive: true });
  writeFileSync(join(dir, 'src', 'model.safetensors'), model);
  writeFileSync(join(dir, 'src', 'sub', 'config.json'), '{"a": 1}');
  const r = wcodec('compress', join(dir, 'src'), '-o', join(dir, 'base.wcodec'), '-q');
  assert.equal(r.status, 0, r.stderr);
  return join(dir, 'base.wcodec');
}

describe('-f on an output folder', () => {
  test("refuses to delete files the container did not write: OUTPUT_EXISTS naming them, the folder untouched", () => {
    const dir = join(work, 'foreign');
    const base = folderContainer(dir);
    const target = join(dir, 'target');
    mkdirSync(join(target, 'sub'), { recursive: true });
    writeFileSync(join(target, 'my-notes.txt'), notes);
    writeFileSync(join(target, 'model.safetensors'), 'an older model');
    const r = wcodec('decompress', base, '-o', target, '-f', '-q');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /OUTPUT_EXISTS: the output folder holds 1 entry the container does not \('my-notes\.txt'\)/);
    assert.equal(readFileSync(join(target, 'my-notes.txt'), 'utf8'), notes);
    assert.equal(readFileSync(join(target, 'model.safetensors'), 'utf8'), 'an older model');
    assert.deepEqual(readdirSync(dir).sort(), ['base.wcodec', 'src', 'target'], 'a temporary was left');
  });

  test('replaces a folder that holds only the container\'s own files (and its folders)', () => {
    const dir = join(work, 'own');
    const base = folderContainer(dir);
    const target = join(dir, 'target');
    mkdirSync(join(target, 'sub'), { recursive: true });
    writeFileSync(join(target, 'model.safetensors'), 'an older model');
    assert.equal(wcodec('decompress', base, '-o', target, '-f', '-q').status, 0);
    assert.deepEqual(readFileSync(join(target, 'model.safetensors')), Buffer.from(model));
    assert.equal(readFileSync(join(target, 'sub', 'config.json'), 'utf8'), '{"a": 1}');
    assert.equal(wcodec('decompress', base, '-o', target, '-f', '-q').status, 0, 'a second -f over its own output');
  });

  test('a file container does not replace a folder of files with -f', () => {
    const dir = join(work, 'file-over-folder');
    mkdirSync(join(dir, 'target'), { recursive: true });
    writeFileSync(join(dir, 'in.safetensors'), model);
    writeFileSync(join(dir, 'target', 'my-notes.txt'), notes);
    assert.equal(wcodec('compress', join(dir, 'in.safetensors'), '-o', join(dir, 'in.wcodec'), '-q').status, 0);
    const r = wcodec('decompress', join(dir, 'in.wcodec'), '-o', join(dir, 'target'), '-f', '-q');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /my-notes\.txt/);
    assert.equal(readFileSync(join(dir, 'target', 'my-notes.txt'), 'utf8'), notes);
  });
});

describe('an output that overlaps the input', () => {
  test('compress and decompress refuse an output equal to the input (also through a hard link), with or without -f', () => {
    const dir = join(work, 'same');
    mkdirSync(dir);
    const input = join(dir, 'in.safetensors');
    writeFileSync(input, model);
    linkSync(input, join(dir, 'link.safetensors'));
    for (const out of [input, join(dir, 'link.safetensors'), join(dir, '.', 'in.safetensors')]) {
      for (const force of [[], ['-f']]) {
        const r = wcodec('compress', input, '-o', out, ...force, '-q');
        assert.equal(r.status, 1, r.stderr);
        assert.match(r.stderr, /OUTPUT_IS_INPUT: the output is the input/);
      }
    }
    assert.deepEqual(readFileSync(input), Buffer.from(model));
    const packed = join(dir, 'in.wcodec');
    assert.equal(wcodec('compress', input, '-o', packed, '-q').status, 0);
    const before = readFileSync(packed);
    const r = wcodec('decompress', packed, '-o', packed, '-f', '-q');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /OUTPUT_IS_INPUT/);
    assert.deepEqual(readFileSync(packed), before);
  });

  test('compress refuses an output inside the input folder, which would grow with each run', () => {
    const dir = join(work, 'inside');
    mkdirSync(join(dir, 'model'), { recursive: true });
    writeFileSync(join(dir, 'model', 'a.safetensors'), model);
    for (const force of [[], ['-f']]) {
      const r = wcodec('compress', join(dir, 'model'), '-o', join(dir, 'model', 'model.wcodec'), ...force, '-q');
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /OUTPUT_IS_INPUT: the output lies inside the input folder/);
    }
    assert.deepEqual(readdirSync(join(dir, 'model')), ['a.safetensors']);
  });

  test('compress and decompress refuse an output folder that holds the input', () => {
    const dir = join(work, 'holds');
    mkdirSync(join(dir, 'model'), { recursive: true });
    writeFileSync(join(dir, 'model', 'a.safetensors'), model);
    const c = wcodec('compress', join(dir, 'model', 'a.safetensors'), '-o', join(dir, 'model'), '-f', '-q');
    assert.equal(c.status, 1, c.stderr);
    assert.match(c.stderr, /OUTPUT_IS_INPUT: the output is a folder that holds the input/);
    assert.equal(wcodec('compress', join(dir, 'model', 'a.safetensors'), '-o', join(dir, 'model', 'a.wcodec'), '-q').status, 0);
    const d = wcodec('decompress', join(dir, 'model', 'a.wcodec'), '-o', join(dir, 'model'), '-f', '-q');
    assert.equal(d.status, 1, d.stderr);
    assert.match(d.stderr, /OUTPUT_IS_INPUT: the output is a folder that holds the input/);
    assert.deepEqual(readdirSync(join(dir, 'model')).sort(), ['a.safetensors', 'a.wcodec']);
    assert.ok(existsSync(join(dir, 'model', 'a.wcodec')));
  });
});
