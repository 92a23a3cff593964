// The benchmark's inputs: what `npm run bench` measures with no arguments (the bundled example, the shared corpus
// when present, seeded synthetic weights), how a file or folder is loaded as members, and its identity (SHA-256).

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listFolder } from '../src/node/folder-walk.js';
import { syntheticFileName, writeSyntheticWeights, type SyntheticDtype, type SyntheticSpec } from '../tools/synthetic-weights.js';
import type { Member } from './codecs.js';

/** One input as the suite runs it. */
export interface BenchInput {
  /** Short label used in tables, charts and summary lines, unique within a run. */
  name: string;
  /** Path of the file or folder. */
  path: string;
  kind: 'file' | 'folder';
  /** Where it came from: 'example' (bundled), 'corpus', 'synthetic' or 'argument'. */
  origin: 'example' | 'corpus' | 'synthetic' | 'argument';
  /** For delta modes: the checkpoint this input is coded against (a file or a folder of safetensors). */
  reference?: { name: string; path: string; kind: 'file' | 'folder' };
}

/** Repository root (this file is at dist/bench/inputs.js once built). */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The shared corpus, beside the repository. */
export const CORPUS_ROOT = join(REPO_ROOT, '..', 'shared', 'corpus');

/** Where generated synthetic inputs are cached (git-ignored). */
export const SYNTHETIC_DIR = join(REPO_ROOT, 'bench', 'out', 'synthetic');

/** The synthetic inputs of a default run: seeded, like real layers (see tools/synthetic-weights.ts). */
export const SYNTHETIC_DTYPES: readonly SyntheticDtype[] = ['BF16', 'F16', 'F32'];
export const SYNTHETIC_SEED = 1;

/** Whether a folder holds at least one .safetensors file (a model folder), not looking deeper than one level. */
async function isModelFolder(path: string): Promise<boolean> {
  return (await readdir(path)).some((f) => f.endsWith('.safetensors'));
}

/**
 * Corpus inputs: each model folder and each top-level .safetensors file one level under every corpus entry
 * (e.g. llama-tiny/base, llama-tiny/adam-layer0.safetensors, stories260K/stories260K.safetensors).
 */
async function corpusInputs(): Promise<BenchInput[]> {
  if (!existsSync(CORPUS_ROOT)) return [];
  const out: BenchInput[] = [];
  for (const group of (await readdir(CORPUS_ROOT)).sort()) {
    const gp = join(CORPUS_ROOT, group);
    if (!(await stat(gp)).isDirectory()) continue;
    for (const entry of (await readdir(gp)).sort()) {
      const p = join(gp, entry);
      const s = await stat(p);
      if (s.isFile() && entry.endsWith('.safetensors')) out.push({ name: `${group}/${entry.replace(/\.safetensors$/, '')}`, path: p, kind: 'file', origin: 'corpus' });
      else if (s.isDirectory() && (await isModelFolder(p))) out.push({ name: `${group}/${entry}`, path: p, kind: 'folder', origin: 'corpus' });
    }
  }
  return out;
}

/**
 * The corpus's pairs of related checkpoints, for the delta entries: llama-tiny `finetune-c` against
 * `base`, and `base` against `ckpt-2500`. Each is an input with a reference; those present are returned.
 */
export function corpusDeltaInputs(): BenchInput[] {
  const lt = join(CORPUS_ROOT, 'llama-tiny');
  const file = (p: string): { path: string; kind: 'file' } => ({ path: join(lt, p), kind: 'file' });
  const folder = (p: string): { path: string; kind: 'folder' } => ({ path: join(lt, p), kind: 'folder' });
  const pairs: [string, { path: string; kind: 'file' | 'folder' }, { name: string; path: string; kind: 'file' | 'folder' }][] = [
    ['llama-tiny/finetune-c vs base', file('finetune-c/model.safetensors'), { name: 'llama-tiny/base', ...folder('base') }],
    ['llama-tiny/base vs ckpt-2500', folder('base'), { name: 'llama-tiny/ckpt-2500', ...file('ckpt-2500/model.safetensors') }],
  ];
  return pairs.filter(([, input, ref]) => existsSync(input.path) && existsSync(ref.path)).map(([name, input, reference]) => ({ name, ...input, origin: 'corpus' as const, reference }));
}

/**
 * Generates (or reuses from the cache) the synthetic input for one dtype.
 * @param bytes tensor bytes to generate (a default run uses 256 MiB)
 */
