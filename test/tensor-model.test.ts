// The tensor model (FORMAT.md §5.6) and version 10 containers: the TypeScript reference and the WebAssembly kernel give
// the same streams and decode them back over every dtype, sizes and value mixes; corrupt streams raise CORRUPT_CHUNK
// at an offset in the stream; `level: 'max'` containers round-trip and are refused or accepted as §3.4 says.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeTensorModel as decodeTs, encodeTensorModel as encodeTs, tensorModelProbabilities } from '../src/entropy/tensor-model.js';
import { decodeTensorModel, encodeTensorModel } from '../src/wasm/wasm-tensor-model.js';
import { interleavePlanes, tensorModelShape } from '../src/entropy/chunk-codec.js';
import { splitPlanes, type PlaneLayout, type PlaneSpec } from '../src/transform/planes.js';
import { loadKernels } from '../src/wasm/kernels.js';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { MemorySource } from '../src/io/byte-source.js';
import { WcodecError } from '../src/errors.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { makeValues, VALUE_MIXES } from './helpers/values.js';
import { assertCorruptStreamRejected, corruptStreams } from './helpers/corrupt-streams.js';

const SIGN_MANTISSA: PlaneSpec = { kind: 'head', ranges: [{ lo: 15, width: 1 }, { lo: 0, width: 7 }] };
/** The layouts the writer gives the tensor model (container-writer.ts tensorModelLayout). */
const LAYOUTS: Record<string, PlaneLayout> = {
  BF16: { valueBytes: 2, planes: [{ kind: 'head', ranges: [{ lo: 7, width: 8 }] }, SIGN_MANTISSA] },
  F16: { valueBytes: 2, planes: [{ kind: 'head', ranges: [{ lo: 10, width: 5 }, { lo: 7, width: 3 }] }, SIGN_MANTISSA] },
  F32: { valueBytes: 4, planes: [{ kind: 'head', ranges: [{ lo: 7, width: 8 }] }, SIGN_MANTISSA, { kind: 'byte', byteIndex: 1 }, { kind: 'byte', byteIndex: 0 }] },
  F64: {
    valueBytes: 8,
    planes: [{ kind: 'head', ranges: [{ lo: 7, width: 8 }] }, SIGN_MANTISSA, ...[5, 4, 3, 2, 1, 0].map((byteIndex) => ({ kind: 'byte' as const, byteIndex }))],
  },
  I16: { valueBytes: 2, planes: [{ kind: 'head', ranges: [{ lo: 8, width: 8 }] }, { kind: 'head', ranges: [{ lo: 0, width: 8 }] }] },
};

function symbolsOf(bytes: Uint8Array, n: number, layout: PlaneLayout): Uint8Array {
  const planes = layout.planes.map(() => new Uint16Array(n));
  splitPlanes(bytes, n, layout, planes, new Uint16Array(n));
  const syms = new Uint8Array(n * layout.planes.length);
  interleavePlanes(planes, n, syms);
  return syms;
}

test('tensor model: TypeScript and WebAssembly give the same stream and decode it, over dtypes, sizes and value mixes', async () => {
  const kernels = await loadKernels();
  assert.ok(kernels, 'WebAssembly kernels load in Node');
  const rng = new Rng(testSeed(101));
  for (const [dtype, layout] of Object.entries(LAYOUTS)) {
    for (const mix of VALUE_MIXES) {
      for (const n of [0, 1, 2, 7, 255, 257, 1023, 3001]) {
        const bytes = makeValues(dtype === 'I16' ? 'I16' : dtype, n, mix, rng);
        const row = 1 + (n % 37);
        const shape = tensorModelShape(layout, row);
        const syms = symbolsOf(bytes, n, layout);
        const a = encodeTs(syms, n, shape);
        const b = encodeTensorModel(kernels, syms, n, shape);
        const what = `${dtype} ${mix} n=${n} row=${row}`;
        assert.deepEqual(b, a, `${what}: same stream on both engines`);
        assert.deepEqual(encodeTs(syms, n, shape), a, `${what}: deterministic`);
        // Random bits cost a little more than storing them (the writer then keeps the plain coding, FORMAT.md §3.4).
        if (mix !== 'random' && n >= 1000) assert.ok(a.length <= n * layout.valueBytes + 8, `${what}: ${a.length} bytes within the chunk bound`);
        for (const engine of [undefined, kernels]) {
          const out = new Uint8Array(syms.length).fill(0xcd);
          decodeTensorModel(engine, a, n, shape, out);
          assert.deepEqual(out, syms, `${what}: decoded on ${engine ? 'wasm' : 'ts'}`);
        }
      }
    }
  }
});

