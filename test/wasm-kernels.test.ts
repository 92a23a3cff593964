// The WebAssembly kernels against the TypeScript reference: CRC-32C on every length and alignment; containers
// byte-identical for every dtype, size (0, 1, odd, 2^k +- 1, multi-chunk) and value mix, decoded by either path;
// and every corrupt chunk (bit flips, truncation, extension, with a correct CRC) rejected with exactly the
// reference's error, or decoded to exactly the reference's bytes.

import '../src/io/node-sha256.js';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { createChunkDecoder } from '../src/wasm/chunk-engines.js';
import { crc32c, updateCrc32c } from '../src/format/crc32c.js';
import { MemorySource } from '../src/io/byte-source.js';
import { loadKernels, type Kernels } from '../src/wasm/kernels.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { ALL_DTYPES, DTYPE_WIDTH, VALUE_MIXES, makeValues } from './helpers/values.js';

const SIZES = [0, 1, 2, 3, 5, 31, 32, 33, 1023, 1025, 16385];
/** Chunks of 32 full lanes need 65536 values: one such tensor per dtype, in one mix, keeps the test short. */
const LARGE = 65537;

async function kernels(): Promise<Kernels> {
  const k = await loadKernels();
  assert.ok(k, 'WebAssembly SIMD kernels must load under Node >= 20');
  return k;
}

/** Outcome of a call: its result bytes, or its error's class, code, offset and message. */
function outcome(f: () => Uint8Array): string {
  try {
    return `ok ${Buffer.from(f()).toString('hex')}`;
  } catch (e) {
    const err = e as Error & { code?: string; offset?: number };
    return `${err.constructor.name} ${err.code} ${err.offset} ${err.message}`;
  }
}