export async function syntheticInput(dtype: SyntheticDtype, bytes: number, log: (s: string) => void): Promise<BenchInput> {
  const spec: SyntheticSpec = { dtype, bytes, seed: SYNTHETIC_SEED };
  await mkdir(SYNTHETIC_DIR, { recursive: true });
  const path = join(SYNTHETIC_DIR, syntheticFileName(spec));
  if (!existsSync(path)) {
    log(`generating ${relative(REPO_ROOT, path)} ...`);
    await writeSyntheticWeights(path, spec);
  }
  return { name: `synthetic-${dtype}`, path, kind: 'file', origin: 'synthetic' };
}

/** The inputs of a run with no arguments: the bundled example, the corpus (when present) and its delta pairs, synthetic weights. */
export async function defaultInputs(syntheticBytes: number, log: (s: string) => void, corpus = true): Promise<BenchInput[]> {
  const example = join(REPO_ROOT, 'examples', 'stories260K', 'stories260K.safetensors');
  const inputs: BenchInput[] = [{ name: 'example/stories260K', path: example, kind: 'file', origin: 'example' }];
  if (corpus) {
    // The corpus holds the bundled example too (examples/ is a copy of it): measure those bytes once.
    const exampleSha = createHash('sha256').update(await readFile(example)).digest('hex');
    for (const c of await corpusInputs()) {
      if (c.kind === 'file' && (await stat(c.path)).size === (await stat(example)).size && createHash('sha256').update(await readFile(c.path)).digest('hex') === exampleSha) continue;
      inputs.push(c);
    }
    inputs.push(...corpusDeltaInputs());
  }
  if (syntheticBytes > 0) for (const d of SYNTHETIC_DTYPES) inputs.push(await syntheticInput(d, syntheticBytes, log));
  return inputs;
}

/** Inputs named on the command line (files or folders), labelled by their base names (made unique); `reference`: the
 * checkpoint every one of them is coded against by the delta modes (labelled "NAME vs REF"). */
export async function argumentInputs(paths: readonly string[], reference?: string): Promise<BenchInput[]> {
  const out: BenchInput[] = [];
  const label = (p: string): string => basename(p.replace(/\/+$/, '')).replace(/\.safetensors$/, '');
  const ref = reference === undefined ? undefined : { name: label(reference), path: reference, kind: (await stat(reference)).isDirectory() ? ('folder' as const) : ('file' as const) };
  for (const p of paths) {
    const s = await stat(p);
    let name = ref ? `${label(p)} vs ${ref.name}` : label(p);
    while (out.some((i) => i.name === name)) name += "'";
    out.push({ name, path: p, kind: s.isDirectory() ? 'folder' : 'file', origin: 'argument', ...(ref ? { reference: ref } : {}) });
  }
  return out;
}

/** Loads an input's files into memory: one member for a file, every file of a folder otherwise. */
export async function loadMembers(input: BenchInput): Promise<Member[]> {
  // A Buffer is a Uint8Array: used as it is, so a 256 MiB input is held once, not twice.
  if (input.kind === 'file') return [{ path: basename(input.path), bytes: await readFile(input.path) }];
  const paths = await listFolder(input.path); // the container's member order
  return Promise.all(paths.map(async (p) => ({ path: p, bytes: await readFile(join(input.path, p)) })));
}

/**
 * The input's identity: the SHA-256 of the file, or for a folder the SHA-256 of its manifest, the lines
 * `<sha256 of file>  <relative path>\n` in member order (what `sha256sum` prints, so it can be checked by hand).
 */
export function inputSha256(input: BenchInput, members: readonly Member[]): string {
  const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
  if (input.kind === 'file') return sha(members[0].bytes);
  return sha(new TextEncoder().encode(members.map((m) => `${sha(m.bytes)}  ${m.path}\n`).join('')));
}

/** The members cut to their first `maxBytes` bytes in total (whole members first, the last one truncated). */
export function leadingSlice(members: readonly Member[], maxBytes: number): Member[] {
  const out: Member[] = [];
  let left = maxBytes;
  for (const m of members) {
    if (left <= 0) break;
    out.push(m.bytes.length <= left ? m : { path: m.path, bytes: m.bytes.subarray(0, left) });
    left -= m.bytes.length;
  }
  return out;
}

/** Total bytes of members. */
export const totalBytes = (members: readonly Member[]): number => members.reduce((a, m) => a + m.bytes.length, 0);
