// Bundles the browser entry (dist/src/index.js, the public API of src/index.ts) into one ES module,
// dist/browser/wcodec.js, and the Web Worker entry into dist/browser/worker-web.js beside it: the pool starts its
// workers by `new URL('./worker-web.js', import.meta.url)` (src/workers/spawn-worker.ts), which esbuild leaves as it
// is, so the worker must sit next to the bundle. Each file is self-contained (no imports left at run time); the
// WebAssembly kernels travel inside, as base64 (tools/build-wasm.mjs). The demo page (examples/demo) loads these.
// Run by `npm run build`, after tsc.

import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const result = await build({
  entryPoints: {
    wcodec: `${root}dist/src/index.js`,
    'worker-web': `${root}dist/src/workers/worker-web.js`,
  },
  outdir: `${root}dist/browser`,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  // Readable in the browser's developer tools; the maps lead back to the TypeScript sources.
  minify: false,
  sourcemap: 'linked',
  // Dawn's package is Node's WebGPU, an optional peer dependency asked for at run time only outside browsers.
  external: ['webgpu'],
  logLevel: 'warning',
  metafile: true,
});
// The browser entry reaches no Node built-in (README, "In a web page"): a node: import here is a layering mistake.
const nodeImports = Object.values(result.metafile.outputs).flatMap((o) => o.imports.filter((i) => i.path.startsWith('node:')).map((i) => i.path));
if (nodeImports.length > 0) throw new Error(`the browser bundle imports Node built-ins: ${[...new Set(nodeImports)].join(', ')}`);
