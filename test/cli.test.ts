// The wcodec CLI through a child process: round trips of a file and a folder, info/verify output, exit codes,
// refusal to overwrite, and no output left behind when the input is corrupt.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { wcodec } from './helpers/cli.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/stories260K/stories260K.safetensors', import.meta.url));

const sha = async (p: string): Promise<string> => createHash('sha256').update(await readFile(p)).digest('hex');

/** A tiny BF16 safetensors file with two tensors. */
function tinySafetensors(seed: number): Uint8Array {
  const header = JSON.stringify({ __metadata__: { format: 'pt' }, a: { dtype: 'BF16', shape: [3, 5], data_offsets: [0, 30] }, b: { dtype: 'F32', shape: [4], data_offsets: [30, 46] } });
  const out = new Uint8Array(8 + header.length + 46);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(new TextEncoder().encode(header), 8);
  for (let i = 0; i < 46; i++) out[8 + header.length + i] = (i * 37 + seed * 11) & 0xff;
  return out;
}

test('CLI: file round trip, info and verify on the bundled example', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-cli-'));
  try {
    const packed = join(dir, 'm.wcodec');
    const c = wcodec('compress', EXAMPLE, '-o', packed, '--json');
    assert.equal(c.status, 0, c.stderr);
    const summary = JSON.parse(c.stdout);
    assert.equal(summary.originalBytes, 1061984);
    assert.ok(summary.ratio > 1.15);
    const info = wcodec('info', packed, '--json');
    assert.equal(info.status, 0, info.stderr);
    const parsed = JSON.parse(info.stdout);
    assert.ok(parsed.tensors.some((t: { name: string; dtype: string }) => t.name === 'model.embed_tokens.weight' && t.dtype === 'F32'));
    const text = wcodec('info', packed);
    assert.match(text.stdout, /model\.embed_tokens\.weight\s+F32\s+\[512,64\]/);
    // Version 4: the byte model would save under 0.5 % of this file (its header), so the writer does not use it.
    assert.match(text.stdout, /: one file, format version 4, chunks of 262144 bytes\n/);
    assert.match(text.stdout, /\ntotal: 49 tensors in 1 file\(s\), 1\.06 MB -> .* \(x1\.\d+, the whole container\)\n/);
    const v = wcodec('verify', packed);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /OK/);
    const out = join(dir, 'restored.safetensors');
    assert.equal(wcodec('decompress', packed, '-o', out).status, 0);
    assert.equal(await sha(out), await sha(EXAMPLE));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('CLI: --huffman writes Huffman-coded exponent planes (info shows huff), and the file round-trips', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-cli-'));
  try {
    const packed = join(dir, 'h.wcodec');
    const c = wcodec('compress', EXAMPLE, '-o', packed, '--huffman', '--json');
    assert.equal(c.status, 0, c.stderr);
    assert.ok(JSON.parse(c.stdout).ratio > 1.15);
    const info = wcodec('info', packed);
    assert.match(info.stdout, /model\.embed_tokens\.weight\s+F32\s+\[512,64\].*:huff/);
    assert.equal(wcodec('verify', packed).status, 0);
    const out = join(dir, 'restored.safetensors');
    assert.equal(wcodec('decompress', packed, '-o', out, '--threads', '2').status, 0);
    assert.equal(await sha(out), await sha(EXAMPLE));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('CLI: folder round trip keeps every file byte-identical', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-cli-'));
  try {
    const model = join(dir, 'model');
    await mkdir(join(model, 'sub'), { recursive: true });
    await writeFile(join(model, 'model-00001-of-00002.safetensors'), tinySafetensors(1));
    await writeFile(join(model, 'model-00002-of-00002.safetensors'), tinySafetensors(2));
    await writeFile(join(model, 'config.json'), '{"hidden_size": 8}\n');
    await writeFile(join(model, 'sub', 'empty.txt'), '');
    const packed = join(dir, 'model.wcodec');
    assert.equal(wcodec('compress', model, '-o', packed).status, 0);
    const out = join(dir, 'restored');
    const d = wcodec('decompress', packed, '-o', out);
    assert.equal(d.status, 0, d.stderr);
    for (const f of ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'config.json', 'sub/empty.txt']) {
      assert.equal(await sha(join(out, f)), await sha(join(model, f)), f);
    }
    assert.deepEqual((await readdir(out)).sort(), ['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors', 'sub']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('CLI: exit 1 for usage errors and existing outputs, -f overwrites', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-cli-'));
  try {
    assert.equal(wcodec().status, 1);
    assert.equal(wcodec('frobnicate').status, 1);
    assert.equal(wcodec('compress').status, 1); // no input
    assert.equal(wcodec('compress', EXAMPLE, '-o', join(dir, 'x'), '--bogus').status, 1);
    assert.equal(wcodec('compress', join(dir, 'missing.safetensors'), '-o', join(dir, 'y')).status, 1);
    const packed = join(dir, 'm.wcodec');
    await writeFile(packed, 'keep me');
    const r = wcodec('compress', EXAMPLE, '-o', packed);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /OUTPUT_EXISTS/);
    assert.equal(await readFile(packed, 'utf8'), 'keep me');
    assert.equal(wcodec('compress', EXAMPLE, '-o', packed, '-f').status, 0);
    assert.equal(wcodec('verify', packed).status, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('CLI: corrupt or malformed input exits 2, names the file and offset, leaves no output', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-cli-'));
  try {
    const packed = join(dir, 'm.wcodec');
    assert.equal(wcodec('compress', EXAMPLE, '-o', packed).status, 0);
    const bytes = await readFile(packed);
    const bad = join(dir, 'bad.wcodec');
    const flipped = Buffer.from(bytes);
    flipped[5000] ^= 0x10; // inside the first tensor chunks
    await writeFile(bad, flipped);
    const out = join(dir, 'restored.safetensors');
    const d = wcodec('decompress', bad, '-o', out);
    assert.equal(d.status, 2);
    assert.match(d.stderr, /CORRUPT_CHUNK|CHECKSUM_MISMATCH/);
    assert.match(d.stderr, /bad\.wcodec at offset \d+/);
    assert.equal(existsSync(out), false);
    assert.deepEqual((await readdir(dir)).sort(), ['bad.wcodec', 'm.wcodec']); // no temporary file left either
    assert.equal(wcodec('verify', bad).status, 2);
    const trunc = join(dir, 'trunc.wcodec');
    await writeFile(trunc, bytes.subarray(0, bytes.length - 7));
    assert.equal(wcodec('info', trunc).status, 2);
    const notSt = join(dir, 'bad.safetensors');
    await writeFile(notSt, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 1, 2, 3]));
    const c = wcodec('compress', '--strict', notSt, '-o', join(dir, 'z.wcodec'));
    assert.equal(c.status, 2);
    assert.match(c.stderr, /LIMIT_EXCEEDED.*bad\.safetensors at offset 0/);
    assert.equal(existsSync(join(dir, 'z.wcodec')), false);
    // Without --strict: stored as plain bytes, bit-exact, with a warning naming the file, the offset and the problem.
    const w = wcodec('compress', notSt, '-o', join(dir, 'z.wcodec'));
    assert.equal(w.status, 0, w.stderr);
    assert.match(w.stderr, /warning: LIMIT_EXCEEDED: header length \d+ .*bad\.safetensors at offset 0.*stored as plain bytes/);
    assert.equal(wcodec('decompress', join(dir, 'z.wcodec'), '-o', join(dir, 'z.safetensors')).status, 0);
    assert.deepEqual(await readFile(join(dir, 'z.safetensors')), await readFile(notSt));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
