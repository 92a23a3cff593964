// A smoke run of the benchmark suite on tiny inputs (one run, no warm-up): the JSON, the markdown and the charts are
// produced and agree with what the codecs and the bounds give when computed directly. The real suite is never run
// by the tests (bench/run.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { entropyBounds } from '../bench/bounds.js';
import { runBench } from '../bench/run.js';
import { codecRegistry } from '../bench/codecs.js';
import { isFailed, isSkipped, type BenchResults } from '../bench/results-schema.js';
import { BEGIN_MARKER, END_MARKER, spliceGenerated } from '../bench/write-report.js';
import { compressBuffer } from '../src/index.js';
import { Rng } from './helpers/prng.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { makeValues } from './helpers/values.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('bench smoke: tiny file and folder inputs give results, report and charts that check out', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-bench-smoke-'));
  try {
    const rng = new Rng(7);
    const file = buildSafetensors([
      { name: 'w', dtype: 'BF16', shape: [96, 64], data: makeValues('BF16', 96 * 64, 'gaussian', rng) },
      { name: 'b', dtype: 'F32', shape: [33], data: makeValues('F32', 33, 'special', rng) },
    ]).bytes;
    const filePath = join(dir, 'tiny.safetensors');
    await writeFile(filePath, file);
    const folder = join(dir, 'model');
    await mkdir(folder);
    await writeFile(join(folder, 'config.json'), '{"hidden_size": 64}\n');
    await writeFile(join(folder, 'model.safetensors'), buildSafetensors([{ name: 'e', dtype: 'F16', shape: [257], data: makeValues('F16', 257, 'gaussian', rng) }]).bytes);

    const out = join(dir, 'out');
    const res = await runBench(
      // Every entry but the delta modes, which need a reference input (their own smoke test below).
      ['--runs', '1', '--warmup', '0', '--threads', '1,2', '--codecs', codecRegistry().filter((c) => !c.needsReference).map((c) => c.id).join(','), '--slow-ratio-mb', '1', '--slow-timing-mb', '1', '--results', join(out, 'bench.json'), '--docs', out, filePath, folder],
      () => {},
    );

    // The JSON on disk is what runBench returned.
    assert.deepEqual(JSON.parse(await readFile(join(out, 'bench.json'), 'utf8')), JSON.parse(JSON.stringify(res)));
    assert.equal(res.inputs.length, 2);
    const [fileRes, folderRes] = res.inputs;
    assert.equal(fileRes.sha256, sha(file));
    assert.equal(fileRes.bytes, file.length);
    assert.equal(folderRes.files, 2);

    for (const r of res.inputs) {
      assert.ok(r.bounds.order1Bytes <= r.bounds.order0Bytes + 1e-6 && r.bounds.order0Bytes <= r.bytes, `${r.input.name} bounds`);
      for (const codec of res.codecs) {
        const one = r.results.find((x) => x.codec === codec.id && x.threads === 1);
        assert.ok(one && !isSkipped(one), `${codec.id} ran on one thread`);
        assert.equal(one.checkedDecodes, 1);
        assert.equal(one.ratio, one.ratioBytes / one.compressedBytes);
        assert.equal(one.ratioBytes, r.bytes, 'tiny inputs are never sliced');
        assert.ok(one.encode.median > 0 && one.decode.median > 0 && one.peakRssMB >= one.baseRssMB);
      }
    }
    // wcodec's size is exactly that of the container compressBuffer writes.
    const w = fileRes.results.find((x) => x.codec === 'wcodec' && x.threads === 1);
    assert.ok(w && !isSkipped(w));
    assert.equal(w.compressedBytes, (await compressBuffer(file, { name: 'tiny.safetensors' })).length);
    // zstd -3 encodes on two threads, but decodes on one: the 2-thread row says so.
    const z2 = fileRes.results.find((x) => x.codec === 'zstd-3' && x.threads === 2);
    assert.ok(z2 && !isSkipped(z2) && z2.decodeSingleThread !== undefined && z2.encodeSingleThread === undefined);

    const md = await readFile(join(out, 'BENCHMARKS.md'), 'utf8');
    assert.ok(md.includes(BEGIN_MARKER) && md.includes(END_MARKER));
    assert.match(md, /\| tiny \| 0\.\d\d MB \|/);
    assert.ok(md.includes(fileRes.sha256) && md.includes(folderRes.sha256));
    for (const name of ['bench-ratio.svg', 'bench-throughput.svg']) {
      const svg = await readFile(join(out, name), 'utf8');
      assert.ok(svg.startsWith('<svg ') && svg.trimEnd().endsWith('</svg>'), name);
      assert.ok(!svg.includes('NaN') && !svg.includes('Infinity'), `${name} has no NaN/Infinity coordinates`);
    }
    // One ratio bar per (input, codec).
    const ratioSvg = await readFile(join(out, 'bench-ratio.svg'), 'utf8');
    assert.equal((ratioSvg.match(/<rect x="200"/g) ?? []).length, res.inputs.length * res.codecs.length);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bench smoke: --ref runs the delta entries against a reference (XOR of related weights beats plain coding); without one they are skipped', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-bench-ref-'));
  try {
    const rng = new Rng(9);
    const base = makeValues('BF16', 128 * 64, 'gaussian', rng);
    const tuned = base.slice();
    for (let i = 0; i < tuned.length; i += 6) tuned[i] ^= 1 + (rng.u32() & 7);
    const refPath = join(dir, 'base.safetensors');
    const newPath = join(dir, 'tuned.safetensors');
    await writeFile(refPath, buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [128, 64], data: base }]).bytes);
    await writeFile(newPath, buildSafetensors([{ name: 'w', dtype: 'BF16', shape: [128, 64], data: tuned }]).bytes);
    const out = join(dir, 'out');
    const codecs = 'wcodec,wcodec-ref,zstd-19-xor,xz-9-xor';
    const res = await runBench(['--runs', '1', '--warmup', '0', '--threads', '1', '--codecs', codecs, '--ref', refPath, '--results', join(out, 'bench.json'), '--docs', out, newPath], () => {});
    assert.equal(res.inputs[0].input.name, 'tuned vs base');
    const by = new Map(res.inputs[0].results.map((r) => [r.codec, r]));
    for (const id of codecs.split(',')) {
      const r = by.get(id);
      assert.ok(r && !isSkipped(r) && !isFailed(r) && r.checkedDecodes === 1, `${id} ran and decoded exactly`);
    }
    const ratio = (id: string): number => {
      const r = by.get(id)!;
      return isSkipped(r) || isFailed(r) ? 0 : r.ratio;
    };
    assert.ok(ratio('wcodec-ref') > 1.5 * ratio('wcodec'), `delta x${ratio('wcodec-ref')} vs plain x${ratio('wcodec')}`);
    const plain = await runBench(['--runs', '1', '--warmup', '0', '--threads', '1', '--codecs', 'wcodec,wcodec-ref', '--results', join(out, 'plain.json'), '--docs', join(out, 'plain'), newPath], () => {});
    const skipped = plain.inputs[0].results.find((r) => r.codec === 'wcodec-ref');
    assert.ok(skipped && isSkipped(skipped), 'a delta entry is skipped on an input without a reference');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bench smoke: a failed measurement is recorded, the others still run, the run fails and writes no report', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'wcodec-bench-fail-'));
  try {
    const bad = join(dir, 'bad.safetensors');
    // A header length of 16, then 16 bytes that are not JSON, then data: wcodec refuses it, byte compressors do not care.
    await writeFile(bad, Buffer.concat([Buffer.from([16, 0, 0, 0, 0, 0, 0, 0]), Buffer.from('{not json at all'), Buffer.from(new Rng(5).bytes(3000))]));
    const out = join(dir, 'out');
    await assert.rejects(
      runBench(['--runs', '1', '--warmup', '0', '--threads', '1', '--codecs', 'wcodec,zstd-3', '--results', join(out, 'bench.json'), '--docs', out, bad], () => {}),
      /1 measurement\(s\) failed[^]*BAD_SAFETENSORS/,
    );
    const res = JSON.parse(await readFile(join(out, 'bench.json'), 'utf8')) as BenchResults;
    const [w, z] = res.inputs[0].results;
    assert.ok(isFailed(w) && w.codec === 'wcodec');
    assert.ok(!isSkipped(z) && z.codec === 'zstd-3' && z.checkedDecodes === 1);
    await assert.rejects(readFile(join(out, 'BENCHMARKS.md')), { code: 'ENOENT' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bench bounds: constant tensors cost nothing, a fair coin in one plane costs one bit per value', async () => {
  const n = 4096;
  const constant = new Uint8Array(n * 2).fill(0x3f);
  const coin = new Uint8Array(n * 2);
  const rng = new Rng(3);
  // BF16 exponent 0x7e or 0x7f (bit 7 of the low byte), sign and mantissa fixed: only the exponent plane varies.
  for (let i = 0; i < n; i++) {
    coin[2 * i + 1] = 0x3f;
    coin[2 * i] = rng.u32() & 1 ? 0x80 : 0x00;
  }
  const header = (data: Uint8Array): Uint8Array => buildSafetensors([{ name: 't', dtype: 'BF16', shape: [n], data }]).bytes;
  const empty = await entropyBounds([{ path: 'empty.bin', bytes: new Uint8Array(0) }]);
  assert.deepEqual(empty, { order0Bytes: 0, order1Bytes: 0 });
  const c = header(constant);
  const cb = await entropyBounds([{ path: 'c.safetensors', bytes: c }]);
  const headerOnly = await entropyBounds([{ path: 'x.bin', bytes: c.subarray(0, c.length - n * 2) }]);
  assert.ok(Math.abs(cb.order0Bytes - headerOnly.order0Bytes) < 1e-9, 'constant planes add nothing');
  const k = header(coin);
  const kb = await entropyBounds([{ path: 'k.safetensors', bytes: k }]);
  let ones = 0;
  for (let i = 0; i < n; i++) ones += coin[2 * i] >> 7;
  const p = ones / n;
  const h = -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p));
  assert.ok(Math.abs(kb.order0Bytes - headerOnly.order0Bytes - (n * h) / 8) < 1e-6, 'coin plane costs n·H/8');
});