test('tensor model: worked example of FORMAT.md §5.6.6', () => {
  // Four BF16 values 1.0, 1.0, −2.0, 0.5 in one row of 2: the stream FORMAT.md gives.
  const values = Uint8Array.of(0x80, 0x3f, 0x80, 0x3f, 0x00, 0xc0, 0x00, 0x3f);
  const layout = LAYOUTS.BF16;
  const syms = symbolsOf(values, 4, layout);
  assert.deepEqual([...syms], [127, 0, 127, 0, 128, 128, 126, 0]);
  const stream = encodeTs(syms, 4, tensorModelShape(layout, 2));
  assert.equal(Buffer.from(stream).toString('hex'), WORKED_EXAMPLE_HEX);
  const ps = tensorModelProbabilities(syms, 4, tensorModelShape(layout, 2), 64);
  const runs = (...r: [number, number][]): number[] => r.flatMap(([p, count]) => Array<number>(count).fill(p));
  assert.deepEqual(ps, runs([2299, 16], [1122, 1], [3329, 7], [830, 8], [639, 1], [2299, 7], [779, 1], [2291, 7], [2432, 1], [3264, 7], [2020, 1], [1195, 2], [1565, 4], [1195, 1]));
});

/** The stream of FORMAT.md §5.6.6. */
const WORKED_EXAMPLE_HEX = '91a82b21a07d66cf5111';

test('tensor model: corrupt streams raise CORRUPT_CHUNK at an offset in the stream, on both engines', async () => {
  const kernels = await loadKernels();
  const rng = new Rng(testSeed(102));
  const n = 4000;
  const layout = LAYOUTS.BF16;
  const shape = tensorModelShape(layout, 100);
  const syms = symbolsOf(makeValues('BF16', n, 'gaussian', rng), n, layout);
  const s = encodeTs(syms, n, shape);
  const cases = corruptStreams(s);
  for (const [what, bad] of cases) {
    for (const engine of [undefined, kernels]) {
      const out = new Uint8Array(syms.length);
      assertCorruptStreamRejected(what, bad, 1000, () => decodeTensorModel(engine, bad, n, shape, out, { offset: 1000 }), out, syms);
    }
  }
});

test('tensor model: a few stream bytes cannot decode many values (work stays bounded by the stream length)', async () => {
  const kernels = await loadKernels();
  const layout = LAYOUTS.F32;
  const n = 1 << 20;
  const shape = tensorModelShape(layout, 1024);
  for (const stream of [new Uint8Array(4), new Uint8Array(4).fill(0xff), Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0)]) {
    for (const engine of [kernels, undefined]) {
      const started = performance.now();
      const out = new Uint8Array(n * 4);
      assert.throws(() => decodeTensorModel(engine, stream, n, shape, out), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_CHUNK');
      assert.ok(performance.now() - started < 10_000, `${engine ? 'wasm' : 'ts'}: ${(performance.now() - started).toFixed(0)} ms for a ${stream.length}-byte stream`);
    }
  }
});

