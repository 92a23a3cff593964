// Seed inputs of the fuzz harness: small safetensors files of every dtype family and value mix, the single-file and
// folder containers made from them, and the committed valid test vectors. Built from fixed seeds: the same corpus
// on every machine, so a (seed, iteration) pair names one input everywhere.

import '../../src/io/node-sha256.js';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { compressBuffer } from '../../src/api/buffers.js';
import { ContainerReader } from '../../src/pipeline/container-reader.js';
import { ContainerWriter } from '../../src/pipeline/container-writer.js';
import { MemorySink, MemorySource } from '../../src/io/byte-source.js';
import { referenceFromSafetensors } from '../../src/api/reference.js';
import { readSafetensorsLayout } from '../../src/safetensors/read-layout.js';
import type { TensorReference } from '../../src/format/tensor-reference.js';
import { buildSafetensors, type TensorInput } from '../helpers/safetensors-builder.js';
import { Rng } from '../helpers/prng.js';
import { makeValues, type ValueMix } from '../helpers/values.js';

/** A container and the members it must decode to. */
export interface SeedContainer {
  name: string;
  bytes: Uint8Array;
  kind: 'file' | 'folder';
  members: { path: string; bytes: Uint8Array }[];
}

/** A container with XOR deltas (format version 2) and the reference safetensors file it decodes against. */
export interface SeedDelta extends SeedContainer {
  reference: Uint8Array;
}

/** The whole seed corpus. */
export interface SeedCorpus {
  safetensors: { name: string; bytes: Uint8Array }[];
  containers: SeedContainer[];
  folders: SeedContainer[];
  /** Containers with XOR deltas: they decode only against their reference, so only the delta target uses them. */
  deltas: SeedDelta[];
}

type Spec = [name: string, dtype: string, shape: number[], mix: ValueMix];

const FILES: Spec[][] = [
  [['w', 'BF16', [24, 10], 'gaussian'], ['b', 'F32', [7], 'special'], ['ids', 'I8', [33], 'random']],
  [['h', 'F16', [50], 'sparse'], ['c', 'U8', [16], 'constant'], ['m', 'BOOL', [9], 'random'], ['d', 'F64', [3], 'gaussian'], ['e', 'I32', [0], 'random']],
  [['q.weight', 'F8_E4M3', [40], 'gaussian'], ['q.scale', 'F32', [], 'gaussian'], ['packed', 'F4', [60], 'random'], ['big', 'I64', [2, 3], 'special']],
  [['only', 'BF16', [5, 5, 4], 'constant']],
];

const VALID_VECTORS = new URL('../../../test/vectors/valid/', import.meta.url);

/** A reference over a safetensors file held in memory (for the delta seeds). */
export const seedReference = (bytes: Uint8Array): Promise<TensorReference> => referenceFromSafetensors([new MemorySource(bytes, 'ref.safetensors')], 'ref.safetensors');

/** Decodes a container into its members (it must be valid; `reference` for one with XOR deltas). */
export async function membersOf(bytes: Uint8Array, reference?: TensorReference): Promise<SeedContainer['members']> {
  const reader = await ContainerReader.open(new MemorySource(bytes));
  const members = [];
  for (const m of reader.index.members) {
    const sink = new MemorySink();
    await reader.decodeMember(m, sink, { reference });
    members.push({ path: m.path, bytes: sink.toBytes() });
  }
  return members;
}

/** Builds a folder container from named files (safetensors parsed as such). */
export async function folderContainer(files: { path: string; bytes: Uint8Array }[], chunkBytes?: number): Promise<Uint8Array> {
  const sink = new MemorySink();
  const writer = await ContainerWriter.start(sink, 'folder', { chunkBytes });
  for (const f of files) await writer.addFile(f.path, new MemorySource(f.bytes, f.path), f.path.endsWith('.safetensors'));
  await writer.finish();
  return sink.toBytes();
}

let corpus: Promise<SeedCorpus> | undefined;

/** The seed corpus (built once per process). */
export function seedCorpus(): Promise<SeedCorpus> {
  corpus ??= buildCorpus();
  return corpus;
}

