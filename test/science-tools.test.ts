// The data tools behind bench/float-arrays.ts, on tiny files built here (no network): the NetCDF classic reader
// (fixed and record variables, big-endian to little-endian), the FITS reader (a float image and a binary table's
// float columns), the ZIP reader (stored and deflated entries), and the synthetic event generator (seeded, labelled).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateRawSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readNetcdfHeader, readNetcdfVariable, NC_DOUBLE, NC_FLOAT } from '../tools/netcdf-classic.js';
import { readFitsArrays } from '../tools/fits-file.js';
import { readZipEntries } from '../tools/zip-entries.js';
import { generateEvents, writeEvents } from '../tools/synthetic-events.js';
import { parseNpyHeader } from '../src/npy/read-header.js';

/** Big-endian bytes of 32-bit unsigned integers. */
const be32 = (...xs: number[]): number[] => xs.flatMap((x) => [x >>> 24, (x >>> 16) & 255, (x >>> 8) & 255, x & 255]);
const name = (s: string): number[] => [...be32(s.length), ...[...s].map((c) => c.charCodeAt(0)), ...Array((4 - (s.length % 4)) % 4).fill(0)];
const beF32 = (...xs: number[]): number[] => xs.flatMap((x) => { const b = new Uint8Array(4); new DataView(b.buffer).setFloat32(0, x, false); return [...b]; });
const beF64 = (...xs: number[]): number[] => xs.flatMap((x) => { const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, x, false); return [...b]; });

test('NetCDF classic: a fixed float variable and two record variables (double, float) over 2 records', () => {
  // dims: time (record), x = 3; vars: grid(x) float, t(time) double, v(time, x) float.
  const header = (begins: number[]): number[] => [
    ...[0x43, 0x44, 0x46, 1], ...be32(2),
    ...be32(0x0a, 2), ...name('time'), ...be32(0), ...name('x'), ...be32(3),
    ...be32(0, 0),
    ...be32(0x0b, 3),
    ...name('grid'), ...be32(1, 1), ...be32(0, 0), ...be32(NC_FLOAT, 12, begins[0]),
    ...name('t'), ...be32(1, 0), ...be32(0, 0), ...be32(NC_DOUBLE, 8, begins[1]),
    ...name('v'), ...be32(2, 0, 1), ...be32(0, 0), ...be32(NC_FLOAT, 12, begins[2]),
  ];
  const h = header([0, 0, 0]).length;
  const file = new Uint8Array([...header([h, h + 12, h + 20]), ...beF32(1, 2, 3), ...beF64(10), ...beF32(4, 5, 6), ...beF64(20), ...beF32(7, 8, 9)]);
  const nc = readNetcdfHeader(file);
  assert.deepEqual(nc.variables.map((v) => [v.name, v.shape, v.record]), [['grid', [3], false], ['t', [2], true], ['v', [2, 3], true]]);
  assert.equal(nc.recordBytes, 20);
  const f32 = (b: Uint8Array) => Array.from(new Float32Array(b.buffer, b.byteOffset, b.length / 4));
  assert.deepEqual(f32(readNetcdfVariable(file, nc, nc.variables[0])), [1, 2, 3]);
  assert.deepEqual(Array.from(new Float64Array(readNetcdfVariable(file, nc, nc.variables[1]).buffer)), [10, 20]);
  assert.deepEqual(f32(readNetcdfVariable(file, nc, nc.variables[2])), [4, 5, 6, 7, 8, 9]);
  assert.throws(() => readNetcdfVariable(file.subarray(0, file.length - 1), nc, nc.variables[2]), /past the end/);
});

