// The decoder entry points under fuzzing (docs/SECURITY.md, "Fuzzing"): each makes input number i of a run from
// the seed corpus and an Rng, runs one entry point on it and checks that any output it accepts is an original.

import '../../src/io/node-sha256.js';
import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressBuffer, decompressBuffer } from '../../src/api/buffers.js';
import { openContainer } from '../../src/api/checkpoint.js';
import { ContainerReader } from '../../src/pipeline/container-reader.js';
import { memberPathBytes } from '../../src/pipeline/index-codec.js';
import { FOOTER_BYTES, HEADER_BYTES } from '../../src/format/constants.js';
import { crc32c } from '../../src/format/crc32c.js';
import { WcodecError, type ErrorCode } from '../../src/errors.js';
import type { Engine } from '../../src/wasm/kernels.js';
import { closeSharedPools } from '../../src/workers/pool.js';
import { MemorySink, MemorySource } from '../../src/io/byte-source.js';
import { decompressFile } from '../../src/node/file-api.js';
import { readSafetensorsLayout } from '../../src/safetensors/read-layout.js';
import { editIndexBlock, editIndexBytes, layOut, putTogether, takeApart } from '../../tools/vectors/surgery.js';
import type { Rng } from '../helpers/prng.js';
import { PropertyFailure } from './check.js';
import { mutate } from './mutate.js';
import { seedReference, type SeedContainer, type SeedCorpus } from './seeds.js';
import type { TensorReference } from '../../src/format/tensor-reference.js';
import { transformTarget } from './transform-target.js';
import { cleanupLabelsTarget, labelsTarget } from './labels-target.js';
import { CONTAINER_CODES } from './codes.js';

export { CONTAINER_CODES };

/** One generated input. */
export interface FuzzCase {
  bytes: Uint8Array;
  /** How it was made (seed input and mutations), printed with a failure. */
  what: string;
}

/** A decoder entry point under test. */
export interface FuzzTarget {
  name: string;
  description: string;
  /** The error codes the entry point may raise on bad input. */
  codes: readonly ErrorCode[];
  make(rng: Rng, corpus: SeedCorpus): Promise<FuzzCase>;
  /** Runs the entry point; resolves to the bytes it produced. @throws PropertyFailure on wrong output */
  run(input: Uint8Array, corpus: SeedCorpus): Promise<number>;
}

/** A container with XOR deltas may also name a reference tensor that is missing or differs (FORMAT.md §3.5.2). */
export const DELTA_CODES: readonly ErrorCode[] = [...CONTAINER_CODES, 'REFERENCE_MISSING', 'REFERENCE_MISMATCH'];

const hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** SHA-256 of every original file and every tensor the seed containers hold: the only outputs a decoder may accept. */
const known = new WeakMap<SeedCorpus, { members: Set<string>; segments: Set<string> }>();
async function originals(corpus: SeedCorpus): Promise<{ members: Set<string>; segments: Set<string> }> {
  let k = known.get(corpus);
  if (k) return k;
  k = { members: new Set(), segments: new Set() };
  for (const c of [...corpus.containers, ...corpus.folders]) {
    for (const m of c.members) k.members.add(hex(m.bytes));
    const reader = await ContainerReader.open(new MemorySource(c.bytes));
    for (const m of reader.index.members) for (const s of m.segments) k.segments.add(Buffer.from(s.sha256).toString('hex'));
  }
  known.set(corpus, k);
  return k;
}

async function assertOriginalMember(bytes: Uint8Array, path: string, corpus: SeedCorpus): Promise<void> {
  if (!(await originals(corpus)).members.has(hex(bytes))) {
    throw new PropertyFailure(`member '${path}' decoded without an error to ${bytes.length} bytes that are no original file`);
  }
}

/** Best-effort repair of the header, footer and index-block CRCs, so that mutations reach the checks behind them. */
export function repairEnvelope(b: Uint8Array): Uint8Array {
  const out = b.slice();
  const dv = new DataView(out.buffer);
  if (out.length >= HEADER_BYTES) dv.setUint32(12, crc32c(out.subarray(0, 12)), true);
  if (out.length >= HEADER_BYTES + FOOTER_BYTES) {
    const base = out.length - FOOTER_BYTES;
    dv.setUint32(base + 24, crc32c(out.subarray(base, base + 24)), true);
    const indexOffset = dv.getUint32(base, true) + dv.getUint32(base + 4, true) * 2 ** 32;
    const indexBytes = dv.getUint32(base + 8, true) + dv.getUint32(base + 12, true) * 2 ** 32;
    if (indexOffset + indexBytes <= base) {
      dv.setUint32(base + 16, crc32c(out.subarray(indexOffset, indexOffset + indexBytes)), true);
      dv.setUint32(base + 24, crc32c(out.subarray(base, base + 24)), true);
    }
  }
  return out;
}

