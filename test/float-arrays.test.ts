// NumPy `.npy` files and raw arrays as containers (FORMAT.md §4.8, §4.9, version 9): round trips bit for bit over every
// dtype, shapes (0-d, empty, odd, multi-chunk), Fortran order, NaN/Inf/-0, header versions 1.0/2.0/3.0; the strict header
// parser (malformed headers stored as bytes with a warning, refused with strict); raw arrays of a wrong size; labels that
// disagree with the stored header (LABEL_MISMATCH); typed views; the CLI's --dtype/--shape; determinism.

import '../src/io/node-sha256.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressBuffer, compressBufferWithWarnings, decompressBuffer } from '../src/api/buffers.js';
import { openContainer } from '../src/api/checkpoint.js';
import { toFloat32 } from '../src/api/to-float32.js';
import { compressFile, decompressFile, openCheckpoint } from '../src/node/file-api.js';
import { MemorySource } from '../src/io/byte-source.js';
import { WcodecError } from '../src/errors.js';
import { parseNpyHeader, NpyProblem } from '../src/npy/read-header.js';
import { arrayTensorName } from '../src/npy/array-name.js';
import { buildNpy, NPY_DESCR, npyDict } from '../tools/npy-file.js';
import { Rng } from '../tools/seeded-rng.js';
import { editFooter, editHeader, editIndex } from '../tools/vectors/surgery.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { wcodec } from './helpers/cli.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const WIDTH: Record<string, number> = { F16: 2, F32: 4, F64: 8, I8: 1, I16: 2, I32: 4, I64: 8, U8: 1, U16: 2, U32: 4, U64: 8, BOOL: 1 };

/** `n` values of `dtype` as bytes: floats near a Gaussian with NaN, ±Inf and -0 mixed in; integers small; bools 0/1. */
function values(dtype: string, n: number, rng: Rng): Uint8Array {
  const W = WIDTH[dtype];
  const out = new Uint8Array(n * W);
  const dv = new DataView(out.buffer);
  const special = [NaN, Infinity, -Infinity, -0, 0];
  for (let i = 0; i < n; i++) {
    const g = rng.gaussian() * 0.05;
    const v = i % 97 === 5 ? special[(i / 97) % special.length | 0] : g;
    if (dtype === 'F32') dv.setFloat32(i * 4, v, true);
    else if (dtype === 'F64') dv.setFloat64(i * 8, v, true);
    else if (dtype === 'F16') dv.setUint16(i * 2, rng.int(65536) & 0xbfff, true);
    else if (dtype === 'BOOL') out[i] = rng.int(2);
    else for (let k = 0; k < W; k++) out[i * W + k] = k === 0 || rng.int(8) === 0 ? rng.int(256) : 0;
  }
  return out;
}

const product = (shape: number[]): number => shape.reduce((a, d) => a * d, 1);

test('.npy round trips bit for bit: every dtype, 0-d, empty, odd and multi-chunk shapes, Fortran order, versions 1-3', async () => {
  const rng = new Rng(20);
  const shapes = [[], [0], [1], [3, 0, 2], [7], [5, 13], [2, 3, 5], [1025], [70001]];
  for (const [dtype, descr] of Object.entries(NPY_DESCR)) {
    for (const shape of shapes) {
      for (const [version, fortranOrder] of [[1, false], [2, true], [3, false]] as const) {
        const file = buildNpy({ descr, shape, data: values(dtype, product(shape), rng), fortranOrder, version });
        const name = `d/${dtype}.npy`;
        const { bytes, warnings } = await compressBufferWithWarnings(file, { name: `${dtype}.npy`, chunkBytes: 4096 });
        assert.deepEqual(warnings, [], `${name} ${shape}`);
        // Version 9, or 11 where the byte model (on by default) codes the header or a 1-byte array.
        assert.ok(bytes[8] === 9 || bytes[8] === 11, `version ${bytes[8]}`);
        const back = await decompressBuffer(bytes);
        assert.equal(sha(back), sha(file), `${dtype} [${shape}] v${version}`);
        const cp = await openContainer(new MemorySource(bytes, 'c'));
        assert.equal(cp.tensors.length, 1);
        const t = cp.tensors[0];
        assert.equal(t.name, dtype);
        assert.equal(t.dtype, dtype);
        assert.deepEqual(t.shape, fortranOrder ? [...shape].reverse() : shape);
        assert.equal(cp.members[0].format, 'npy');
        const data = await cp.read(dtype);
        assert.equal(sha(data.bytes), sha(file.subarray(file.length - data.bytes.length)));
      }
    }
  }
});

