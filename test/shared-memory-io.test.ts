// Sources and sinks that share memory with workers: AtomicFileSink.sharedAhead places bytes ahead of the write
// position (counted from the bytes passed to write(), a write still under way included) so that writing those views
// in order gives the same file as writing copies; BufferSink.sharedAhead in its shared buffer; ReadAheadSource gives
// the file's bytes for reads in order, across its blocks, elsewhere and past the end, and keeps every view a reader
// has not released intact while it reads on.

import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtomicFileSink, FileSource } from '../src/io/file-source.js';
import { BufferSink } from '../src/io/byte-source.js';
import { ReadAheadSource } from '../src/io/read-ahead-source.js';
import { WcodecError } from '../src/errors.js';
import { Rng, testSeed } from './helpers/prng.js';

const dir = await mkdtemp(join(tmpdir(), 'wcodec-shared-io-'));
after(() => rm(dir, { recursive: true, force: true }));

function randomBytes(rng: Rng, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let k = 0; k < n; k++) b[k] = rng.int(256);
  return b;
}

describe('shared-memory sources and sinks', () => {
  test('AtomicFileSink: views ahead, filled out of order and while writes are under way, give the same file as copies', async () => {
    const rng = new Rng(testSeed(0x5a4e));
    const sizes: number[] = [];
    for (let total = 0; total < 30 * 2 ** 20; ) {
      const n = 1 + rng.int(700 * 1024);
      sizes.push(n);
      total += n;
    }
    const starts = sizes.map((_, k) => sizes.slice(0, k).reduce((a, b) => a + b, 0));
    const data = randomBytes(rng, starts[starts.length - 1] + sizes[sizes.length - 1]);
    const piece = (k: number): Uint8Array => data.subarray(starts[k], starts[k] + sizes[k]);
    const target = join(dir, 'out.bin');
    const sink = await AtomicFileSink.create(target, { overwrite: true });
    const placed = new Map<number, Uint8Array>();
    let given = 0;
    let inPlace = 0;
    const AHEAD = 24;
    for (let k = 0; k < sizes.length; k++) {
      const view = placed.get(k);
      placed.delete(k);
      if (view) inPlace++;
      given += sizes[k];
      const writing = sink.write(view ?? piece(k).slice());
      // While that write may still be under way, places ahead are asked for and filled, the newest first.
      for (let j = Math.min(sizes.length - 1, k + AHEAD); j > k; j--) {
        if (placed.has(j) || rng.int(3) !== 0) continue;
        const v = sink.sharedAhead(starts[j] - given, sizes[j]);
        if (!v) continue;
        assert.ok(v.buffer instanceof SharedArrayBuffer);
        v.set(piece(j));
        placed.set(j, v);
      }
      await writing;
    }
    await sink.commit();
    assert.ok(inPlace > sizes.length / 4, `${inPlace} of ${sizes.length} pieces written in place`);
    assert.ok(Buffer.from(await readFile(target)).equals(Buffer.from(data)));
  });

  test('BufferSink: views ahead only in a shared buffer, where the bytes belong', async () => {
    const data = randomBytes(new Rng(testSeed(0xb5)), 100_000);
    const shared = new BufferSink(data.length, true);
    const v = shared.sharedAhead(40_000, 10_000)!;
    v.set(data.subarray(40_000, 50_000));
    await shared.write(data.subarray(0, 40_000));
    await shared.write(v);
    await shared.write(data.subarray(50_000));
    assert.ok(shared.bytes.buffer instanceof SharedArrayBuffer);
    assert.ok(Buffer.from(shared.bytes).equals(Buffer.from(data)));
    assert.equal(shared.sharedAhead(0, 1), undefined, 'nothing past the end');
    assert.equal(new BufferSink(10).sharedAhead(0, 5), undefined, 'an ArrayBuffer is not shared');
  });

  test('ReadAheadSource: reads in order, across blocks, elsewhere and past the end; views not released stay intact', async () => {
    const rng = new Rng(testSeed(0x4ead));
    const data = randomBytes(rng, 21 * 2 ** 20 + 12345);
    const path = join(dir, 'in.bin');
    await writeFile(path, data);
    const source = new ReadAheadSource(await FileSource.open(path));
    try {
      // A footer-like read first: it goes to the file, and the reads from the start still read ahead.
      assert.ok(Buffer.from(await source.read(data.length - 40, 40)).equals(Buffer.from(data.subarray(data.length - 40))));
      const held: { at: number; view: Uint8Array; copy: Uint8Array }[] = [];
      let at = 0;
      let shared = 0;
      while (at < data.length) {
        const n = Math.min(data.length - at, 1 + rng.int(1024 * 1024));
        const view = await source.read(at, n);
        assert.ok(Buffer.from(view).equals(Buffer.from(data.subarray(at, at + n))), `read of ${n} at ${at}`);
        if (view.buffer instanceof SharedArrayBuffer) shared++;
        held.push({ at, view, copy: view.slice() });
        at += n;
        // Released up to a few reads back: the views after that must not change.
        if (held.length > 3) source.release(held[held.length - 4].at);
      }
      assert.ok(shared > held.length / 2, `${shared} of ${held.length} reads were views of shared blocks`);
      for (const h of held.slice(-3)) assert.ok(Buffer.from(h.view).equals(Buffer.from(h.copy)), `view at ${h.at} changed`);
      // Backwards, and a read larger than a block.
      assert.ok(Buffer.from(await source.read(1000, 5000)).equals(Buffer.from(data.subarray(1000, 6000))));
      assert.ok(Buffer.from(await source.read(3, 9 * 2 ** 20)).equals(Buffer.from(data.subarray(3, 3 + 9 * 2 ** 20))));
      await assert.rejects(source.read(data.length - 10, 11), (e: unknown) => e instanceof WcodecError && e.code === 'TRUNCATED');
    } finally {
      await source.close();
    }
  });
});
