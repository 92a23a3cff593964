// Generator of the golden and invalid test vectors in test/vectors/ (docs/FORMAT.md, all sections; HOUSE_STYLE "Tests"):
// the vectors themselves are listed in tools/vectors/. Every input comes from a seeded integer PRNG, so re-running gives
// byte-identical files; every vector is decoded and checked before anything is written.
// Usage: node dist/tools/make-vectors.js [--update-manifests | --overwrite]

import { dequantizeGroups, GROUP_QUANT_DTYPES } from '../src/transform/group-quant.js';
import { widenFloats } from '../src/transform/group-quant-segment.js';
import '../src/io/node-sha256.js';
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compressBuffer, decompressBuffer } from '../src/api/buffers.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { ContainerWriter } from '../src/pipeline/container-writer.js';
import { readSafetensorsLayout } from '../src/safetensors/read-layout.js';
import type { ContainerKind } from '../src/pipeline/index-codec.js';
import { MemorySink, MemorySource } from '../src/io/byte-source.js';
import { toHex } from '../src/format/sha256.js';
import { referenceFromSafetensors } from '../src/api/reference.js';
import type { TensorReference } from '../src/format/tensor-reference.js';
import { WcodecError, type ErrorCode } from '../src/errors.js';
import { invalidSpecs } from './vectors/invalid-specs.js';
import { editIndex } from './vectors/surgery.js';
import { validSpecs, type MemberInput, type ValidSpec } from './vectors/valid-specs.js';

// ---------------------------------------------------------------------------------------------------------------
// Manifests (the JSON written beside the vectors; test/vectors.test.ts reads them).

/** One decoded member of a valid vector. */
export interface MemberDigest {
  path: string;
  /** Size of the decoded original file in bytes. */
  bytes: number;
  /** SHA-256 (hex) of the decoded original file. */
  sha256: string;
  /** Version 3 (FORMAT.md §3.2), where recorded: the member type other than a regular file, its mode and mtimeUs, and the path's bytes (hex) when they are not UTF-8. */
  type?: 'link' | 'folder';
  mode?: number;
  mtimeUs?: number;
  pathHex?: string;
}

/** A valid vector: the container and what it must decode to. */
export interface ValidEntry {
  file: string;
  description: string;
  /** Container size in bytes and its SHA-256 (hex). */
  bytes: number;
  sha256: string;
  kind: ContainerKind;
  members: MemberDigest[];
  /** For a vector with XOR deltas: the safetensors file beside it that decoding needs as its reference. */
  reference?: string;
}

/** An invalid vector: the container and the error it must raise. */
export interface InvalidEntry {
  file: string;
  description: string;
  /** The valid vector it was derived from (or a note when it was not derived from one). */
  base: string;
  bytes: number;
  sha256: string;
  /** The WcodecError code decoding must throw. */
  code: ErrorCode;
  /** The error's `offset` (byte position in the container), or null when the error carries none. */
  offset: number | null;
}

export interface ValidManifest {
  generator: string;
  formatVersion: number;
  vectors: ValidEntry[];
}

export interface InvalidManifest {
  generator: string;
  formatVersion: number;
  vectors: InvalidEntry[];
}

/** A file to write under test/vectors/valid/ or invalid/. */
export interface VectorFile {
  file: string;
  bytes: Uint8Array;
}

/** Everything the generator produces, in memory. */
export interface Vectors {
  valid: { files: VectorFile[]; manifest: ValidManifest };
  invalid: { files: VectorFile[]; manifest: InvalidManifest };
}

const GENERATOR = 'tools/make-vectors.ts';
/** The highest container version among the vectors (the version 1 and 2 vectors stay as they were). */
const FORMAT_VERSION_OF_VECTORS = 3;

/** The reference a valid vector's XOR deltas need, as a TensorReference over its bytes. */
export const vectorReference = (bytes: Uint8Array, file: string): Promise<TensorReference> => referenceFromSafetensors([new MemorySource(bytes, file)], file);

