// The layer order of src/ (HOUSE_STYLE "Layout"): every import in src/**/*.ts, static or dynamic, goes from a folder
// to one below it in LAYERS, and the folder-level graph has no cycle. A file at src/ root is its own node. Within a
// folder, the file-level graph has no cycle either: a folder split into files by concern stays a tree of them.
//
// Bottom to top:
//   errors.ts    one error hierarchy
//   format/      bytes on disk: constants and limits, byte cursors, CRC-32C, WD64 chunk digest, SHA-256, envelope,
//                identity digest, tensor references
//   io/          byte sources
//   safetensors/ strict safetensors reading
//   gguf/        GGUF header reading and its label check
//   onnx/        a minimal protobuf reader, ONNX initializers and their label check
//   transform/   plane layouts and reversible transforms (pure)
//   lossy/       lossy variants and quantizers of weight matrices, code rates, bit allocation (pure: typed arrays in, out)
//   entropy/     rANS, Huffman, their tables, and the chunk codec that codes a chunk's planes with them
//   wasm/        WebAssembly kernels, their loader, and the chunk engines that pick them or the TypeScript reference
//   workers/     worker pool, worker entry, message protocol
//   pipeline/    encode/decode pipeline: container reader and writer, index records, choice of layouts and transforms
//   api/         buffer and checkpoint API
//   gpu/         WebGPU decode of a checkpoint
//   eval/        perplexity of Llama checkpoints: config, weights, forward pass on the evaluator kernels, worker threads
//   node/        file and folder API
//   cli/         the command line
//   index.ts     the public API
//   node.ts      the Node entry

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SRC = join(ROOT, 'src');

/** Bottom to top: a node may import only from nodes before it (and from itself). */
const LAYERS = ['errors.ts', 'format', 'io', 'safetensors', 'gguf', 'onnx', 'transform', 'npy', 'lossy', 'entropy', 'wasm', 'workers', 'pipeline', 'api', 'gpu', 'eval', 'node', 'cli', 'index.ts', 'node.ts'];

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** The module specifiers a source imports: `import … from`, `export … from`, `import '…'` and `import('…')`. */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const specs: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^;'"]*?\bfrom\s*(['"])([^'"]+)\1/g,
    /\bimport\s*(['"])([^'"]+)\1/g,
    /\bimport\s*\(\s*(?:\/\*[^*]*\*\/\s*)?(['"])([^'"]+)\1\s*\)/g,
  ];
  for (const re of patterns) for (const m of code.matchAll(re)) specs.push(m[2]);
  return specs;
}

/** The layer node of a path under src/: its top folder, or the file itself at src/ root. */
function nodeOf(pathUnderSrc: string): string {
  const parts = pathUnderSrc.split('/');
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.js$/, '.ts');
}

interface Edge {
  from: string;
  to: string;
  file: string;
  spec: string;
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const path of tsFiles(SRC)) {
    const file = relative(SRC, path).split(sep).join('/');
    for (const spec of importSpecifiers(readFileSync(path, 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = posix.normalize(posix.join(posix.dirname(file), spec));
      out.push({ from: nodeOf(file), to: target.startsWith('../') ? '(outside src)' : nodeOf(target), file: `src/${file}`, spec });
    }
  }
  return out;
}

test('the import parser sees static, re-exported, side-effect and dynamic imports', () => {
  const src = [
    "import { a,\n  b } from '../x/a.js';",
    "import type { T } from \"./t.js\";",
    "export { c } from '../y/c.js';",
    "import '../z/side.js';",
    "const m = await import('../w/lazy.js');",
    "// import { no } from '../commented.js';",
  ].join('\n');
  assert.deepEqual(importSpecifiers(src).sort(), ['../w/lazy.js', '../x/a.js', '../y/c.js', '../z/side.js', './t.js']);
});

test('every src/ folder and root file has a place in the layer order', () => {
  const nodes = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory() || n.endsWith('.ts'));
  const missing = nodes.filter((n) => !LAYERS.includes(n));
  assert.deepEqual(missing, [], `not in LAYERS of test/layers.test.ts: ${missing.join(', ')}`);
});

test('imports go only down the layer order', () => {
  const bad = edges()
    .filter((e) => e.from !== e.to && !(LAYERS.indexOf(e.to) >= 0 && LAYERS.indexOf(e.to) < LAYERS.indexOf(e.from)))
    .map((e) => `${e.file} imports '${e.spec}' (${e.from} -> ${e.to})`);
  assert.deepEqual(bad, [], `imports against the layer order:\n${bad.join('\n')}`);
});

test('the folder-level import graph has no cycle', () => {
  const graph = new Map<string, Map<string, Edge>>();
  for (const e of edges()) {
    if (e.from === e.to) continue;
    if (!graph.has(e.from)) graph.set(e.from, new Map());
    if (!graph.get(e.from)!.has(e.to)) graph.get(e.from)!.set(e.to, e);
  }
  const state = new Map<string, 'open' | 'done'>();
  const stack: Edge[] = [];
  const cycles: string[] = [];
  const visit = (n: string): void => {
    state.set(n, 'open');
    for (const [to, e] of graph.get(n) ?? []) {
      stack.push(e);
      if (state.get(to) === 'open') {
        const from = stack.findIndex((s) => s.from === to);
        cycles.push(stack.slice(from).map((s) => `${s.file} imports '${s.spec}'`).join('\n  -> '));
      } else if (!state.has(to)) visit(to);
      stack.pop();
    }
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  assert.deepEqual(cycles, [], `folder-level import cycles:\n${cycles.join('\n')}`);
});

test('the file-level import graph has no cycle', () => {
  const graph = new Map<string, string[]>();
  for (const path of tsFiles(SRC)) {
    const file = relative(SRC, path).split(sep).join('/');
    const targets = importSpecifiers(readFileSync(path, 'utf8'))
      .filter((spec) => spec.startsWith('.'))
      .map((spec) => posix.normalize(posix.join(posix.dirname(file), spec)).replace(/\.js$/, '.ts'));
    graph.set(file, targets);
  }
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (f: string): void => {
    state.set(f, 'open');
    stack.push(f);
    for (const to of graph.get(f) ?? []) {
      if (!graph.has(to)) continue;
      if (state.get(to) === 'open') cycles.push([...stack.slice(stack.indexOf(to)), to].map((x) => `src/${x}`).join(' -> '));
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, [], `file-level import cycles:\n${cycles.join('\n')}`);
});
