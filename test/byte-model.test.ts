// The byte model (FORMAT.md §5.5) and version 8 containers: round trips of varied bytes on the TypeScript reference and
// the WebAssembly kernel (same streams), determinism, corrupt streams (CORRUPT_CHUNK naming the offset), primed
// safetensors headers (§4.4) and the writer's per-segment choice.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeByteModel as decodeTs, encodeByteModel as encodeTs } from '../src/entropy/byte-model.js';
import { decodeByteModel, encodeByteModel } from '../src/wasm/wasm-byte-model.js';
import { loadKernels } from '../src/wasm/kernels.js';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { MemorySource } from '../src/io/byte-source.js';
import { WcodecError } from '../src/errors.js';
import { safetensorsPrimer } from '../src/safetensors/header-primer.js';
import { buildSafetensors } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';
import { assertCorruptStreamRejected, corruptStreams } from './helpers/corrupt-streams.js';

const utf8 = new TextEncoder();

/** Byte inputs of several kinds, by name. */
function samples(rng: Rng): Map<string, Uint8Array> {
  const random = new Uint8Array(20_000);
  for (let i = 0; i < random.length; i++) random[i] = rng.int(256);
  const repetitive = new Uint8Array(30_000);
  for (let i = 0; i < repetitive.length; i++) repetitive[i] = 'abcab'.charCodeAt(i % 5) ^ (i % 997 === 0 ? 1 : 0);
  const vocab: Record<string, number> = {};
  for (let i = 0; i < 3000; i++) vocab[`▁tok${(i * 7919) % 10007}${String.fromCharCode(97 + (i % 26))}`] = i;
  const tokenizer = JSON.stringify({ version: '1.0', model: { type: 'BPE', vocab, merges: Object.keys(vocab).slice(0, 500).map((k) => `${k} ${k.slice(1)}`) } }, null, 2);
  const quantized = new Uint8Array(40_000);
  for (let i = 0; i < quantized.length; i++) quantized[i] = i % 4000 < 2000 ? 128 + (rng.int(9) - 4) : quantized[i - 2000];
  return new Map<string, Uint8Array>([
    ['empty', new Uint8Array(0)],
    ['one byte', new Uint8Array([0x7b])],
    ['two bytes', new Uint8Array([0, 255])],
    ['random', random],
    ['repetitive', repetitive],
    ['constant', new Uint8Array(5000).fill(0xaa)],
    ['config JSON', utf8.encode(JSON.stringify({ architectures: ['LlamaForCausalLM'], hidden_size: 256, num_attention_heads: 8, rms_norm_eps: 1e-5, vocab_size: 32000 }, null, 2))],
    ['tokenizer JSON', utf8.encode(tokenizer)],
    ['quantized with repeats', quantized],
  ]);
}

test('byte model: TypeScript and WebAssembly round-trip every sample to the same stream', async () => {
  const kernels = await loadKernels();
  assert.ok(kernels, 'WebAssembly kernels load in Node');
  const rng = new Rng(testSeed(81));
  for (const [name, data] of samples(rng)) {
    const a = encodeTs(data);
    const b = encodeByteModel(kernels, data);
    assert.deepEqual(b, a, `${name}: same stream on both engines`);
    assert.deepEqual(encodeTs(data), a, `${name}: deterministic`);
    for (const engine of [undefined, kernels]) {
      const out = new Uint8Array(data.length).fill(0xcd);
      decodeByteModel(engine, a, data.length, new Uint8Array(0), out);
      assert.deepEqual(out, data, `${name}: decoded on ${engine ? 'wasm' : 'ts'}`);
    }
    // Incompressible bytes cost a little more than storing them; the writer then keeps them raw (FORMAT.md §5.5).
    if (name === 'random') assert.ok(a.length <= data.length * 1.03 + 64, `random: ${a.length} bytes for ${data.length}`);
    if (name === 'repetitive') assert.ok(a.length < data.length / 50, `repetitive: ${a.length} bytes`);
  }
});

test('byte model: a primer the decoder knows makes matching bytes nearly free', async () => {
  const kernels = await loadKernels();
  const primer = utf8.encode(JSON.stringify({ a: { dtype: 'F32', shape: [3, 4], data_offsets: [0, 48] }, b: { dtype: 'BF16', shape: [4], data_offsets: [48, 56] } }).repeat(20));
  const data = primer.slice(0, 1000);
  const primed = encodeByteModel(kernels, data, primer);
  assert.deepEqual(primed, encodeTs(data, primer));
  assert.ok(primed.length < 40, `${primed.length} bytes with the primer`);
  const out = new Uint8Array(data.length);
  decodeByteModel(kernels, primed, data.length, primer, out);
  assert.deepEqual(out, data);
  decodeTs(primed, data.length, primer, out);
  assert.deepEqual(out, data);
});

