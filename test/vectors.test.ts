// Golden and invalid test vectors (test/vectors/, made by tools/make-vectors.ts; frozen once committed): every
// valid vector decodes to the recorded members, every invalid one fails with its recorded error code and offset.

import '../src/io/node-sha256.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decompressBuffer } from '../src/api/buffers.js';
import { ContainerReader, type DecodeOptions } from '../src/pipeline/container-reader.js';
import { MemorySink, MemorySource, type ByteSource } from '../src/io/byte-source.js';
import { FileSource } from '../src/io/file-source.js';
import { ERROR_CODES, WcodecError, errorClassFor } from '../src/errors.js';
import { decodeInMemory, makeVectors, manifestText, vectorReference, type InvalidManifest, type ValidManifest } from '../tools/make-vectors.js';

/** The committed vectors in the source tree (this file runs from dist/test/). */
const VECTORS = new URL('../../test/vectors/', import.meta.url);
const vectorPath = (dir: 'valid' | 'invalid', file: string): string => fileURLToPath(new URL(`${dir}/${file}`, VECTORS));
const readVector = async (dir: 'valid' | 'invalid', file: string): Promise<Uint8Array> => new Uint8Array(await readFile(vectorPath(dir, file)));
const readManifest = async <T>(dir: 'valid' | 'invalid'): Promise<T> => JSON.parse(await readFile(vectorPath(dir, 'manifest.json'), 'utf8')) as T;
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Opens a container and decodes every member on its own, as the reader exposes them; closes `source` in any case. */
async function decodeAll(source: ByteSource, options: DecodeOptions = {}): Promise<{ kind: string; members: { path: string; bytes: Uint8Array }[] }> {
  try {
    const reader = await ContainerReader.open(source);
    const members = [];
    for (const m of reader.index.members) {
      const sink = new MemorySink();
      await reader.decodeMember(m, sink, options);
      members.push({ path: m.path, bytes: sink.toBytes() });
    }
    return { kind: reader.index.kind, members };
  } finally {
    await source.close();
  }
}

/** Invalid vectors whose only fault is a segment's recorded SHA-256: the member digest still matches. */
const SEGMENT_DIGEST_ONLY = new Set(['segment-sha.wcodec', 'header-segment-sha.wcodec']);

/** Checks that `err` is the WcodecError an invalid vector records. */
function assertVectorError(err: unknown, want: InvalidManifest['vectors'][number], size: number, via: string): true {
  assert.ok(err instanceof WcodecError, `${want.file} via ${via}: threw ${String(err)}, not a WcodecError`);
  assert.equal(err.code, want.code, `${want.file} via ${via}: ${err.message}`);
  assert.ok(err instanceof errorClassFor(want.code), `${want.file} via ${via}: ${err.name} is not the class of ${want.code}`);
  if (want.offset !== null) {
    assert.equal(typeof err.offset, 'number', `${want.file} via ${via}: no offset in ${err.message}`);
    assert.ok(Number.isSafeInteger(err.offset) && err.offset! >= 0 && err.offset! <= size, `${want.file} via ${via}: offset ${err.offset} outside the ${size}-byte file`);
    assert.equal(err.offset, want.offset, `${want.file} via ${via}: ${err.message}`);
  }
  return true;
}

test('vectors: manifests list exactly the files present, with known error codes', async () => {
  const valid = await readManifest<ValidManifest>('valid');
  const invalid = await readManifest<InvalidManifest>('invalid');
  for (const [dir, listed] of [['valid', valid.vectors.map((v) => v.file)], ['invalid', invalid.vectors.map((v) => v.file)]] as const) {
    const present = (await readdir(fileURLToPath(new URL(`${dir}/`, VECTORS)))).filter((f) => f.endsWith('.wcodec')).sort();
    assert.deepEqual([...listed].sort(), present, `${dir}/: manifest and files disagree`);
    assert.equal(new Set(listed).size, listed.length, `${dir}/: a file is listed twice`);
  }
  assert.ok(valid.vectors.length >= 10 && invalid.vectors.length >= 30);
  for (const v of invalid.vectors) assert.ok((ERROR_CODES as readonly string[]).includes(v.code), `${v.file}: unknown code ${v.code}`);
});

