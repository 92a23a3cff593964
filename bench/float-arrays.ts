// Float arrays outside safetensors (FORMAT.md §4.8, §4.9, version 9): real scientific arrays (tools/fetch-science-arrays.ts:
// climate, ocean and topography grids in NetCDF classic files, solar images and X-ray series in FITS files, matplotlib's
// sample data), SYNTHETIC particle-physics-like event columns (tools/synthetic-events.ts), a raw llama2.c checkpoint
// (stories260K.bin) and a .npy of a llama-tiny tensor, through wcodec with default options and with `--level max`
// (version 10, the tensor model), beside gzip -9, zstd -19, xz -9 and brotli -11. Every output is decoded and compared
// with its input byte for byte. Sizes only (they are deterministic); bits per byte = 8 x encoded / original bytes,
// ratio = original / encoded.
// Usage: npm run bench:float-arrays [-- --corpus DIR]   (default corpus /work/shared/corpus; writes
// bench/results/float-arrays.json and prints a Markdown table)

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { codecRegistry, compareMembers, encodeChecked, type BenchCodec, type Member } from './codecs.js';
import { BufferSink, ContainerReader, ContainerWriter, MemorySink, MemorySource, openContainer } from '../src/node.js';
import { FORMAT_VERSION_FLOAT_ARRAYS } from '../src/format/constants.js';
import { readSafetensorsLayout } from '../src/safetensors/read-layout.js';
import type { RawArray } from '../src/pipeline/member-format.js';
import { DEFAULT_SCIENCE_DIR, fetchScienceArrays, type ScienceArray } from '../tools/fetch-science-arrays.js';
import { DEFAULT_EVENTS_DIR, writeEvents } from '../tools/synthetic-events.js';
import { buildNpy, NPY_DESCR } from '../tools/npy-file.js';
import { sha256Hex } from '../tools/npm-package-files.js';

const BASELINES = ['gzip-9', 'zstd-19', 'xz-9', 'brotli-11'];

/** One benchmark input: a file or a folder of files, and, for a raw array, its dtype and shape. */
interface Input {
  group: 'science' | 'synthetic' | 'model';
  name: string;
  kind: 'file' | 'folder';
  members: Member[];
  array?: RawArray;
  /** The container version wcodec writes (default 9; 4 is what a file that is not split gets without options). */
  formatVersion?: 4 | 9;
  note: string;
}

/**
 * wcodec with default options: `.npy` members as NumPy arrays (version 9), a raw array with its dtype; else as the file
 * API. With `max`, `level: 'max'` (version 10: the tensor model where it is smaller, FORMAT.md §5.6).
 */
async function wcodecEncode(input: Input, max = false): Promise<Uint8Array> {
  const sink = new MemorySink();
  const writer = await ContainerWriter.start(sink, input.kind, max ? { threads: 1, strict: true, level: 'max' } : { threads: 1, strict: true, formatVersion: input.formatVersion ?? FORMAT_VERSION_FLOAT_ARRAYS });
  for (const m of input.members) await writer.addFile(m.path, new MemorySource(m.bytes, m.path), input.array ?? (m.path.endsWith('.npy') ? 'npy' : 'bytes'));
  await writer.finish();
  return sink.toBytes();
}

async function wcodecDecode(container: Uint8Array): Promise<Member[]> {
  const reader = await ContainerReader.open(new MemorySource(container, '<bench>'));
  const out: Member[] = [];
  for (const m of reader.index.members) {
    const sink = new BufferSink(m.originalBytes);
    await reader.decodeMember(m, sink, { threads: 1, checkSha256: true });
    out.push({ path: m.path, bytes: sink.bytes });
  }
  return out;
}

function corpusDir(): string {
  const k = process.argv.indexOf('--corpus');
  return k >= 0 ? process.argv[k + 1] : '/work/shared/corpus';
}

