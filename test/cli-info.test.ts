// `wcodec info` (100 columns by default, --wide, a legend, format version, chunk size, digests per file and per
// tensor, the reference a delta container needs), the JSON every command prints (one schema: ok, command, code,
// message, file, offset; docs/CLI.md), and the progress bar's total, ETA and "file i of n".

import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Prng, bf16s, buildSafetensors } from '../tools/vectors/inputs.js';
import { ProgressBar } from '../src/cli/progress.js';
import { wcodec } from './helpers/cli.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/stories260K/stories260K.safetensors', import.meta.url));
const work = await mkdtemp(join(tmpdir(), 'wcodec-cli-info-'));
after(() => rm(work, { recursive: true, force: true }));

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Each tensor's bytes in a safetensors file, by name. */
function tensorsOf(file: Uint8Array): Map<string, Uint8Array> {
  const n = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + n))) as Record<string, { data_offsets: [number, number] }>;
  const out = new Map<string, Uint8Array>();
  for (const [name, t] of Object.entries(header)) if (name !== '__metadata__') out.set(name, file.subarray(8 + n + t.data_offsets[0], 8 + n + t.data_offsets[1]));
  return out;
}

/** The fields every JSON object of the CLI has. */
function assertShared(o: Record<string, unknown>, ok: boolean, command: string): void {
  assert.equal(o.ok, ok);
  assert.equal(o.command, command);
  for (const k of ['code', 'message', 'file', 'offset']) assert.ok(k in o, `${command}: no '${k}' in ${JSON.stringify(o)}`);
  if (ok) assert.equal(o.code, null);
  else assert.equal(typeof o.code, 'string');
}

test('info: version, chunk size, SHA-256 per file, a legend, 100 columns; --wide adds per-tensor digests', async () => {
  const packed = join(work, 'example.wcodec');
  assert.equal(wcodec(EXAMPLE, '-o', packed, '-q').status, 0);
  const original = await readFile(EXAMPLE);
  const r = wcodec('info', packed);
  assert.equal(r.status, 0, r.stderr);
  for (const line of r.stdout.split('\n')) assert.ok(line.length <= 100, `${line.length} columns: ${line}`);
  // Version 4: the byte model would save under 0.5 % of this 1.06 MB file (its 5.5 KB header), so the writer does not use it.
  assert.match(r.stdout, /format version 4, chunks of 262144 bytes/);
  assert.match(r.stdout, /reference: none needed/);
  assert.ok(r.stdout.includes(`${sha(original)}  stories260K.safetensors\n`), 'sha256sum lines');
  assert.match(r.stdout, /^planes: .*s sign bit, eN N exponent bits,\n  mN N mantissa bits/m);
  assert.doesNotMatch(r.stdout, /\b[0-9a-f]{64}\b(?!  stories)/, 'no per-tensor digests by default');
  const wide = wcodec('info', '--wide', packed);
  assert.equal(wide.status, 0, wide.stderr);
  const tensors = tensorsOf(original);
  const embed = sha(tensors.get('model.embed_tokens.weight')!);
  assert.match(wide.stdout, new RegExp(`model\\.embed_tokens\\.weight .*${embed}`));
  const json = JSON.parse(wcodec('info', '--json', packed).stdout) as Record<string, unknown> & { tensors: { name: string; sha256: string }[]; files: { sha256: string }[] };
  assertShared(json, true, 'info');
  assert.equal(json.file, packed);
  assert.equal(json.formatVersion, 4);
  assert.equal(json.chunkBytes, 262144);
  assert.equal(json.files[0].sha256, sha(original));
  for (const t of json.tensors) assert.equal(t.sha256, sha(tensors.get(t.name)!), t.name);
});

