// The WD64 chunk digest (format version 4): the TypeScript reference and the WebAssembly kernel against a plain BigInt
// transcription of the definition and against fixed values; equal to each other at every length 0..200 and offset
// 0..7, on long inputs, on all-zero and all-0xFF data and on words that drive the products to their extremes; and
// sensitive to every single bit flip, to the order of stripes and to trailing zero bytes.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIGEST_KEYS, chunkDigest } from '../src/format/chunk-digest.js';
import { chunkDigestInKernel } from '../src/wasm/kernel-digest.js';
import { loadKernels, type Kernels } from '../src/wasm/kernels.js';
import { Rng, testSeed } from './helpers/prng.js';

const U64 = (1n << 64n) - 1n;
const K = [
  0x9e3779b185ebca87n, 0xc2b2ae3d27d4eb4fn, 0x165667b19e3779f9n, 0x85ebca77c2b2ae63n,
  0x27d4eb2f165667c5n, 0xd6e8feb86659fd93n, 0xff51afd7ed558ccdn, 0xc4ceb9fe1a85ec53n,
];

/** WD64 transcribed step by step from its definition, in BigInt, a byte at a time: slow and obviously right. */
function digestFromDefinition(d: Uint8Array): bigint {
  const a = [...K];
  for (let s = 0; s * 64 < d.length; s++) {
    const w: bigint[] = [];
    for (let j = 0; j < 8; j++) {
      let v = 0n;
      for (let b = 7; b >= 0; b--) v = (v << 8n) | BigInt(d[64 * s + 8 * j + b] ?? 0);
      w.push(v);
    }
    const m = (BigInt(s) * K[5]) & U64;
    for (let j = 0; j < 8; j++) {
      const t = w[j] ^ K[j] ^ m;
      a[j] = (a[j] + (t & 0xffffffffn) * (t >> 32n) + w[j ^ 1]) & U64;
    }
  }
  let h = (BigInt(d.length) * K[1]) & U64;
  for (let j = 0; j < 8; j++) {
    h = ((h ^ a[j]) * K[2]) & U64;
    h ^= h >> 31n;
  }
  h ^= h >> 33n;
  h = (h * K[3]) & U64;
  return h ^ (h >> 29n);
}

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const filled = (n: number, v: number): Uint8Array => new Uint8Array(n).fill(v);

/** Fixed inputs and their digests (each also computed by an independent program from the definition). */
const KNOWN: [string, Uint8Array, bigint][] = [
  ['empty', new Uint8Array(0), 0xb43667e249fc5325n],
  ['one zero byte', filled(1, 0), 0xcafeba305d654b43n],
  ['"abc"', ascii('abc'), 0xf7f7842b01af8eacn],
  ['64 zero bytes', filled(64, 0), 0x8bd2140e8bdc1c32n],
  ['64 0xFF bytes', filled(64, 0xff), 0x34c10f565c92a934n],
  ['bytes i mod 256, 1000 of them', Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff), 0x89a3866cc81aec95n],
  ['4097 0xFF bytes', filled(4097, 0xff), 0xdc32c26df5e1bb60n],
];

async function kernels(): Promise<Kernels> {
  const k = await loadKernels();
  assert.ok(k, 'WebAssembly SIMD kernels must load under Node >= 20');
  return k;
}

/** WD64 of `bytes` by the kernel: copied into kernel memory at `offset` bytes past a 64-byte aligned block. */
function kernelDigest(k: Kernels, bytes: Uint8Array, offset = 0): bigint {
  const ptr = k.alloc(bytes.length + offset);
  k.u8.set(bytes, ptr + offset);
  try {
    return chunkDigestInKernel(k, ptr + offset, bytes.length);
  } finally {
    k.release(ptr, bytes.length + offset);
  }
}

const hex = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