/** Encodes a valid vector's members: the in-memory API for a single file, the streaming writer for a folder or opaque dtypes. */
async function encodeValid(spec: ValidSpec): Promise<Uint8Array> {
  const reference = spec.reference ? await vectorReference(spec.reference, `${spec.name}.ref.safetensors`) : undefined;
  if (spec.kind === 'file' && spec.members[0].opaqueDtypes !== true) {
    const [m] = spec.members;
    return compressBuffer(m.bytes, { name: m.path, chunkBytes: spec.chunkBytes, safetensors: m.format ? undefined : m.safetensors, transforms: spec.transforms === true, huffman: spec.huffman === true, reference, formatVersion: spec.formatVersion ?? 2, exactLayoutSearch: true, lossy: spec.lossy, array: m.array });
  }
  const sink = new MemorySink();
  const writer = await ContainerWriter.start(sink, spec.kind, { chunkBytes: spec.chunkBytes, transforms: spec.transforms === true, huffman: spec.huffman === true, reference, formatVersion: spec.formatVersion ?? 2, exactLayoutSearch: true, lossy: spec.lossy });
  for (const m of spec.members) {
    const source = new MemorySource(m.bytes, m.path);
    // A dtype the safetensors library does not know makes the file non-conforming (FORMAT.md §4.4): the encoder would
    // store it as bytes, so the vector of an unknown-dtype segment is laid out here, past that rule.
    const layout = m.opaqueDtypes === true ? await readSafetensorsLayout(source, { opaqueDtypes: true }) : undefined;
    await writer.addFile(m.path, source, m.array ?? m.format ?? m.safetensors, layout, m.attrs);
  }
  await writer.finish();
  return sink.toBytes();
}

/** Decodes every member of a container separately (the in-memory API concatenates them). */
export async function decodeMembers(container: Uint8Array, name = '<memory>', reference?: TensorReference): Promise<{ kind: ContainerKind; members: { path: string; bytes: Uint8Array }[] }> {
  const reader = await ContainerReader.open(new MemorySource(container, name));
  const members = [];
  for (const m of reader.index.members) {
    const sink = new MemorySink();
    await reader.decodeMember(m, sink, { reference });
    members.push({ path: m.path, bytes: sink.toBytes() });
  }
  return { kind: reader.index.kind, members };
}

/** SHA-256 (hex) by node:crypto, independent of the codec's own hasher. */
export const sha256Hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

// ---------------------------------------------------------------------------------------------------------------
// Generation and verification.

/**
 * Decodes a container in memory: decompressBuffer for a single file; for a folder (which decompressBuffer refuses)
 * every member in order, back to back, with the same reader and options.
 */
export async function decodeInMemory(container: Uint8Array, options: Parameters<typeof decompressBuffer>[1] = {}): Promise<Uint8Array> {
  const reader = await ContainerReader.open(new MemorySource(container, options.name ?? '<memory>'));
  if (reader.index.kind === 'file') return decompressBuffer(container, options);
  const sink = new MemorySink();
  for (const m of reader.index.members) await reader.decodeMember(m, sink, options);
  return sink.toBytes();
}

/**
 * The bytes a valid vector's member decodes to: its input, except that with a quantizer (the `v6-` vectors) each
 * tensor the quantizer takes is replaced by dequantizeGroups of its QuantizedMatrix (FORMAT.md §3.5.3.5), computed
 * here apart from the writer.
 */
async function expectedBytes(spec: ValidSpec, m: MemberInput): Promise<Uint8Array> {
  if (!spec.lossy || !m.safetensors) return m.bytes;
  const out = m.bytes.slice();
  for (const t of (await readSafetensorsLayout(new MemorySource(m.bytes, m.path))).tensors) {
    if (!GROUP_QUANT_DTYPES.includes(t.dtype) || t.shape.length < 2) continue;
    const q = spec.lossy.quantize(t.name, t.dtype, t.shape, widenFloats(m.bytes.subarray(t.begin, t.end), t.dtype));
    if (q) out.set(dequantizeGroups(q, t.dtype), t.begin);
  }
  return out;
}

/** The error a container raises when decoded through the in-memory API, or undefined if it decodes. */
export async function decodeError(container: Uint8Array): Promise<WcodecError | undefined> {
  try {
    // Every digest checked, segments' too (as `wcodec verify` does): the vectors' expected errors hold for that.
    await decodeInMemory(container, { checkSegmentDigests: true });
    return undefined;
  } catch (e) {
    if (e instanceof WcodecError) return e;
    throw new Error(`decoding threw a non-WcodecError: ${(e as Error).stack ?? e}`);
  }
}

/**
 * Builds every vector in memory and checks it: valid vectors decode to their inputs (and the encoder produced
 * the coverage each is for); invalid vectors raise their expected code for their named reason.
 * @returns the files and manifests; nothing is written
 * @throws Error listing every mismatch
 */
