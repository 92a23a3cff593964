// `npm start`: the main job on the bundled example. Compresses each file of examples/stories260K with wcodec,
// decompresses it, checks the SHA-256, and prints a table with zstd -19's ratio beside wcodec's.

import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compressFile, decompressFile } from '../src/node.js';
import { formatBytes, renderTable } from '../src/cli/report.js';

const exampleDir = fileURLToPath(new URL('../../examples/stories260K/', import.meta.url));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** zstd -19 through the zstd-napi binding (a dev dependency), or undefined when it is not installed. */
async function zstdSize(bytes: Uint8Array): Promise<number | undefined> {
  try {
    const zstd = (await import('zstd-napi')) as unknown as { compress(b: Uint8Array, p: { compressionLevel: number }): Uint8Array };
    return zstd.compress(bytes, { compressionLevel: 19 }).length;
  } catch {
    return undefined;
  }
}

const work = await mkdtemp(join(tmpdir(), 'wcodec-start-'));
try {
  const rows: string[][] = [];
  let allOk = true;
  for (const name of (await readdir(exampleDir)).filter((n) => !n.endsWith('.md')).sort()) {
    const input = join(exampleDir, name);
    const original = await readFile(input);
    const packed = join(work, `${name}.wcodec`);
    const restored = join(work, name);
    const t0 = performance.now();
    await compressFile(input, packed);
    const t1 = performance.now();
    await decompressFile(packed, restored);
    const t2 = performance.now();
    const size = (await stat(packed)).size;
    const same = sha(await readFile(restored)) === sha(original);
    allOk &&= same;
    const z = await zstdSize(original);
    rows.push([
      name,
      formatBytes(original.length),
      formatBytes(size),
      `x${(original.length / size).toFixed(3)}`,
      z === undefined ? 'n/a' : `x${(original.length / z).toFixed(3)}`,
      `${(original.length / 1e3 / (t1 - t0)).toFixed(1)}`,
      `${(original.length / 1e3 / (t2 - t1)).toFixed(1)}`,
      same ? 'yes' : 'NO',
    ]);
  }
  console.log(renderTable(['file', 'original', 'wcodec', 'ratio', 'zstd -19', 'enc MB/s', 'dec MB/s', 'SHA-256 same'], rows));
  console.log('\n(.safetensors files are coded tensor by tensor; other files, like the llama2.c .bin, as bytes, with the\nbyte model where it saves 0.5 % or more: smaller, but it decodes at about 1 MB/s.)');
  if (!allOk) {
    console.error('round trip FAILED');
    process.exitCode = 2;
  }
} finally {
  await rm(work, { recursive: true, force: true });
}
