// Peak memory of compressFile / decompressFile on a generated 2 GB BF16 safetensors file (target: < 300 MB RSS).
// Each step runs in its own child process so its peak RSS (getrusage maxrss) is its own. Checks its own output:
// the restored file must have the input's SHA-256. Usage: npm run bench:memory -- [--gb 2] [--dir /tmp] [--threads N]
// (--threads N > 1 runs both steps with a pool of N workers; their memory is part of the process's RSS).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIMIT_MB = 300;

async function fileSha(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const b of createReadStream(path, { highWaterMark: 8 << 20 })) h.update(b as Buffer);
  return h.digest('hex');
}

/** Writes a BF16 safetensors file of about `bytes` bytes: tensors of 64 MiB, near-Gaussian rows with per-row scales. */
async function generate(path: string, bytes: number): Promise<void> {
  const tensorBytes = 64 * 1024 * 1024;
  const count = Math.max(1, Math.round(bytes / tensorBytes));
  const cols = 4096;
  const rows = tensorBytes / 2 / cols;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', generator: 'wcodec bench/memory' } };
  for (let t = 0; t < count; t++) header[`layers.${t}.weight`] = { dtype: 'BF16', shape: [rows, cols], data_offsets: [t * tensorBytes, (t + 1) * tensorBytes] };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const fh = await open(path, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  await fh.write(len);
  await fh.write(Buffer.from(json));
  let s = 0x9e3779b9;
  const rnd = (): number => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const block = new Uint16Array(tensorBytes / 2 / 8);
  for (let t = 0; t < count; t++) {
    for (let part = 0; part < 8; part++) {
      for (let r = 0; r < block.length / cols; r++) {
        const scale = 0.02 * (0.5 + rnd());
        for (let c = 0; c < cols; c++) {
          const g = rnd() + rnd() + rnd() + rnd() - 2; // near-Gaussian, variance 1/3
          f32[0] = g * scale * (rnd() < 0.0005 ? 30 : 1); // a few outliers
          block[r * cols + c] = u32[0] >>> 16;
        }
      }
      await fh.write(new Uint8Array(block.buffer));
    }
  }
  await fh.close();
}

function child(step: 'compress' | 'decompress', input: string, output: string, threads: number): { rssMB: number; seconds: number } {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [self, '--child', step, input, output, String(threads)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${step} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

async function runChild(step: string, input: string, output: string, threads: number): Promise<void> {
  const api = await import('../src/node.js');
  const t0 = performance.now();
  if (step === 'compress') await api.compressFile(input, output, { threads });
  else await api.decompressFile(input, output, { threads });
  const seconds = (performance.now() - t0) / 1000;
  await api.closeSharedPools();
  console.log(JSON.stringify({ rssMB: process.resourceUsage().maxRSS / 1024, seconds }));
}

const argv = process.argv.slice(2);
if (argv[0] === '--child') {
  await runChild(argv[1], argv[2], argv[3], Number(argv[4]));
} else {
  const gb = Number(argv[argv.indexOf('--gb') + 1] ?? 2) || 2;
  const threads = argv.includes('--threads') ? Number(argv[argv.indexOf('--threads') + 1]) : 1;
  const base = argv.includes('--dir') ? argv[argv.indexOf('--dir') + 1] : tmpdir();
  const work = await mkdtemp(join(base, 'wcodec-mem-'));
  try {
    const input = join(work, 'big.safetensors');
    await generate(input, gb * 1e9);
    const size = (await stat(input)).size;
    const c = child('compress', input, join(work, 'big.wcodec'), threads);
    const packed = (await stat(join(work, 'big.wcodec'))).size;
    const d = child('decompress', join(work, 'big.wcodec'), join(work, 'restored.safetensors'), threads);
    const same = (await fileSha(input)) === (await fileSha(join(work, 'restored.safetensors')));
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      threads,
      inputBytes: size,
      compressedBytes: packed,
      ratio: size / packed,
      compress: c,
      decompress: d,
      roundTripIdentical: same,
      limitMB: LIMIT_MB,
      pass: same && c.rssMB < LIMIT_MB && d.rssMB < LIMIT_MB,
    };
    const outDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'memory.json'), JSON.stringify(result, null, 2) + '\n');
    console.log(
      `input ${(size / 1e9).toFixed(2)} GB -> ${(packed / 1e9).toFixed(3)} GB (x${result.ratio.toFixed(3)}); ` +
        `compress peak RSS ${c.rssMB.toFixed(0)} MB in ${c.seconds.toFixed(1)} s; decompress peak RSS ${d.rssMB.toFixed(0)} MB in ${d.seconds.toFixed(1)} s; ` +
        `round trip ${same ? 'identical' : 'DIFFERENT'}; ${result.pass ? 'PASS' : 'FAIL'} (limit ${LIMIT_MB} MB)`,
    );
    if (!result.pass) process.exitCode = 1;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