test('.npy float32: typed view and toFloat32 give the values, NaN, infinities and -0 included', async () => {
  const f = new Float32Array([1.5, -0, NaN, Infinity, -Infinity, 3e-42, -2.25]);
  const file = buildNpy({ descr: '<f4', shape: [7], data: new Uint8Array(f.buffer) });
  const cp = await openContainer(new MemorySource(await compressBuffer(file, { name: 'v.npy' }), 'c'));
  const t = await cp.read('v');
  assert.ok(t.view instanceof Float32Array);
  assert.deepEqual(Array.from(t.view), Array.from(f));
  assert.ok(Object.is(toFloat32('F32', t.bytes)[1], -0));
  const d = await openContainer(new MemorySource(await compressBuffer(buildNpy({ descr: '<f8', shape: [2], data: new Uint8Array(new Float64Array([1, -0]).buffer) }), { name: 'w.npy' }), 'c'));
  assert.ok((await d.read('w')).view instanceof Float64Array);
});

test('.npy whose dtype is not stored as a tensor (big-endian, complex, object, void, structured) is plain bytes, silently', async () => {
  for (const descr of ['>f4', '>i2', '<c8', '|O', '<V2', '|S4', '<M8[s]', "[('a', '<f4'), ('b', '<i4')]", '=f4', '<f16']) {
    const file = buildNpy({ descr, shape: [4], data: new Uint8Array(16) });
    const { bytes, warnings } = await compressBufferWithWarnings(file, { name: 'x.npy', strict: true });
    assert.deepEqual(warnings, [], descr);
    assert.equal(sha(await decompressBuffer(bytes)), sha(file), descr);
    const cp = await openContainer(new MemorySource(bytes, 'c'));
    assert.equal(cp.tensors.length, 0, descr);
  }
});