export async function makeVectors(): Promise<Vectors> {
  const failures: string[] = [];
  const validFiles: VectorFile[] = [];
  const validEntries: ValidEntry[] = [];
  const containers = new Map<string, Uint8Array>();
  const sources = new Map<string, Uint8Array>();
  for (const spec of validSpecs()) {
    const wants = await Promise.all(spec.members.map((m) => expectedBytes(spec, m)));
    const container = await encodeValid(spec);
    const again = await encodeValid(spec);
    if (sha256Hex(container) !== sha256Hex(again)) failures.push(`${spec.name}: encoding twice gives different bytes`);
    containers.set(spec.name, container);
    sources.set(spec.name, spec.members[0].bytes);
    const refFile = spec.reference ? `${spec.name}.ref.safetensors` : undefined;
    const reference = spec.reference ? await vectorReference(spec.reference, refFile!) : undefined;
    const decoded = await decodeMembers(container, '<memory>', reference);
    const problem = spec.expect?.((await ContainerReader.open(new MemorySource(container))).index, container);
    if (problem) failures.push(`${spec.name}: coverage not as intended: ${problem}`);
    if (decoded.kind !== spec.kind) failures.push(`${spec.name}: kind ${decoded.kind}, want ${spec.kind}`);
    if (decoded.members.length !== spec.members.length) failures.push(`${spec.name}: ${decoded.members.length} members, want ${spec.members.length}`);
    const read = (await ContainerReader.open(new MemorySource(container))).index;
    spec.members.forEach((m, k) => {
      const d = decoded.members[k];
      if (!d || d.path !== m.path || sha256Hex(d.bytes) !== sha256Hex(wants[k])) failures.push(`${spec.name}: member ${m.path} does not round-trip`);
      const r = read.members[k];
      const want = m.attrs ?? {};
      const same = r && (r.type ?? 'file') === (want.type ?? 'file') && r.mode === want.mode && r.mtimeUs === want.mtimeUs && (r.pathBytes === undefined) === (want.pathBytes === undefined);
      if (!same) failures.push(`${spec.name}: member ${m.path}: type, mode, mtimeUs or raw path do not round-trip`);
    });
    if (spec.kind === 'file' && sha256Hex(await decompressBuffer(container, { reference })) !== sha256Hex(wants[0])) {
      failures.push(`${spec.name}: decompressBuffer does not give the input back`);
    }
    const rewritten = await editIndex(container, () => {});
    if (sha256Hex(rewritten) !== sha256Hex(container)) failures.push(`${spec.name}: readIndex/writeIndex do not round-trip the container`);
    const file = `${spec.name}.wcodec`;
    validFiles.push({ file, bytes: container });
    if (spec.reference) validFiles.push({ file: refFile!, bytes: spec.reference });
    validEntries.push({
      file,
      description: spec.description,
      bytes: container.length,
      sha256: sha256Hex(container),
      kind: spec.kind,
      members: spec.members.map((m, k) => ({
        path: m.path,
        bytes: m.bytes.length,
        sha256: sha256Hex(wants[k]),
        ...(m.attrs?.type !== undefined && m.attrs.type !== 'file' ? { type: m.attrs.type } : {}),
        ...(m.attrs?.mode !== undefined ? { mode: m.attrs.mode } : {}),
        ...(m.attrs?.mtimeUs !== undefined ? { mtimeUs: m.attrs.mtimeUs } : {}),
        ...(m.attrs?.pathBytes !== undefined ? { pathHex: toHex(m.attrs.pathBytes) } : {}),
      })),
      ...(refFile ? { reference: refFile } : {}),
    });
  }

  const ctx = {
    valid: (name: string): Uint8Array => {
      const c = containers.get(name);
      if (!c) throw new Error(`no valid vector '${name}'`);
      return c;
    },
    source: (name: string): Uint8Array => sources.get(name)!,
  };
  const invalidFiles: VectorFile[] = [];
  const invalidEntries: InvalidEntry[] = [];
  const names = new Set<string>();
  for (const spec of invalidSpecs()) {
    if (names.has(spec.name)) failures.push(`${spec.name}: name used twice`);
    names.add(spec.name);
    const baseName = spec.base.split(' ')[0];
    const bytes = await spec.make(baseName === '(none)' ? new Uint8Array(0) : ctx.valid(baseName), ctx);
    const err = await decodeError(bytes);
    if (!err) {
      failures.push(`${spec.name}: decodes without error, want ${spec.code}`);
      continue;
    }
    if (err.code !== spec.code || !spec.reason.test(err.message)) {
      failures.push(`${spec.name}: threw ${err.message}; want ${spec.code} matching ${spec.reason}`);
      continue;
    }
    if (err.offset !== undefined && !(Number.isSafeInteger(err.offset) && err.offset >= 0 && err.offset <= bytes.length)) {
      failures.push(`${spec.name}: offset ${err.offset} outside the ${bytes.length}-byte container`);
    }
    const file = `${spec.name}.wcodec`;
    invalidFiles.push({ file, bytes });
    invalidEntries.push({ file, description: spec.description, base: spec.base, bytes: bytes.length, sha256: sha256Hex(bytes), code: err.code, offset: err.offset ?? null });
  }
  if (failures.length > 0) throw new Error(`test vectors failed their checks:\n  ${failures.join('\n  ')}`);
  return {
    valid: { files: validFiles, manifest: { generator: GENERATOR, formatVersion: FORMAT_VERSION_OF_VECTORS, vectors: validEntries } },
    invalid: { files: invalidFiles, manifest: { generator: GENERATOR, formatVersion: FORMAT_VERSION_OF_VECTORS, vectors: invalidEntries } },
  };
}

