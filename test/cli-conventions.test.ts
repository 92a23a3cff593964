// The CLI's zstd conventions (docs/CLI.md): the default command, -d, -c, '-' for stdin and stdout, several inputs,
// default output names, -k/--rm, -o DIR/, -v/-q/-qq, --version, '--', per-command help, one-line usage errors, the
// warning before compressing a container, no progress bar off a terminal, and a missing output folder.

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Prng, bf16s, buildSafetensors } from '../tools/vectors/inputs.js';
import { wcodec, wcodecWith } from './helpers/cli.js';

const work = await mkdtemp(join(tmpdir(), 'wcodec-cli-conv-'));
after(() => rm(work, { recursive: true, force: true }));

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A small BF16 safetensors file, different for each seed. */
function model(seed: string): Uint8Array {
  const rng = Prng.forName(seed);
  return buildSafetensors([
    { name: 'a', dtype: 'BF16', shape: [40, 50], data: bf16s(Array.from({ length: 2000 }, () => rng.gauss() * 0.02)) },
    { name: 'b', dtype: 'BF16', shape: [300], data: bf16s(Array.from({ length: 300 }, () => rng.gauss())) },
  ]);
}

/** A fresh folder under the work folder. */
let folders = 0;
async function fresh(): Promise<string> {
  const dir = join(work, `t${folders++}`);
  await mkdir(dir);
  return dir;
}

test('wcodec FILE compresses to FILE.wcodec beside it and keeps the input; -d restores FILE', async () => {
  const dir = await fresh();
  const input = join(dir, 'x.safetensors');
  const bytes = model('names');
  await writeFile(input, bytes);
  const c = wcodec(input, '-q');
  assert.equal(c.status, 0, c.stderr);
  assert.ok(existsSync(join(dir, 'x.safetensors.wcodec')));
  assert.ok(existsSync(input), '-k is the default');
  await rm(input);
  const d = wcodec('-d', join(dir, 'x.safetensors.wcodec'), '-q');
  assert.equal(d.status, 0, d.stderr);
  assert.equal(sha(await readFile(input)), sha(bytes));
  const k = wcodec('-k', '-f', input, '-q');
  assert.equal(k.status, 0, k.stderr);
});

test('a folder m/ compresses to m.wcodec and decompresses to m/', async () => {
  const dir = await fresh();
  const m = join(dir, 'm');
  await mkdir(m);
  await writeFile(join(m, 'model.safetensors'), model('folder'));
  await writeFile(join(m, 'config.json'), '{}\n');
  assert.equal(wcodec(m + '/', '-q').status, 0);
  assert.ok(existsSync(join(dir, 'm.wcodec')));
  await rm(m, { recursive: true });
  const d = wcodec('decompress', join(dir, 'm.wcodec'), '-q');
  assert.equal(d.status, 0, d.stderr);
  assert.deepEqual((await readdir(m)).sort(), ['config.json', 'model.safetensors']);
  for (const target of ['into', 'empty']) {
    if (target === 'empty') await mkdir(join(dir, target));
    const r = wcodec('-d', join(dir, 'm.wcodec'), '-o', join(dir, target) + '/', '-q');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual((await readdir(join(dir, target))).sort(), ['config.json', 'model.safetensors'], `-o ${target}/`);
  }
  const noSuffix = join(dir, 'plain');
  await writeFile(noSuffix, await readFile(join(dir, 'm.wcodec')));
  const r = wcodec('-d', noSuffix);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /does not end in \.wcodec.*-o/);
});

test('several inputs in one call, and -o DIR/ for several', async () => {
  const dir = await fresh();
  const inputs = ['p.safetensors', 'q.safetensors'].map((n) => join(dir, n));
  for (const [k, p] of inputs.entries()) await writeFile(p, model(`several-${k}`));
  const c = wcodec(...inputs);
  assert.equal(c.status, 0, c.stderr);
  for (const p of inputs) assert.ok(existsSync(p + '.wcodec'));
  const out = join(dir, 'out') + '/';
  const d = wcodec('-d', ...inputs.map((p) => p + '.wcodec'), '-o', out, '-q');
  assert.equal(d.status, 0, d.stderr);
  for (const p of inputs) assert.equal(sha(await readFile(join(out, p.slice(dir.length + 1)))), sha(await readFile(p)));
  const bad = wcodec(...inputs, '-o', join(dir, 'one.wcodec'));
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /2 inputs need -o DIR\//);
});