const pickContainer = (rng: Rng, corpus: SeedCorpus, folders = false): SeedContainer =>
  folders || rng.int(8) === 0 ? rng.pick(corpus.folders) : rng.pick(corpus.containers);

/** A container mutated at the byte level, with its envelope CRCs repaired one time in three. */
async function mutatedContainer(rng: Rng, corpus: SeedCorpus, folders = false): Promise<FuzzCase> {
  const seed = pickContainer(rng, corpus, folders);
  const donors = [...corpus.containers, ...corpus.folders].map((c) => c.bytes);
  const m = mutate(seed.bytes, rng, donors);
  const repair = rng.int(3) === 0;
  return { bytes: repair ? repairEnvelope(m.bytes) : m.bytes, what: `${seed.name}: ${m.what}${repair ? '; CRCs repaired' : ''}` };
}

/** The outcome of decoding every member with one engine: the members' bytes, or the error's code and offset. */
async function decodeWith(input: Uint8Array, engine: Engine, threads = 1): Promise<{ members: Uint8Array[] } | { error: WcodecError }> {
  try {
    const reader = await ContainerReader.open(new MemorySource(input, 'fuzz.wcodec'));
    const members = [];
    for (const m of reader.index.members) {
      const sink = new MemorySink();
      await reader.decodeMember(m, sink, { engine, threads, minPoolBytes: 0 });
      members.push(sink.toBytes());
    }
    return { members };
  } catch (e) {
    if (e instanceof WcodecError) return { error: e };
    throw e;
  }
}

/**
 * Decodes every member as decompressBuffer does, with the WebAssembly kernels and with the TypeScript reference
 * (and, with `threads`, on a pool of 2 workers, errors crossing in their wire form): all must give the same bytes
 * or the same error (code and offset), and accepted members must be originals.
 */
async function decodeMembers(input: Uint8Array, corpus: SeedCorpus, threads = false): Promise<number> {
  const ts = await decodeWith(input, 'ts');
  const show = (r: typeof ts): string => ('error' in r ? r.error.message : `${r.members.length} members decoded`);
  const same = (other: typeof ts): boolean =>
    'error' in ts
      ? 'error' in other && other.error.code === ts.error.code && other.error.offset === ts.error.offset
      : 'members' in other && other.members.length === ts.members.length && other.members.every((m, k) => hex(m) === hex(ts.members[k]));
  const wasm = await decodeWith(input, 'wasm');
  if (!same(wasm)) throw new PropertyFailure(`engines disagree: TypeScript ${show(ts)}; WebAssembly ${show(wasm)}`);
  if (threads) {
    const pooled = await decodeWith(input, 'wasm', 2);
    if (!same(pooled)) throw new PropertyFailure(`threads disagree: in this thread ${show(ts)}; on 2 workers ${show(pooled)}`);
  }
  if ('error' in ts) throw ts.error;
  let total = 0;
  for (const [k, bytes] of ts.members.entries()) {
    await assertOriginalMember(bytes, `#${k}`, corpus);
    total += bytes.length;
  }
  return total;
}

const container: FuzzTarget = {
  name: 'container',
  description: 'ContainerReader / decompressBuffer on byte-mutated containers (envelope CRCs sometimes repaired)',
  codes: CONTAINER_CODES,
  make: (rng, corpus) => mutatedContainer(rng, corpus),
  async run(input, corpus) {
    const n = await decodeMembers(input, corpus);
    // The public in-memory API agrees: the one member's bytes for a file container, WRONG_KIND for a folder.
    const kind = (await ContainerReader.open(new MemorySource(input))).index.kind;
    if (kind === 'folder') {
      const refused = await decompressBuffer(input).then(() => false, (e: unknown) => e instanceof WcodecError && e.code === 'WRONG_KIND');
      if (!refused) throw new PropertyFailure('decompressBuffer did not refuse a folder container with WRONG_KIND');
      return n;
    }
    const whole = await decompressBuffer(input);
    if (whole.length !== n) throw new PropertyFailure(`decompressBuffer gave ${whole.length} bytes, the reader ${n}`);
    return n;
  },
};

