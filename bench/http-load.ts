// Loading a container over HTTP from a local range server: requests and time of a listing, of one large tensor (read
// into a buffer of the caller's, with the peak of the client's JS memory during the read) and of the whole model, for
// openCheckpoint(url) and, side by side, a hand-written ByteSource that makes one fetch per read (a HEAD for the size).
// The data: a synthetic BF16 model of 57 tensors, one of 8192 x 16384 values (268 MB) and 56 of 1024 x 1024 (2.1 MB),
// compressed here. The server (test/helpers/range-server.ts) runs in this process; the client in a child process of
// its own (--expose-gc), so that its memory figures hold only the client's. Each run checks every tensor it reads
// against the SHA-256 the index records.
// Usage: npm run bench:http -- [--runs 3] [--out bench/results/http-load.json]

import '../src/io/node-sha256.js';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { compressBuffer } from '../src/api/buffers.js';
import { openCheckpoint } from '../src/node.js';
import type { ByteSource } from '../src/io/byte-source.js';
import { syntheticMatrixBF16 } from '../tools/synthetic-weights.js';
import { RangeServer } from '../test/helpers/range-server.js';
import { median } from './median.js';

const MB = 1e6;
const BIG = 'model.big.weight';

/** A safetensors file of BF16 tensors. */
function safetensors(tensors: { name: string; shape: [number, number]; data: Uint8Array }[]): Uint8Array {
  const header: Record<string, unknown> = {};
  let at = 0;
  for (const t of tensors) {
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [at, at + t.data.length] };
    at += t.data.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + json.length) % 8)) % 8);
  const out = new Uint8Array(8 + json.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let o = 8 + json.length;
  for (const t of tensors) {
    out.set(t.data, o);
    o += t.data.length;
  }
  return out;
}

const hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The ByteSource a user writes by hand: a HEAD for the size, then one ranged GET per read. */
async function naiveSource(url: string, fetchFn: typeof fetch): Promise<ByteSource> {
  const head = await fetchFn(url, { method: 'HEAD' });
  const size = Number(head.headers.get('content-length'));
  return {
    name: url,
    size,
    async read(offset: number, length: number) {
      const res = await fetchFn(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
      return new Uint8Array(await res.arrayBuffer());
    },
    async close() {},
  };
}

interface Phase {
  requests: number;
  seconds: number;
}

/** The client: runs in a child process, prints one JSON line. */
async function client(url: string, runs: number): Promise<void> {
  let requests = 0;
  const counting: typeof fetch = (input, init) => {
    requests++;
    return fetch(input, init);
  };
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const timed = async <T>(fn: () => Promise<T>): Promise<{ value: T; phase: Phase }> => {
    const before = requests;
    const t0 = performance.now();
    const value = await fn();
    return { value, phase: { requests: requests - before, seconds: (performance.now() - t0) / 1000 } };
  };
  const result: Record<string, unknown> = {};
  for (const kind of ['openCheckpoint', 'naive'] as const) {
    const open = () => (kind === 'naive' ? naiveSource(url, counting).then((s) => openCheckpoint(s)) : openCheckpoint(url, { fetch: counting }));
    // Listing.
    const listing: Phase[] = [];
    let tensors = 0;
    for (let r = 0; r < runs + 1; r++) {
      const { value, phase } = await timed(async () => {
        const c = await open();
        tensors = c.tensors.length;
        return c;
      });
      await value.close();
      if (r > 0) listing.push(phase);
    }
    // One large tensor into a buffer of the caller's; memory sampled while it is read.
    const ckpt = await open();
    const info = ckpt.tensors.find((t) => t.name === BIG)!;
    const into = new Uint8Array(info.originalBytes);
    const tensor: Phase[] = [];
    for (let r = 0; r < runs + 1; r++) {
      into.fill(0xa5);
      gc();
      const { phase } = await timed(() => ckpt.read(BIG, { into }));
      if (hex(into) !== info.sha256) throw new Error(`${kind}: ${BIG} decoded to other bytes`);
      if (r > 0) tensor.push(phase);
    }
    // Memory, in two more runs beside the timed ones: JS heap plus ArrayBuffers beyond what was there before, sampled
    // every few milliseconds; once as it is (garbage not yet collected included), once each sample after a forced
    // collection (what the read holds alive).
    const peaks: number[] = [];
    for (const forced of [false, true]) {
      into.fill(0xa5);
      gc();
      const base = process.memoryUsage();
      let peak = 0;
      const measure = (): void => {
        if (forced) gc();
        const m = process.memoryUsage();
        peak = Math.max(peak, m.heapUsed + m.arrayBuffers - base.heapUsed - base.arrayBuffers);
      };
      const sample = setInterval(measure, forced ? 20 : 2);
      await ckpt.read(BIG, { into });
      clearInterval(sample);
      if (hex(into) !== info.sha256) throw new Error(`${kind}: ${BIG} decoded to other bytes`);
      peaks.push(peak);
    }
    await ckpt.close();
    // The whole model (openCheckpoint only: the naive source has no load plan, its whole load is read() per tensor).
    const whole: Phase[] = [];
    for (let r = 0; r < Math.max(1, runs - 1) + 1; r++) {
      const c = await open();
      gc();
      const { value, phase } = await timed(async () => (kind === 'naive' ? Promise.all(c.tensors.map((t) => c.read(t.name))) : c.load()));
      for (const t of value) if (hex(t.bytes) !== t.info.sha256) throw new Error(`${kind}: ${t.info.name} decoded to other bytes`);
      await c.close();
      if (r > 0) whole.push(phase);
    }
    const pick = (ps: Phase[]) => ({ requests: ps[0].requests, seconds: median(ps.map((p) => p.seconds)), runs: ps.length });
    result[kind] = { tensors, listing: pick(listing), tensor: { ...pick(tensor), bytes: info.originalBytes, compressedBytes: info.compressedBytes, peakBytes: peaks[0], peakLiveBytes: peaks[1] }, whole: pick(whole) };
  }
  process.stdout.write(JSON.stringify(result) + '\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string): string | undefined => {
    const k = args.indexOf(name);
    return k >= 0 ? args[k + 1] : undefined;
  };
  const runs = Number(flag('--runs') ?? 3);
  if (flag('--client')) return client(flag('--client')!, runs);
  const out = flag('--out') ?? 'bench/results/http-load.json';

  const tensors = [{ name: BIG, shape: [8192, 16384] as [number, number], data: syntheticMatrixBF16(8192, 16384, 1) }];
  for (let k = 0; k < 56; k++) tensors.push({ name: `model.layers.${k}.weight`, shape: [1024, 1024], data: syntheticMatrixBF16(1024, 1024, 100 + k) });
  const original = safetensors(tensors);
  const container = await compressBuffer(original, { threads: 2 });
  const server = await RangeServer.start();
  const url = server.put('/model.wcodec', container);
  console.log(`data: ${(original.length / MB).toFixed(1)} MB safetensors (SHA-256 ${hex(original)}), container ${(container.length / MB).toFixed(1)} MB`);

  const child = spawn(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--client', url, '--runs', String(runs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  await server.close();
  if (code !== 0) throw new Error(`client exited with ${code}`);
  const result = JSON.parse(text.trim()) as Record<'openCheckpoint' | 'naive', { tensors: number; listing: Phase; tensor: Phase & { bytes: number; compressedBytes: number; peakBytes: number; peakLiveBytes: number }; whole: Phase }>;
  const record = {
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model, cores: cpus().length },
    node: process.version,
    data: { tensors: tensors.length, originalBytes: original.length, containerBytes: container.length, sha256: hex(original) },
    server: 'test/helpers/range-server.ts on 127.0.0.1, in the benchmark process; client in a child process',
    runs,
    result,
  };
  await writeFile(out, JSON.stringify(record, null, 2) + '\n');
  const row = (name: string, p: Phase, bytes: number) => `| ${name} | ${p.requests} | ${(p.seconds * 1000).toFixed(0)} ms | ${bytes ? ((bytes / MB) / p.seconds).toFixed(0) : '–'} |`;
  console.log('| source | step | requests | time | MB/s (original) |');
  for (const kind of ['openCheckpoint', 'naive'] as const) {
    const r = result[kind];
    console.log(row(`${kind} listing`, r.listing, 0));
    console.log(row(`${kind} one tensor (${(r.tensor.bytes / MB).toFixed(0)} MB)`, r.tensor, r.tensor.bytes));
    console.log(row(`${kind} whole model`, r.whole, original.length));
    console.log(`  client JS heap + ArrayBuffers beyond the output buffer during the tensor read: peak ${(r.tensor.peakBytes / MB).toFixed(1)} MB, live (sampled after a forced GC) ${(r.tensor.peakLiveBytes / MB).toFixed(1)} MB`);
  }
  console.log(`wrote ${out}`);
}

await main();
