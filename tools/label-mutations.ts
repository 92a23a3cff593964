// Crafted containers for the label-integrity checks (docs/SECURITY.md, "Labels"): a valid container with one label
// or data change and every CRC-32C recomputed, as a buggy or hostile producer would write it. SHA-256 digests are
// left as they were, except where a case says it recomputes the identity digest (a producer that hashes the
// labels it wrote). Used by tools/label-campaign.ts, the fuzz target 'labels' and test/gpu/labels.test.ts.

import type { ContainerIndex, MemberRecord, SegmentRecord } from '../src/pipeline/index-codec.js';
import { segmentChunks } from '../src/pipeline/index-codec.js';
import { layOut, putTogether, takeApart, type Parts } from './vectors/surgery.js';
import type { Rng } from './seeded-rng.js';

/** One crafted container and what was done to it. */
export interface LabelCase {
  bytes: Uint8Array;
  /** The mutation's name (LABEL_MUTATIONS). */
  mutation: string;
  /** What exactly changed, for a failure report. */
  what: string;
}

/** dtypes of one value width: a relabel among them keeps the index consistent with its chunks. */
const SAME_WIDTH: readonly (readonly string[])[] = [
  ['BF16', 'F16', 'I16', 'U16'],
  ['F32', 'I32', 'U32'],
  ['F64', 'I64', 'U64'],
  ['U8', 'I8', 'BOOL', 'F8_E4M3', 'F8_E5M2'],
];

type Mutation = (p: Parts, rng: Rng) => string | undefined;

const tensorsOf = (m: MemberRecord): SegmentRecord[] => m.segments.filter((s) => s.kind === 'tensor');
const allTensors = (ix: ContainerIndex): { m: MemberRecord; s: SegmentRecord }[] => ix.members.flatMap((m) => tensorsOf(m).map((s) => ({ m, s })));
const product = (shape: number[]): number => shape.reduce((a, d) => a * d, 1);

/** Two distinct items of `xs` that `same` pairs, picked at random; undefined when there are none. */
function pickPair<T>(rng: Rng, xs: T[], same: (a: T, b: T) => boolean): [T, T] | undefined {
  const pairs: [T, T][] = [];
  for (let i = 0; i < xs.length && pairs.length < 256; i++) for (let j = i + 1; j < xs.length; j++) if (same(xs[i], xs[j])) pairs.push([xs[i], xs[j]]);
  return pairs.length > 0 ? pairs[rng.int(pairs.length)] : undefined;
}

/** Exchanges field `k` of two records. */
function swap<T, K extends keyof T>(a: T, b: T, k: K): void {
  const t = a[k];
  a[k] = b[k];
  b[k] = t;
}

/** Puts the chunk payloads back in index order (after segment records moved), then lays them out with new CRCs. */
function relayInIndexOrder(p: Parts): void {
  const byRecord = new Map(p.chunks.map((c) => [c.record, c]));
  p.chunks = p.index.members.flatMap((m) => m.segments.flatMap((s) => segmentChunks(s).map((r) => byRecord.get(r)!)));
}

/** Another shape with the same element count, or undefined. */
function reshaped(shape: number[], rng: Rng): number[] | undefined {
  const n = product(shape);
  const options: number[][] = [];
  if (shape.length >= 2 && shape[0] !== shape[shape.length - 1]) options.push([...shape].reverse());
  if (shape.length !== 1) options.push([n]);
  options.push([1, ...shape]);
  if (shape.length === 1 && n % 2 === 0 && n > 0) options.push([2, n / 2]);
  return options[rng.int(options.length)];
}

