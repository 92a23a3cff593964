// Files as a user left them (FORMAT.md §3.2, version 3 member records): modes, modification times, empty folders,
// in-folder symbolic links kept as links, names that are not UTF-8 or hold `\` and `:`; and the refusals that keep a
// restored folder self-contained.

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, utimesSync, writeFileSync, lutimesSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressFile, decompressFile } from '../src/node/file-api.js';
import { nativeNameProblem } from '../src/node/file-api.js';
import { compressBuffer } from '../src/index.js';
import { ContainerWriter } from '../src/pipeline/container-writer.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { displayPath, unsafeLinkTargetReason } from '../src/pipeline/index-codec.js';
import { MemorySink, MemorySource } from '../src/io/byte-source.js';
import { WcodecError } from '../src/errors.js';

const work = await mkdtemp(join(tmpdir(), 'wcodec-attrs-'));
after(() => rm(work, { recursive: true, force: true }));

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const T1 = 1_600_000_000_123_456; // microseconds
const T2 = 1_700_000_000_654_321;
const setTime = (p: string | Buffer, us: number, link = false): void => (link ? lutimesSync : utimesSync)(p, (us + 0.5) / 1e6, (us + 0.5) / 1e6);
const mtimeUs = (p: string | Buffer): bigint => lstatSync(p, { bigint: true }).mtimeNs / 1000n;

/** A folder holding every kind of entry compressFile keeps; returns its path. */
function sampleFolder(name: string): string {
  const root = join(work, name);
  const outside = join(work, `${name}-outside`);
  mkdirSync(join(root, 'sub', 'deep'), { recursive: true });
  mkdirSync(join(root, 'empty'));
  mkdirSync(outside);
  writeFileSync(join(root, 'private.bin'), 'secret');
  chmodSync(join(root, 'private.bin'), 0o600);
  writeFileSync(join(root, 'run.sh'), '#!/bin/sh\n');
  chmodSync(join(root, 'run.sh'), 0o755);
  writeFileSync(join(root, 'sub', 'deep', 'x.txt'), 'x');
  writeFileSync(join(outside, 'blob'), 'outside content');
  symlinkSync('sub/deep/x.txt', join(root, 'to-file'));
  symlinkSync('sub', join(root, 'to-folder'));
  symlinkSync('../x.txt', join(root, 'sub', 'deep', 'up')); // climbs one level from a link two levels deep: kept
  symlinkSync(join(outside, 'blob'), join(root, 'absolute')); // followed: content stored
  symlinkSync(`../${name}-outside/blob`, join(root, 'escaping')); // followed: content stored
  writeFileSync(Buffer.concat([Buffer.from(root + '/'), Buffer.from([0x6e, 0xff, 0x2e, 0x62, 0x69, 0x6e])]), 'latin-1 name'); // "n\xff.bin"
  writeFileSync(join(root, 'back\\slash:colon'), 'odd name');
  for (const f of ['private.bin', 'run.sh', 'sub/deep/x.txt', 'back\\slash:colon']) setTime(join(root, f), T1);
  setTime(join(root, 'empty'), T2);
  setTime(join(root, 'to-file'), T2, true);
  chmodSync(join(root, 'empty'), 0o750);
  return root;
}

describe('file attributes', { skip: process.platform === 'win32' ? 'symbolic links and byte names need Linux' : false }, () => {
  test('a folder round-trips with modes, times, an empty folder, links and odd names; compressing it again gives the same bytes', async () => {
    const root = sampleFolder('tree');
    const c1 = join(work, 'tree.wcodec');
    const r = await compressFile(root, c1);
    const warned = r.warnings.map((w) => w.path).sort();
    assert.deepEqual(warned, ['back\\slash:colon', 'n\\xff.bin']);
    const byPath = new Map(r.index.members.map((m) => [m.path, m]));
    assert.equal(byPath.get('to-file')?.type, 'link');
    assert.equal(byPath.get('to-folder')?.type, 'link');
    assert.equal(byPath.get('sub/deep/up')?.type, 'link');
    assert.equal(byPath.get('empty')?.type, 'folder');
    assert.equal(byPath.get('absolute')?.type, undefined);
    assert.equal(byPath.get('escaping')?.type, undefined);
    assert.deepEqual(byPath.get('n\\xff.bin')?.pathBytes, new Uint8Array([0x6e, 0xff, 0x2e, 0x62, 0x69, 0x6e]));

    const out = join(work, 'tree-out');
    await decompressFile(c1, out);
    assert.equal(statSync(join(out, 'private.bin')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'run.sh')).mode & 0o777, 0o755);
    assert.equal(statSync(join(out, 'empty')).mode & 0o777, 0o750);
    assert.ok(statSync(join(out, 'empty')).isDirectory());
    assert.deepEqual(readdirSync(join(out, 'empty')), []);
    assert.equal(mtimeUs(join(out, 'private.bin')), BigInt(T1));
    assert.equal(mtimeUs(join(out, 'sub', 'deep', 'x.txt')), BigInt(T1));
    assert.equal(mtimeUs(join(out, 'empty')), BigInt(T2));
    assert.equal(mtimeUs(join(out, 'to-file')), BigInt(T2));
    assert.equal(readlinkSync(join(out, 'to-file')), 'sub/deep/x.txt');
    assert.equal(readlinkSync(join(out, 'to-folder')), 'sub');
    assert.equal(readlinkSync(join(out, 'sub', 'deep', 'up')), '../x.txt');
    assert.equal(readFileSync(join(out, 'to-folder', 'deep', 'x.txt'), 'utf8'), 'x');
    assert.ok(lstatSync(join(out, 'absolute')).isFile());
    assert.equal(readFileSync(join(out, 'absolute'), 'utf8'), 'outside content');
    assert.equal(readFileSync(join(out, 'escaping'), 'utf8'), 'outside content');
    assert.equal(readFileSync(Buffer.from(out + '/n\xff.bin', 'latin1')).toString(), 'latin-1 name');
    assert.equal(readFileSync(join(out, 'back\\slash:colon'), 'utf8'), 'odd name');

    // Determinism: the same tree and times give the same container, also from the restored copy.
    const c2 = join(work, 'tree2.wcodec');
    await compressFile(root, c2);
    assert.deepEqual(await readFile(c2), await readFile(c1));
    const again = (await compressFile(out, join(work, 'tree4.wcodec'))).index.members.map((m) => [m.path, m.type, m.mode, m.mtimeUs]);
    const first = r.index.members.filter((m) => m.path !== 'absolute' && m.path !== 'escaping').map((m) => [m.path, m.type, m.mode, m.mtimeUs]);
    assert.deepEqual(again.filter(([p]) => p !== 'absolute' && p !== 'escaping'), first);

    // Overwriting the restored folder with the same container is allowed: its links and empty folder are its own.
    await decompressFile(c1, out, { overwrite: true });
    assert.equal(readlinkSync(join(out, 'to-file')), 'sub/deep/x.txt');
  });

  test('a single file keeps its mode and time; setuid, setgid and sticky bits are recorded and not restored', async () => {
    const f = join(work, 'tool.bin');
    writeFileSync(f, 'tool');
    chmodSync(f, 0o4751);
    setTime(f, T1);
    const c = join(work, 'tool.wcodec');
    const r = await compressFile(f, c);
    assert.equal(r.index.members[0].mode, 0o4751);
    assert.equal(r.index.members[0].mtimeUs, T1);
    await decompressFile(c, join(work, 'tool.out'));
    assert.equal(statSync(join(work, 'tool.out')).mode & 0o7777, 0o751);
    assert.equal(mtimeUs(join(work, 'tool.out')), BigInt(T1));
  });

  test('compressBuffer records no attributes', async () => {
    const reader = await ContainerReader.open(new MemorySource(await compressBuffer(enc('abc'), { name: 'a.bin' })));
    const [m] = reader.index.members;
    assert.deepEqual([m.type, m.mode, m.mtimeUs, m.pathBytes], [undefined, undefined, undefined, undefined]);
  });
});

