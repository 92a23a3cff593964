// Huffman-coded planes decoded on the GPU (huffman.wgsl, huffman-pass.ts; FORMAT.md §5.4), byte for byte as the CPU
// decodes them: every dtype, sizes 0, 1, 3, 2^k±1 and multi-chunk, odd chunk sizes (chunks at unaligned offsets),
// several input slabs, every upload method, formats 2 (CRC-32C) and 4 (chunk digests), into poisoned output buffers
// so that unwritten bytes show; Huffman-coded streams of transformed segments; damaged blocks (sizes, code bits,
// padding) failing with the CPU decoder's codes (in version 4, where no CRC-32C comes first, these are the block
// checks' own: CORRUPT_CHUNK where a block fails them, CHECKSUM_MISMATCH where it decodes to other bytes). Runs on whatever WebGPU adapter Dawn finds; skipped with a reason
// when there is none.

import '../../src/io/node-sha256.js';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { compressBuffer } from '../../src/api/buffers.js';
import { openContainer, type Checkpoint } from '../../src/api/checkpoint.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { decodeToGPU } from '../../src/gpu/decode.js';
import type { UploadMethod } from '../../src/gpu/decode-options.js';
import { isHuffman } from '../../src/entropy/chunk-codec.js';
import type { SegmentRecord } from '../../src/pipeline/index-codec.js';
import { buildSafetensors, type TensorInput } from '../helpers/safetensors-builder.js';
import { Rng } from '../helpers/prng.js';
import { ALL_DTYPES, makeValues, type ValueMix } from '../helpers/values.js';
import { codeOf, decodeAllPoisoned, sameAsCpu } from '../helpers/gpu-compare.js';
import { referenceFromSafetensors } from '../../src/api/reference.js';

let device: GPUDevice | undefined;
let skipReason = '';

before(async () => {
  const got = await requestDecodeDevice('wcodec Huffman test');
  if (got.device) device = got.device;
  else skipReason = got.reason;
});

after(() => device?.destroy());

const huffmanCoded = (seg: SegmentRecord): boolean => seg.coding.tables.some(isHuffman);

async function containerOf(tensors: TensorInput[], formatVersion: 2 | 4, chunkBytes?: number, transforms = false): Promise<{ cp: Checkpoint; container: Uint8Array }> {
  const container = await compressBuffer(buildSafetensors(tensors).bytes, { chunkBytes, huffman: true, formatVersion, transforms });
  return { cp: await openContainer(new MemorySource(container, `huffman-v${formatVersion}.wcodec`)), container };
}

/** Every tensor of `cp` decoded into poisoned outputs and compared with the CPU decode (CRC-32C on the GPU). */
async function compareAll(cp: Checkpoint, what: string, upload: UploadMethod, inputSlabBytes?: number): Promise<void> {
  await decodeAllPoisoned(device!, cp, `${what} [${upload}]`, { inputSlabBytes }, upload, 'gpu');
}

const SIZES = [0, 1, 3, 7, 1023, 1025, 4097, 65537];

for (const formatVersion of [2, 4] as const) {
  test(`Huffman planes on the GPU: every dtype, odd sizes, value mixes (version ${formatVersion})`, async (t) => {
    if (!device) return t.skip(skipReason);
    const rng = new Rng(7001 + formatVersion);
    const tensors: TensorInput[] = [];
    const mixes: ValueMix[] = ['gaussian', 'random', 'special', 'sparse', 'constant'];
    for (const dtype of ALL_DTYPES) {
      for (const n of SIZES) {
        const mix = mixes[(n + dtype.length) % mixes.length];
        tensors.push({ name: `${dtype}.${n}.${mix}`, dtype, shape: [n], data: makeValues(dtype, n, mix, rng) });
      }
    }
    const { cp } = await containerOf(tensors, formatVersion);
    const coded = cp.tensors.filter((x) => huffmanCoded(cp.segmentOf(x))).map((x) => x.name);
    assert.ok(coded.length >= 5 && coded.some((x) => x.startsWith('F32')) && coded.some((x) => x.startsWith('F16')), `Huffman-coded: ${coded.join(', ')}`);
    await compareAll(cp, `dtypes, version ${formatVersion}`, 'mapped');
  });
}

test('Huffman planes on the GPU: multi-chunk tensors, odd chunk sizes, several slabs, every upload method', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(7010);
  const tensors: TensorInput[] = [
    { name: 'bf16', dtype: 'BF16', shape: [30001], data: makeValues('BF16', 30001, 'gaussian', rng) },
    { name: 'f16', dtype: 'F16', shape: [20003], data: makeValues('F16', 20003, 'gaussian', rng) },
    { name: 'f32', dtype: 'F32', shape: [15001], data: makeValues('F32', 15001, 'gaussian', rng) },
    { name: 'f64', dtype: 'F64', shape: [7001], data: makeValues('F64', 7001, 'special', rng) },
    { name: 'u8', dtype: 'U8', shape: [30007], data: makeValues('U8', 30007, 'sparse', rng) },
  ];
  for (const formatVersion of [2, 4] as const) {
    // 9 833 bytes a chunk: values per chunk odd for W = 1, chunks at unaligned offsets.
    const { cp } = await containerOf(tensors, formatVersion, 9833);
    for (const x of cp.tensors.slice(0, 3)) {
      const seg = cp.segmentOf(x);
      assert.ok(huffmanCoded(seg) && seg.chunks.length > 3, `'${x.name}': ${seg.chunks.length} Huffman-coded chunks`);
    }
    for (const upload of ['mapped', 'staging', 'write'] as UploadMethod[]) await compareAll(cp, `multi-chunk, version ${formatVersion}`, upload, 16384);
    // Through decodeToGPU: nothing is reported as decoded on the CPU.
    const notes = await sameAsCpu(device, cp, cp.tensors.map((x) => x.name), { inputSlabBytes: 20000 }, `decodeToGPU, version ${formatVersion}`);
    assert.deepEqual(notes, cp.tensors.map(() => undefined));
  }
});