/** A safetensors file of smooth BF16 and F32 matrices (rows that share a scale) and a small norm vector. */
function smoothModel(rng: Rng): Uint8Array {
  const matrix = (dtype: 'BF16' | 'F32', rows: number, cols: number): Uint8Array => {
    const f = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const scale = 2 ** (rng.int(6) - 8);
      for (let c = 0; c < cols; c++) f[r * cols + c] = scale * rng.gaussian();
    }
    const u = new Uint8Array(f.buffer);
    if (dtype === 'F32') return u;
    const out = new Uint8Array(rows * cols * 2);
    for (let i = 0; i < rows * cols; i++) {
      out[2 * i] = u[4 * i + 2];
      out[2 * i + 1] = u[4 * i + 3];
    }
    return out;
  };
  return buildSafetensors([
    { name: 'a.weight', dtype: 'BF16', shape: [64, 96], data: matrix('BF16', 64, 96) },
    { name: 'b.weight', dtype: 'F32', shape: [256, 64], data: matrix('F32', 256, 64) },
    { name: 'norm.weight', dtype: 'F32', shape: [64], data: matrix('F32', 1, 64) },
  ]).bytes;
}

test("level 'max': version 10, tensors coded with the tensor model, smaller, decoded on both engines and with workers", async () => {
  const file = smoothModel(new Rng(testSeed(103)));
  const max = await compressBuffer(file, { name: 'model.safetensors', level: 'max' });
  const plain = await compressBuffer(file, { name: 'model.safetensors' });
  assert.equal(new DataView(max.buffer, max.byteOffset).getUint16(8, true), 10);
  assert.ok(max.length < plain.length, `${max.length} bytes at level max, ${plain.length} by default`);
  const reader = await ContainerReader.open(new MemorySource(max));
  const segs = reader.index.members[0].segments;
  assert.equal(segs.find((s) => s.name === 'a.weight')?.coding.tensorModel?.rowValues, 96);
  assert.equal(segs.find((s) => s.name === 'b.weight')?.coding.tensorModel?.rowValues, 64);
  assert.equal(segs.find((s) => s.name === 'norm.weight')?.coding.tensorModel, undefined, 'below TENSOR_MODEL_MIN_VALUES');
  for (const engine of ['ts', 'wasm'] as const) assert.deepEqual(await decompressBuffer(max, { engine }), file, engine);
  assert.deepEqual(await decompressBuffer(max, { threads: 2 }), file, 'two threads');
  assert.deepEqual(await compressBuffer(file, { name: 'model.safetensors', level: 'max', engine: 'ts' }), max, 'same bytes from the TypeScript engine');
  assert.deepEqual(await compressBuffer(file, { name: 'model.safetensors', level: 'max', threads: 2 }), max, 'same bytes with workers');
  // Chunks of 4 KiB: each tensor's chunks are coded on the workers (ContainerWriter.encodeOnPool), the same bytes.
  const small = await compressBuffer(file, { name: 'model.safetensors', level: 'max', chunkBytes: 4096 });
  const pooled = await compressBuffer(file, { name: 'model.safetensors', level: 'max', chunkBytes: 4096, threads: 3, minPoolBytes: 0 });
  assert.deepEqual(pooled, small, 'tensor-model chunks coded on workers give the same container');
  const smallIx = (await ContainerReader.open(new MemorySource(small))).index;
  assert.ok(smallIx.members[0].segments.some((seg) => seg.coding.tensorModel && seg.chunks.length > 1), 'a tensor-model segment of several chunks');
  assert.deepEqual(await decompressBuffer(pooled, { threads: 3, minPoolBytes: 0 }), file);
  assert.deepEqual(await compressBuffer(file, { name: 'model.safetensors', level: 'default' }), plain, "level 'default' is the default coding");
});

test("level 'max': option rules", async () => {
  const data = new Uint8Array(10);
  await assert.rejects(compressBuffer(data, { name: 'x.bin', level: 'max', formatVersion: 8 }), RangeError);
  await assert.rejects(compressBuffer(data, { name: 'x.bin', level: 'best' as 'max' }), RangeError);
  const v10 = await compressBuffer(data, { name: 'x.bin', formatVersion: 10 });
  assert.equal(new DataView(v10.buffer, v10.byteOffset).getUint16(8, true), 10, 'formatVersion 10 means level max');
});