test("'-' reads stdin and writes stdout; -c and '-o -' write stdout, never a file named '-'", async () => {
  const dir = await fresh();
  const bytes = model('stdio');
  const input = join(dir, 'x.safetensors');
  await writeFile(input, bytes);
  const packed = wcodecWith({ input: bytes, cwd: dir }, '-', '-q');
  assert.equal(packed.status, 0, packed.stderr);
  assert.equal(packed.stdout.subarray(1, 7).toString('latin1'), 'WCODEC');
  const back = wcodecWith({ input: packed.stdout, cwd: dir }, '-d', '-', '-q');
  assert.equal(back.status, 0, back.stderr);
  assert.equal(sha(back.stdout), sha(bytes));
  const c = wcodecWith({ cwd: dir }, '-c', input, '-q');
  assert.equal(c.status, 0, c.stderr);
  const o = wcodecWith({ cwd: dir }, input, '-o', '-', '-q');
  assert.equal(o.status, 0, o.stderr);
  assert.equal(existsSync(join(dir, '-')), false);
  assert.deepEqual(o.stdout, c.stdout);
  await writeFile(join(dir, 'y.wcodec'), c.stdout);
  const dc = wcodecWith({ cwd: dir }, '-dc', join(dir, 'y.wcodec'));
  assert.equal(sha(dc.stdout), sha(bytes));
  // Stdin to a named output, and a corrupt container on stdin names '<stdin>' (not the temporary copy).
  const named = wcodecWith({ input: packed.stdout, cwd: dir }, '-d', '-', '-o', join(dir, 'from-stdin.safetensors'), '-q');
  assert.equal(named.status, 0, named.stderr);
  assert.equal(sha(await readFile(join(dir, 'from-stdin.safetensors'))), sha(bytes));
  const broken = Buffer.from(packed.stdout);
  broken[200] ^= 0x40;
  const bad = wcodecWith({ input: broken, cwd: dir }, '-d', '-', '-o', join(dir, 'z.safetensors'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /<stdin> at offset \d+/);
  assert.doesNotMatch(bad.stderr, /wcodec-stdin-/);
  assert.equal(existsSync(join(dir, 'z.safetensors')), false);
});

test('--rm removes each input only once its output is complete and verified', async () => {
  const dir = await fresh();
  const input = join(dir, 'x.safetensors');
  const bytes = model('rm');
  await writeFile(input, bytes);
  const c = wcodec('--rm', input, '-q');
  assert.equal(c.status, 0, c.stderr);
  assert.equal(existsSync(input), false);
  const d = wcodec('-d', '--rm', input + '.wcodec', '-q');
  assert.equal(d.status, 0, d.stderr);
  assert.equal(existsSync(input + '.wcodec'), false);
  assert.equal(sha(await readFile(input)), sha(bytes));
  // A failing run keeps its input.
  await writeFile(input + '.wcodec', 'not a container');
  await rm(input);
  assert.equal(wcodec('-d', '--rm', input + '.wcodec').status, 2);
  assert.ok(existsSync(input + '.wcodec'));
  assert.equal(wcodec('-k', '--rm', input).status, 1);
});

test('-o DIR/ writes a one-file container into DIR; a missing output folder is a clear error naming the output', async () => {
  const dir = await fresh();
  const input = join(dir, 'x.safetensors');
  const bytes = model('dir');
  await writeFile(input, bytes);
  assert.equal(wcodec(input, '-o', join(dir, 'packed') + '/', '-q').status, 0);
  assert.ok(existsSync(join(dir, 'packed', 'x.safetensors.wcodec')));
  const d = wcodec('decompress', join(dir, 'packed', 'x.safetensors.wcodec'), '-o', join(dir, 'restored') + '/', '-q');
  assert.equal(d.status, 0, d.stderr);
  assert.equal(sha(await readFile(join(dir, 'restored', 'x.safetensors'))), sha(bytes));
  const missing = join(dir, 'no', 'such', 'x.wcodec');
  for (const r of [wcodec(input, '-o', missing), wcodec('-d', join(dir, 'packed', 'x.safetensors.wcodec'), '-o', join(dir, 'no', 'x'))]) {
    assert.equal(r.status, 1);
    assert.match(r.stderr, /IO_ERROR: the folder that would hold the output, '.*no.*', does not exist/);
    assert.doesNotMatch(r.stderr, /wcodec-tmp/);
  }
});

test('-q hides the summary, -qq warnings too, -v lists the files of a folder; no progress bar off a terminal', async () => {
  const dir = await fresh();
  const input = join(dir, 'x.safetensors');
  await writeFile(input, model('quiet'));
  const loud = wcodec(input);
  assert.equal(loud.status, 0);
  assert.match(loud.stderr, /x\.safetensors: .* -> .*x\.safetensors\.wcodec/);
  assert.doesNotMatch(loud.stderr, /\r|\x1b/, 'no progress bar when stderr is not a terminal');
  assert.equal(wcodec(input, '-f', '-q').stderr, '');
  const odd = join(dir, 'odd.safetensors');
  await writeFile(odd, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 2, 3]));
  assert.match(wcodec(odd, '-q').stderr, /warning/);
  assert.equal(wcodec(odd, '-f', '-qq').stderr, '');
  const m = join(dir, 'm');
  await mkdir(m);
  await writeFile(join(m, 'a.safetensors'), model('v1'));
  await writeFile(join(m, 'b.json'), '{}');
  const v = wcodec('-v', m);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stderr, /file 1 of 2: a\.safetensors\n.*file 2 of 2: b\.json/s);
});