test('Huffman planes on the GPU: Huffman-coded streams of XOR_DELTA, ZERO_FLAGS and QUANT_SCALE segments', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(7020);
  const base = makeValues('BF16', 20000, 'gaussian', rng);
  const changed = base.slice();
  for (let i = 0; i < changed.length; i += 6) changed[i] ^= 1 + (i % 200);
  const sparse = makeValues('BF16', 20000, 'sparse', rng);
  const grid = new Uint8Array(40000);
  const gv = new DataView(grid.buffer);
  for (let i = 0; i < 20000; i++) gv.setUint16(2 * i, (0x3c00 + ((Math.round(rng.float() * 40) - 20) << 4)) & 0xffff, true);
  const refFile = buildSafetensors([{ name: 'delta', dtype: 'BF16', shape: [20000], data: base }]).bytes;
  const reference = await referenceFromSafetensors([new MemorySource(refFile, 'ref.safetensors')], 'ref.safetensors');
  const file = buildSafetensors([
    { name: 'delta', dtype: 'BF16', shape: [20000], data: changed },
    { name: 'sparse', dtype: 'BF16', shape: [20000], data: sparse },
    { name: 'grid', dtype: 'BF16', shape: [100, 200], data: grid },
  ]).bytes;
  for (const formatVersion of [2, 4] as const) {
    const container = await compressBuffer(file, { huffman: true, formatVersion, reference, chunkBytes: 4096 });
    const cp = await openContainer(new MemorySource(container, 'streams.wcodec'));
    const transformed = cp.tensors.filter((x) => cp.segmentOf(x).transform?.streams.some((st) => st.coding.tables.some(isHuffman)));
    assert.ok(transformed.length >= 1, `version ${formatVersion}: transforms ${cp.tensors.map((x) => x.transform).join(', ')}`);
    const names = cp.tensors.map((x) => x.name);
    const notes = await sameAsCpu(device, cp, names, { reference }, `transformed streams, version ${formatVersion}`);
    assert.deepEqual(notes, names.map(() => undefined));
  }
});

test('Huffman planes on the GPU: damaged blocks fail with the CPU decoder\'s codes', async (t) => {
  if (!device) return t.skip(skipReason);
  const rng = new Rng(7030);
  const tensors: TensorInput[] = [
    { name: 'bf16', dtype: 'BF16', shape: [6001], data: makeValues('BF16', 6001, 'gaussian', rng) },
    { name: 'f32', dtype: 'F32', shape: [3001], data: makeValues('F32', 3001, 'gaussian', rng) },
  ];
  for (const formatVersion of [2, 4] as const) {
    const { cp, container } = await containerOf(tensors, formatVersion, 4096);
    for (const info of cp.tensors) {
      const seg = cp.segmentOf(info);
      assert.ok(huffmanCoded(seg), `'${info.name}' is Huffman-coded`);
      const chunk = seg.chunks[1];
      const view = new DataView(container.buffer, container.byteOffset + chunk.offset);
      // The block's stream sizes (first, last, one grown past the chunk), a stream's first and middle bytes, the last
      // byte of the blocks (its padding bits), the raw planes.
      const sizes = Array.from({ length: 8 }, (_, k) => view.getUint32(4 * k, true));
      const blocksEnd = 32 + sizes.reduce((a, b) => a + b, 0);
      const damages: [string, (b: Uint8Array) => void][] = [
        ['size 0 + 1', (b) => new DataView(b.buffer).setUint32(chunk.offset, sizes[0] + 1, true)],
        ['size 7 - 1', (b) => new DataView(b.buffer).setUint32(chunk.offset + 28, sizes[7] - 1, true)],
        ['size 3 huge', (b) => new DataView(b.buffer).setUint32(chunk.offset + 12, 0x7ffffff0, true)],
        ['sizes swapped', (b) => {
          new DataView(b.buffer).setUint32(chunk.offset, sizes[1], true);
          new DataView(b.buffer).setUint32(chunk.offset + 4, sizes[0], true);
        }],
        ['first stream byte', (b) => { b[chunk.offset + 32] ^= 0x5a; }],
        ['middle stream byte', (b) => { b[chunk.offset + 32 + (blocksEnd - 32) / 2] ^= 0x24; }],
        ['last block byte', (b) => { b[chunk.offset + blocksEnd - 1] ^= 0x80; }],
        ['raw plane byte', (b) => { b[chunk.offset + chunk.bytes - 3] ^= 0x11; }],
      ];
      for (const [what, damage] of damages) {
        const bad = container.slice();
        damage(bad);
        const cpBad = await openContainer(new MemorySource(bad, 'bad.wcodec'));
        // Streams of equal sizes swapped leave the chunk as it was: both decodes then succeed.
        const cpu = await codeOf(cpBad.read(info.name));
        if (what !== 'sizes swapped') assert.notEqual(cpu, 'none', `the CPU decode notices '${info.name}' ${what}`);
        assert.equal(await codeOf(decodeToGPU(cpBad, [info.name], device)), cpu, `GPU, '${info.name}' ${what}, version ${formatVersion}`);
      }
    }
  }
});