/** A folder container written member by member with the writer (members: path, bytes, attributes). */
async function container(members: { path: string; bytes?: Uint8Array; type?: 'link' | 'folder' }[]): Promise<Uint8Array> {
  const sink = new MemorySink();
  const w = await ContainerWriter.start(sink, 'folder');
  for (const m of members) await w.addFile(m.path, new MemorySource(m.bytes ?? new Uint8Array(0), m.path), false, undefined, { type: m.type });
  await w.finish();
  return sink.toBytes();
}

const refusal = (code: string, pattern: RegExp) => (e: unknown): boolean => {
  assert.ok(e instanceof WcodecError, String(e));
  assert.equal(e.code, code);
  assert.match(e.message, pattern);
  return true;
};

describe('refusals', () => {
  test('link targets that are empty, hold NUL, are absolute, climb after descending or above the output folder', () => {
    const at = enc('a/b/link');
    assert.equal(unsafeLinkTargetReason(at, enc('../../x')), undefined);
    assert.equal(unsafeLinkTargetReason(at, enc('./y/z')), undefined);
    assert.match(unsafeLinkTargetReason(at, enc(''))!, /empty/);
    assert.match(unsafeLinkTargetReason(at, enc('x\0y'))!, /NUL/);
    assert.match(unsafeLinkTargetReason(at, enc('/etc'))!, /absolute/);
    assert.match(unsafeLinkTargetReason(at, enc('../../../x'))!, /outside/);
    assert.match(unsafeLinkTargetReason(at, enc('d/..'))!, /after descending/); // d -> . would make it the output's parent
  });

  test('a decoder refuses a link leading outside and a member below a link (link a -> /etc, then a/passwd)', async () => {
    const escaping = await container([{ path: 'l', bytes: enc('../x'), type: 'link' }]);
    const reader = await ContainerReader.open(new MemorySource(escaping, 'escaping'));
    await assert.rejects(reader.decodeMember(reader.index.members[0], new MemorySink()), refusal('BAD_PATH', /symbolic link 'l': link target climbs 1 folders/));
    const f = join(work, 'escaping.wcodec');
    writeFileSync(f, escaping);
    await assert.rejects(decompressFile(f, join(work, 'escaping-out')), refusal('BAD_PATH', /leads outside/));
    assert.throws(() => readdirSync(join(work, 'escaping-out')));
    // Link 'a' -> /etc and then member 'a/passwd' (the classic tar attack): the prefix rule refuses it when the index is read.
    const below = await container([{ path: 'a', bytes: enc('/etc'), type: 'link' }, { path: 'a/passwd', bytes: enc('root') }]);
    await assert.rejects(ContainerReader.open(new MemorySource(below, 'below')), refusal('BAD_PATH', /member 'a' is also a folder of 'a\/passwd'/));
  });

  test('names Windows reads as separators, drives or streams are refused there, and shown with escapes where not UTF-8', () => {
    assert.match(nativeNameProblem(enc('a\\b'), 'win32')!, /separator/);
    assert.match(nativeNameProblem(enc('c:x'), 'win32')!, /drive or stream/);
    assert.equal(nativeNameProblem(enc('a\\b:c'), 'linux'), undefined);
    assert.equal(displayPath(new Uint8Array([0x61, 0xc3, 0xa9, 0xff, 0xc3])), 'aé\\xff\\xc3');
  });
});