/** The manifest as written to disk (2-space JSON, final newline). */
export const manifestText = (m: ValidManifest | InvalidManifest): string => `${JSON.stringify(m, null, 2)}\n`;

/** What writeVectors may replace: nothing committed ('new'), manifests only ('manifests'), or everything ('all'). */
type WriteMode = 'new' | 'manifests' | 'all';

/**
 * Writes the vectors under `root`/test/vectors/. Vectors are frozen: a file that exists with other bytes, or a
 * .wcodec file that is no longer generated, is an error unless `mode` allows replacing it ('manifests' lets
 * manifest.json change, e.g. when an error offset moves, but never a vector).
 * @returns the problems found (empty when everything was written or already identical)
 */
async function writeVectors(root: string, v: Vectors, mode: WriteMode): Promise<string[]> {
  const overwrite = mode === 'all';
  const problems: string[] = [];
  for (const [dirName, set] of [['valid', v.valid], ['invalid', v.invalid]] as const) {
    const dir = join(root, 'test', 'vectors', dirName);
    await mkdir(dir, { recursive: true });
    const wanted = new Map<string, Uint8Array>(set.files.map((f) => [f.file, f.bytes]));
    wanted.set('manifest.json', new TextEncoder().encode(manifestText(set.manifest)));
    for (const old of await readdir(dir)) {
      if (old.endsWith('.wcodec') && !wanted.has(old)) {
        if (overwrite) await unlink(join(dir, old));
        else problems.push(`${dirName}/${old} is no longer generated (frozen; --overwrite removes it)`);
      }
    }
    for (const [file, bytes] of wanted) {
      const path = join(dir, file);
      let current: Uint8Array | undefined;
      try {
        current = await readFile(path);
      } catch {
        current = undefined;
      }
      if (current && Buffer.compare(current, bytes) === 0) continue;
      if (current && !overwrite && !(mode === 'manifests' && file === 'manifest.json')) {
        problems.push(`${dirName}/${file} differs from the committed file (vectors are frozen; --overwrite replaces it, --update-manifests replaces only manifests)`);
        continue;
      }
      await writeFile(path, bytes);
    }
  }
  return problems;
}

async function main(): Promise<void> {
  const mode: WriteMode = process.argv.includes('--overwrite') ? 'all' : process.argv.includes('--update-manifests') ? 'manifests' : 'new';
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const v = await makeVectors();
  const problems = await writeVectors(root, v, mode);
  for (const e of v.valid.manifest.vectors) console.log(`valid   ${e.file.padEnd(28)} ${String(e.bytes).padStart(6)} B  ${e.members.map((m) => `${m.path} (${m.bytes} B)`).join(', ')}`);
  for (const e of v.invalid.manifest.vectors) console.log(`invalid ${e.file.padEnd(28)} ${String(e.bytes).padStart(6)} B  ${e.code}${e.offset !== null ? ` at ${e.offset}` : ''}`);
  if (problems.length > 0) {
    console.error(`make-vectors: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((e: unknown) => {
    console.error(`make-vectors: ${(e as Error).message}`);
    process.exitCode = 1;
  });
}