test('vectors: every valid vector decodes to its recorded members', async (t) => {
  const manifest = await readManifest<ValidManifest>('valid');
  for (const v of manifest.vectors) {
    await t.test(v.file, async () => {
      const bytes = await readVector('valid', v.file);
      assert.equal(bytes.length, v.bytes);
      assert.equal(sha256(bytes), v.sha256, 'the committed container changed');
      // A vector with XOR deltas (format version 2) decodes against the reference file beside it.
      const reference = v.reference !== undefined ? await vectorReference(await readVector('valid', v.reference), v.reference) : undefined;
      const decoded = await decodeAll(new MemorySource(bytes, v.file), { reference });
      assert.equal(decoded.kind, v.kind);
      assert.deepEqual(decoded.members.map((m) => m.path), v.members.map((m) => m.path));
      decoded.members.forEach((m, k) => {
        assert.equal(m.bytes.length, v.members[k].bytes, `${m.path}: size`);
        assert.equal(sha256(m.bytes), v.members[k].sha256, `${m.path}: SHA-256`);
      });
      // The in-memory API gives the one member of a file container, and refuses a folder container.
      if (v.kind === 'file') assert.equal(sha256(await decompressBuffer(bytes, { reference })), sha256(decoded.members[0].bytes));
      else await assert.rejects(decompressBuffer(bytes, { reference }), (e) => e instanceof WcodecError && e.code === 'WRONG_KIND');
      // And the same through a file on disk.
      const fromFile = await decodeAll(await FileSource.open(vectorPath('valid', v.file)), { reference });
      assert.deepEqual(fromFile.members.map((m) => sha256(m.bytes)), v.members.map((m) => m.sha256));
    });
  }
});

test('vectors: every invalid vector fails with exactly its recorded code', async (t) => {
  const manifest = await readManifest<InvalidManifest>('invalid');
  for (const v of manifest.vectors) {
    await t.test(v.file, async () => {
      const bytes = await readVector('invalid', v.file);
      assert.equal(bytes.length, v.bytes);
      assert.equal(sha256(bytes), v.sha256, 'the committed container changed');
      if (SEGMENT_DIGEST_ONLY.has(v.file)) {
        // Only a segment digest is wrong: a whole-file decode checks the member digest, which the bytes satisfy
        // (FORMAT.md §7.3 item 4), so it must give back exactly the original of the valid vector it was made from.
        const base = (await readManifest<ValidManifest>('valid')).vectors.find((x) => x.file === `${v.base}.wcodec`);
        assert.ok(base, `${v.file}: base vector ${v.base} not found`);
        assert.equal(sha256(await decodeInMemory(bytes)), base.members[0].sha256);
      } else {
        await assert.rejects(decodeInMemory(bytes), (e) => assertVectorError(e, v, bytes.length, 'decompressBuffer'));
      }
      // Checking every segment digest as well (wcodec verify) rejects every invalid vector.
      await assert.rejects(
        (async () => decodeAll(await FileSource.open(vectorPath('invalid', v.file)), { checkSegmentDigests: true }))(),
        (e) => assertVectorError(e, v, bytes.length, 'FileSource'),
      );
    });
  }
});

test('vectors: regenerating them in memory gives the committed bytes and manifests', async () => {
  const fresh = await makeVectors();
  for (const dir of ['valid', 'invalid'] as const) {
    const set = fresh[dir];
    const committed = await readFile(vectorPath(dir, 'manifest.json'), 'utf8');
    assert.equal(manifestText(set.manifest), committed, `${dir}/manifest.json: the generator now writes another manifest`);
    for (const f of set.files) {
      const bytes = await readVector(dir, f.file);
      assert.ok(Buffer.compare(bytes, f.bytes) === 0, `${dir}/${f.file}: the encoder or generator now produces other bytes (vectors are frozen)`);
    }
  }
});