/** The mutations, by name. Each returns what it did, or undefined when the container offers nothing to change. */
export const LABEL_MUTATIONS: Readonly<Record<string, Mutation>> = {
  'swap-names': (p, rng) => {
    const pair = pickPair(rng, allTensors(p.index), (a, b) => a.m === b.m && a.s.name !== b.s.name);
    if (!pair) return undefined;
    const [a, b] = pair;
    [a.s.name, b.s.name] = [b.s.name, a.s.name];
    return `names of '${b.s.name}' and '${a.s.name}' swapped in '${a.m.path}'`;
  },
  rename: (p, rng) => {
    const ts = allTensors(p.index);
    if (ts.length === 0) return undefined;
    const t = ts[rng.int(ts.length)];
    const others = ts.filter((o) => o.s.name !== t.s.name).map((o) => o.s.name);
    const before = t.s.name;
    t.s.name = others.length > 0 && rng.int(2) === 0 ? others[rng.int(others.length)] : `${before}${rng.int(2) === 0 ? '_' : '.x'}`;
    return `tensor '${before}' of '${t.m.path}' renamed '${t.s.name}'`;
  },
  dtype: (p, rng) => {
    const ts = allTensors(p.index).filter((t) => SAME_WIDTH.some((g) => g.includes(t.s.dtype)));
    if (ts.length === 0) return undefined;
    const t = ts[rng.int(ts.length)];
    const group = SAME_WIDTH.find((g) => g.includes(t.s.dtype))!.filter((d) => d !== t.s.dtype);
    const before = t.s.dtype;
    t.s.dtype = group[rng.int(group.length)];
    return `dtype of '${t.s.name}' ${before} -> ${t.s.dtype}`;
  },
  shape: (p, rng) => {
    const ts = allTensors(p.index);
    if (ts.length === 0) return undefined;
    const t = ts[rng.int(ts.length)];
    const next = reshaped(t.s.shape, rng);
    if (!next) return undefined;
    const before = t.s.shape;
    t.s.shape = next;
    return `shape of '${t.s.name}' [${before}] -> [${next}]`;
  },
  'swap-labels': (p, rng) => {
    const pair = pickPair(rng, allTensors(p.index), (a, b) => a.s.originalBytes === b.s.originalBytes && a.s.name !== b.s.name);
    if (!pair) return undefined;
    const [a, b] = pair;
    for (const k of ['name', 'dtype', 'shape'] as const) swap(a.s, b.s, k);
    return `name, dtype and shape of '${b.s.name}' and '${a.s.name}' (${a.s.originalBytes} bytes each) swapped`;
  },
  'swap-paths': (p, rng) => {
    const pair = pickPair(rng, p.index.members, (a, b) => a.path !== b.path);
    if (!pair) return undefined;
    const [a, b] = pair;
    [a.path, b.path] = [b.path, a.path];
    return `member paths '${b.path}' and '${a.path}' swapped`;
  },
  'rename-path': (p, rng) => {
    const ms = p.index.members;
    if (ms.length === 0) return undefined;
    const m = ms[rng.int(ms.length)];
    const before = m.path;
    const slash = before.lastIndexOf('/');
    m.path = `${before.slice(0, slash + 1)}x${before.slice(slash + 1)}`;
    return `member path '${before}' -> '${m.path}'`;
  },
  'flip-data': (p, rng) => {
    const live = p.chunks.filter((c) => c.payload.length > 0);
    if (live.length === 0) return undefined;
    const c = live[rng.int(live.length)];
    const at = rng.int(c.payload.length);
    const bit = 1 << rng.int(8);
    c.payload = c.payload.slice();
    c.payload[at] ^= bit;
    layOut(p);
    return `byte ${at} of a ${c.payload.length}-byte chunk xor ${bit}, CRC recomputed`;
  },
  'swap-chunks': (p, rng) => {
    const pair = pickPair(rng, p.chunks, (a, b) => a.payload.length === b.payload.length && a.payload.length > 0);
    if (!pair) return undefined;
    const [a, b] = pair;
    [a.payload, b.payload] = [b.payload, a.payload];
    layOut(p);
    return `two ${a.payload.length}-byte chunks exchanged, CRCs recomputed`;
  },
  'swap-data': (p, rng) => {
    const pair = pickPair(rng, allTensors(p.index), (a, b) => a.s.originalBytes === b.s.originalBytes && a.s.originalBytes > 0 && !a.s.transform && !b.s.transform);
    if (!pair) return undefined;
    const [a, b] = pair;
    for (const k of ['coding', 'chunkValues', 'chunks'] as const) swap(a.s, b.s, k);
    relayInIndexOrder(p);
    layOut(p);
    return `the data of '${a.s.name}' and '${b.s.name}' exchanged, labels and digests kept`;
  },
  'swap-data-and-digests': (p, rng) => {
    const pair = pickPair(rng, allTensors(p.index), (a, b) => a.s.originalBytes === b.s.originalBytes && a.s.originalBytes > 0 && !a.s.transform && !b.s.transform);
    if (!pair) return undefined;
    const [a, b] = pair;
    for (const k of ['coding', 'chunkValues', 'chunks', 'sha256'] as const) swap(a.s, b.s, k);
    relayInIndexOrder(p);
    layOut(p);
    return `the data and SHA-256 of '${a.s.name}' and '${b.s.name}' exchanged, names, dtypes and shapes kept`;
  },
};

/** Mutations of tensor labels, which a producer may also hash into the identity digest it writes (the header check then decides). */
const TENSOR_LABEL_MUTATIONS = new Set(['swap-names', 'rename', 'dtype', 'shape', 'swap-labels']);

/**
 * Makes one crafted container from `base` (a valid container): a random applicable mutation, every CRC recomputed.
 * For tensor-label mutations, one case in three also recomputes the members' identity digests.
 * @param only restrict to these mutation names
 */
export async function craftLabelCase(base: Uint8Array, rng: Rng, only?: readonly string[]): Promise<LabelCase> {
  const names = only ?? Object.keys(LABEL_MUTATIONS);
  for (let attempt = 0; attempt < 4 * names.length; attempt++) {
    const mutation = names[rng.int(names.length)];
    const p = await takeApart(base);
    const what = LABEL_MUTATIONS[mutation](p, rng);
    if (what === undefined) continue;
    let extra = '';
    if (TENSOR_LABEL_MUTATIONS.has(mutation) && rng.int(3) === 0) {
      for (const m of p.index.members) delete m.identitySha256;
      extra = '; identity digests recomputed';
    }
    return { bytes: putTogether(p), mutation, what: what + extra };
  }
  return { bytes: base, mutation: 'none', what: 'no mutation applies to this container' };
}
