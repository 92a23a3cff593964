// Runs a container through every decode path and judges each output against the original files (docs/SECURITY.md,
/// <reference types="@webgpu/types" />
// "Labels"): a path must either raise a typed WcodecError or return exactly the original bytes under their original
// labels (member path; tensor name, dtype and shape). Shared by tools/label-campaign.ts, the fuzz target 'labels'
// and test/gpu/labels.test.ts.

import '../src/io/node-sha256.js';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openContainer } from '../src/api/checkpoint.js';
import { ContainerReader } from '../src/pipeline/container-reader.js';
import { MemorySink, MemorySource } from '../src/io/byte-source.js';
import { WcodecError } from '../src/errors.js';
import { decodeToGPU } from '../src/gpu/decode.js';
import type { GpuDecodeOptions } from '../src/gpu/decode-options.js';
import { decompressFile } from '../src/node/file-api.js';
import { readSafetensorsLayout } from '../src/safetensors/read-layout.js';
import { readGgufLayout } from '../src/gguf/read-layout.js';
import { onnxDataLayout, readOnnxLayout } from '../src/onnx/read-layout.js';
import { resolveLocation } from '../src/onnx/read-model.js';
import { readNpyLayout } from '../src/npy/read-layout.js';
import { arrayTensorName } from '../src/npy/array-name.js';
import { dtypeBytes } from '../src/transform/dtypes.js';

/** The decode paths: whole members in memory, `verify` (segment digests too), the file API to disk, per-tensor reads, GPU. */
export const DECODE_PATHS = ['whole', 'verify', 'file-api', 'tensor', 'gpu'] as const;
export type DecodePath = (typeof DECODE_PATHS)[number];

/** What one path did with one container: 'ok' (exactly the originals), a typed error's code, or a wrong output. */
export type PathResult = { outcome: 'ok' } | { outcome: 'error'; code: string; error: WcodecError } | { outcome: 'wrong'; detail: string };

/** The original files a container was made from, by member path, and their tensors' labels and digests. */
export interface Originals {
  files: Map<string, string>;
  /**
   * `${member path}\0${tensor name}` -> `${dtype} [${shape}] ${sha256}`; for a raw array (FORMAT.md §4.9), whose file
   * states no dtype or shape, `raw ${sha256}`: any known dtype and shape of the file's size is its original label.
   */
  tensors: Map<string, string>;
}

const hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const tensorKey = (file: string, name: string): string => `${file}\0${name}`;
const tensorValue = (dtype: string, shape: readonly number[], bytes: Uint8Array): string => `${dtype} [${shape.join(',')}] ${hex(bytes)}`;

/**
 * The originals of `files`: paths ending in .safetensors are parsed as safetensors, .gguf as GGUF, .onnx as ONNX models
 * (their inline initializers, and the external ones in the files they name), .npy as NumPy arrays; the paths in
 * `rawArrays` were given to the writer as raw arrays (one tensor named after the file, of a dtype and shape the file
 * does not state).
 */
export async function originalsOf(files: { path: string; bytes: Uint8Array }[], rawArrays: ReadonlySet<string> = new Set()): Promise<Originals> {
  const o: Originals = { files: new Map(), tensors: new Map() };
  const add = (f: { path: string; bytes: Uint8Array }, tensors: readonly { name: string; dtype: string; shape: number[]; begin: number; end: number }[]): void => {
    for (const t of tensors) o.tensors.set(tensorKey(f.path, t.name), tensorValue(t.dtype, t.shape, f.bytes.subarray(t.begin, t.end)));
  };
  for (const f of files) {
    o.files.set(f.path, hex(f.bytes));
    const source = new MemorySource(f.bytes, f.path);
    if (rawArrays.has(f.path)) o.tensors.set(tensorKey(f.path, arrayTensorName(f.path)), `raw ${hex(f.bytes)}`);
    else if (f.path.endsWith('.safetensors')) add(f, (await readSafetensorsLayout(source)).tensors);
    else if (f.path.endsWith('.npy')) {
      // A file that breaks §4.8's rules (or of another dtype) has no tensor: the encoder stores it as bytes.
      const npy = await readNpyLayout(source, f.path).catch(() => undefined);
      if (npy?.tensor) add(f, [npy.tensor]);
    }
    else if (f.path.endsWith('.gguf')) add(f, (await readGgufLayout(source)).tensors);
    else if (f.path.endsWith('.onnx')) {
      const model = await readOnnxLayout(source);
      add(f, model.initializers.filter((i) => i.inline).map((i) => ({ ...i, begin: i.inline!.begin, end: i.inline!.end })));
      for (const data of files) {
        const named = model.initializers.filter((i) => i.external && resolveLocation(f.path, i.external.location) === data.path);
        if (named.length > 0) add(data, onnxDataLayout(data.path, data.bytes.length, named));
      }
    }
  }
  return o;
}