/** Malformed `.npy` files: each is stored as bytes with a BAD_NPY (or LIMIT_EXCEEDED) warning, refused with strict. */
function malformed(): [string, Uint8Array, string][] {
  const data = new Uint8Array(16);
  const ok = (dict: string, extra: Partial<Parameters<typeof buildNpy>[0]> = {}): Uint8Array => buildNpy({ descr: '<f4', shape: [4], data, dict, ...extra });
  const good = buildNpy({ descr: '<f4', shape: [4], data });
  const edit = (f: (b: Uint8Array) => void, from = good): Uint8Array => {
    const b = from.slice();
    f(b);
    return b;
  };
  const cases: [string, Uint8Array, string][] = [
    ['bad magic', edit((b) => void (b[1] = 0x4f)), 'BAD_NPY'],
    ['version 4.0', edit((b) => void (b[6] = 4)), 'BAD_NPY'],
    ['version 1.1', edit((b) => void (b[7] = 1)), 'BAD_NPY'],
    ['header past the end', edit((b) => void (b[8] = 0xff)).subarray(0, 80), 'BAD_NPY'],
    ['header length above the bound', buildNpy({ descr: '<f4', shape: [4], data, version: 2 }).map((x, i) => (i === 10 ? 0x10 : x)), 'LIMIT_EXCEEDED'],
    ['no final newline', edit((b) => void (b[63] = 0x20)), 'BAD_NPY'],
    ['control byte', edit((b) => void (b[62] = 0x09)), 'BAD_NPY'],
    ['leading space', ok(` ${npyDict('<f4', [4])}`), 'BAD_NPY'],
    ['missing key', ok("{'descr': '<f4', 'shape': (4,), }"), 'BAD_NPY'],
    ['extra key', ok("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1, }"), 'BAD_NPY'],
    ['duplicate key', ok("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"), 'BAD_NPY'],
    ['shape not a tuple', ok("{'descr': '<f4', 'fortran_order': False, 'shape': (4), }"), 'BAD_NPY'],
    ['shape a list', ok("{'descr': '<f4', 'fortran_order': False, 'shape': [4], }"), 'BAD_NPY'],
    ['negative dimension', ok("{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }"), 'BAD_NPY'],
    ['leading zero', ok("{'descr': '<f4', 'fortran_order': False, 'shape': (04,), }"), 'BAD_NPY'],
    ['float dimension', ok("{'descr': '<f4', 'fortran_order': False, 'shape': (4.0,), }"), 'BAD_NPY'],
    ['fortran_order 0', ok("{'descr': '<f4', 'fortran_order': 0, 'shape': (4,), }"), 'BAD_NPY'],
    ['escape in a string', ok("{'descr': '<f\\x34', 'fortran_order': False, 'shape': (4,), }"), 'BAD_NPY'],
    ['unterminated string', ok("{'descr': '<f4, 'fortran_order': False, 'shape': (4,), }"), 'BAD_NPY'],
    ['missing comma', ok("{'descr': '<f4' 'fortran_order': False, 'shape': (4,), }"), 'BAD_NPY'],
    ['double comma', ok("{'descr': '<f4',, 'fortran_order': False, 'shape': (4,), }"), 'BAD_NPY'],
    ['text after the dict', ok(`${npyDict('<f4', [4])} x`), 'BAD_NPY'],
    ['nesting too deep', ok(`{'descr': ${'['.repeat(20)}${']'.repeat(20)}, 'fortran_order': False, 'shape': (4,), }`), 'BAD_NPY'],
    ['dimension 2^53', ok("{'descr': '<f4', 'fortran_order': False, 'shape': (9007199254740992,), }"), 'LIMIT_EXCEEDED'],
    ['rank 33', ok(`{'descr': '<f4', 'fortran_order': False, 'shape': (${Array(33).fill(1).join(', ')}), }`), 'LIMIT_EXCEEDED'],
    ['data short', good.subarray(0, good.length - 1), 'BAD_NPY'],
    ['trailing byte', new Uint8Array([...good, 0]), 'BAD_NPY'],
    ['empty file', new Uint8Array(0), 'BAD_NPY'],
  ];
  return cases;
}