describe('chunk digest (WD64)', () => {
  test('the keys are the definition', () => {
    assert.deepEqual(DIGEST_KEYS, K);
  });

  test('known values: the reference, the kernel and the transcription of the definition agree with them', async () => {
    const k = await kernels();
    for (const [what, bytes, want] of KNOWN) {
      assert.equal(hex(digestFromDefinition(bytes)), hex(want), `${what}: transcription`);
      assert.equal(hex(chunkDigest(bytes)), hex(want), `${what}: reference`);
      assert.equal(hex(kernelDigest(k, bytes)), hex(want), `${what}: kernel`);
    }
  });

  test('reference and kernel equal the transcription for every length 0..200 at every offset 0..7', async () => {
    const k = await kernels();
    const data = new Rng(testSeed(41)).bytes(208);
    const ptr = k.copyIn(data);
    for (let len = 0; len <= 200; len++) {
      for (let a = 0; a < 8; a++) {
        const bytes = data.subarray(a, a + len);
        const want = hex(digestFromDefinition(bytes));
        assert.equal(hex(chunkDigest(bytes)), want, `reference: offset ${a} length ${len}`);
        assert.equal(hex(chunkDigestInKernel(k, ptr + a, len)), want, `kernel: offset ${a} length ${len}`);
      }
    }
    k.release(ptr, data.length);
  });

  test('reference and kernel agree on long inputs at unaligned offsets, and with the transcription on one', async () => {
    const k = await kernels();
    const rng = new Rng(testSeed(42));
    // The reference copies an unaligned input through its scratch in rounds of 16 KiB: lengths span several rounds.
    const data = rng.bytes(3_000_128);
    const ptr = k.copyIn(data);
    for (const len of [4096, 16_383, 16_384, 16_385, 65_536 + 13, 100_003, (1 << 20) + 77, 3_000_000]) {
      for (const a of [0, 1, 3, 4, 100]) {
        const bytes = data.subarray(a, a + len);
        assert.equal(hex(chunkDigestInKernel(k, ptr + a, len)), hex(chunkDigest(bytes)), `offset ${a} length ${len}`);
      }
    }
    assert.equal(hex(chunkDigest(data.subarray(5, 5 + 100_003))), hex(digestFromDefinition(data.subarray(5, 5 + 100_003))));
    k.release(ptr, data.length);
  });

  test('all-zero and all-0xFF inputs: reference and kernel equal the transcription', async () => {
    const k = await kernels();
    for (const v of [0, 0xff]) {
      for (const len of [1, 63, 64, 65, 127, 128, 129, 4095, 4096, 65_537]) {
        const bytes = filled(len, v);
        const want = hex(digestFromDefinition(bytes));
        assert.equal(hex(chunkDigest(bytes)), want, `0x${v.toString(16)} x ${len}: reference`);
        assert.equal(hex(kernelDigest(k, bytes, 1)), want, `0x${v.toString(16)} x ${len}: kernel`);
      }
    }
  });

  test('words that make every t = w XOR K XOR m extreme: all ones, zero, one half all ones, a product next to 2^62', async () => {
    const k = await kernels();
    const patterns: ((km: bigint) => bigint)[] = [
      (km) => ~km & U64, // t = 2^64 - 1: the largest product, (2^32 - 1)^2
      (km) => km, // t = 0
      (km) => km ^ 0xffffffffn, // t = 0x00000000_FFFFFFFF
      (km) => km ^ 0xffffffff00000000n, // t = 0xFFFFFFFF_00000000
      (km) => km ^ 0x80000000_80000000n, // both halves 2^31
      // 0x40009AAC * 0xFFFD9556 lies just above 2^62 and its double just below: the high half of the product must be
      // rounded, not truncated.
      (km) => km ^ 0xfffd9556_40009aacn,
    ];
    for (const [p, pattern] of patterns.entries()) {
      const stripes = 9;
      const bytes = new Uint8Array(stripes * 64);
      const view = new DataView(bytes.buffer);
      for (let s = 0; s < stripes; s++) {
        const m = (BigInt(s) * K[5]) & U64;
        for (let j = 0; j < 8; j++) view.setBigUint64(64 * s + 8 * j, pattern(K[j] ^ m), true);
      }
      for (const len of [bytes.length, bytes.length - 5]) {
        const input = bytes.subarray(0, len);
        const want = hex(digestFromDefinition(input));
        assert.equal(hex(chunkDigest(input)), want, `pattern ${p} length ${len}: reference`);
        assert.equal(hex(kernelDigest(k, input, 3)), want, `pattern ${p} length ${len}: kernel`);
      }
    }
  });

  test('every single bit flip in a 4 KiB input changes the digest, in the reference and in the kernel', async () => {
    const k = await kernels();
    const data = new Rng(testSeed(43)).bytes(4096);
    const base = chunkDigest(data);
    const ptr = k.copyIn(data);
    for (let i = 0; i < data.length; i++) {
      for (let b = 0; b < 8; b++) {
        data[i] ^= 1 << b;
        assert.notEqual(chunkDigest(data), base, `bit ${b} of byte ${i}: reference`);
        data[i] ^= 1 << b;
        const u8 = k.u8;
        u8[ptr + i] ^= 1 << b;
        assert.notEqual(chunkDigestInKernel(k, ptr, data.length), base, `bit ${b} of byte ${i}: kernel`);
        u8[ptr + i] ^= 1 << b;
      }
    }
    assert.equal(chunkDigestInKernel(k, ptr, data.length), base);
    k.release(ptr, data.length);
  });

  test('swapping two different 64-byte stripes changes the digest', async () => {
    const k = await kernels();
    const data = new Rng(testSeed(44)).bytes(64 * 20 + 17);
    const base = chunkDigest(data);
    for (const [x, y] of [[0, 1], [0, 19], [3, 4], [7, 12], [18, 19]]) {
      const swapped = data.slice();
      swapped.set(data.subarray(64 * x, 64 * x + 64), 64 * y);
      swapped.set(data.subarray(64 * y, 64 * y + 64), 64 * x);
      assert.notEqual(chunkDigest(swapped), base, `stripes ${x} and ${y}: reference`);
      assert.notEqual(kernelDigest(k, swapped), base, `stripes ${x} and ${y}: kernel`);
    }
  });

  test('appending a zero byte, or a whole zero stripe, changes the digest', async () => {
    const k = await kernels();
    const data = new Rng(testSeed(45)).bytes(300);
    for (let len = 0; len <= 256; len++) {
      const bytes = data.subarray(0, len);
      const longer = new Uint8Array(len + 1);
      longer.set(bytes);
      const base = chunkDigest(bytes);
      assert.notEqual(chunkDigest(longer), base, `length ${len}: reference`);
      assert.notEqual(kernelDigest(k, longer), kernelDigest(k, bytes), `length ${len}: kernel`);
      const stripeLonger = new Uint8Array(len + 64);
      stripeLonger.set(bytes);
      assert.notEqual(chunkDigest(stripeLonger), base, `length ${len} + 64 zero bytes`);
    }
  });

  test('the kernel wrapper rejects a range outside the kernel memory', async () => {
    const k = await kernels();
    const size = k.k.memory.buffer.byteLength;
    assert.throws(() => chunkDigestInKernel(k, size - 10, 11), RangeError);
    assert.throws(() => chunkDigestInKernel(k, -1, 4), RangeError);
    assert.throws(() => chunkDigestInKernel(k, 0, 1.5), RangeError);
    assert.equal(chunkDigestInKernel(k, size, 0), KNOWN[0][2]);
  });
});
