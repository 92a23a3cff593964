// Bundles the command line (dist/src/cli/main.js and every module it loads, the encoder's lazily imported ones
// included) into one file, dist/src/cli/wcodec.js, the package's `bin`: Node then resolves and loads one module at
// start instead of about fifty (docs/BENCHMARKS.md, small jobs). The bundle sits beside main.js, so the paths it takes
// from import.meta.url (package.json; the Node worker entry, ../workers/worker-node.js, which stays a file of its own)
// resolve as they do from main.js. Run by `npm run build`, after tsc.

import { build } from 'esbuild';
import { chmod } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = `${root}dist/src/cli/wcodec.js`;
await build({
  entryPoints: [`${root}dist/src/cli/main.js`],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Dawn's package is an optional peer dependency that only GPU decoding asks for, at run time.
  external: ['webgpu'],
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
