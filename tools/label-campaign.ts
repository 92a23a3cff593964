// Label-integrity campaign for docs/SECURITY.md ("Labels"): crafted containers (tools/label-mutations.ts: label and
// data changes with every CRC-32C recomputed) through every decode path (tools/label-oracle.ts: whole members,
// verify, the file API, per-tensor reads and, where a WebGPU adapter exists, decodeToGPU). Counts, per container
// version, mutation and path, the typed rejections, the exact originals and the wrong outputs. Exits 1 if any
// version 3 container (what wcodec writes) gives a wrong output on any path, or any path throws an untyped error.
// Usage: npm run campaigns:labels -- [--cases N] [--seed S] [--no-gpu] [--out path.json]

import '../src/io/node-sha256.js';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { cpus, platform, release } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressBuffer } from '../src/api/buffers.js';
import { ContainerWriter } from '../src/pipeline/container-writer.js';
import { MemorySink, MemorySource } from '../src/io/byte-source.js';
import { requestDecodeDevice } from '../src/gpu/adapter.js';
import { closeSharedPools } from '../src/workers/pool.js';
import { craftLabelCase } from './label-mutations.js';
import { DECODE_PATHS, makeScratch, originalsOf, runPaths, type Originals } from './label-oracle.js';
import { Rng } from './seeded-rng.js';
import { buildSafetensors, type TensorInput } from '../test/helpers/safetensors-builder.js';
import { makeValues } from '../test/helpers/values.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_OUT = `${ROOT}bench/results/label-campaign.json`;

/** A base container: the files it holds and how it is written. */
interface Base {
  name: string;
  version: 2 | 3 | 4;
  bytes: Uint8Array;
  originals: Originals;
}

/** The files of the bases: a single safetensors file, and a sharded Hugging Face folder with other files beside it. */
function baseFiles(rng: Rng): { file: { path: string; bytes: Uint8Array }[]; folder: { path: string; bytes: Uint8Array }[] } {
  const t = (name: string, dtype: string, shape: number[], mix: Parameters<typeof makeValues>[2] = 'gaussian'): TensorInput => ({
    name, dtype, shape, data: makeValues(dtype, shape.reduce((a, d) => a * d, 1), mix, rng),
  });
  const emb = t('model.embed_tokens.weight', 'BF16', [32, 16]);
  const shard1 = [
    emb,
    t('model.layers.0.self_attn.q_proj.weight', 'BF16', [16, 16]),
    t('model.layers.0.self_attn.k_proj.weight', 'BF16', [16, 16]),
    t('model.layers.0.self_attn.v_proj.weight', 'F16', [16, 16]),
    t('model.layers.0.mlp.up_proj.weight', 'BF16', [32, 8]),
    t('model.layers.0.mlp.gate_proj.weight', 'BF16', [32, 8]),
    t('model.layers.0.input_layernorm.weight', 'F32', [16], 'special'),
    t('model.layers.0.post_attention_layernorm.weight', 'F32', [16]),
    t('model.rope.inv_freq', 'F32', [8]),
    t('model.position_ids', 'I64', [1, 12], 'random'),
    t('model.attention_mask', 'BOOL', [24], 'random'),
    t('model.quant.codes', 'U8', [48], 'random'),
    t('model.empty', 'F32', [0]),
  ];
  const shard2 = [
    t('model.layers.1.self_attn.q_proj.weight', 'BF16', [16, 16]),
    t('model.layers.1.self_attn.k_proj.weight', 'BF16', [16, 16]),
    t('model.layers.1.mlp.down_proj.weight', 'BF16', [8, 32]),
    t('model.norm.weight', 'F32', [16]),
    { ...emb, name: 'lm_head.weight', data: emb.data.slice() },
  ];
  const st = (ts: TensorInput[]): Uint8Array => buildSafetensors(ts, { metadata: { format: 'pt' } }).bytes;
  const weightMap: Record<string, string> = {};
  for (const x of shard1) weightMap[x.name] = 'model-00001-of-00002.safetensors';
  for (const x of shard2) weightMap[x.name] = 'model-00002-of-00002.safetensors';
  const text = (s: string): Uint8Array => new TextEncoder().encode(s);
  return {
    file: [{ path: 'model.safetensors', bytes: st([...shard1, ...shard2]) }],
    folder: [
      { path: 'config.json', bytes: text(JSON.stringify({ hidden_size: 16, num_hidden_layers: 2, vocab_size: 32 })) },
      { path: 'generation_config.json', bytes: text(JSON.stringify({ do_sample: false, max_length: 64 })) },
      { path: 'model-00001-of-00002.safetensors', bytes: st(shard1) },
      { path: 'model-00002-of-00002.safetensors', bytes: st(shard2) },
      { path: 'model.safetensors.index.json', bytes: text(JSON.stringify({ metadata: {}, weight_map: weightMap })) },
      { path: 'tokenizer/vocab.txt', bytes: text('a\nb\nc\n'.repeat(20)) },
    ],
  };
}

/** Chunks of 256 bytes: most tensors span several chunks, so chunk-level changes have neighbours to trade with. */
const CHUNK_BYTES = 256;