test('bench bounds: F64 and F32 planes are the exponent and the sign+mantissa bytes from the top', async () => {
  // Values differing only in the lowest mantissa bit (F64) / in the sign (F32): exactly one plane carries 1 bit each.
  const n = 2048;
  const rng = new Rng(11);
  const f64 = new Uint8Array(n * 8);
  const f32 = new Uint8Array(n * 4);
  const dv64 = new DataView(f64.buffer);
  const dv32 = new DataView(f32.buffer);
  let ones64 = 0;
  let ones32 = 0;
  for (let i = 0; i < n; i++) {
    const b = rng.u32() & 1;
    ones64 += b;
    dv64.setFloat64(i * 8, 1.5, true);
    dv64.setUint8(i * 8, dv64.getUint8(i * 8) | b);
    const s = rng.u32() & 1;
    ones32 += s;
    dv32.setFloat32(i * 4, s ? -0.75 : 0.75, true);
  }
  const H = (k: number): number => {
    const p = k / n;
    return (-(p * Math.log2(p) + (1 - p) * Math.log2(1 - p)) * n) / 8;
  };
  for (const [dtype, data, ones, W] of [['F64', f64, ones64, 8], ['F32', f32, ones32, 4]] as const) {
    const file = buildSafetensors([{ name: 't', dtype, shape: [n], data }]).bytes;
    const all = await entropyBounds([{ path: 'a.safetensors', bytes: file }]);
    const hdr = await entropyBounds([{ path: 'a.bin', bytes: file.subarray(0, file.length - n * W) }]);
    assert.ok(Math.abs(all.order0Bytes - hdr.order0Bytes - H(ones)) < 1e-6, dtype);
  }
});

test('bench report: the generated section is replaced in place and the hand-written text around it kept', () => {
  const doc = `# Benchmarks\n\nintro\n\n${BEGIN_MARKER}\nold\n${END_MARKER}\n\n## Memory\n\nkept\n`;
  const next = spliceGenerated(doc, 'new table');
  assert.equal(next, `# Benchmarks\n\nintro\n\n${BEGIN_MARKER}\nnew table\n${END_MARKER}\n\n## Memory\n\nkept\n`);
  assert.equal(spliceGenerated(next, 'again'), spliceGenerated(doc, 'again'));
  assert.ok(spliceGenerated('# B\n', 'x').endsWith(`${BEGIN_MARKER}\nx\n${END_MARKER}\n`));
  assert.throws(() => spliceGenerated(`${BEGIN_MARKER}\n`, 'x'), /one generated-section marker/);
});
