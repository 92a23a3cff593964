// The WebAssembly side of bench/native: the whole in-process decode and the chunk kernel alone, on the containers that
// dump-chunks.ts wrote, with zstd -3 (zstd-napi) in the same process; each output written to freshly allocated memory
// and to memory already touched. Conditions run once per round, round after round, so that load from other processes
// spreads over all of them; medians and ranges of MB/s (10^6 bytes of original per second).
// Usage (after npm run build and dump-chunks): node --expose-gc dist/bench/native/wasm-decode.js [--runs N] [--mib M] [DTYPE ...]

import '../../src/io/node-sha256.js';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { decompressBuffer } from '../../src/api/buffers.js';
import { chunkBinding } from '../../src/format/chunk-binding.js';
import { MemorySource, type ByteSink } from '../../src/io/byte-source.js';
import { ContainerReader } from '../../src/pipeline/container-reader.js';
import type { SegmentRecord } from '../../src/pipeline/index-codec.js';
import { packedBytes } from '../../src/transform/bit-pack.js';
import { chunkDigestInKernel } from '../../src/wasm/kernel-digest.js';
import { loadKernels, type Kernels } from '../../src/wasm/kernels.js';
import { WasmChunkDecoder } from '../../src/wasm/wasm-chunk-decoder.js';
import { syntheticInput } from '../inputs.js';
import { isFusedLayout } from './fused-layout.js';
import { DEFAULT_MIB, NATIVE_DIR } from './paths.js';

const require = createRequire(import.meta.url);
interface ZstdNapi {
  Compressor: new () => { setParameters(p: { compressionLevel: number }): void; compress(b: Uint8Array): Buffer };
  Decompressor: new () => { decompress(b: Uint8Array): Buffer };
}

/** Readable bytes the fused kernel may touch after a chunk (src/wasm/wasm-chunk-decoder.ts DECODE_PAD). */
const DECODE_PAD = 80;

/** A sink over one buffer allocated (and touched) once, rewound before each decode. */
class ReusedSink implements ByteSink {
  length = 0;
  constructor(readonly bytes: Uint8Array) {}
  async write(b: Uint8Array): Promise<void> {
    if (this.length + b.length > this.bytes.length) throw new RangeError(`write of ${b.length} bytes passes the end of ${this.bytes.length}`);
    if (b.buffer !== this.bytes.buffer || b.byteOffset !== this.bytes.byteOffset + this.length) this.bytes.set(b, this.length);
    this.length += b.length;
  }
  next(length: number): Uint8Array | undefined {
    return this.length + length <= this.bytes.length ? this.bytes.subarray(this.length, this.length + length) : undefined;
  }
}

/** A segment's place in the member and, for the fused layout, its chunks (bytes, n, expected digest). */
interface Seg {
  at: number;
  rec: SegmentRecord;
  chunks: { bytes: Uint8Array; n: number; digest: bigint }[];
}

/** The kernel's own buffers of a decoder (private fields of WasmChunkDecoder, read here to call the kernel directly). */
interface DecoderPtrs {
  desc: number;
  statePtr: number;
  headsPtr: number;
  outPtr: number;
}