test('info names the reference a delta container needs, with each reference tensor SHA-256', async () => {
  const rng = Prng.forName('cli-info-ref');
  const base = Array.from({ length: 4000 }, () => rng.gauss() * 0.02);
  const ref = buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [4000], data: bf16s(base) }]);
  const next = buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [4000], data: bf16s(base.map((x, i) => (i % 3 ? x : x * 1.01))) }]);
  await writeFile(join(work, 'ref.safetensors'), ref);
  await writeFile(join(work, 'next.safetensors'), next);
  const delta = join(work, 'next.wcodec');
  assert.equal(wcodec(join(work, 'next.safetensors'), '--ref', join(work, 'ref.safetensors'), '-o', delta, '-q').status, 0);
  const r = wcodec('info', delta);
  assert.match(r.stdout, /reference: 1 tensor\(s\) are XOR deltas; decompress and verify need --ref PATH/);
  const json = JSON.parse(wcodec('info', delta, '--json').stdout) as { reference: { needed: boolean; tensorCount: number }; tensors: { referenceSha256?: string }[] };
  assert.deepEqual(json.reference, { needed: true, tensorCount: 1 });
  assert.equal(json.tensors[0].referenceSha256, sha(tensorsOf(ref).get('w')!));
  assert.match(wcodec('info', '--wide', delta).stdout, new RegExp(`reference sha256[\\s\\S]*${json.tensors[0].referenceSha256}`));
});

test('JSON: compress, decompress, verify, info and errors (usage errors too) share ok, command, code, message, file, offset', async () => {
  const dir = join(work, 'json');
  await mkdir(dir);
  const input = join(dir, 'x.safetensors');
  await writeFile(input, await readFile(EXAMPLE));
  const outputs: [string, string[]][] = [
    ['compress', [input, '--json']],
    ['verify', ['verify', input + '.wcodec', '--json']],
    ['info', ['info', input + '.wcodec', '--json']],
    ['decompress', ['-d', input + '.wcodec', '-o', join(dir, 'y.safetensors'), '--json']],
  ];
  for (const [command, args] of outputs) {
    const r = wcodec(...args);
    assert.equal(r.status, 0, r.stderr);
    const o = JSON.parse(r.stdout) as Record<string, unknown>;
    assertShared(o, true, command);
    if (command !== 'info') {
      assert.equal(typeof o.originalBytes, 'number', `${command}: originalBytes`);
      assert.equal(typeof o.compressedBytes, 'number', `${command}: compressedBytes`);
    }
  }
  const bytes = await readFile(input + '.wcodec');
  bytes[5000] ^= 0x10;
  await writeFile(join(dir, 'bad.wcodec'), bytes);
  const bad = wcodec('verify', join(dir, 'bad.wcodec'), '--json');
  assert.equal(bad.status, 2);
  const e = JSON.parse(bad.stdout) as Record<string, unknown>;
  assertShared(e, false, 'verify');
  assert.equal(e.file, join(dir, 'bad.wcodec'));
  assert.equal(typeof e.offset, 'number');
  const usage = wcodec('info', '--json', '--frobnicate', 'x');
  assert.equal(usage.status, 1);
  const u = JSON.parse(usage.stdout) as Record<string, unknown>;
  assertShared(u, false, 'info');
  assert.equal(u.code, 'USAGE');
  assert.match(String(u.message), /unknown option '--frobnicate'/);
});

test('the progress bar shows total bytes, ETA and "file i of n", within the terminal width', () => {
  const written: string[] = [];
  const write = process.stderr.write;
  const columns = Object.getOwnPropertyDescriptor(process.stderr, 'columns');
  Object.defineProperty(process.stderr, 'columns', { value: 120, configurable: true });
  process.stderr.write = ((s: string) => (written.push(s), true)) as typeof process.stderr.write;
  try {
    const bar = new ProgressBar(true, '(1/2) ');
    bar.begin(3_000_000, 3);
    bar.member('a.safetensors', 0, 3);
    bar.update(1_000_000, 1_000_000);
    bar.member('b/very/long/path/to/a/shard/model-00002-of-00003.safetensors', 1, 3);
    bar.update(1_000_000, 1_000_000);
    bar.finish();
    new ProgressBar(false).update(1, 1);
  } finally {
    process.stderr.write = write;
    if (columns) Object.defineProperty(process.stderr, 'columns', columns);
    else delete (process.stderr as { columns?: number }).columns;
  }
  const lines = written.filter((s) => s.includes('%'));
  const last = lines[lines.length - 1];
  assert.match(last, /^\r\(1\/2\) \[#+ *\]  67% 2\.0\/3\.0 MB .* ETA \d+:\d\d file 2 of 3 …/);
  for (const s of lines) assert.ok(s.replace('\x1b[K', '').length - 1 <= 119, `${s.length} columns`);
  assert.equal(written[written.length - 1], '\r\x1b[K');
});
