// Peak memory of reading a container's index, and file vs memory decoding of a container of 1-value chunks.
// Index: crafted single-file containers of N empty F16 tensors, each coding its 12-bit head plane with a table of
// its own (so no two coding records are alike and none can be shared); a child process per size opens the container
// from a file (ContainerReader.open: footer, index CRC, every structural check) and reports its peak RSS. The target:
// peak RSS <= 64 MiB + 8 x the serialised index's bytes. Tiny chunks: a BF16 safetensors file written by the API
// with chunkBytes 1 (one value per chunk), decoded whole from a FileSource and from a MemorySource, each in a child
// of its own (time and peak RSS); both outputs must have the input's SHA-256. Each benchmark checks its own output.
// Usage: npm run bench:index-memory -- [--sizes 10000,100000,1000000] [--tiny-values 262144] [--heap-mb 4096] [--dir /tmp] [--keep]
// (--keep leaves the crafted containers in the work folder and prints where)

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { craftContainer, craftEmptyTensorsIndex } from '../tools/many-tensors.js';

const MIB = 1024 * 1024;
/** The target: peak RSS at most this constant plus INDEX_FACTOR bytes per byte of serialised index. */
const BASE_BYTES = 64 * MIB;
const INDEX_FACTOR = 8;

/** A BF16 safetensors file of `values` near-Gaussian values in one tensor. */
function bf16Safetensors(values: number): Uint8Array {
  let json = JSON.stringify({ w: { dtype: 'BF16', shape: [values], data_offsets: [0, values * 2] } });
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + json.length + values * 2);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let s = 0x9e3779b9;
  const rnd = (): number => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const dv = new DataView(out.buffer, 8 + json.length);
  for (let i = 0; i < values; i++) {
    f32[0] = (rnd() + rnd() + rnd() + rnd() - 2) * 0.02;
    dv.setUint16(2 * i, u32[0] >>> 16, true);
  }
  return out;
}

interface ChildResult {
  rssBytes: number;
  seconds: number;
  /** What the child checked: tensors listed (open) or the SHA-256 of the decoded bytes (decode). */
  check: string;
}