const index: FuzzTarget = {
  name: 'index',
  description: 'index block and index records, mutated behind valid CRCs (raw or rANS-coded blocks)',
  codes: CONTAINER_CODES,
  async make(rng, corpus) {
    const seed = pickContainer(rng, corpus);
    const donors = [...corpus.containers, ...corpus.folders].map((c) => c.bytes);
    if (rng.int(4) === 0) {
      // The stored block itself: exercises the coded-index decoder and its frequency table.
      let what = '';
      const bytes = editIndexBlock(seed.bytes, (block) => {
        const m = mutate(block, rng, donors);
        what = m.what;
        return m.bytes;
      });
      return { bytes, what: `${seed.name}: index block ${what}` };
    }
    let what = '';
    const bytes = editIndexBytes(seed.bytes, (idx) => {
      const m = mutate(idx, rng, [idx]);
      what = m.what;
      return m.bytes;
    });
    return { bytes, what: `${seed.name}: decoded index ${what}` };
  },
  run: (input, corpus) => decodeMembers(input, corpus),
};

const chunk: FuzzTarget = {
  name: 'chunk',
  description: 'chunk payloads (rANS streams and raw planes) mutated, resized and relaid with valid CRCs; WebAssembly, TypeScript and 2-worker decodes agree',
  codes: CONTAINER_CODES,
  async make(rng, corpus) {
    const seed = pickContainer(rng, corpus);
    const parts = await takeApart(seed.bytes);
    if (parts.chunks.length === 0) return { bytes: seed.bytes, what: `${seed.name}: no chunks` };
    const k = rng.int(parts.chunks.length);
    const m = mutate(parts.chunks[k].payload, rng, parts.chunks.map((c) => c.payload));
    parts.chunks[k].payload = m.bytes;
    layOut(parts);
    return { bytes: putTogether(parts), what: `${seed.name}: chunk ${k} ${m.what}; relaid` };
  },
  run: (input, corpus) => decodeMembers(input, corpus, true),
};

const byteModel: FuzzTarget = {
  name: 'byte-model',
  description: 'byte-model streams of the version 8 seeds (FORMAT.md §5.5) mutated, resized and relaid; WebAssembly and TypeScript decodes agree (error code and offset) and accept only originals',
  codes: CONTAINER_CODES,
  async make(rng, corpus) {
    const seeds = [...corpus.containers, ...corpus.folders].filter((c) => c.bytes[8] === 8);
    if (seeds.length === 0) throw new Error('the seed corpus holds no version 8 container');
    const seed = seeds[rng.int(seeds.length)];
    const parts = await takeApart(seed.bytes);
    const modelled = parts.index.members.flatMap((m) => m.segments).filter((s) => s.coding.byteModel).flatMap((s) => s.chunks.map((c) => c.offset));
    const ks = parts.chunks.map((c, k) => (modelled.includes(c.record.offset) ? k : -1)).filter((k) => k >= 0);
    if (ks.length === 0) return { bytes: seed.bytes, what: `${seed.name}: no byte-model chunks` };
    const k = ks[rng.int(ks.length)];
    const m = mutate(parts.chunks[k].payload, rng, ks.map((j) => parts.chunks[j].payload));
    parts.chunks[k].payload = m.bytes;
    layOut(parts);
    return { bytes: putTogether(parts), what: `${seed.name}: byte-model chunk ${k} ${m.what}; relaid` };
  },
  run: (input, corpus) => decodeMembers(input, corpus),
};

const tensorModel: FuzzTarget = {
  name: 'tensor-model',
  description: 'tensor-model streams of the version 10 seeds (FORMAT.md §5.6) mutated, resized and relaid; WebAssembly, TypeScript and 2-worker decodes agree (error code and offset) and accept only originals',
  codes: CONTAINER_CODES,
  async make(rng, corpus) {
    const seeds = [...corpus.containers, ...corpus.folders].filter((c) => c.bytes[8] === 10);
    if (seeds.length === 0) throw new Error('the seed corpus holds no version 10 container');
    const seed = seeds[rng.int(seeds.length)];
    const parts = await takeApart(seed.bytes);
    const modelled = parts.index.members.flatMap((m) => m.segments).filter((s) => s.coding.tensorModel).flatMap((s) => s.chunks.map((c) => c.offset));
    const ks = parts.chunks.map((c, k) => (modelled.includes(c.record.offset) ? k : -1)).filter((k) => k >= 0);
    if (ks.length === 0) return { bytes: seed.bytes, what: `${seed.name}: no tensor-model chunks` };
    const k = ks[rng.int(ks.length)];
    const m = mutate(parts.chunks[k].payload, rng, ks.map((j) => parts.chunks[j].payload));
    parts.chunks[k].payload = m.bytes;
    layOut(parts);
    return { bytes: putTogether(parts), what: `${seed.name}: tensor-model chunk ${k} ${m.what}; relaid` };
  },
  run: (input, corpus) => decodeMembers(input, corpus, true),
};