test('FITS: a float32 primary image and a binary table with E and D columns (one of them with TDIM)', () => {
  const card = (s: string): string => s.padEnd(80, ' ');
  const block = (cards: string[]): number[] => {
    const text = [...cards, 'END'].map(card).join('');
    return [...text.padEnd(Math.ceil(text.length / 2880) * 2880, ' ')].map((c) => c.charCodeAt(0));
  };
  const pad = (bytes: number[]): number[] => [...bytes, ...Array((2880 - (bytes.length % 2880)) % 2880).fill(0)];
  const primary = block(['SIMPLE  =                    T', 'BITPIX  =                  -32', 'NAXIS   =                    2', 'NAXIS1  =                    3', 'NAXIS2  =                    2']);
  const image = pad(beF32(1, 2, 3, 4, 5, 6));
  // Two rows of: J (4 bytes, skipped), 2E with TDIM (2,1), D.
  const table = block(["XTENSION= 'BINTABLE'", 'BITPIX  =                    8', 'NAXIS   =                    2', 'NAXIS1  =                   20', 'NAXIS2  =                    2', 'PCOUNT  =                    0', 'GCOUNT  =                    1', 'TFIELDS =                    3', "TFORM1  = 'J'", "TFORM2  = '2E'", "TTYPE2  = 'FLUX'", "TDIM2   = '(2,1)'", "TFORM3  = 'D'", "TTYPE3  = 'TIME'"]);
  const rows = pad([...be32(7), ...beF32(0.5, 1.5), ...beF64(100), ...be32(8), ...beF32(2.5, 3.5), ...beF64(200)]);
  const arrays = readFitsArrays(new Uint8Array([...primary, ...image, ...table, ...rows]));
  assert.deepEqual(arrays.map((a) => [a.name, a.dtype, a.shape]), [['hdu0', 'F32', [2, 3]], ['hdu1.FLUX', 'F32', [2, 1, 2]], ['hdu1.TIME', 'F64', [2]]]);
  assert.deepEqual(Array.from(new Float32Array(arrays[0].data.buffer, arrays[0].data.byteOffset, 6)), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(new Float32Array(arrays[1].data.buffer, arrays[1].data.byteOffset, 4)), [0.5, 1.5, 2.5, 3.5]);
  assert.deepEqual(Array.from(new Float64Array(arrays[2].data.slice().buffer)), [100, 200]);
});

test('ZIP: stored and deflated entries by name', () => {
  const entries: [string, Uint8Array, number][] = [['a.npy', new Uint8Array([1, 2, 3]), 0], ['b.npy', new Uint8Array(100).fill(9), 8]];
  const local: number[] = [];
  const central: number[] = [];
  const le16 = (x: number) => [x & 255, x >>> 8];
  const le32 = (x: number) => [...le16(x & 0xffff), ...le16(x >>> 16)];
  for (const [n, data, method] of entries) {
    const stored = method === 8 ? [...deflateRawSync(data)] : [...data];
    const at = local.length;
    const nameBytes = [...n].map((c) => c.charCodeAt(0));
    local.push(...le32(0x04034b50), ...le16(20), ...le16(0), ...le16(method), ...le32(0), ...le32(0), ...le32(stored.length), ...le32(data.length), ...le16(nameBytes.length), ...le16(0), ...nameBytes, ...stored);
    central.push(...le32(0x02014b50), ...le16(20), ...le16(20), ...le16(0), ...le16(method), ...le32(0), ...le32(0), ...le32(stored.length), ...le32(data.length), ...le16(nameBytes.length), ...le16(0), ...le16(0), ...le16(0), ...le16(0), ...le32(0), ...le32(at), ...nameBytes);
  }
  const zip = new Uint8Array([...local, ...central, ...le32(0x06054b50), ...le16(0), ...le16(0), ...le16(2), ...le16(2), ...le32(central.length), ...le32(local.length), ...le16(0)]);
  const out = readZipEntries(zip);
  assert.deepEqual([...out.keys()], ['a.npy', 'b.npy']);
  assert.deepEqual(Array.from(out.get('b.npy')!), Array(100).fill(9));
});

test('synthetic events: seeded and deterministic, documented ranges, every output marked synthetic', () => {
  const a = generateEvents(200, 7);
  const b = generateEvents(200, 7);
  for (const k of Object.keys(a.columns)) assert.deepEqual(a.columns[k].data, b.columns[k].data, k);
  const floats = (k: string): number[] => Array.from(a.columns[k].data as Float32Array);
  assert.ok(floats('pt').every((x) => x >= 0.5));
  assert.ok(floats('eta').every((x) => Math.abs(x) < 5));
  assert.ok(floats('phi').every((x) => x >= -Math.PI && x <= Math.PI));
  assert.equal(Number((a.columns.event_offsets.data as BigInt64Array)[200]), a.particles);
  const dir = mkdtempSync(join(tmpdir(), 'wcodec-events-'));
  try {
    const files = writeEvents(dir, 50, 3);
    assert.ok(files.every((f) => f.file.startsWith('synthetic-')));
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.synthetic, true);
    assert.match(manifest.description, /SYNTHETIC/);
    const h = parseNpyHeader(new Uint8Array(readFileSync(join(dir, 'synthetic-pt.npy'))));
    assert.equal(h.dtype, 'F32');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
