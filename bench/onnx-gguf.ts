// Real ONNX models (tools/fetch-onnx-models.ts) and any .gguf / .onnx files named on the command line through wcodec
// (format version 5, FORMAT.md §4.6, §4.7), zstd -19 and xz -9: each output decoded and compared byte for byte, ratio =
// original / encoded size. Prints a Markdown table and writes the figures as JSON to bench/out/onnx-gguf.json.
// Usage: npm run build && node dist/bench/onnx-gguf.js [DIR] [FILE.gguf ...]   (fetches the ONNX models into
// bench/out/onnx when DIR is not given)

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { codecRegistry, encodeChecked, type Member } from './codecs.js';
import { fetchOnnxModels, REAL_ONNX_MODELS } from '../tools/fetch-onnx-models.js';
import { openContainer, MemorySource } from '../src/node.js';

const CODECS = ['wcodec', 'zstd-19', 'xz-9'];

const args = process.argv.slice(2);
const files = args.filter((a) => /\.(gguf|onnx)$/.test(a));
const dir = args.find((a) => !files.includes(a));
const paths = [...(dir ? REAL_ONNX_MODELS.map((m) => `${dir}/${m.file}`) : await fetchOnnxModels()), ...files];
const registry = codecRegistry().filter((c) => CODECS.includes(c.id));
const rows: Record<string, unknown>[] = [];
console.log(`| file | bytes | tensors (split / bytes in tensors) | ${registry.map((c) => `${c.label} ratio`).join(' | ')} |`);
console.log(`|---|---|---|${registry.map(() => '---').join('|')}|`);
for (const path of paths) {
  const bytes = new Uint8Array(readFileSync(path));
  const input: Member[] = [{ path: basename(path), bytes }];
  const ratios: Record<string, number> = {};
  let tensors = '';
  for (const codec of registry) {
    const ctx = { threads: 1, kind: 'file' as const };
    const encoded = await encodeChecked(codec, input, ctx, path);
    ratios[codec.id] = bytes.length / encoded.bytes;
    if (codec.id === 'wcodec') {
      const ckpt = await openContainer(new MemorySource(encoded.payload as Uint8Array, basename(path)));
      tensors = `${ckpt.tensors.length} / ${ckpt.tensors.reduce((a, t) => a + t.originalBytes, 0)}`;
      await ckpt.close();
    }
  }
  // A fetched model has its provenance recorded in tools/fetch-onnx-models.ts; a file named on the command line has its path.
  const model = REAL_ONNX_MODELS.find((m) => m.file === basename(path));
  const source = model ? { package: `${model.pkg}@${model.version}`, path: model.path, licence: model.licence } : { path };
  rows.push({ file: basename(path), ...source, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), tensors, ratios });
  console.log(`| ${basename(path)} | ${bytes.length} | ${tensors} | ${registry.map((c) => ratios[c.id].toFixed(4)).join(' | ')} |`);
}
mkdirSync('bench/out', { recursive: true });
writeFileSync('bench/out/onnx-gguf.json', `${JSON.stringify({ date: new Date().toISOString(), node: process.version, codecs: registry.map((c) => ({ id: c.id, library: c.library, options: c.options })), rows }, null, 2)}\n`);