async function run(dtype: string, runs: number, mib: number): Promise<void> {
  const container = new Uint8Array(await readFile(join(NATIVE_DIR, `${dtype}.wcodec`)));
  const reader = await ContainerReader.open(new MemorySource(container, 'container'));
  const member = reader.index.members[0];
  const N = member.originalBytes;
  const input = await syntheticInput(dtype as 'BF16' | 'F32', mib * 1024 * 1024, (s) => console.log(s));
  const original = new Uint8Array(await readFile(input.path));
  if (original.length !== N) throw new Error(`original ${original.length} bytes, container member ${N}`);
  const kernels = (await loadKernels()) as Kernels;
  if (!kernels) throw new Error('WebAssembly kernels unavailable');

  let at = 0;
  const segs: Seg[] = member.segments.map((rec) => {
    const W = rec.coding.layout.valueBytes;
    const values = rec.originalBytes / W;
    const s: Seg = { at, rec, chunks: [] };
    if (isFusedLayout(rec)) {
      s.chunks = rec.chunks.map((c, k) => ({
        bytes: container.subarray(c.offset, c.offset + c.bytes),
        n: Math.min(rec.chunkValues, values - k * rec.chunkValues),
        digest: c.digest! ^ chunkBinding(rec.sha256, rec.stream ?? 0, k),
      }));
    }
    at += rec.originalBytes;
    return s;
  });
  const fusedBytes = segs.reduce((a, s) => a + (s.chunks.length > 0 ? s.rec.originalBytes : 0), 0);
  console.log(`${dtype}: ${N} bytes, container ${container.length} (ratio ${(N / container.length).toFixed(4)}), ${fusedBytes} bytes in the fused layout`);

  const zstd = require('zstd-napi') as ZstdNapi;
  const zv = (require('zstd-napi/binding') as { versionString(): string }).versionString();
  const comp = new zstd.Compressor();
  comp.setParameters({ compressionLevel: 3 });
  const z = comp.compress(original);
  const dz = new zstd.Decompressor();
  console.log(`zstd-napi (zstd ${zv}) -3: ${z.length} bytes (ratio ${(N / z.length).toFixed(4)})`);

  /** Decodes every segment with WasmChunkDecoder.decode (copy in, kernel, WD64, copy out) into out; others copied. */
  const chunkDecoder = (out: Uint8Array): void => {
    for (const s of segs) {
      if (s.chunks.length === 0) {
        out.set(original.subarray(s.at, s.at + s.rec.originalBytes), s.at);
        continue;
      }
      const W = s.rec.coding.layout.valueBytes;
      const dec = new WasmChunkDecoder(kernels, s.rec.coding, Math.min(s.rec.chunkValues, s.rec.originalBytes / W));
      let o = s.at;
      for (const c of s.chunks) {
        if (!dec.decode(c.bytes, c.n, out.subarray(o, o + c.n * W), { crc32c: 0, digest: c.digest }, undefined, o)) throw new Error('digest mismatch');
        o += c.n * W;
      }
      dec.dispose();
    }
  };

  // The kernel alone: decodeRansPacked and WD64 on each chunk copied into kernel memory, its output left there.
  const maxChunk = Math.max(...segs.flatMap((s) => s.chunks.map((c) => c.bytes.length)));
  const inPtr = kernels.alloc(maxChunk + DECODE_PAD);
  const decoders = new Map<Seg, WasmChunkDecoder>();
  for (const s of segs) if (s.chunks.length > 0) decoders.set(s, new WasmChunkDecoder(kernels, s.rec.coding, Math.min(s.rec.chunkValues, s.rec.originalBytes / s.rec.coding.layout.valueBytes)));
  const kernelOnly = (digest: boolean): void => {
    for (const s of segs) {
      if (s.chunks.length === 0) continue;
      const W = s.rec.coding.layout.valueBytes;
      const p = decoders.get(s) as unknown as DecoderPtrs;
      for (const c of s.chunks) {
        kernels.u8.set(c.bytes, inPtr);
        const raw = c.bytes.length - packedBytes(c.n, 6) - (W === 4 ? 2 * c.n : 0);
        const r6 = inPtr + raw;
        const b1 = r6 + packedBytes(c.n, 6);
        const rc = kernels.k.decodeRansPacked(inPtr, raw, c.n, p.desc, r6, p.statePtr, p.headsPtr, p.outPtr, W, W === 4 ? b1 : 0, W === 4 ? b1 + c.n : 0);
        if (rc !== 0) throw new Error(`kernel failure ${rc}`);
        if (digest && chunkDigestInKernel(kernels, p.outPtr, c.n * W) !== c.digest) throw new Error('digest mismatch');
      }
    }
  };

  const reused = new Uint8Array(N).fill(0xa5);
  const sink = new ReusedSink(reused);
  type Cond = { name: string; f: () => Promise<Uint8Array | undefined> | Uint8Array | undefined; t: number[] };
  const conds: Cond[] = [
    { name: 'wasm whole decode, fresh (decompressBuffer)', f: () => decompressBuffer(container, { threads: 1 }), t: [] },
    {
      name: 'wasm whole decode, reused (decodeMember)',
      f: async () => {
        sink.length = 0;
        const r = await ContainerReader.open(new MemorySource(container, 'container'));
        await r.decodeMember(r.index.members[0], sink, { threads: 1 });
        return reused;
      },
      t: [],
    },
    {
      name: 'wasm chunk decoder, fresh',
      f: () => {
        const out = new Uint8Array(N);
        chunkDecoder(out);
        return out;
      },
      t: [],
    },
    { name: 'wasm chunk decoder, reused', f: () => (chunkDecoder(reused), reused), t: [] },
    { name: 'wasm kernel in kernel memory', f: () => (kernelOnly(true), undefined), t: [] },
    { name: 'wasm kernel in kernel memory, no WD64', f: () => (kernelOnly(false), undefined), t: [] },
    { name: 'zstd-napi -3 decode, fresh', f: () => dz.decompress(z), t: [] },
    { name: 'first touch (new Uint8Array + fill), fresh', f: () => (new Uint8Array(N).fill(1), undefined), t: [] },
  ];
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) console.log('(run node with --expose-gc to collect between runs)');
  // One warm-up round, then `runs` rounds.
  for (let r = -1; r < runs; r++) {
    for (const c of conds) {
      gc?.();
      const t0 = performance.now();
      const out = await c.f();
      const t = (performance.now() - t0) / 1e3;
      if (r >= 0) c.t.push(t);
      if (out && (r === -1 || r === runs - 1) && Buffer.compare(out, original) !== 0) throw new Error(`${c.name}: output differs from the original`);
    }
  }
  const mbps = (s: number): string => String(Math.round(N / s / 1e6)).padStart(10);
  console.log(`${'condition'.padEnd(48)} ${'median'.padStart(10)} ${'min'.padStart(10)} ${'max'.padStart(10)}   (MB/s of original bytes, ${runs} runs)`);
  for (const c of conds) {
    const t = [...c.t].sort((a, b) => a - b);
    console.log(`${c.name.padEnd(48)} ${mbps(t[t.length >> 1])} ${mbps(t[t.length - 1])} ${mbps(t[0])}`);
  }
  for (const d of decoders.values()) d.dispose();
  kernels.release(inPtr, maxChunk + DECODE_PAD);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, def: number): number => {
    const i = args.indexOf(`--${name}`);
    const v = i >= 0 ? Number(args[i + 1]) : def;
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`--${name} ${args[i + 1]} must be a positive integer`);
    return v;
  };
  const runs = opt('runs', 7);
  const mib = opt('mib', DEFAULT_MIB);
  const named = args.filter((a, k) => !a.startsWith('--') && !args[k - 1]?.startsWith('--'));
  for (const d of named.length > 0 ? named : ['BF16', 'F32']) {
    if (d !== 'BF16' && d !== 'F32') throw new RangeError(`dtype ${d}: BF16 or F32`);
    await run(d, runs, mib);
  }
}

await main();
