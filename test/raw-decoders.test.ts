// Decoders of raw-only codings kept across the tensors of one member decode (src/pipeline/raw-decoders.ts): output
// stays exact when tensors of many layouts, small and larger, raw and coded, follow each other.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { MemorySource } from '../src/io/byte-source.js';
import { MAX_RAW_DECODERS, RawDecoders } from '../src/pipeline/raw-decoders.js';
import { loadKernels } from '../src/wasm/kernels.js';
import { chunkBinding } from '../src/format/chunk-binding.js';
import { buildSafetensors, type TensorInput } from './helpers/safetensors-builder.js';
import { Rng, testSeed } from './helpers/prng.js';

const DTYPE_BYTES: Record<string, number> = { F16: 2, BF16: 2, F32: 4, F64: 8, I8: 1, U8: 1, I16: 2, I32: 4, I64: 8, U16: 2, U32: 4 };

/** Tensors whose raw-only codings repeat and grow, between coded tensors. */
function mixedTensors(rng: Rng): TensorInput[] {
  const dtypes = Object.keys(DTYPE_BYTES);
  const tensors: TensorInput[] = [];
  const random = (bytes: number): Uint8Array => rng.bytes(bytes);
  for (let k = 0; k < 60; k++) {
    const dtype = dtypes[k % dtypes.length];
    // Sizes grow and shrink: a kept decoder meets a segment of more values than it was built for.
    const values = [1, 3, 2, 7, 5, 17, 1, 33][k % 8];
    tensors.push({ name: `small.${k}`, dtype, shape: [values], data: random(values * DTYPE_BYTES[dtype]) });
    if (k % 5 === 0) {
      // A coded F16 tensor: small exponents, so that rANS pays.
      const data = new Uint8Array(2 * 4099);
      for (let i = 0; i < data.length; i += 2) {
        data[i] = rng.int(256);
        data[i + 1] = 0x38 + rng.int(3);
      }
      tensors.push({ name: `coded.${k}`, dtype: 'F16', shape: [4099], data });
    }
  }
  return tensors;
}

test('raw-only decoders kept across tensors of many layouts decode every tensor exactly', async () => {
  const seed = testSeed(0x5ad0c0de);
  const input = buildSafetensors(mixedTensors(new Rng(seed))).bytes;
  const container = await compressBuffer(input);
  // The container exercises what the decoders' reuse must get right: raw-only codings of several layouts shared by
  // several tensors of growing sizes, and coded tensors between them.
  const reader = await ContainerReader.open(new MemorySource(container, 'mixed.wcodec'));
  const segments = reader.index.members[0].segments.filter((s) => s.kind === 'tensor' && !s.transform);
  const rawOnly = new Map<unknown, number>();
  for (const s of segments) if (s.coding.tables.every((t) => t === undefined)) rawOnly.set(s.coding, (rawOnly.get(s.coding) ?? 0) + 1);
  assert.ok(rawOnly.size >= 2, `seed ${seed}: ${rawOnly.size} raw-only codings`);
  assert.ok([...rawOnly.values()].some((n) => n > 1), `seed ${seed}: no raw-only coding is shared`);
  assert.ok(segments.some((s) => s.coding.tables.some((t) => t !== undefined)), `seed ${seed}: no coded tensor`);
  for (const engine of ['wasm', 'ts'] as const) {
    assert.deepEqual(await decompressBuffer(container, { engine }), input, `seed ${seed}, engine ${engine}`);
  }
});

test('at most MAX_RAW_DECODERS raw-only decoders are kept; one evicted or outgrown is rebuilt and still decodes', async () => {
  const input = buildSafetensors([{ name: 'b', dtype: 'F16', shape: [5], data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10) }]).bytes;
  const reader = await ContainerReader.open(new MemorySource(await compressBuffer(input), 'one.wcodec'));
  const seg = reader.index.members[0].segments[1];
  assert.ok(seg.coding.tables.every((t) => t === undefined), 'the tensor is stored raw');
  const kernels = await loadKernels();
  const raw = new RawDecoders();
  // Codings are told apart by object: copies of one stand for as many distinct raw layouts.
  const codings = Array.from({ length: MAX_RAW_DECODERS + 2 }, () => ({ ...seg.coding, tables: seg.coding.tables }));
  const first = codings.map((c) => raw.decoderFor(c, 5, kernels));
  assert.ok(first.every((d) => d.kept));
  assert.equal(raw.decoderFor(codings.at(-1)!, 5, kernels).decoder, first.at(-1)!.decoder, 'a kept decoder is reused');
  assert.notEqual(raw.decoderFor(codings[0], 5, kernels).decoder, first[0].decoder, 'the oldest was evicted and is rebuilt');
  const grown = raw.decoderFor(codings.at(-1)!, 9, kernels);
  assert.notEqual(grown.decoder, first.at(-1)!.decoder, 'a decoder too small for the segment is replaced');
  const chunk = await reader.source.read(seg.chunks[0].offset, seg.chunks[0].bytes);
  const rec = seg.chunks[0];
  // A version 4 chunk's record holds its digest bound to the segment's place (FORMAT.md §7.3), as the reader unbinds it.
  const check = rec.digest === undefined ? { crc32c: rec.crc32c } : { crc32c: 0, digest: rec.digest ^ chunkBinding(seg.sha256, seg.stream ?? 0, 0) };
  const out = new Uint8Array(10).fill(0xee);
  assert.equal(grown.decoder.decode(chunk, 5, out, check, undefined, rec.offset), true);
  assert.deepEqual(out, input.subarray(input.length - 10));
  raw.disposeAll();
});