const checkpoint: FuzzTarget = {
  name: 'checkpoint',
  description: 'openContainer: list tensors, find and read each one by name (random access, shard maps)',
  codes: [...CONTAINER_CODES, 'NOT_FOUND', 'AMBIGUOUS_NAME'],
  make: (rng, corpus) => (rng.int(2) === 0 ? mutatedContainer(rng, corpus) : index.make(rng, corpus)),
  async run(input, corpus) {
    const cp = await openContainer(new MemorySource(input, 'fuzz.wcodec'));
    const { segments } = await originals(corpus);
    let total = 0;
    for (const t of cp.tensors) {
      const data = await cp.read(t.name);
      if (!segments.has(hex(data.bytes))) throw new PropertyFailure(`tensor '${t.name}' read without an error as ${data.bytes.length} bytes that are no original tensor`);
      if (data.bytes.length !== t.originalBytes) throw new PropertyFailure(`tensor '${t.name}' read as ${data.bytes.length} bytes, listed as ${t.originalBytes}`);
      total += data.bytes.length;
    }
    return total;
  },
};

const safetensors: FuzzTarget = {
  name: 'safetensors',
  description: 'readSafetensorsLayout and compressBuffer on mutated safetensors files; accepted files must round-trip exactly',
  codes: ['BAD_SAFETENSORS', 'LIMIT_EXCEEDED'],
  async make(rng, corpus) {
    const seed = rng.pick(corpus.safetensors);
    const m = mutate(seed.bytes, rng, corpus.safetensors.map((s) => s.bytes));
    return { bytes: m.bytes, what: `${seed.name}: ${m.what}` };
  },
  async run(input) {
    const layout = await readSafetensorsLayout(new MemorySource(input, 'fuzz.safetensors'));
    let at = layout.headerEnd;
    for (const t of layout.tensors) {
      if (t.begin !== at || t.end < t.begin) throw new PropertyFailure(`accepted layout does not tile the file at ${at}: '${t.name}' [${t.begin}, ${t.end})`);
      at = t.end;
    }
    if (at !== input.length) throw new PropertyFailure(`accepted layout ends at ${at} of ${input.length}`);
    const c = await compressBuffer(input, { name: 'fuzz.safetensors' });
    const back = await decompressBuffer(c);
    if (hex(back) !== hex(input)) throw new PropertyFailure('an accepted safetensors file did not round-trip exactly');
    return input.length + c.length;
  },
};

let scratchDir: string | undefined;

