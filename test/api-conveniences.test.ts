// toFloat32 against independent arithmetic (every BF16, F16 and F8 bit pattern, F32 specials and random bits: NaN,
// Inf, -0, subnormals), and the stored SHA-256 of each tensor and file in Checkpoint.tensors / members.

import '../src/io/node-sha256.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { compressBuffer } from '../src/api/buffers.js';
import { openContainer } from '../src/api/checkpoint.js';
import { toFloat32 } from '../src/index.js';
import { MemorySource } from '../src/io/byte-source.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { makeValues } from './helpers/values.js';

/** The value of a binary float from its fields, by arithmetic on numbers (no bit reinterpretation). */
function fieldsValue(bits: number, expBits: number, manBits: number, opts: { fn?: boolean } = {}): number {
  const sign = Math.floor(bits / 2 ** (expBits + manBits)) % 2 === 1 ? -1 : 1;
  const e = Math.floor(bits / 2 ** manBits) % 2 ** expBits;
  const m = bits % 2 ** manBits;
  const bias = 2 ** (expBits - 1) - 1;
  const top = 2 ** expBits - 1;
  if (opts.fn) {
    if (e === top && m === 2 ** manBits - 1) return NaN; // E4M3 "FN": only S.1111.111 is NaN, no infinities
  } else if (e === top) {
    return m === 0 ? sign * Infinity : NaN;
  }
  if (e === 0) return sign * m * 2 ** (1 - bias - manBits); // subnormal (and signed zero)
  return sign * (1 + m / 2 ** manBits) * 2 ** (e - bias);
}

function sameValue(got: number, want: number, what: string): void {
  if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `${what}: ${got}, expected NaN`);
  else assert.ok(Object.is(got, want), `${what}: ${got}, expected ${want}`);
}

function everyPattern(W: 1 | 2): Uint8Array {
  const n = W === 1 ? 256 : 65536;
  const out = new Uint8Array(n * W);
  for (let v = 0; v < n; v++) {
    out[v * W] = v & 0xff;
    if (W === 2) out[v * W + 1] = v >>> 8;
  }
  return out;
}

test('toFloat32: every BF16, F16, F8_E5M2 and F8_E4M3 pattern equals its value from sign, exponent and mantissa', () => {
  const cases: [string, 1 | 2, number, number, boolean][] = [
    ['BF16', 2, 8, 7, false],
    ['F16', 2, 5, 10, false],
    ['F8_E5M2', 1, 5, 2, false],
    ['F8_E4M3', 1, 4, 3, true],
  ];
  for (const [dtype, W, e, m, fn] of cases) {
    const bytes = everyPattern(W);
    const got = toFloat32(dtype, bytes);
    assert.equal(got.length, bytes.length / W);
    for (let v = 0; v < got.length; v++) sameValue(got[v], fieldsValue(v, e, m, { fn }), `${dtype} 0x${v.toString(16)}`);
  }
  // The specials by name, as a reader would look for them.
  const f16 = toFloat32('F16', new Uint8Array([0x00, 0x80, 0x00, 0x7c, 0x00, 0xfc, 0x01, 0x7e, 0x01, 0x00, 0xff, 0x03]));
  assert.ok(Object.is(f16[0], -0));
  assert.equal(f16[1], Infinity);
  assert.equal(f16[2], -Infinity);
  assert.ok(Number.isNaN(f16[3]));
  assert.equal(f16[4], 2 ** -24, 'smallest F16 subnormal');
  assert.equal(f16[5], 1023 * 2 ** -24, 'largest F16 subnormal');
  const e4 = toFloat32('F8_E4M3', new Uint8Array([0x7e, 0x7f, 0xff, 0x01, 0x80]));
  assert.deepEqual([e4[0], e4[3]], [448, 2 ** -9]);
  assert.ok(Number.isNaN(e4[1]) && Number.isNaN(e4[2]));
  assert.ok(Object.is(e4[4], -0));
});

test('toFloat32: F32 bits pass through (NaN payloads, -0, subnormals, Inf, random bits), at any byte offset', () => {
  const rng = new Rng(testSeed(71));
  const words = [0, 0x80000000, 1, 0x807fffff, 0x7f800000, 0xff800000, 0x7fc00001, 0xffbfffff, 0x3f800000];
  for (let k = 0; k < 4096; k++) words.push(rng.u32());
  const bytes = new Uint8Array(1 + words.length * 4).subarray(1); // odd offset: no aligned view of the input is possible
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  words.forEach((w, i) => dv.setUint32(4 * i, w, true));
  const got = toFloat32('F32', bytes);
  const gotBits = new DataView(got.buffer);
  words.forEach((w, i) => assert.equal(gotBits.getUint32(4 * i, true) >>> 0, w >>> 0, `word ${i}`));
});

test('toFloat32: F16 NaN payloads survive (moved up 13 bits); wrong dtypes and partial values are refused', () => {
  const got = toFloat32('F16', new Uint8Array([0x55, 0x7d]));
  assert.equal(new Uint32Array(got.buffer)[0], 0x7f800000 | (0x155 << 13));
  assert.throws(() => toFloat32('I8', new Uint8Array(4)), TypeError);
  assert.throws(() => toFloat32('F64', new Uint8Array(8)), TypeError);
  assert.throws(() => toFloat32('F16', new Uint8Array(3)), RangeError);
  assert.throws(() => toFloat32('F32', new Uint8Array(6)), RangeError);
  assert.equal(toFloat32('BF16', new Uint8Array(0)).length, 0);
});

test('TensorInfo.sha256 and MemberInfo.sha256 are the stored digests of each tensor and of the file, in hex', async () => {
  const rng = new Rng(testSeed(72));
  const tensors = [
    { name: 'a', dtype: 'BF16', shape: [300], data: makeValues('BF16', 300, 'gaussian', rng) },
    { name: 'b', dtype: 'F16', shape: [3, 7], data: makeValues('F16', 21, 'gaussian', rng) },
    { name: 'empty', dtype: 'F32', shape: [0], data: new Uint8Array(0) },
  ];
  tensors.push({ name: 'a-again', dtype: 'BF16', shape: [300], data: tensors[0].data }); // stored as a duplicate
  const file = buildSafetensors(tensors).bytes;
  const hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  const ckpt = await openContainer(new MemorySource(await compressBuffer(file, { name: 'm.safetensors' })));
  try {
    for (const t of tensors) {
      const info = ckpt.tensors.find((x) => x.name === t.name)!;
      assert.match(info.sha256, /^[0-9a-f]{64}$/);
      assert.equal(info.sha256, hex(t.data), t.name);
    }
    assert.equal(ckpt.tensors.find((x) => x.name === 'a-again')!.transform, 'dup');
    assert.equal(ckpt.members[0].sha256, hex(file));
    assert.equal(JSON.parse(JSON.stringify(ckpt.members[0])).sha256, hex(file), 'listed by JSON.stringify');
  } finally {
    await ckpt.close();
  }
});