/** Runs a measurement in a child of its own; undefined (with the reason) when it fails, e.g. out of its heap cap. */
function child(args: string[], heapMB: number): ChildResult | { error: string } {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, [`--max-old-space-size=${heapMB}`, self, '--child', ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    const lines = (r.stderr || '').trim().split('\n');
    const reason = lines.find((l) => /heap out of memory|RangeError|Error:/.test(l)) ?? lines.pop() ?? `exit ${r.status} ${r.signal ?? ''}`;
    return { error: reason.trim().slice(0, 200) };
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

/**
 * This process's peak RSS in bytes: VmHWM where /proc has it. (getrusage's maxrss is no use in a child: Linux carries
 * the parent's peak over fork and exec into it.)
 */
async function peakRss(): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  try {
    const m = /VmHWM:\s*(\d+) kB/.exec(await readFile('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

async function runChild(argv: string[]): Promise<void> {
  const [step, path] = argv;
  const { FileSource } = await import('../src/io/file-source.js');
  const { ContainerReader } = await import('../src/pipeline/container-reader.js');
  const { MemorySource } = await import('../src/io/byte-source.js');
  const { readFile } = await import('node:fs/promises');
  let check = '';
  const t0 = performance.now();
  if (step === 'baseline') {
    check = 'modules loaded';
  } else if (step === 'open') {
    const reader = await ContainerReader.open(await FileSource.open(path));
    check = `${reader.index.members.reduce((a, m) => a + m.segments.length, 0)} tensors`;
    await reader.close();
  } else {
    const source = step === 'decode-file' ? await FileSource.open(path) : new MemorySource(await readFile(path), path);
    const reader = await ContainerReader.open(source);
    const h = createHash('sha256');
    for (const m of reader.index.members) await reader.decodeMember(m, { write: async (b: Uint8Array) => void h.update(b) }, { threads: 1 });
    check = h.digest('hex');
    await reader.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ rssBytes: await peakRss(), seconds, check }));
}

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string): string => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);

if (argv[0] === '--child') {
  await runChild(argv.slice(1));
} else {
  const sizes = opt('--sizes', '10000,100000,1000000').split(',').map(Number);
  const tinyValues = Number(opt('--tiny-values', '262144'));
  const heapMB = Number(opt('--heap-mb', '4096'));
  const keep = argv.includes('--keep');
  const work = await mkdtemp(join(opt('--dir', tmpdir()), 'wcodec-index-mem-'));
  const mb = (b: number): string => (b / 1e6).toFixed(1);
  let pass = true;
  try {
    const base = child(['baseline', ''], heapMB);
    if ('error' in base) throw new Error(`baseline child failed: ${base.error}`);
    const index: Record<string, unknown>[] = [];
    for (const n of sizes) {
      const idx = craftEmptyTensorsIndex(n);
      const path = join(work, `empty-${n}.wcodec`);
      await writeFile(path, craftContainer(idx));
      const containerBytes = (await stat(path)).size;
      const limitBytes = BASE_BYTES + INDEX_FACTOR * idx.length;
      const r = child(['open', path], heapMB);
      const ok = !('error' in r) && r.check === `${n} tensors` && r.rssBytes <= limitBytes;
      pass &&= ok;
      index.push({ tensors: n, indexBytes: idx.length, containerBytes, limitBytes, ...r, pass: ok });
      if (!keep) await rm(path);
    }
    const tiny: Record<string, unknown> = {};
    if (tinyValues > 0) {
      const { compressBuffer } = await import('../src/api/buffers.js');
      const input = bf16Safetensors(tinyValues);
      const container = await compressBuffer(input, { chunkBytes: 1, transforms: false, threads: 1 });
      const path = join(work, 'tiny-chunks.wcodec');
      await writeFile(path, container);
      const want = createHash('sha256').update(input).digest('hex');
      const mem = child(['decode-memory', path], heapMB);
      const file = child(['decode-file', path], heapMB);
      const ok = !('error' in mem) && !('error' in file) && mem.check === want && file.check === want;
      pass &&= ok;
      Object.assign(tiny, { values: tinyValues, chunks: tinyValues, inputBytes: input.length, inputSha256: want, containerBytes: container.length, memory: mem, file, identical: ok });
      if (!keep) await rm(path);
    }
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
      heapCapMB: heapMB,
      target: `peak RSS <= 64 MiB + ${INDEX_FACTOR} x index bytes`,
      baselineRssBytes: base.rssBytes,
      index,
      tinyChunks: tiny,
      pass,
    };
    const outDir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
    await mkdir(outDir, { recursive: true });
    await writeFile(join(outDir, 'index-memory.json'), JSON.stringify(result, null, 2) + '\n');
    const rows = [
      '| tensors | index MB | container MB | limit MB | peak RSS MB | open s | result |',
      '|---:|---:|---:|---:|---:|---:|---|',
      ...index.map((e) => {
        const r = e as { tensors: number; indexBytes: number; containerBytes: number; limitBytes: number; rssBytes?: number; seconds?: number; error?: string; pass: boolean };
        return `| ${r.tensors} | ${mb(r.indexBytes)} | ${mb(r.containerBytes)} | ${mb(r.limitBytes)} | ${r.error ? `failed: ${r.error}` : mb(r.rssBytes!)} | ${r.seconds?.toFixed(2) ?? '-'} | ${r.pass ? 'pass' : 'FAIL'} |`;
      }),
    ];
    console.log(`Index memory (node ${process.version}, baseline RSS ${mb(base.rssBytes)} MB with the modules loaded, heap cap ${heapMB} MB):\n${rows.join('\n')}`);
    if (tinyValues > 0) {
      const cell = (r: ChildResult | { error: string }): string => ('error' in r ? `failed: ${r.error} | - ` : `${r.seconds.toFixed(2)} | ${mb(r.rssBytes)}`);
      const t = tiny as { values: number; containerBytes: number; memory: ChildResult; file: ChildResult; identical: boolean };
      console.log(
        `\n1-value chunks: ${t.values} BF16 values, ${t.values} chunks, container ${mb(t.containerBytes)} MB\n` +
          `| source | decode s | peak RSS MB |\n|---|---:|---:|\n| memory | ${cell(t.memory)} |\n| file | ${cell(t.file)} |\n` +
          `outputs ${t.identical ? 'identical to the input' : 'DIFFERENT'}`,
      );
    }
    console.log(pass ? 'PASS' : 'FAIL');
    if (!pass) process.exitCode = 1;
  } finally {
    if (keep) console.log(`containers kept in ${work}`);
    else await rm(work, { recursive: true, force: true });
  }
}