test('byte model: corrupt streams raise CORRUPT_CHUNK at an offset in the stream, on both engines', async () => {
  const kernels = await loadKernels();
  const data = utf8.encode('{"model":{"vocab":{"a":1,"b":2,"c":3}}}'.repeat(40));
  const s = encodeTs(data);
  const cases = corruptStreams(s);
  for (const [what, bad] of cases) {
    for (const engine of [undefined, kernels]) {
      const out = new Uint8Array(data.length);
      assertCorruptStreamRejected(what, bad, 1000, () => decodeByteModel(engine, bad, data.length, new Uint8Array(0), out, { offset: 1000 }), out, data);
    }
  }
});

test('version 8 containers: text, a safetensors file with a primed header, decoded on both engines', async () => {
  const rng = new Rng(testSeed(82));
  const tokenizer = samples(rng).get('tokenizer JSON')!;
  const packed = await compressBuffer(tokenizer, { name: 'tokenizer.json', formatVersion: 8 });
  // The container without the byte model (version 4; by default the writer would use it here too, in version 11).
  const plain = await compressBuffer(tokenizer, { name: 'tokenizer.json', byteModel: false });
  assert.equal(new DataView(packed.buffer, packed.byteOffset).getUint16(8, true), 8);
  assert.ok(packed.length < plain.length / 2, `${packed.length} bytes at version 8, ${plain.length} at version 4`);
  for (const engine of ['ts', 'wasm'] as const) assert.deepEqual(await decompressBuffer(packed, { engine }), tokenizer);
  assert.deepEqual(await compressBuffer(tokenizer, { name: 'tokenizer.json', formatVersion: 8 }), packed, 'deterministic');

  const names = Array.from({ length: 60 }, (_, i) => `model.layers.${i >> 2}.mlp.proj_${i & 3}.weight`);
  const file = buildSafetensors(
    names.map((name, i) => ({ name, dtype: 'F32', shape: [2, 3 + (i % 5)], data: new Uint8Array(4 * 2 * (3 + (i % 5))).map((_, j) => (j * 31 + i) & 255) })),
    { metadata: { format: 'pt' } },
  ).bytes;
  const v8 = await compressBuffer(file, { name: 'model.safetensors', formatVersion: 8 });
  // The container without the byte model (version 4; by default the writer would use it for the header, in version 11).
  const v4 = await compressBuffer(file, { name: 'model.safetensors', byteModel: false });
  const reader = await ContainerReader.open(new MemorySource(v8));
  const header = reader.index.members[0].segments[0];
  assert.equal(header.coding.byteModel?.primer, 1, 'the header is primed');
  const headerBytes = header.chunks.reduce((a, c) => a + c.bytes, 0);
  assert.ok(headerBytes < 64, `header of ${header.originalBytes} bytes coded in ${headerBytes}`);
  assert.ok(v8.length < v4.length, `${v8.length} < ${v4.length}`);
  for (const engine of ['ts', 'wasm'] as const) assert.deepEqual(await decompressBuffer(v8, { engine }), file);
  const primer = safetensorsPrimer(reader.index.members[0].segments.slice(1));
  assert.equal(new TextDecoder().decode(primer), new TextDecoder().decode(file.subarray(8, 8 + primer.length)));
});

test('version 8: the writer keeps order-0 coding where the byte model does not win', async () => {
  const rng = new Rng(testSeed(83));
  const random = new Uint8Array(50_000);
  for (let i = 0; i < random.length; i++) random[i] = rng.int(256);
  const c = await compressBuffer(random, { name: 'noise.bin', formatVersion: 8 });
  const reader = await ContainerReader.open(new MemorySource(c));
  assert.equal(reader.index.members[0].segments[0].coding.byteModel, undefined);
  assert.deepEqual(await decompressBuffer(c), random);
});

test('byte model: a few stream bytes cannot decode many values (work stays bounded by the stream length)', async () => {
  const kernels = await loadKernels();
  for (const stream of [new Uint8Array(4), new Uint8Array(4).fill(0xff), Uint8Array.of(0x80, 0, 0, 0, 0, 0, 0, 0)]) {
    for (const engine of [kernels, undefined]) {
      const started = performance.now();
      const out = new Uint8Array(1 << 22);
      assert.throws(() => decodeByteModel(engine, stream, out.length, new Uint8Array(0), out), (e: unknown) => e instanceof WcodecError && e.code === 'CORRUPT_CHUNK');
      assert.ok(performance.now() - started < 10_000, `${engine ? 'wasm' : 'ts'}: ${(performance.now() - started).toFixed(0)} ms for a ${stream.length}-byte stream`);
    }
  }
});
