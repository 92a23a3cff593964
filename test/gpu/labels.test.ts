// decodeToGPU checks what it returns (FORMAT.md §7.3): each tensor's SHA-256 by default in versions 1-3 and each
// chunk's digest on the GPU in version 4, its labels against its file's stored safetensors header before decoding, and crafted containers (tools/label-mutations.ts: labels or data changed
// behind recomputed CRCs) give a typed error or the original tensors under their labels. Runs on whatever WebGPU
// adapter Dawn finds (lavapipe in CI); skipped with a reason when there is none.

import '../../src/io/node-sha256.js';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { compressBuffer } from '../../src/api/buffers.js';
import { Checkpoint, openContainer } from '../../src/api/checkpoint.js';
import { ContainerReader } from '../../src/pipeline/container-reader.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { WcodecError } from '../../src/errors.js';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { decodeToGPU } from '../../src/gpu/decode.js';
import { craftLabelCase } from '../../tools/label-mutations.js';
import { makeScratch, originalsOf, runPaths } from '../../tools/label-oracle.js';
import { chunkOf, editIndex, layOut, needTensor, putTogether, takeApart } from '../../tools/vectors/surgery.js';
import { buildSafetensors, type TensorInput } from '../helpers/safetensors-builder.js';
import { Rng, testSeed } from '../helpers/prng.js';
import { makeValues } from '../helpers/values.js';

let device: GPUDevice | undefined;
let skip: string | false = false;
let scratch: string;

before(async () => {
  const got = await requestDecodeDevice('wcodec label test');
  device = got.device;
  if (!device) skip = 'reason' in got ? got.reason : 'no WebGPU device';
  scratch = await makeScratch();
});
after(async () => {
  device?.destroy();
  await rm(scratch, { recursive: true, force: true });
});

const rng0 = new Rng(0x9b1);
const t = (name: string, dtype: string, shape: number[]): TensorInput => ({ name, dtype, shape, data: makeValues(dtype, shape.reduce((a, d) => a * d, 1), 'gaussian', rng0) });
const FILE = buildSafetensors([t('gate_proj', 'BF16', [32, 16]), t('up_proj', 'BF16', [32, 16]), t('norm', 'F32', [16]), t('emb', 'F16', [8, 8])]).bytes;

describe('decodeToGPU: labels and digests', () => {
  /** FILE at `formatVersion` with one raw symbol of chunk 1 of 'gate_proj' changed (its CRC recomputed below version 4). */
  async function rawByteChanged(formatVersion: 3 | 4): Promise<{ cp: Checkpoint; chunkOffset: number }> {
    const c = await compressBuffer(FILE, { chunkBytes: 256, formatVersion });
    const p = await takeApart(c);
    const seg = needTensor(p.index, 'gate_proj');
    assert.ok(seg.coding.tables.some((x) => x === undefined), 'BF16 gaussian keeps its sign and low mantissa raw');
    const { payload, streamEnd } = chunkOf(p, seg, 1);
    payload[streamEnd + 3] ^= 0x01; // a raw symbol: invisible to the rANS end conditions
    layOut(p);
    const cp = await openContainer(new MemorySource(putTogether(p)));
    return { cp, chunkOffset: cp.segmentOf(cp.tensors.find((x) => x.name === 'gate_proj')!).chunks[1].offset };
  }

  test('version 3: a raw-plane byte changed with its chunk CRC recomputed: rejected by default (CHECKSUM_MISMATCH); returned only with checkDigests: false', async (tc) => {
    if (skip) return tc.skip(skip);
    const { cp } = await rawByteChanged(3);
    await assert.rejects(decodeToGPU(cp, ['gate_proj'], device), (e) => e instanceof WcodecError && e.code === 'CHECKSUM_MISMATCH');
    const unchecked = await decodeToGPU(cp, ['gate_proj'], device, { checkDigests: false });
    assert.equal(unchecked.backend, 'gpu', 'the explicit opt-out decodes without the digest check');
    if (unchecked.backend === 'gpu') for (const b of unchecked.buffers) b.destroy();
  });

  test('version 4: a raw-plane byte changed: rejected by its chunk digest on the GPU at the chunk, with or without the SHA-256', async (tc) => {
    if (skip) return tc.skip(skip);
    const { cp, chunkOffset } = await rawByteChanged(4);
    for (const options of [{}, { checkSha256: false }, { checkDigests: false }, { checkSha256: true }]) {
      await assert.rejects(decodeToGPU(cp, ['gate_proj'], device, options), (e) => e instanceof WcodecError && e.code === 'CHECKSUM_MISMATCH' && e.offset === chunkOffset && /chunk digest/.test(e.message), JSON.stringify(options));
    }
  });

  test('two names swapped behind a recomputed index CRC (version 2 container): LABEL_MISMATCH before anything is decoded', async (tc) => {
    if (skip) return tc.skip(skip);
    const c = await compressBuffer(FILE, { chunkBytes: 256, formatVersion: 2 });
    const bad = await editIndex(c, (ix) => {
      const a = needTensor(ix, 'gate_proj');
      const b = needTensor(ix, 'up_proj');
      [a.name, b.name] = [b.name, a.name];
    });
    await assert.rejects(openContainer(new MemorySource(bad)), (e) => e instanceof WcodecError && e.code === 'LABEL_MISMATCH');
    // Given a Checkpoint made without the listing check, decodeToGPU checks the labels itself.
    const cp = new Checkpoint(await ContainerReader.open(new MemorySource(bad)));
    await assert.rejects(decodeToGPU(cp, ['up_proj'], device), (e) => e instanceof WcodecError && e.code === 'LABEL_MISMATCH');
  });

  test('60 crafted version 3 containers: decodeToGPU errors or gives the original tensors under their labels', async (tc) => {
    if (skip) return tc.skip(skip);
    const rng = new Rng(testSeed(0x9b2));
    const base = await compressBuffer(FILE, { name: 'model.safetensors', chunkBytes: 256 });
    const o = await originalsOf([{ path: 'model.safetensors', bytes: FILE }]);
    const outcomes = new Map<string, number>();
    for (let k = 0; k < 60; k++) {
      const c = await craftLabelCase(base, rng);
      const { gpu } = await runPaths(c.bytes, o, { scratch, device }, ['gpu']);
      assert.ok(gpu, 'the GPU path ran');
      assert.notEqual(gpu.outcome, 'wrong', `case ${k} (${c.what}): ${gpu.outcome === 'wrong' ? gpu.detail : ''} (seed ${rng.seed})`);
      const key = gpu.outcome === 'error' ? gpu.code : gpu.outcome;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
    }
    tc.diagnostic([...outcomes].map(([k, v]) => `${k} ${v}`).join(', '));
    assert.ok((outcomes.get('LABEL_MISMATCH') ?? 0) > 0 && (outcomes.get('CHECKSUM_MISMATCH') ?? 0) + (outcomes.get('CORRUPT_CHUNK') ?? 0) > 0, 'label and data cases both ran');
  });
});