test('--version and -V print the version; -- ends the options', async () => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const r = wcodec(flag);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^wcodec ${pkg.version.replace(/\./g, '\\.')} `));
  }
  const dir = await fresh();
  await writeFile(join(dir, '-x.safetensors'), model('dashes'));
  const r = wcodecWith({ cwd: dir }, '-q', '--', '-x.safetensors');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(join(dir, '-x.safetensors.wcodec')));
});

test('each command has its own --help, every help fits 80 columns; usage errors are one line with a hint', () => {
  const texts = new Map<string, string>();
  for (const args of [['--help'], ['-h'], ['compress', '--help'], ['decompress', '--help'], ['-d', '--help'], ['info', '--help'], ['verify', '--help']]) {
    const r = wcodec(...args);
    assert.equal(r.status, 0, r.stderr);
    for (const line of r.stdout.split('\n')) assert.ok(line.length <= 80, `${args.join(' ')}: ${line.length} columns: ${line}`);
    texts.set(args.join(' '), r.stdout);
  }
  assert.equal(texts.get('--help'), texts.get('-h'));
  assert.equal(texts.get('decompress --help'), texts.get('-d --help'));
  assert.equal(new Set(texts.values()).size, 5, 'the overview and four command helps differ');
  const cases: [string[], RegExp][] = [
    [['-x', 'a'], /^wcodec: unknown option '-x' \(see 'wcodec --help'\)\n$/],
    [['info', '--bogus', 'a'], /^wcodec: unknown option '--bogus' \(see 'wcodec info --help'\)\n$/],
    [['info', '--huffman', 'a'], /^wcodec: --huffman applies to compress, not info \(see 'wcodec info --help'\)\n$/],
    [['a', '-o'], /^wcodec: -o, --output needs a value \(see 'wcodec --help'\)\n$/],
    [[], /^wcodec: no input given .*\(see 'wcodec --help'\)\n$/],
  ];
  for (const [args, re] of cases) {
    const r = wcodec(...args);
    assert.equal(r.status, 1, args.join(' '));
    assert.match(r.stderr, re);
  }
});

test('compressing a .wcodec file warns that it will not get smaller', async () => {
  const dir = await fresh();
  const input = join(dir, 'x.safetensors');
  await writeFile(input, model('again'));
  assert.equal(wcodec(input, '-q').status, 0);
  const r = wcodec(input + '.wcodec');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: .*x\.safetensors\.wcodec is already a \.wcodec container: .*not make it smaller/);
});