/** Runs `run`: a WcodecError becomes its code, anything else that is thrown propagates (an untyped error is a bug). */
async function judge(run: () => Promise<string | undefined>): Promise<PathResult> {
  try {
    const wrong = await run();
    return wrong === undefined ? { outcome: 'ok' } : { outcome: 'wrong', detail: wrong };
  } catch (e) {
    if (e instanceof WcodecError) return { outcome: 'error', code: e.code, error: e };
    throw e;
  }
}

/** The first member whose bytes are not the original file at its path, or undefined. */
function wrongMember(path: string, bytes: Uint8Array, o: Originals): string | undefined {
  const want = o.files.get(path);
  if (want === hex(bytes)) return undefined;
  return want === undefined ? `member '${path}' is no original file` : `member '${path}' decodes to other bytes than the original '${path}'`;
}

/** Whether a tensor returned under (file, name, dtype, shape) is the original of those labels; the problem if not. */
function wrongTensor(file: string, name: string, dtype: string, shape: readonly number[], bytes: Uint8Array, o: Originals): string | undefined {
  const want = o.tensors.get(tensorKey(file, name));
  const got = tensorValue(dtype, shape, bytes);
  if (want === got) return undefined;
  if (want?.startsWith('raw ')) {
    // A raw array's bytes under any known dtype and shape of its size: nothing in the file says which (FORMAT.md §4.9).
    const W = dtypeBytes(dtype);
    if (want === `raw ${hex(bytes)}` && W !== undefined && shape.reduce((a, d) => a * d, W) === bytes.length) return undefined;
    return `raw array '${name}' of '${file}': got ${got.slice(0, 40)}…, which is not the original file's bytes under a known dtype of its size`;
  }
  return want === undefined ? `tensor '${name}' of '${file}' is no original tensor` : `tensor '${name}' of '${file}': got ${got.slice(0, 40)}…, original ${want.slice(0, 40)}…`;
}

/** Whole members in memory, as decompressBuffer decodes them; with `verify`, each segment's digest too. */
async function wholePath(bytes: Uint8Array, o: Originals, verify: boolean): Promise<string | undefined> {
  const reader = await ContainerReader.open(new MemorySource(bytes, 'case.wcodec'));
  for (const m of reader.index.members) {
    const sink = new MemorySink();
    await reader.decodeMember(m, sink, { checkSegmentDigests: verify });
    const wrong = wrongMember(m.path, sink.toBytes(), o);
    if (wrong) return wrong;
  }
  return undefined;
}