describe('WebAssembly kernels', () => {
  test('crc32c equals the reference for every length 0..300 at every alignment 0..7, and chained', async () => {
    const K = await kernels();
    const rng = new Rng(testSeed(11));
    const data = rng.bytes(400);
    const ptr = K.copyIn(data);
    for (let a = 0; a < 8; a++) {
      for (let len = 0; len <= 300; len++) {
        assert.equal(K.k.crc32cUpdate(0, ptr + a, len) >>> 0, crc32c(data.subarray(a, a + len)), `offset ${a} length ${len}`);
      }
    }
    // Long inputs run two chains joined by a GF(2) shift: lengths around the threshold and its 16-byte steps.
    const big = rng.bytes(200_100);
    const bigPtr = K.copyIn(big);
    for (const len of [1008, 1023, 1024, 1025, 1039, 1040, 1041, 4103, 65536, 100_003, 200_000]) {
      for (const a of [0, 1, 3, 100]) {
        assert.equal(K.k.crc32cUpdate(0, bigPtr + a, len) >>> 0, crc32c(big.subarray(a, a + len)), `long: offset ${a} length ${len}`);
        assert.equal(K.k.crc32cUpdate(0x12345678, bigPtr + a, len) >>> 0, updateCrc32c(0x12345678, big.subarray(a, a + len)), `long, chained: offset ${a} length ${len}`);
      }
    }
    K.release(bigPtr, big.length);
    const first = K.k.crc32cUpdate(0, ptr, 123) >>> 0;
    assert.equal(K.k.crc32cUpdate(first, ptr + 123, 200) >>> 0, updateCrc32c(crc32c(data.subarray(0, 123)), data.subarray(123, 323)));
    assert.equal(K.k.crc32cUpdate(0, K.copyIn(new TextEncoder().encode('123456789')), 9) >>> 0, 0xe3069283);
  });

  test('containers are byte-identical to the reference for every dtype, size and value mix; each path decodes the other', async () => {
    const rng = new Rng(testSeed(12));
    for (const dtype of [...ALL_DTYPES, 'X9']) {
      const W = DTYPE_WIDTH[dtype] ?? 1;
      for (const mix of VALUE_MIXES) {
        const sizes = mix === 'gaussian' ? [...SIZES, LARGE] : SIZES;
        const tensors = sizes.map((n, k) => ({ name: `t${k}`, dtype, shape: [n], data: makeValues(dtype, n, mix, rng) }));
        const file = buildSafetensors(tensors).bytes;
        // Small chunks make most tensors multi-chunk, with a partial last chunk and every lane count.
        for (const chunkBytes of [256 * 1024, 4096 * W + W * 3]) {
          const what = `${dtype} ${mix} chunkBytes ${chunkBytes}`;
          const ts = await compressBuffer(file, { engine: 'ts', chunkBytes });
          const wasm = await compressBuffer(file, { engine: 'wasm', chunkBytes });
          assert.ok(Buffer.from(ts).equals(Buffer.from(wasm)), `${what}: containers differ`);
          const out = await decompressBuffer(ts, { engine: 'wasm' });
          assert.ok(Buffer.from(out).equals(Buffer.from(file)), `${what}: WebAssembly decode differs`);
        }
      }
    }
  });

  test('fastDecode (raw sign and mantissa planes): identical containers on both paths, exact round trips', async () => {
    const rng = new Rng(testSeed(15));
    for (const dtype of ['BF16', 'F16', 'F32', 'F64', 'I16']) {
      for (const mix of ['gaussian', 'special', 'sparse'] as const) {
        const tensors = [...SIZES, LARGE].map((n, k) => ({ name: `t${k}`, dtype, shape: [n], data: makeValues(dtype, n, mix, rng) }));
        const file = buildSafetensors(tensors).bytes;
        const ts = await compressBuffer(file, { engine: 'ts', fastDecode: true, chunkBytes: 8192 });
        const wasm = await compressBuffer(file, { engine: 'wasm', fastDecode: true, chunkBytes: 8192 });
        assert.ok(Buffer.from(ts).equals(Buffer.from(wasm)), `${dtype} ${mix}: containers differ`);
        assert.ok(Buffer.from(await decompressBuffer(wasm, { engine: 'wasm' })).equals(Buffer.from(file)), `${dtype} ${mix}: WebAssembly decode`);
        assert.ok(Buffer.from(await decompressBuffer(wasm, { engine: 'ts' })).equals(Buffer.from(file)), `${dtype} ${mix}: reference decode`);
      }
    }
  });

  test('a plain (non-safetensors) file and an empty one give identical containers', async () => {
    const rng = new Rng(testSeed(13));
    for (const bytes of [new Uint8Array(0), Uint8Array.of(7), rng.bytes(300001)]) {
      const ts = await compressBuffer(bytes, { engine: 'ts', name: 'blob.bin' });
      const wasm = await compressBuffer(bytes, { engine: 'wasm', name: 'blob.bin' });
      assert.ok(Buffer.from(ts).equals(Buffer.from(wasm)));
      assert.ok(Buffer.from(await decompressBuffer(wasm, { engine: 'wasm' })).equals(Buffer.from(bytes)));
    }
  });

  test('corrupt chunks (with correct CRCs) fail with exactly the reference error, or decode to exactly its bytes', async () => {
    const K = await kernels();
    const rng = new Rng(testSeed(14));
    let rejected = 0;
    let accepted = 0;
    for (const dtype of ['BF16', 'F32', 'F16', 'U8', 'F64']) {
      const W = DTYPE_WIDTH[dtype];
      const tensors = [70000, 20000, 40, 1].map((n, k) => ({ name: `t${k}`, dtype, shape: [n], data: makeValues(dtype, n, 'gaussian', rng) }));
      const container = await compressBuffer(buildSafetensors(tensors).bytes, { engine: 'ts' });
      const reader = await ContainerReader.open(new MemorySource(container, 'c.wcodec'));
      for (const seg of reader.index.members[0].segments) {
        if (seg.kind !== 'tensor' || seg.chunks.length === 0) continue;
        const values = seg.originalBytes / W;
        const n = Math.min(seg.chunkValues, values);
        const rec = seg.chunks[0];
        const good = container.slice(rec.offset, rec.offset + rec.bytes);
        const ts = createChunkDecoder(seg.coding, n, undefined);
        const wasm = createChunkDecoder(seg.coding, n, K);
        const mutants: Uint8Array[] = [good.subarray(0, good.length - 1), good.subarray(0, good.length - 2), new Uint8Array([...good, 0, 0]), good.subarray(0, 2)];
        for (let m = 0; m < 40; m++) {
          const bad = good.slice();
          const at = m < 8 ? m : rng.int(bad.length);
          bad[at] ^= 1 << rng.int(8);
          mutants.push(bad);
        }
        for (const bad of mutants) {
          const run = (d: typeof ts) => () => {
            const out = new Uint8Array(n * W).fill(0xa5); // poisoned: unwritten bytes would show
            assert.ok(d.decode(bad, n, out, { crc32c: crc32c(bad) }, 'c.wcodec', rec.offset));
            return out;
          };
          const want = outcome(run(ts));
          assert.equal(outcome(run(wasm)), want, `${dtype} ${seg.name}: mutant of ${bad.length} bytes`);
          if (want.startsWith('ok')) accepted++;
          else rejected++;
        }
        const out = new Uint8Array(n * W);
        assert.equal(wasm.decode(good, n, out, { crc32c: crc32c(good) ^ 1 }, 'c.wcodec', rec.offset), false, 'a CRC mismatch is reported');
        ts.dispose();
        wasm.dispose();
      }
    }
    assert.ok(rejected > 100, `${rejected} mutants rejected`);
    assert.ok(accepted >= 0);
  });
});
