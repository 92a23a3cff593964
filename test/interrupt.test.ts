// SIGINT and SIGTERM during a CLI compress or decompress (docs/SECURITY.md §5): the run removes its temporary file or
// folder, prints one line and exits 130 or 143; nothing is left at the output path or beside it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { CLI } from './helpers/cli.js';

/** Original bytes per case: a run of a second or so on one thread, so that the signal lands inside it. */
const INPUT_BYTES = 16_000_000;
const TEMP = /^\..+\.wcodec-tmp$/;

let work: string;
const inputs = ['in.safetensors', 'in-folder', 'file.wcodec', 'folder.wcodec'];

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'wcodec-interrupt-'));
  const rng = new Rng(testSeed(0x5161));
  const values = INPUT_BYTES / 2 / 2;
  const weights = (): Uint8Array => {
    const b = rng.bytes(values * 2);
    for (let i = 1; i < b.length; i += 2) b[i] = (b[i] & 0x80) | (0x3a + (b[i] & 0x03));
    return b;
  };
  writeFileSync(join(work, 'in.safetensors'), buildSafetensors([0, 1].map((k) => ({ name: `w${k}`, dtype: 'BF16', shape: [values], data: weights() }))).bytes);
  mkdirSync(join(work, 'in-folder'));
  // Four parts: decoding a folder is several times faster than coding it, and its temporary must live long enough
  // for the poll below to see it on a loaded machine.
  for (const k of [0, 1, 2, 3]) writeFileSync(join(work, 'in-folder', `part-${k}.safetensors`), buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [values], data: weights() }]).bytes);
  for (const [input, output] of [['in.safetensors', 'file.wcodec'], ['in-folder', 'folder.wcodec']]) {
    assert.equal(spawnSync(process.execPath, [CLI, 'compress', join(work, input), '-o', join(work, output), '-q']).status, 0);
  }
});

after(() => rm(work, { recursive: true, force: true }));

describe('SIGINT and SIGTERM', () => {
  const cases: [string, string[]][] = [
    ['compress a file', ['compress', 'in.safetensors']],
    ['compress a folder', ['compress', 'in-folder']],
    ['decompress a file', ['decompress', 'file.wcodec']],
    ['decompress a folder', ['decompress', 'folder.wcodec']],
  ];
  for (const [name, [command, input]] of cases) {
    for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      test(`${name}: ${signal} once the temporary exists removes it and exits ${status} with one line`, async () => {
        const output = join(work, 'out');
        const child = spawn(process.execPath, [CLI, command, join(work, input), '-o', output, '-q', '--threads', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code))); // after stderr is read
        const deadline = performance.now() + 20_000;
        const own = (): boolean => readdirSync(work).some((f) => TEMP.test(f) && f.includes(`.${child.pid}.`));
        while (!own() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 2));
        assert.ok(own(), 'the run never made its temporary');
        child.kill(signal);
        const code = await exited;
        assert.equal(code, status, stderr);
        assert.match(stderr, new RegExp(`^wcodec: interrupted by ${signal}; 1 temporary file\\(s\\) removed\\n$`));
        assert.deepEqual(readdirSync(work).filter((f) => !inputs.includes(f)), [], 'output or temporary left');
      });
    }
  }

  test('a run removes the temporaries of dead processes for any output in its folder', async () => {
    const output = join(work, 'other-out.wcodec');
    const child = spawn(process.execPath, [CLI, 'compress', join(work, 'in.safetensors'), '-o', join(work, 'killed.wcodec'), '-q', '--threads', '1'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    while (!readdirSync(work).some((f) => TEMP.test(f))) await new Promise((r) => setTimeout(r, 2));
    child.kill('SIGKILL');
    await exited;
    assert.equal(readdirSync(work).filter((f) => TEMP.test(f)).length, 1, 'SIGKILL leaves the temporary');
    const r = spawnSync(process.execPath, [CLI, 'compress', join(work, 'in-folder'), '-o', output, '-q']);
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(readdirSync(work).filter((f) => !inputs.includes(f)), ['other-out.wcodec']);
  });
});