/** decompressFile to a scratch folder: every file written must be the original at its path. */
async function fileApiPath(bytes: Uint8Array, o: Originals, scratch: string): Promise<string | undefined> {
  const dir = await mkdtemp(join(scratch, 'case-'));
  try {
    const src = join(dir, 'in.wcodec');
    const out = join(dir, 'out');
    await writeFile(src, bytes);
    const index = await decompressFile(src, out);
    for (const m of index.members) {
      const file = index.kind === 'folder' ? join(out, ...m.path.split('/')) : out;
      const wrong = wrongMember(m.path, new Uint8Array(await readFile(file)), o);
      if (wrong) return wrong;
    }
    return undefined;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** openContainer, then every listed tensor read by name. */
async function tensorPath(bytes: Uint8Array, o: Originals): Promise<string | undefined> {
  const cp = await openContainer(new MemorySource(bytes, 'case.wcodec'));
  for (const t of cp.tensors) {
    const data = await cp.read(t.name);
    const wrong = wrongTensor(data.info.file, data.info.name, data.info.dtype, data.info.shape, data.bytes, o);
    if (wrong) return wrong;
  }
  return undefined;
}

/** Copies `length` bytes at `offset` of a GPU buffer back to the host. */
async function readBack(device: GPUDevice, buffer: GPUBuffer, offset: number, length: number): Promise<Uint8Array> {
  const size = Math.max(4, Math.ceil(length / 4) * 4);
  const staging = device.createBuffer({ label: 'wcodec label check readback', size, usage: 0x0001 | 0x0008 }); // MAP_READ | COPY_DST
  try {
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, offset, staging, 0, Math.min(size, buffer.size - offset));
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(0x0001);
    return new Uint8Array(staging.getMappedRange()).slice(0, length);
  } finally {
    staging.destroy();
  }
}

/** decodeToGPU of every tensor with a unique name (defaults: digests checked), read back and judged. */
async function gpuPath(bytes: Uint8Array, o: Originals, device: GPUDevice, options: GpuDecodeOptions = {}): Promise<string | undefined> {
  const cp = await openContainer(new MemorySource(bytes, 'case.wcodec'));
  const counts = new Map<string, number>();
  for (const t of cp.tensors) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
  const names = [...counts].filter(([, n]) => n === 1).map(([name]) => name);
  if (names.length === 0) return undefined;
  const res = await decodeToGPU(cp, names, device, { ...options, allowCpuFallback: false });
  if (res.backend !== 'gpu') return 'decodeToGPU fell back to the CPU on a device';
  try {
    for (const t of res.tensors) {
      const got = await readBack(device, t.buffer, t.offset, t.byteLength);
      const wrong = wrongTensor(t.info.file, t.info.name, t.info.dtype, t.info.shape, got, o);
      if (wrong) return wrong;
    }
  } finally {
    for (const b of res.buffers) b.destroy();
  }
  return undefined;
}

/** Where the paths run: a scratch folder for the file API, and a GPU device (the gpu path is skipped without one). */
export interface PathContext {
  scratch: string;
  device?: GPUDevice;
  /** Options of the GPU path beyond the defaults (digests stay checked unless it says otherwise). */
  gpuOptions?: GpuDecodeOptions;
}

/** A scratch folder under the OS temporary folder (remove it with `rm` when done). */
export const makeScratch = (): Promise<string> => mkdtemp(join(tmpdir(), 'wcodec-labels-'));

/**
 * Runs `bytes` through each decode path and judges the outputs against `o`.
 * @returns a result per path (the gpu path only with a device)
 * @throws whatever a path throws that is not a WcodecError
 */
export async function runPaths(bytes: Uint8Array, o: Originals, ctx: PathContext, paths: readonly DecodePath[] = DECODE_PATHS): Promise<Partial<Record<DecodePath, PathResult>>> {
  const out: Partial<Record<DecodePath, PathResult>> = {};
  for (const p of paths) {
    if (p === 'whole') out.whole = await judge(() => wholePath(bytes, o, false));
    else if (p === 'verify') out.verify = await judge(() => wholePath(bytes, o, true));
    else if (p === 'file-api') out['file-api'] = await judge(() => fileApiPath(bytes, o, ctx.scratch));
    else if (p === 'tensor') out.tensor = await judge(() => tensorPath(bytes, o));
    else if (p === 'gpu' && ctx.device) out.gpu = await judge(() => gpuPath(bytes, o, ctx.device!, ctx.gpuOptions));
  }
  return out;
}
