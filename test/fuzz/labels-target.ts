// Fuzz target of label integrity (docs/SECURITY.md, "Labels"): version 3 and 4 seed containers with one label or data change
// and every CRC recomputed (tools/label-mutations.ts), decoded on every path (tools/label-oracle.ts: whole members,
// verify, per-tensor reads, and decodeToGPU where a WebGPU adapter exists). Each path must raise a typed error or give
// exactly the original bytes under their original member path, tensor name, dtype and shape.

/// <reference types="@webgpu/types" />
import { createHash } from 'node:crypto';
import type { WcodecError } from '../../src/errors.js';
import { requestDecodeDevice } from '../../src/gpu/adapter.js';
import { craftLabelCase } from '../../tools/label-mutations.js';
import { makeScratch, originalsOf, runPaths, type Originals } from '../../tools/label-oracle.js';
import { PropertyFailure } from './check.js';
import type { SeedContainer, SeedCorpus } from './seeds.js';
import type { FuzzTarget } from './targets.js';
import { CONTAINER_CODES } from './codes.js';
import { rm } from 'node:fs/promises';
import { ContainerReader } from '../../src/pipeline/container-reader.js';
import { MemorySource } from '../../src/io/byte-source.js';

const hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const versionOf = (c: Uint8Array): number => c[8] | (c[9] << 8);

/** The seeds of versions 3 to 5 (what wcodec writes) and their originals, once per corpus. */
const seeds = new WeakMap<SeedCorpus, { seed: SeedContainer; originals: Originals }[]>();
async function labelSeeds(corpus: SeedCorpus): Promise<{ seed: SeedContainer; originals: Originals }[]> {
  let s = seeds.get(corpus);
  if (!s) {
    s = [];
    for (const seed of [...corpus.containers, ...corpus.folders]) {
      if (versionOf(seed.bytes) < 3) continue;
      // The members the seed's writer was given as raw arrays (FORMAT.md §4.9): their files state no labels.
      const reader = await ContainerReader.open(new MemorySource(seed.bytes, seed.name));
      const rawArrays = new Set(reader.index.members.filter((m) => m.layout === 'raw-array').map((m) => m.path));
      s.push({ seed, originals: await originalsOf(seed.members, rawArrays) });
    }
    seeds.set(corpus, s);
  }
  return s;
}

/** One generic GPU pipeline for every input (compiled once, before the timed runs); digests checked as by default. */
const GPU_OPTIONS = { specialize: false } as const;

/** The seed each case was made from, by the case's digest (the oracle goes with the seed). */
const seedOf = new Map<string, number>();
let device: Promise<GPUDevice | undefined> | undefined;
let scratch: Promise<string> | undefined;

export const labelsTarget: FuzzTarget = {
  name: 'labels',
  description: 'version 3 to 5 containers with labels (names, dtypes, shapes, member paths) or data changed behind recomputed CRCs: every path (whole, verify, per tensor, GPU where there is one) errors or gives the originals under their labels',
  codes: CONTAINER_CODES,
  async make(rng, corpus) {
    const all = await labelSeeds(corpus);
    const k = rng.int(all.length);
    if (!device) {
      // The device and its generic pipelines (one per kernel class the seeds need: packed raw planes of version 4 make
      // their own) are made here, outside the timed runs (lavapipe compiles each for ~1 s).
      device = requestDecodeDevice('wcodec fuzz labels').then((r) => r.device);
      scratch = makeScratch();
      const d = await device;
      if (d) for (const s of all) await runPaths(s.seed.bytes, s.originals, { scratch: await scratch, device: d, gpuOptions: GPU_OPTIONS }, ['gpu']);
    }
    const c = await craftLabelCase(all[k].seed.bytes, rng);
    seedOf.set(hex(c.bytes), k);
    return { bytes: c.bytes, what: `${all[k].seed.name}: ${c.mutation}: ${c.what}` };
  },
  async run(input, corpus) {
    const all = await labelSeeds(corpus);
    const key = hex(input);
    const { originals } = all[seedOf.get(key) ?? 0];
    seedOf.delete(key);
    const results = await runPaths(input, originals, { scratch: await scratch!, device: await device, gpuOptions: GPU_OPTIONS }, ['whole', 'verify', 'tensor', 'gpu']);
    let rejection: WcodecError | undefined;
    for (const [path, r] of Object.entries(results)) {
      if (r.outcome === 'wrong') throw new PropertyFailure(`${path}: ${r.detail}`);
      if (r.outcome === 'error') rejection ??= r.error;
    }
    // A rejection reaches the harness as the first path's typed error (its code, class and offset are checked there).
    if (rejection) throw rejection;
    return input.length;
  },
};

/** Destroys the target's GPU device and removes its scratch folder. */
export async function cleanupLabelsTarget(): Promise<void> {
  (await device)?.destroy();
  const dir = await scratch;
  if (dir) await rm(dir, { recursive: true, force: true });
  device = undefined;
  scratch = undefined;
}
