// The benchmark's codec registry: wcodec and the baselines (zstd, xz, brotli, gzip), each an entry with the same
// encode/decode contract over an input's members. A new mode (GPU decode, delta against a reference, lossy) is a
// new entry here, not a change to the suite.

import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { constants as zc, brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
// The Node entry: it registers node:crypto's SHA-256, as an application would (the portable one is ~12x slower).
import { BufferSink, ContainerReader, ContainerWriter, MemorySink, MemorySource, referenceFromSafetensors, type TensorReference } from '../src/node.js';
import { readSafetensorsLayout } from '../src/safetensors/read-layout.js';
import { defaultFormatVersion, memberFormatOf } from '../src/pipeline/member-format.js';

/** One file of an input: its path relative to the input (a file input has one member, its base name). */
export interface Member {
  path: string;
  bytes: Uint8Array;
}

/** What a codec receives besides the bytes. */
export interface CodecContext {
  /** Threads the codec may use (1 = single thread). */
  threads: number;
  /** Whether the input is one file or a folder of files (a container codec records which). */
  kind: 'file' | 'folder';
  /** The reference input's members, for delta modes (entries with `needsReference`). */
  reference?: readonly Member[];
}

/** An encoded input: its size in bytes and whatever the codec's decode needs. */
export interface Encoded {
  bytes: number;
  payload: unknown;
}

/**
 * How the suite measures a codec:
 * - 'full': ratio and throughput on the whole input, warm-up then N timed runs.
 * - 'slow': too slow for N runs on a large input; see the suite's options (ratio on the full input or a slice,
 *   throughput on a fixed leading slice). The report marks every figure measured this way.
 */
export type CostClass = 'full' | 'slow';

/** A codec as the suite sees it. */
export interface BenchCodec {
  /** Stable id used in JSON and on the command line, e.g. 'zstd-19'. */
  id: string;
  /** Label in tables and charts, e.g. 'zstd -19'. */
  label: string;
  /** Library and version that does the work. */
  library: string;
  /** Every setting that affects the output, as recorded in the results. */
  options: Record<string, string | number | boolean>;
  /**
   * 'container': the whole input (file or folder) becomes one encoded object.
   * 'per-file': each file is encoded on its own; sizes and times are summed. Such a codec also accepts any
   * byte range (a leading slice) as input.
   */
  scope: 'container' | 'per-file';
  cost: CostClass;
  /**
   * A delta mode: it runs only on inputs that name a reference (`npm run bench -- --ref REF NEW`) and codes against
   * it; the other entries run on every input (on a reference input they give the no-reference figures).
   */
  needsReference?: boolean;
  /** Why the codec cannot encode (or decode) with `threads` threads, or undefined when it can. */
  threadsUnsupported(threads: number, step: 'encode' | 'decode'): string | undefined;
  /** Encodes the members (in order). */
  encode(members: readonly Member[], ctx: CodecContext): Promise<Encoded>;
  /** Decodes what encode produced back to members (same paths, same order). */
  decode(encoded: Encoded, ctx: CodecContext): Promise<Member[]>;
  /**
   * Checks a decoded result against the input; returns a description of the first difference, or undefined.
   * Default (exact): same member count, paths and bytes. Lossy modes will supply their own check and metrics.
   */
  check?(input: readonly Member[], output: readonly Member[]): string | undefined;
}

/** Exact comparison of members: count, paths and every byte. */
export function compareMembers(input: readonly Member[], output: readonly Member[]): string | undefined {
  if (input.length !== output.length) return `${output.length} members decoded, ${input.length} expected`;
  for (let i = 0; i < input.length; i++) {
    const a = input[i];
    const b = output[i];
    if (a.path !== b.path) return `member ${i} is '${b.path}', expected '${a.path}'`;
    if (a.bytes.length !== b.bytes.length) return `'${a.path}': ${b.bytes.length} bytes decoded, ${a.bytes.length} expected`;
    if (Buffer.compare(asBuffer(a.bytes), asBuffer(b.bytes)) !== 0) {
      let at = 0;
      while (a.bytes[at] === b.bytes[at]) at++;
      return `'${a.path}': first difference at byte ${at}`;
    }
  }
  return undefined;
}

/**
 * Encodes `members` with `codec`, decodes the result and compares it with them byte for byte (compareMembers);
 * returns the encoded form. Throws naming the codec and `label` when the decoded members differ.
 */
export async function encodeChecked(codec: BenchCodec, members: readonly Member[], ctx: CodecContext, label: string): Promise<Encoded> {
  const encoded = await codec.encode(members, ctx);
  const problem = compareMembers(members, await codec.decode(encoded, ctx));
  if (problem) throw new Error(`${codec.id} on ${label}: ${problem}`);
  return encoded;
}

/** A Buffer over the same memory (no copy): the native bindings want Buffers. */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A codec of one byte string to another, for `perFile`. */
interface BytesCodec {
  encode(bytes: Uint8Array, threads: number): Promise<Uint8Array> | Uint8Array;
  decode(bytes: Uint8Array): Promise<Uint8Array> | Uint8Array;
}

/** Turns a byte codec into a registry entry that encodes each member on its own. */
function perFile(meta: Omit<BenchCodec, 'scope' | 'encode' | 'decode'>, codec: BytesCodec): BenchCodec {
  return {
    ...meta,
    scope: 'per-file',
    async encode(members, ctx) {
      const parts: { path: string; bytes: Uint8Array }[] = [];
      let total = 0;
      for (const m of members) {
        const bytes = await codec.encode(m.bytes, ctx.threads);
        parts.push({ path: m.path, bytes });
        total += bytes.length;
      }
      return { bytes: total, payload: parts };
    },
    async decode(encoded) {
      const parts = encoded.payload as Member[];
      const out: Member[] = [];
      for (const p of parts) out.push({ path: p.path, bytes: await codec.decode(p.bytes) });
      return out;
    },
  };
}

const require = createRequire(import.meta.url);

/** The slice of zstd-napi's API used here. */
interface ZstdNapi {
  Compressor: new () => { setParameters(p: { compressionLevel: number; nbWorkers?: number }): void; compress(b: Uint8Array): Buffer };
  Decompressor: new () => { decompress(b: Uint8Array): Buffer };
}

/** The slice of lzma-native's API used here (it ships no types). */
interface LzmaNative {
  compress(b: Buffer, opt: { preset: number; check: number; threads?: number }): Promise<Buffer>;
  decompress(b: Buffer, opt: Record<string, never>): Promise<Buffer>;
  versionString(): string;
  CHECK_CRC64: number;
}

function packageVersion(name: string): string {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

function zstdCodec(level: number, cost: CostClass): BenchCodec {
  let lib: ZstdNapi | undefined;
  const zstd = (): ZstdNapi => (lib ??= require('zstd-napi') as ZstdNapi);
  const binding = (): string => (require('zstd-napi/binding') as { versionString(): string }).versionString();
  return perFile(
    {
      id: `zstd-${level}`,
      label: `zstd -${level}`,
      get library() {
        return `zstd-napi ${packageVersion('zstd-napi')} (zstd ${binding()})`;
      },
      options: { compressionLevel: level, checksumFlag: false, nbWorkers: 'threads > 1 ? threads : 0' },
      cost,
      threadsUnsupported(threads, step) {
        if (threads === 1) return undefined;
        if (step === 'decode') return 'zstd decodes a frame on one thread';
        // Multi-threaded zstd cuts the input into jobs of 4 windows (8 MiB at -3, 32 MiB at -19): it only helps
        // where the whole input is measured, so the slow (sliced) level is not run multi-threaded.
        if (cost === 'slow') return 'measured on a slice shorter than one multi-threaded zstd job';
        return undefined;
      },
    },
    {
      encode(bytes, threads) {
        const c = new (zstd().Compressor)();
        c.setParameters({ compressionLevel: level, nbWorkers: threads > 1 ? threads : 0 });
        return c.compress(bytes);
      },
      decode(bytes) {
        return new (zstd().Decompressor)().decompress(bytes);
      },
    },
  );
}

function xzCodec(preset: number): BenchCodec {
  let lib: LzmaNative | undefined;
  const lzma = (): LzmaNative => (lib ??= require('lzma-native') as LzmaNative);
  return perFile(
    {
      id: `xz-${preset}`,
      label: `xz -${preset}`,
      get library() {
        return `lzma-native ${packageVersion('lzma-native')} (liblzma ${lzma().versionString()})`;
      },
      options: { preset, check: 'CRC64', extreme: false },
      cost: 'slow',
      threadsUnsupported(threads, step) {
        if (threads === 1) return undefined;
        if (step === 'decode') return 'liblzma decodes a single-block stream on one thread';
        return 'measured on a slice shorter than one multi-threaded xz block (3 x the 64 MiB dictionary at -9)';
      },
    },
    {
      encode: (bytes) => lzma().compress(asBuffer(bytes), { preset, check: lzma().CHECK_CRC64 }),
      decode: (bytes) => lzma().decompress(asBuffer(bytes), {}),
    },
  );
}

function brotliCodec(quality: number, cost: CostClass): BenchCodec {
  return perFile(
    {
      id: `brotli-${quality}`,
      label: `brotli -${quality}`,
      library: `node:zlib (brotli ${process.versions.brotli})`,
      options: { quality, lgwin: zc.BROTLI_DEFAULT_WINDOW, mode: 'generic', sizeHint: 'input size' },
      cost,
      threadsUnsupported: (threads) => (threads === 1 ? undefined : 'node:zlib brotli runs on one thread'),
    },
    {
      encode: (bytes) =>
        brotliCompressSync(bytes, {
          params: { [zc.BROTLI_PARAM_QUALITY]: quality, [zc.BROTLI_PARAM_LGWIN]: zc.BROTLI_DEFAULT_WINDOW, [zc.BROTLI_PARAM_SIZE_HINT]: bytes.length },
        }),
      decode: (bytes) => brotliDecompressSync(bytes),
    },
  );
}

function gzipCodec(level: number): BenchCodec {
  return perFile(
    {
      id: `gzip-${level}`,
      label: `gzip -${level}`,
      library: `node:zlib (zlib ${process.versions.zlib})`,
      options: { level, memLevel: 8, windowBits: 15 },
      cost: 'full',
      threadsUnsupported: (threads) => (threads === 1 ? undefined : 'node:zlib gzip runs on one thread'),
    },
    {
      encode: (bytes) => gzipSync(bytes, { level }),
      decode: (bytes) => gunzipSync(bytes),
    },
  );
}

/**
 * wcodec's in-memory path: the whole input (one file or a folder's files) into one container, and back. `huffman`:
 * the encoder option of that name (Huffman-coded exponent planes, raw sign and mantissa: the fastest CPU decode).
 */
function wcodecCodec(huffman = false): BenchCodec {
  return {
    id: huffman ? 'wcodec-huffman' : 'wcodec',
    label: huffman ? 'wcodec --huffman' : 'wcodec',
    get library() {
      return `wcodec ${(require('../../package.json') as { version: string }).version} (this checkout)`;
    },
    options: {
      chunkBytes: 'default (256 KiB)',
      path: 'WebAssembly SIMD kernels (TypeScript reference where they cannot load)',
      container: 'one per input',
      threads: '1: in-process; N > 1: this thread and a pool of N - 1 workers',
      ...(huffman ? { huffman: 'exponent planes Huffman-coded (format version 2), sign and mantissa raw' } : {}),
    },
    scope: 'container',
    cost: 'full',
    threadsUnsupported: () => undefined,
    async encode(members, ctx) {
      const sink = new MemorySink();
      // strict: a .safetensors (.gguf, .onnx, .npy) input that could not be split would otherwise be measured as plain bytes.
      // Version 5 where a member is a GGUF file or an ONNX model, 9 where one is a .npy file, as the file API chooses
      // (FORMAT.md §4.6-§4.8).
      const formatVersion = defaultFormatVersion(members.map((m) => m.path));
      const writer = await ContainerWriter.start(sink, ctx.kind, { threads: ctx.threads, huffman, strict: true, formatVersion });
      for (const m of members) await writer.addFile(m.path, new MemorySource(m.bytes, m.path), memberFormatOf(m.path));
      await writer.finish();
      const container = sink.toBytes();
      return { bytes: container.length, payload: container };
    },
    async decode(encoded, ctx) {
      const reader = await ContainerReader.open(new MemorySource(encoded.payload as Uint8Array, '<bench>'));
      const out: Member[] = [];
      for (const m of reader.index.members) {
        const sink = new BufferSink(m.originalBytes);
        await reader.decodeMember(m, sink, { threads: ctx.threads });
        out.push({ path: m.path, bytes: sink.bytes });
      }
      return out;
    },
  };
}

/** The reference's members as a TensorReference (tensors by name across its safetensors files). */
function referenceOf(ctx: CodecContext): Promise<TensorReference> {
  if (!ctx.reference) throw new Error('a delta codec ran without a reference input');
  return referenceFromSafetensors(ctx.reference.filter((m) => m.path.endsWith('.safetensors')).map((m) => new MemorySource(m.bytes, m.path)), 'reference');
}

/** wcodec with `--ref`: tensors also tried as the XOR against the reference's tensor of the same name (FORMAT.md §3.5.2). */
function wcodecRefCodec(): BenchCodec {
  const plain = wcodecCodec();
  return {
    ...plain,
    id: 'wcodec-ref',
    label: 'wcodec --ref',
    options: { ...plain.options, reference: 'the input\'s reference (XOR_DELTA where smaller)' },
    needsReference: true,
    async encode(members, ctx) {
      const reference = await referenceOf(ctx);
      const sink = new MemorySink();
      const writer = await ContainerWriter.start(sink, ctx.kind, { threads: ctx.threads, reference, strict: true });
      for (const m of members) await writer.addFile(m.path, new MemorySource(m.bytes, m.path), m.path.endsWith('.safetensors'));
      await writer.finish();
      const container = sink.toBytes();
      return { bytes: container.length, payload: container };
    },
    async decode(encoded, ctx) {
      const reference = await referenceOf(ctx);
      const reader = await ContainerReader.open(new MemorySource(encoded.payload as Uint8Array, '<bench>'));
      const out: Member[] = [];
      for (const m of reader.index.members) {
        const sink = new BufferSink(m.originalBytes);
        await reader.decodeMember(m, sink, { threads: ctx.threads, reference });
        out.push({ path: m.path, bytes: sink.bytes });
      }
      return out;
    },
  };
}

/**
 * Each safetensors member with every tensor that the reference holds under the same name, dtype and shape replaced
 * by its XOR with it (ZipNN's delta): its own inverse.
 */
async function xorAgainst(members: readonly Member[], ctx: CodecContext): Promise<Member[]> {
  const reference = await referenceOf(ctx);
  const out: Member[] = [];
  for (const m of members) {
    if (!m.path.endsWith('.safetensors')) {
      out.push(m);
      continue;
    }
    const bytes = new Uint8Array(m.bytes); // a copy (a Buffer's slice() would be a view of the input)
    for (const t of (await readSafetensorsLayout(new MemorySource(m.bytes, m.path))).tensors) {
      const info = reference.describe(t.name);
      if (!info || info.dtype !== t.dtype || info.originalBytes !== t.end - t.begin || info.shape.join() !== t.shape.join()) continue;
      const ref = await reference.read(t.name);
      for (let i = 0; i < ref.length; i++) bytes[t.begin + i] ^= ref[i];
    }
    out.push({ path: m.path, bytes });
  }
  return out;
}

/** A per-file baseline run on the XOR of each tensor with the reference's (the delta a general-purpose tool can use). */
function onXor(base: BenchCodec): BenchCodec {
  return {
    ...base,
    id: `${base.id}-xor`,
    label: `${base.label} (XOR)`,
    options: { ...base.options, input: 'each tensor XOR the reference tensor of the same name' },
    // Measured on the whole input: a leading slice would cut the safetensors files the XOR needs to parse.
    cost: 'full',
    needsReference: true,
    threadsUnsupported: (threads, step) => (threads === 1 ? undefined : base.threadsUnsupported(threads, step) ?? 'the XOR baselines run on one thread'),
    async encode(members, ctx) {
      return base.encode(await xorAgainst(members, ctx), ctx);
    },
    async decode(encoded, ctx) {
      return xorAgainst(await base.decode(encoded, ctx), ctx);
    },
  };
}

/**
 * The registry, in report order. zstd -19, xz -9 and brotli -11 are the 'slow' class (about 0.3-1.5 MB/s on
 * weights on this machine); gzip -9 (about 40 MB/s) and zstd -3 run in full. The delta entries (wcodec --ref,
 * zstd -19 and xz -9 on the XOR) run only on inputs with a reference.
 */
export function codecRegistry(): BenchCodec[] {
  return [
    wcodecCodec(),
    wcodecCodec(true),
    zstdCodec(3, 'full'),
    zstdCodec(19, 'slow'),
    xzCodec(9),
    brotliCodec(11, 'slow'),
    gzipCodec(9),
    wcodecRefCodec(),
    onXor(zstdCodec(19, 'slow')),
    onXor(xzCodec(9)),
  ];
}

/** Threads meant by 'all'. */
export function allThreads(): number {
  return availableParallelism();
}