async function buildCorpus(): Promise<SeedCorpus> {
  const rng = new Rng(0x5eed);
  const safetensors = FILES.map((spec, k) => {
    const tensors: TensorInput[] = spec.map(([name, dtype, shape, mix]) => {
      const n = shape.reduce((a, d) => a * d, 1) / (dtype === 'F4' ? 2 : 1); // F4 packs two values a byte
      return { name, dtype, shape, data: makeValues(dtype, n, mix, rng) };
    });
    const metadata = k === 0 ? { format: 'pt' } : undefined;
    return { name: `seed-${k}.safetensors`, bytes: buildSafetensors(tensors, { metadata }).bytes };
  });
  const containers: SeedContainer[] = [];
  for (const [k, f] of safetensors.entries()) {
    const chunkBytes = [64, 256, 100, undefined][k];
    const bytes = await compressBuffer(f.bytes, { name: f.name, chunkBytes });
    containers.push({ name: `${f.name}.wcodec`, bytes, kind: 'file', members: [{ path: f.name, bytes: f.bytes }] });
  }
  // Version 8 (the byte model, FORMAT.md §5.5): a JSON text and a safetensors file whose header is primed from its labels.
  const text = new TextEncoder().encode(JSON.stringify({ model: { type: 'BPE', vocab: Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`t${(i * 37) % 101}_${i % 7}`, i])) } }, null, 1));
  containers.push({ name: 'text-v8.wcodec', bytes: await compressBuffer(text, { name: 'tokenizer.json', formatVersion: 8 }), kind: 'file', members: [{ path: 'tokenizer.json', bytes: text }] });
  const st = safetensors[0];
  containers.push({ name: `${st.name}-v8.wcodec`, bytes: await compressBuffer(st.bytes, { name: st.name, formatVersion: 8, chunkBytes: 256 }), kind: 'file', members: [{ path: st.name, bytes: st.bytes }] });
  const folders: SeedContainer[] = [];
  const config = new TextEncoder().encode('{"architectures":["LlamaForCausalLM"],"hidden_size":64}\n');
  const weightMap = new TextEncoder().encode(JSON.stringify({ weight_map: { w: 'seed-0.safetensors', h: 'sub/seed-1.safetensors' } }));
  const folderFiles = [
    { path: 'config.json', bytes: config },
    { path: 'model.safetensors.index.json', bytes: weightMap },
    { path: 'seed-0.safetensors', bytes: safetensors[0].bytes },
    { path: 'sub/seed-1.safetensors', bytes: safetensors[1].bytes },
    { path: 'sub/empty.txt', bytes: new Uint8Array(0) },
  ];
  const folderBytes = await folderContainer(folderFiles, 128);
  folders.push({ name: 'folder.wcodec', bytes: folderBytes, kind: 'folder', members: await membersOf(folderBytes) });
  // The committed valid vectors (coded and raw index blocks, every lane count, unknown dtypes, UTF-8 names).
  const manifest = JSON.parse(await readFile(fileURLToPath(new URL('manifest.json', VALID_VECTORS)), 'utf8')) as { vectors: { file: string; kind: 'file' | 'folder'; reference?: string }[] };
  const deltas: SeedDelta[] = [];
  for (const v of manifest.vectors) {
    const bytes = new Uint8Array(await readFile(fileURLToPath(new URL(v.file, VALID_VECTORS))));
    if (v.reference !== undefined) {
      const reference = new Uint8Array(await readFile(fileURLToPath(new URL(v.reference, VALID_VECTORS))));
      deltas.push({ name: v.file, bytes, kind: v.kind, members: await membersOf(bytes, await seedReference(reference)), reference });
      continue;
    }
    const seed: SeedContainer = { name: v.file, bytes, kind: v.kind, members: await membersOf(bytes) };
    (v.kind === 'folder' ? folders : containers).push(seed);
  }
  // A delta of seed-0 (BF16, F32, I8) against a copy with about a third of its bytes changed, in small chunks.
  const reference = safetensors[0].bytes.slice();
  const { headerEnd } = await readSafetensorsLayout(new MemorySource(reference));
  for (let i = headerEnd; i < reference.length; i++) if (rng.int(3) === 0) reference[i] ^= 1 << rng.int(8);
  const deltaBytes = await compressBuffer(safetensors[0].bytes, { name: 'seed-0.safetensors', chunkBytes: 64, reference: await seedReference(reference) });
  deltas.push({ name: 'seed-0-delta.wcodec', bytes: deltaBytes, kind: 'file', members: [{ path: 'seed-0.safetensors', bytes: safetensors[0].bytes }], reference });
  return { safetensors, containers, folders, deltas };
}
