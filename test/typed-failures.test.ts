// Failures of the environment and misuse of the API end in typed errors (docs/SECURITY.md §1, "Only typed errors"):
// a folder where a container is expected, an input rewritten while it is compressed, a closed checkpoint, and a
// folder container handed to the single-file buffer API.

import '../src/io/node-sha256.js';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { WcodecError } from '../src/errors.js';
import { ContainerWriter } from '../src/pipeline/container-writer.js';
import { MemorySink, type ByteSource } from '../src/io/byte-source.js';
import { compressFile, decompressFile, openCheckpoint } from '../src/node/file-api.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { wcodec } from './helpers/cli.js';
import { folderContainer } from './fuzz/seeds.js';
import { Rng } from './helpers/prng.js';

const work = await mkdtemp(join(tmpdir(), 'wcodec-typed-'));
after(() => rm(work, { recursive: true, force: true }));

const isCode = (code: string, file?: string) => (e: unknown): boolean => {
  assert.ok(e instanceof WcodecError, `not a WcodecError: ${(e as Error)?.stack ?? e}`);
  assert.equal(e.code, code, e.message);
  if (file !== undefined) assert.equal(e.file, file);
  return true;
};

/** Low-entropy bytes: every value below 16, so a pass that later sees 0xff meets a symbol it never counted. */
function nibbles(n: number, seed: number): Uint8Array {
  const b = new Rng(seed).bytes(n);
  for (let i = 0; i < n; i++) b[i] &= 0x0f;
  return b;
}

/** A source whose bytes change once the first read at offset 0 is done, as a file rewritten between two passes would. */
class ChangingSource implements ByteSource {
  readonly size: number;
  private readsAtZero = 0;
  constructor(private first: Uint8Array, private later: Uint8Array, readonly name = 'changing.bin') {
    this.size = first.length;
  }
  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset === 0) this.readsAtZero++;
    const b = this.readsAtZero <= 1 ? this.first : this.later;
    return b.slice(offset, offset + length);
  }
  async close(): Promise<void> {}
}

describe('typed errors: a folder given where a container file is expected', () => {
  test('openCheckpoint and decompressFile refuse a folder with IO_ERROR naming it', async () => {
    const dir = join(work, 'a-folder.wcodec');
    await mkdir(dir);
    await assert.rejects(openCheckpoint(dir), isCode('IO_ERROR', dir));
    await assert.rejects(decompressFile(dir, join(work, 'never')), isCode('IO_ERROR', dir));
    assert.ok(!(await readdir(work)).includes('never'));
  });

  test('wcodec info, verify and decompress on a folder exit 1 with IO_ERROR, not an internal error', async () => {
    const dir = join(work, 'cli-folder');
    await mkdir(dir);
    for (const args of [['info', dir], ['verify', dir], ['decompress', dir, '-o', join(work, 'cli-out')]]) {
      const r = wcodec(...args, '-q');
      assert.equal(r.status, 1, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /IO_ERROR: not a regular file \(a folder\).*cli-folder/);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
  });
});

describe('typed errors: an input that changes while it is compressed', () => {
  for (const [label, options] of [
    ['TypeScript engine', { engine: 'ts' as const, threads: 1 }],
    ['WebAssembly engine', { threads: 1 }],
    ['2 threads (error crosses from a worker)', { threads: 2, minPoolBytes: 0 }],
  ] as const) {
    test(`a symbol the first pass never counted is INPUT_CHANGED naming the input (${label})`, async () => {
      const first = nibbles(256 * 1024, 1);
      const later = first.slice();
      for (let i = 100; i < later.length; i += 997) later[i] = 0xff;
      const writer = await ContainerWriter.start(new MemorySink(), 'file', { chunkBytes: 16 * 1024, ...options });
      await assert.rejects(writer.addFile('changing.bin', new ChangingSource(first, later), false), (e) => {
        isCode('INPUT_CHANGED', 'changing.bin')(e);
        assert.match((e as Error).message, /changed/);
        return true;
      });
    });
  }

  test('compressFile of a file rewritten between the passes (same size, same symbols) is INPUT_CHANGED; no output', async () => {
    const input = join(work, 'rewritten.bin');
    const first = nibbles(1 << 20, 2);
    await writeFile(input, first);
    const output = join(work, 'rewritten.wcodec');
    let rewritten = false;
    await assert.rejects(
      compressFile(input, output, {
        threads: 1,
        onProgress: () => {
          if (rewritten) return;
          rewritten = true;
          writeFileSync(input, first.slice().reverse()); // the same symbols in another order: no coder notices
        },
      }),
      isCode('INPUT_CHANGED', input),
    );
    assert.ok(rewritten);
    assert.deepEqual((await readdir(work)).filter((f) => f.includes('rewritten.wcodec')), [], 'output or temporary left');
  });
});

describe('misuse: a closed checkpoint', () => {
  test('read and find after close() throw a TypeError naming the container; close() twice is harmless', async () => {
    const file = buildSafetensors([{ name: 'w', dtype: 'U8', shape: [64], data: new Uint8Array(64).fill(3) }]).bytes;
    const path = join(work, 'closed.wcodec');
    await writeFile(path, await compressBuffer(file));
    const cp = await openCheckpoint(path);
    assert.equal((await cp.read('w')).bytes.length, 64);
    await cp.close();
    await cp.close();
    await assert.rejects(cp.read('w'), (e) => e instanceof TypeError && /closed\.wcodec is closed/.test(e.message));
    await assert.rejects(cp.find('w'), TypeError);
  });
});

describe('misuse: a folder container given to decompressBuffer', () => {
  test('is refused with WRONG_KIND naming the APIs that read folders, not returned as the members concatenated', async () => {
    const a = new TextEncoder().encode('first file');
    const b = new TextEncoder().encode('second file');
    const container = await folderContainer([{ path: 'a.txt', bytes: a }, { path: 'b/c.txt', bytes: b }]);
    await assert.rejects(decompressBuffer(container, { name: 'folder.wcodec' }), (e) => {
      isCode('WRONG_KIND', 'folder.wcodec')(e);
      assert.match((e as Error).message, /openContainer/);
      assert.match((e as Error).message, /decompressFile/);
      return true;
    });
  });
});