async function makeBases(rng: Rng): Promise<Base[]> {
  const files = baseFiles(rng);
  const bases: Base[] = [];
  for (const version of [4, 3, 2] as const) {
    const [f] = files.file;
    bases.push({ name: 'file', version, bytes: await compressBuffer(f.bytes, { name: f.path, chunkBytes: CHUNK_BYTES, formatVersion: version }), originals: await originalsOf(files.file) });
    const sink = new MemorySink();
    const w = await ContainerWriter.start(sink, 'folder', { chunkBytes: CHUNK_BYTES, formatVersion: version });
    for (const m of files.folder) await w.addFile(m.path, new MemorySource(m.bytes, m.path), m.path.endsWith('.safetensors'));
    await w.finish();
    bases.push({ name: 'folder', version, bytes: sink.toBytes(), originals: await originalsOf(files.folder) });
  }
  return bases;
}

function parse(argv: string[]): { cases: number; seed: number; gpu: boolean; out: string } {
  const o = { cases: 2800, seed: 0x1abe1, gpu: true, out: DEFAULT_OUT };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--no-gpu') {
      o.gpu = false;
      continue;
    }
    const v = argv[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === '--cases') o.cases = Number(v);
    else if (a === '--seed') o.seed = Number(v) >>> 0;
    else if (a === '--out') o.out = v;
    else throw new Error(`unknown option ${a}`);
  }
  if (!Number.isSafeInteger(o.cases) || o.cases < 1) throw new Error('--cases must be a positive integer');
  return o;
}

type Tally = Record<string, number>;
const add = (m: Tally, k: string): void => void (m[k] = (m[k] ?? 0) + 1);

async function main(): Promise<void> {
  const opts = parse(process.argv.slice(2));
  const t0 = performance.now();
  const rng = new Rng(opts.seed);
  const bases = await makeBases(rng);
  const got = opts.gpu ? await requestDecodeDevice('wcodec label campaign') : { device: undefined, reason: '--no-gpu' };
  const device = got.device;
  const scratch = await makeScratch();
  // Half the cases are made from version 4 bases (what wcodec writes), a quarter from version 3; the rest measure
  // versions 1 and 2.
  const v4 = bases.filter((b) => b.version === 4);
  const v3 = bases.filter((b) => b.version === 3);
  const legacy = bases.filter((b) => b.version === 2);
  // byVersion[version][mutation][path] -> outcome tally
  const byVersion: Record<string, Record<string, Record<string, Tally>>> = {};
  const wrongs: string[] = [];
  let cases = 0;
  try {
    for (let k = 0; k < opts.cases; k++) {
      const pick = (list: Base[]): Base => list[rng.int(list.length)];
      const base = k % 4 === 3 ? pick(legacy) : k % 4 === 2 ? pick(v3) : pick(v4);
      const c = await craftLabelCase(base.bytes, rng);
      const results = await runPaths(c.bytes, base.originals, { scratch, device });
      cases++;
      const version = base.version >= 3 ? `version ${base.version}` : 'versions 1-2';
      const perMutation = ((byVersion[version] ??= {})[c.mutation] ??= {});
      for (const [path, r] of Object.entries(results)) {
        const key = r.outcome === 'error' ? r.code : r.outcome === 'ok' ? 'exact' : 'WRONG';
        add((perMutation[path] ??= {}), key);
        if (r.outcome === 'wrong') {
          const line = `${version} ${base.name} case ${k} (${c.what}), ${path}: ${r.detail}`;
          wrongs.push(line);
          if (base.version >= 3) process.stdout.write(`WRONG ${line}\n`);
        }
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
    device?.destroy();
    await closeSharedPools();
  }
  const v4Wrong = wrongs.filter((w) => w.startsWith('version 4')).length;
  const v3Wrong = wrongs.filter((w) => w.startsWith('version 3')).length;
  const results = {
    tool: 'tools/label-campaign.ts',
    date: new Date().toISOString(),
    machine: { platform: `${platform()} ${release()}`, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length },
    node: process.version,
    seed: opts.seed,
    cases,
    paths: DECODE_PATHS.filter((p) => p !== 'gpu' || device),
    gpu: device ? 'decodeToGPU on the first WebGPU adapter (defaults: digests checked)' : `not run: ${got.reason}`,
    wrong: { 'version 4': v4Wrong, 'version 3': v3Wrong, 'versions 1-2': wrongs.length - v4Wrong - v3Wrong },
    wrongExamples: wrongs.slice(0, 50),
    byVersion,
    seconds: (performance.now() - t0) / 1000,
  };
  await mkdir(dirname(opts.out), { recursive: true });
  await writeFile(opts.out, `${JSON.stringify(results, null, 2)}\n`);
  const line = (t: Tally): string => Object.entries(t).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ');
  process.stdout.write(`label campaign: ${cases} crafted containers (seed ${opts.seed}), paths ${results.paths.join(', ')}; gpu: ${results.gpu}\n`);
  for (const [version, muts] of Object.entries(byVersion)) {
    process.stdout.write(`\n${version}\n`);
    for (const [mutation, paths] of Object.entries(muts).sort()) {
      process.stdout.write(`  ${mutation.padEnd(22)} ${Object.entries(paths).map(([p, t]) => `${p}: ${line(t)}`).join(' | ')}\n`);
    }
  }
  process.stdout.write(`\nwrong outputs without an error: version 4 ${v4Wrong}, version 3 ${v3Wrong}, versions 1-2 ${wrongs.length - v4Wrong - v3Wrong}; ${results.seconds.toFixed(1)} s; ${opts.out}\n`);
  if (v4Wrong + v3Wrong > 0) process.exitCode = 1;
}

await main();