/** The inputs: fetched science arrays by source, synthetic event columns, and the llama-tiny raw and .npy files. */
async function inputs(): Promise<{ list: Input[]; science: ScienceArray[] }> {
  const list: Input[] = [];
  const science = fetchScienceArrays(DEFAULT_SCIENCE_DIR);
  for (const source of [...new Set(science.map((a) => a.source))]) {
    const arrays = science.filter((a) => a.source === source);
    const members = arrays.map((a) => ({ path: a.file.slice(source.length + 1), bytes: new Uint8Array(readFileSync(join(DEFAULT_SCIENCE_DIR, a.file))) }));
    const dtypes = [...new Set(arrays.map((a) => a.dtype))].join('/');
    list.push({ group: 'science', name: source, kind: 'folder', members, note: `${arrays.length} ${dtypes} arrays (${arrays[0].package} ${arrays[0].version})` });
  }
  const events = writeEvents(DEFAULT_EVENTS_DIR);
  for (const f of events) {
    if (f.shape[0] < 1e5) continue;
    list.push({ group: 'synthetic', name: f.file, kind: 'file', members: [{ path: f.file, bytes: new Uint8Array(readFileSync(join(DEFAULT_EVENTS_DIR, f.file))) }], note: `SYNTHETIC ${f.descr} [${f.shape}]` });
  }
  list.push({
    group: 'synthetic',
    name: 'synthetic-events (all columns)',
    kind: 'folder',
    members: events.map((f) => ({ path: f.file, bytes: new Uint8Array(readFileSync(join(DEFAULT_EVENTS_DIR, f.file))) })),
    note: `SYNTHETIC, ${events.length} columns`,
  });
  const corpus = corpusDir();
  const bin = join(corpus, 'stories260K', 'stories260K.bin');
  if (existsSync(bin)) {
    const bytes = new Uint8Array(readFileSync(bin));
    list.push({ group: 'model', name: 'stories260K.bin (bytes, version 4)', kind: 'file', members: [{ path: 'stories260K.bin', bytes }], formatVersion: 4, note: 'llama2.c checkpoint: 28-byte header, F32 weights; no dtype given, the default container (one byte segment, order-0 planes)' });
    list.push({ group: 'model', name: 'stories260K.bin (bytes, version 9)', kind: 'file', members: [{ path: 'stories260K.bin', bytes }], note: 'the same bytes in a version 9 container: one byte segment, coded with the byte model of version 8 where smaller' });
    list.push({ group: 'model', name: 'stories260K.bin --dtype F32', kind: 'file', members: [{ path: 'stories260K.bin', bytes }], array: { dtype: 'F32' }, note: 'the same file as a raw F32 array' });
  }
  const shardDir = join(corpus, 'llama-tiny', 'base-fp32');
  if (existsSync(shardDir)) {
    const shard = readdirSync(shardDir).filter((f) => f.endsWith('.safetensors')).sort()[0];
    const source = new MemorySource(new Uint8Array(readFileSync(join(shardDir, shard))), shard);
    const layout = await readSafetensorsLayout(source);
    const t = layout.tensors.filter((x) => x.dtype === 'F32').sort((a, b) => b.end - b.begin - (a.end - a.begin) || (a.name < b.name ? -1 : 1))[0];
    const npy = buildNpy({ descr: NPY_DESCR[t.dtype], shape: t.shape, data: await source.read(t.begin, t.end - t.begin) });
    list.push({ group: 'model', name: `${t.name}.npy`, kind: 'file', members: [{ path: `${t.name}.npy`, bytes: npy }], note: `llama-tiny base-fp32 ${shard}: F32 [${t.shape}]` });
  }
  return { list, science };
}