test('malformed .npy headers: plain bytes with a warning in a folder or file; refused with strict (BAD_NPY, LIMIT_EXCEEDED)', async () => {
  for (const [what, file, code] of malformed()) {
    const { bytes, warnings } = await compressBufferWithWarnings(file, { name: 'bad.npy' });
    assert.equal(warnings.length, 1, what);
    assert.equal(warnings[0].error.code, code, `${what}: ${warnings[0].message}`);
    assert.match(warnings[0].message, /stored as plain bytes/);
    assert.equal(sha(await decompressBuffer(bytes)), sha(file), what);
    await assert.rejects(compressBuffer(file, { name: 'bad.npy', strict: true }), (e: unknown) => e instanceof WcodecError && e.code === code, what);
  }
  const dir = mkdtempSync(join(tmpdir(), 'wcodec-npy-'));
  try {
    mkdirSync(join(dir, 'in'));
    writeFileSync(join(dir, 'in', 'bad.npy'), malformed()[0][1]);
    writeFileSync(join(dir, 'in', 'good.npy'), buildNpy({ descr: '<f4', shape: [2, 2], data: new Uint8Array(16).fill(7) }));
    const res = await compressFile(join(dir, 'in'), join(dir, 'c.wcodec'));
    assert.deepEqual(res.warnings.map((w) => [w.path, w.error.code]), [['bad.npy', 'BAD_NPY']]);
    const cp = await openCheckpoint(join(dir, 'c.wcodec'));
    assert.deepEqual(cp.tensors.map((t) => [t.name, t.file, t.dtype, t.shape]), [['good', 'good.npy', 'F32', [2, 2]]]);
    await cp.close();
    await decompressFile(join(dir, 'c.wcodec'), join(dir, 'out'));
    for (const f of ['bad.npy', 'good.npy']) assert.equal(sha(readFileSync(join(dir, 'out', f))), sha(readFileSync(join(dir, 'in', f))));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('header parser: what NumPy writes, spaces, double quotes, key order, alignment 16, and the Fortran flag', () => {
  const data = new Uint8Array(0);
  const h = (dict: string, align?: number) => parseNpyHeader(buildNpy({ descr: '', shape: [], data, dict, align }));
  assert.deepEqual(h("{'descr': '<f4', 'fortran_order': False, 'shape': (), }").shape, []);
  const dict = '{"shape":(2,3),"fortran_order":True,"descr":"<i8"}';
  assert.deepEqual(h(dict, 16), { version: 1, headerEnd: Math.ceil((10 + dict.length + 1) / 16) * 16, descr: '<i8', dtype: 'I64', fortranOrder: true, shape: [2, 3], dataBytes: 48 });
  assert.equal(h("{'descr': [('x', '<f4', (2,)), ('y', '|u1')], 'fortran_order': False, 'shape': (3,), }").dtype, undefined);
  assert.throws(() => parseNpyHeader(new Uint8Array([0x93, 0x4e, 0x55])), (e: unknown) => e instanceof NpyProblem && e.truncated);
  assert.equal(arrayTensorName('a/b.c/x.npy'), 'a/b.c/x');
  assert.equal(arrayTensorName('a.b/x'), 'a.b/x');
  assert.equal(arrayTensorName('.npy'), '.npy');
  assert.equal(arrayTensorName('d/.hidden'), 'd/.hidden');
});

test('raw arrays: every dtype, default and given shapes, 0-d and empty; wrong sizes are BAD_RAW_ARRAY; bad options RangeError', async () => {
  const rng = new Rng(21);
  for (const dtype of ['F32', 'BF16', 'F16', 'F64', 'I8', 'U8', 'I16', 'U16', 'I32', 'U32', 'I64', 'U64', 'BOOL', 'F8_E4M3', 'F8_E5M2']) {
    const W = dtype === 'BF16' ? 2 : dtype.startsWith('F8') ? 1 : WIDTH[dtype];
    for (const shape of [undefined, [], [0], [3, 7], [1, 1, 333]]) {
      const n = shape ? product(shape) : 501;
      const data = dtype === 'BF16' || dtype.startsWith('F8') ? values('U8', n * W, rng) : values(dtype, n, rng);
      const bytes = await compressBuffer(data, { name: 'w.bin', array: { dtype, shape }, chunkBytes: 1000 });
      assert.ok(bytes[8] === 9 || bytes[8] === 11, `version ${bytes[8]}`);
      // Without the byte model a raw array is exactly version 9.
      assert.equal((await compressBuffer(data, { name: 'w.bin', array: { dtype, shape }, chunkBytes: 1000, byteModel: false }))[8], 9);
      assert.equal(sha(await decompressBuffer(bytes)), sha(data), `${dtype} ${shape}`);
      const cp = await openContainer(new MemorySource(bytes, 'c'));
      assert.deepEqual(cp.tensors.map((t) => [t.name, t.dtype, t.shape]), [['w', dtype, shape ?? [n]]]);
      assert.equal(cp.members[0].format, 'raw-array');
    }
  }
  const bad = async (data: Uint8Array, array: { dtype: string; shape?: number[] }, what: string, check: (e: unknown) => boolean) =>
    assert.rejects(compressBuffer(data, { name: 'w.bin', array }), check, what);
  const code = (c: string) => (e: unknown) => e instanceof WcodecError && e.code === c;
  await bad(new Uint8Array(7), { dtype: 'F32' }, 'not a whole number of values', code('BAD_RAW_ARRAY'));
  await bad(new Uint8Array(8), { dtype: 'F32', shape: [3] }, 'shape of another size', code('BAD_RAW_ARRAY'));
  await bad(new Uint8Array(8), { dtype: 'F32', shape: [] }, 'scalar of 2 values', code('BAD_RAW_ARRAY'));
  await bad(new Uint8Array(8), { dtype: 'f32' }, 'unknown dtype', (e) => e instanceof RangeError);
  await bad(new Uint8Array(8), { dtype: 'F32', shape: [2.5] }, 'fractional dimension', (e) => e instanceof RangeError);
  await assert.rejects(compressBuffer(new Uint8Array(8), { name: 'w.bin', array: { dtype: 'F32' }, formatVersion: 8 }), RangeError);
  // Below version 9 a .npy file is plain bytes, as before.
  const npy = buildNpy({ descr: '<f4', shape: [2], data: new Uint8Array(8) });
  const v8 = await compressBuffer(npy, { name: 'x.npy', formatVersion: 8 });
  assert.equal(v8[8], 8);
  assert.equal((await openContainer(new MemorySource(v8, 'c'))).tensors.length, 0);
});

test('labels that disagree with the stored .npy header or the raw array rules are refused (LABEL_MISMATCH), identity digest recomputed', async () => {
  const file = buildNpy({ descr: '<f4', shape: [3, 4], data: new Uint8Array(48).fill(1), fortranOrder: true });
  const container = await compressBuffer(file, { name: 'm.npy' });
  const raw = await compressBuffer(new Uint8Array(48).fill(2), { name: 'r.bin', array: { dtype: 'F32', shape: [12] } });
  const cases: [string, Uint8Array, (ix: Parameters<Parameters<typeof editIndex>[1]>[0]) => void, RegExp][] = [
    ['npy name', container, (ix) => void (ix.members[0].segments[1].name = 'n'), /named 'm'/],
    ['npy shape unreversed', container, (ix) => void (ix.members[0].segments[1].shape = [3, 4]), /shape \[3,4\] in the index, \[4,3\] in the header/],
    ['npy dtype', container, (ix) => void (ix.members[0].segments[1].dtype = 'I32'), /dtype I32 in the index, F32/],
    ['npy as raw array', container, (ix) => void (ix.members[0].layout = 'raw-array'), /not one tensor segment/],
    ['npy as safetensors', container, (ix) => void delete ix.members[0].layout, /safetensors header/],
    ['raw name', raw, (ix) => void (ix.members[0].segments[0].name = 'x'), /named 'r'/],
    ['raw as npy', raw, (ix) => void (ix.members[0].layout = 'npy'), /not a .npy header|does not parse/],
  ];
  for (const [what, base, edit, reason] of cases) {
    const bad = await editIndex(base, (ix) => {
      edit(ix);
      for (const m of ix.members) delete m.identitySha256;
    });
    await assert.rejects(decompressBuffer(bad), (e: unknown) => e instanceof WcodecError && e.code === 'LABEL_MISMATCH' && reason.test(e.message), what);
    await assert.rejects(openContainer(new MemorySource(bad, 'bad')), (e: unknown) => e instanceof WcodecError && e.code === 'LABEL_MISMATCH', what);
  }
});

test('a version 9 container relabelled version 8 (CRCs recomputed) is CORRUPT_INDEX: it has no member layout 4', async () => {
  const container = await compressBuffer(buildNpy({ descr: '<f4', shape: [2], data: new Uint8Array(8) }), { name: 'm.npy' });
  const v8 = editFooter(editHeader(container, (dv) => dv.setUint16(8, 8, true), true), (dv) => dv.setUint16(20, 8, true), true);
  await assert.rejects(ContainerReader.open(new MemorySource(v8, 'v8')), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_INDEX' && /member layout 4/.test(e.message));
});

test('determinism: the same .npy file and raw array give the same container twice', async () => {
  const rng = new Rng(22);
  const file = buildNpy({ descr: '<f4', shape: [300, 7], data: values('F32', 2100, rng) });
  assert.equal(sha(await compressBuffer(file, { name: 'a.npy' })), sha(await compressBuffer(file, { name: 'a.npy' })));
  const raw = values('F64', 999, rng);
  assert.equal(sha(await compressBuffer(raw, { name: 'a.bin', array: { dtype: 'F64' } })), sha(await compressBuffer(raw, { name: 'a.bin', array: { dtype: 'F64' } })));
});

test('CLI: compress --dtype/--shape, info, decompress byte for byte; wrong size exits 2 with BAD_RAW_ARRAY; usage errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wcodec-raw-'));
  try {
    const data = values('F32', 4096, new Rng(23));
    writeFileSync(join(dir, 'a.bin'), data);
    let r = wcodec('compress', join(dir, 'a.bin'), '--dtype', 'f32', '--shape', '64,64', '-q');
    assert.equal(r.status, 0, r.stderr);
    r = wcodec('info', join(dir, 'a.bin.wcodec'));
    assert.match(r.stdout, /one file \(a raw array\), format version (9|11)/);
    assert.match(r.stdout, /a\s+F32\s+\[64,64\]/);
    r = wcodec('-d', join(dir, 'a.bin.wcodec'), '-o', join(dir, 'b.bin'), '-q');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sha(readFileSync(join(dir, 'b.bin'))), sha(data));
    r = wcodec('compress', join(dir, 'a.bin'), '--dtype', 'F32', '--shape', '64,65', '-o', join(dir, 'c.wcodec'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /BAD_RAW_ARRAY/);
    r = wcodec('compress', join(dir, 'a.bin'), '--shape', '64,64', '-o', join(dir, 'd.wcodec'));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--shape goes with --dtype/);
    r = wcodec('compress', join(dir, 'a.bin'), '--dtype', 'F33');
    assert.match(r.stderr, /--dtype must be one of/);
    writeFileSync(join(dir, 'x.npy'), buildNpy({ descr: '<f2', shape: [8], data: new Uint8Array(16) }));
    r = wcodec('compress', join(dir, 'x.npy'), '-q');
    assert.equal(r.status, 0, r.stderr);
    r = wcodec('info', '--json', join(dir, 'x.npy.wcodec'));
    const info = JSON.parse(r.stdout);
    assert.ok(info.formatVersion === 9 || info.formatVersion === 11, `version ${info.formatVersion}`);
    assert.equal(info.files[0].format, 'npy');
    assert.deepEqual([info.tensors[0].name, info.tensors[0].dtype, info.tensors[0].shape], ['x', 'F16', [8]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mutated .npy files (seeded, bounded): the parser throws only NpyProblem; compression round-trips them all, split or as bytes', async () => {
  const seed = 24;
  const rng = new Rng(seed);
  const bases = [
    buildNpy({ descr: '<f4', shape: [3, 5], data: values('F32', 15, rng) }),
    buildNpy({ descr: '<i2', shape: [2, 2, 2], fortranOrder: true, version: 2, data: values('I16', 8, rng) }),
    buildNpy({ descr: '|b1', shape: [], version: 3, data: new Uint8Array([1]) }),
  ];
  const deadline = Date.now() + 4000;
  let n = 0;
  for (; n < 400 && Date.now() < deadline; n++) {
    const file = bases[n % bases.length].slice();
    const edits = 1 + rng.int(3);
    for (let k = 0; k < edits; k++) {
      const at = rng.int(Math.min(file.length, 80));
      file[at] = rng.int(3) === 0 ? ' {}(),:\'"0123456789TFLf<|>'.charCodeAt(rng.int(26)) : rng.int(256);
    }
    const what = `seed ${seed}, case ${n}`;
    try {
      parseNpyHeader(file);
    } catch (e) {
      assert.ok(e instanceof NpyProblem, `${what}: ${String(e)}`);
    }
    const { bytes, warnings } = await compressBufferWithWarnings(file, { name: 'm.npy' });
    for (const w of warnings) assert.ok(['BAD_NPY', 'LIMIT_EXCEEDED'].includes(w.error.code), `${what}: ${w.message}`);
    assert.equal(sha(await decompressBuffer(bytes)), sha(file), what);
  }
  assert.ok(n >= 50, `only ${n} cases in the time bound`);
});