const folder: FuzzTarget = {
  name: 'folder',
  description: 'decompressFile of mutated folder containers to disk: on failure no output and no leftovers; on success the original files',
  codes: CONTAINER_CODES,
  make: (rng, corpus) => (rng.int(2) === 0 ? mutatedContainer(rng, corpus, true) : index.make(rng, { ...corpus, containers: corpus.folders })),
  async run(input, corpus) {
    scratchDir ??= await mkdtemp(join(tmpdir(), 'wcodec-fuzz-'));
    const dir = await mkdtemp(join(scratchDir, 'case-'));
    const src = join(dir, 'in.wcodec');
    const out = join(dir, 'out');
    await writeFile(src, input);
    try {
      let index;
      try {
        index = await decompressFile(src, out);
      } catch (e) {
        const left = (await readdir(dir)).filter((f) => f !== 'in.wcodec');
        if (left.length > 0) throw new PropertyFailure(`failed decode (${(e as Error).message}) left ${left.join(', ')} beside the input`);
        throw e;
      }
      let total = 0;
      for (const m of index.members) {
        const at = index.kind === 'folder' ? Buffer.concat([Buffer.from(out), Buffer.from('/'), Buffer.from(memberPathBytes(m))]) : Buffer.from(out);
        // Version 3 members may be empty folders (no bytes) or links (their target is their bytes).
        if (m.type === 'folder') {
          if (!(await lstat(at)).isDirectory()) throw new PropertyFailure(`member '${m.path}' is an empty folder, restored as something else`);
          continue;
        }
        const bytes = m.type === 'link' ? new Uint8Array(await readlink(at, { encoding: 'buffer' })) : new Uint8Array(await readFile(at));
        await assertOriginalMember(bytes, m.path, corpus);
        total += bytes.length;
      }
      return total;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};

/** The delta seed a case was made from, by its bytes' digest (the reference goes with the seed, not the input). */
const deltaSeedOf = new Map<string, number>();

const delta: FuzzTarget = {
  name: 'delta',
  description: 'containers with XOR deltas (format version 2): index, transform records and stream chunks mutated behind valid CRCs, decoded against their reference (or another one); engines and workers agree',
  codes: DELTA_CODES,
  async make(rng, corpus) {
    const k = rng.int(corpus.deltas.length);
    const seed = corpus.deltas[k];
    let bytes: Uint8Array;
    let what: string;
    const way = rng.int(4);
    if (way === 0) {
      const m = mutate(seed.bytes, rng, corpus.deltas.map((d) => d.bytes));
      bytes = rng.int(2) === 0 ? repairEnvelope(m.bytes) : m.bytes;
      what = `whole container ${m.what}`;
    } else if (way === 1) {
      bytes = editIndexBytes(seed.bytes, (idx) => {
        const m = mutate(idx, rng, [idx]);
        what = `decoded index ${m.what}`;
        return m.bytes;
      });
      what ??= 'decoded index';
    } else {
      const parts = await takeApart(seed.bytes);
      const c = rng.int(parts.chunks.length);
      const m = mutate(parts.chunks[c].payload, rng, parts.chunks.map((x) => x.payload));
      parts.chunks[c].payload = m.bytes;
      layOut(parts);
      bytes = putTogether(parts);
      what = `chunk ${c} ${m.what}; relaid`;
    }
    // One input in eight decodes against the reference of another delta seed.
    const ref = rng.int(8) === 0 ? (k + 1) % corpus.deltas.length : k;
    deltaSeedOf.set(hex(bytes), ref);
    return { bytes, what: `${seed.name}: ${what!}${ref !== k ? `; reference of ${corpus.deltas[ref].name}` : ''}` };
  },
  async run(input, corpus) {
    const key = hex(input);
    const seed = corpus.deltas[deltaSeedOf.get(key) ?? 0];
    deltaSeedOf.delete(key);
    const reference: TensorReference = await seedReference(seed.reference);
    const outcome = async (engine: Engine, threads: number): Promise<{ members: Uint8Array[] } | { error: WcodecError }> => {
      try {
        const reader = await ContainerReader.open(new MemorySource(input, 'fuzz.wcodec'));
        const members = [];
        for (const m of reader.index.members) {
          const sink = new MemorySink();
          await reader.decodeMember(m, sink, { engine, threads, reference, minPoolBytes: 0 });
          members.push(sink.toBytes());
        }
        return { members };
      } catch (e) {
        if (e instanceof WcodecError) return { error: e };
        throw e;
      }
    };
    const ts = await outcome('ts', 1);
    for (const [engine, threads] of [['wasm', 1], ['wasm', 2]] as const) {
      const other = await outcome(engine, threads);
      const agree = 'error' in ts
        ? 'error' in other && other.error.code === ts.error.code && other.error.offset === ts.error.offset
        : 'members' in other && other.members.every((m, k) => hex(m) === hex(ts.members[k]));
      if (!agree) throw new PropertyFailure(`TypeScript and ${engine} on ${threads} thread(s) disagree`);
    }
    if ('error' in ts) throw ts.error;
    const originals = new Set(corpus.deltas.flatMap((d) => d.members.map((m) => hex(m.bytes))));
    let total = 0;
    for (const m of ts.members) {
      if (!originals.has(hex(m))) throw new PropertyFailure(`a delta container decoded without an error to ${m.length} bytes that are no original file`);
      total += m.length;
    }
    return total;
  },
};

/** Every target, by name. */
export const TARGETS: readonly FuzzTarget[] = [transformTarget, labelsTarget, container, index, chunk, byteModel, tensorModel, checkpoint, safetensors, folder, delta];

/** Removes the scratch folder of the folder target and stops the worker pool of the chunk target. */
export async function cleanupTargets(): Promise<void> {
  // A ref'd timer keeps the event loop alive while workers exit and the GPU device goes: the test runner otherwise
  // reports the hook's promise as pending once nothing else holds the loop ("the event loop has already resolved").
  const keepAlive = setInterval(() => {}, 1000);
  try {
    await closeSharedPools();
    await cleanupLabelsTarget();
    if (scratchDir) await rm(scratchDir, { recursive: true, force: true });
    scratchDir = undefined;
  } finally {
    clearInterval(keepAlive);
  }
}