// The revision measured: read before anything runs, so that a checkout that moves during the run is not credited.
const commit = (() => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
})();
const { list, science } = await inputs();
const baselines = codecRegistry().filter((c) => BASELINES.includes(c.id)).sort((a, b) => BASELINES.indexOf(a.id) - BASELINES.indexOf(b.id));
const rows: { group: string; name: string; note: string; bytes: number; sha256: string[]; formatVersion: number; tensors: number; encoded: Record<string, number> }[] = [];
const bpb = (enc: number, orig: number): string => ((8 * enc) / orig).toFixed(3);
console.log(`| input | bytes | wcodec | wcodec --level max | ${baselines.map((c) => c.label).join(' | ')} |`);
console.log(`|---|---|---|---|${baselines.map(() => '---').join('|')}|`);
for (const input of list) {
  const bytes = input.members.reduce((a, m) => a + m.bytes.length, 0);
  const encoded: Record<string, number> = {};
  const container = await wcodecEncode(input);
  const problem = compareMembers(input.members, await wcodecDecode(container));
  if (problem) throw new Error(`wcodec on ${input.name}: ${problem}`);
  encoded.wcodec = container.length;
  // The raw llama2.c file as bytes is a version 4 case; level max is measured on the split inputs.
  if (input.formatVersion !== 4) {
    const max = await wcodecEncode(input, true);
    const wrong = compareMembers(input.members, await wcodecDecode(max));
    if (wrong) throw new Error(`wcodec --level max on ${input.name}: ${wrong}`);
    encoded['wcodec-max'] = max.length;
  }
  const cp = await openContainer(new MemorySource(container, input.name));
  const tensors = cp.tensors.length;
  await cp.close();
  for (const codec of baselines as BenchCodec[]) {
    const ctx = { threads: 1, kind: input.kind };
    encoded[codec.id] = (await encodeChecked(codec, input.members, ctx, input.name)).bytes;
  }
  rows.push({ group: input.group, name: input.name, note: input.note, bytes, sha256: input.members.map((m) => sha256Hex(m.bytes)), formatVersion: container[8], tensors, encoded });
  const cell = (id: string): string => `${bpb(encoded[id], bytes)} (x${(bytes / encoded[id]).toFixed(3)})`;
  console.log(`| ${input.name} | ${bytes} | ${cell('wcodec')} | ${encoded['wcodec-max'] === undefined ? '–' : cell('wcodec-max')} | ${baselines.map((c) => cell(c.id)).join(' | ')} |`);
}
const totals = (group: string): Record<string, number> => {
  const t: Record<string, number> = { bytes: 0 };
  for (const r of rows.filter((x) => x.group === group && !x.name.includes('(all columns)'))) {
    t.bytes += r.bytes;
    for (const [k, v] of Object.entries(r.encoded)) t[k] = (t[k] ?? 0) + v;
  }
  return t;
};
for (const group of ['science', 'synthetic']) {
  const t = totals(group);
  console.log(`| **${group} total** | ${t.bytes} | ${bpb(t.wcodec, t.bytes)} (x${(t.bytes / t.wcodec).toFixed(3)}) | ${bpb(t['wcodec-max'], t.bytes)} (x${(t.bytes / t['wcodec-max']).toFixed(3)}) | ${baselines.map((c) => `${bpb(t[c.id], t.bytes)} (x${(t.bytes / t[c.id]).toFixed(3)})`).join(' | ')} |`);
}
mkdirSync('bench/results', { recursive: true });
const result = {
  benchmark: 'float-arrays',
  date: new Date().toISOString(),
  commit,
  machine: { cpus: cpus().length, model: cpus()[0]?.model },
  node: process.version,
  units: 'bits per byte = 8 x encoded bytes / original bytes; every output decoded and compared byte for byte',
  codecs: [{ id: 'wcodec', library: 'wcodec (this checkout)', options: { formatVersion: 9, threads: 1, npy: 'NumPy array members (FORMAT.md §4.8)', raw: 'raw array with the given dtype (§4.9)' } }, { id: 'wcodec-max', library: 'wcodec (this checkout)', options: { level: 'max', formatVersion: 10, threads: 1 } }, ...baselines.map((c) => ({ id: c.id, library: c.library, options: c.options }))],
  science: science.map(({ file, package: pkg, version, licence, path, variable, dtype, shape, sha256 }) => ({ file, package: pkg, version, licence, path, variable, dtype, shape, sha256 })),
  totals: { science: totals('science'), synthetic: totals('synthetic') },
  rows,
};
writeFileSync('bench/results/float-arrays.json', `${JSON.stringify(result, null, 1)}\n`);
console.log(`\nbench/results/float-arrays.json (commit ${commit}, ${statSync('bench/results/float-arrays.json').size} bytes)`);
