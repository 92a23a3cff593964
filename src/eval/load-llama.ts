// Loads a Llama checkpoint for the evaluator as float32 weights: a Hugging Face model folder (config.json and one or
// more .safetensors shards, with model.safetensors.index.json when sharded), one .safetensors file with config.json
// beside it, or a .wcodec container of either (config.json a member of a folder container, else beside the file).
// Safetensors files are read with the strict reader (FORMAT.md §4.4), containers through the checkpoint API.

import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FormatError, IoError, LimitError, WcodecError } from '../errors.js';
import { FileSource } from '../io/file-source.js';
import { readSafetensorsLayout, type SafetensorsTensor } from '../safetensors/read-layout.js';
import { openContainer, type Checkpoint } from '../api/checkpoint.js';
import { toFloat32 } from '../api/to-float32.js';
import { applyLossyVariant, type LossyVariant } from '../lossy/reference-quantizers.js';
import { llamaTensorShapes, MAX_CONFIG_BYTES, parseLlamaConfig, type LlamaConfig } from './llama-config.js';

/** Dtypes of weights the evaluator widens to float32 (exactly). */
export const WEIGHT_DTYPES: readonly string[] = ['BF16', 'F16', 'F32'];
/** Name of the shard index of a sharded Hugging Face folder. */
const SHARD_INDEX = 'model.safetensors.index.json';
/** First bytes of every .wcodec container (FORMAT.md §2). */
const CONTAINER_MAGIC = [0x89, 0x57, 0x43, 0x4f, 0x44, 0x45, 0x43];

/** A model ready for the forward pass: its config and each weight tensor of llamaTensorShapes as float32 values. */
export interface LlamaWeights {
  config: LlamaConfig;
  tensors: Map<string, Float32Array>;
}

/** Options of loadLlama. */
export interface LoadLlamaOptions {
  /** A lossy variant applied to every 2-D weight (embedding and output projection included); none by default. */
  variant?: LossyVariant;
}

/** Where the tensors come from: read one by name, with its dtype and shape. */
interface TensorStore {
  read(name: string): Promise<{ dtype: string; shape: number[]; bytes: Uint8Array }>;
  close(): Promise<void>;
}

async function readConfigFile(path: string): Promise<LlamaConfig> {
  let text: string;
  try {
    const st = await stat(path);
    if (st.size > MAX_CONFIG_BYTES) throw new LimitError('LIMIT_EXCEEDED', `config of ${st.size} bytes is above the limit of ${MAX_CONFIG_BYTES}`, { file: path });
    text = await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof WcodecError) throw e;
    throw new IoError('IO_ERROR', `cannot read the model config: ${(e as Error).message}`, { file: path, cause: e });
  }
  return parseLlamaConfig(text, path);
}

async function isContainer(path: string): Promise<boolean> {
  const src = await FileSource.open(path);
  try {
    if (src.size < CONTAINER_MAGIC.length) return false;
    const head = await src.read(0, CONTAINER_MAGIC.length);
    return CONTAINER_MAGIC.every((b, i) => head[i] === b);
  } finally {
    await src.close();
  }
}

/** Tensors of safetensors files, each name found in exactly one of them. */
async function safetensorsStore(paths: string[]): Promise<TensorStore> {
  const sources: FileSource[] = [];
  const where = new Map<string, { source: FileSource; t: SafetensorsTensor }>();
  try {
    for (const p of paths) {
      const source = await FileSource.open(p);
      sources.push(source);
      for (const t of (await readSafetensorsLayout(source)).tensors) {
        const other = where.get(t.name);
        if (other) throw new FormatError('AMBIGUOUS_NAME', `tensor '${t.name}' is in ${other.source.name} and ${p}`, { file: p });
        where.set(t.name, { source, t });
      }
    }
  } catch (e) {
    for (const s of sources) await s.close();
    throw e;
  }
  return {
    async read(name) {
      const w = where.get(name);
      if (!w) throw new FormatError('NOT_FOUND', `no tensor named '${name}' in ${paths.join(', ')}`, { file: paths[0] });
      return { dtype: w.t.dtype, shape: w.t.shape, bytes: await w.source.read(w.t.begin, w.t.end - w.t.begin) };
    },
    async close() {
      for (const s of sources) await s.close();
    },
  };
}

function checkpointStore(ckpt: Checkpoint): TensorStore {
  return {
    async read(name) {
      const t = await ckpt.read(name);
      return { dtype: t.info.dtype, shape: t.info.shape, bytes: t.bytes };
    },
    close: () => ckpt.close(),
  };
}

/** The .safetensors files of a model folder: those its shard index names, else every one in it. */
async function folderShards(dir: string): Promise<string[]> {
  const indexPath = join(dir, SHARD_INDEX);
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.safetensors')).sort();
  } catch (e) {
    throw new IoError('IO_ERROR', `cannot list the model folder: ${(e as Error).message}`, { file: dir, cause: e });
  }
  if (names.length === 0) throw new FormatError('NOT_FOUND', 'the model folder holds no .safetensors file', { file: dir });
  let indexText: string | undefined;
  try {
    indexText = await readFile(indexPath, 'utf8');
  } catch {
    return names.map((n) => join(dir, n)); // no index: one file, or shards told apart by their tensors' names
  }
  let map: unknown;
  try {
    map = (JSON.parse(indexText) as { weight_map?: unknown }).weight_map;
  } catch (e) {
    throw new FormatError('UNSUPPORTED_MODEL', `${SHARD_INDEX} is not JSON: ${(e as Error).message}`, { file: indexPath, cause: e });
  }
  if (!map || typeof map !== 'object') throw new FormatError('UNSUPPORTED_MODEL', `${SHARD_INDEX} has no weight_map object`, { file: indexPath });
  const shards = [...new Set(Object.values(map as Record<string, unknown>))];
  for (const s of shards) {
    if (typeof s !== 'string' || !names.includes(s)) throw new FormatError('NOT_FOUND', `${SHARD_INDEX} names shard ${JSON.stringify(s)}, which is not a .safetensors file of the folder`, { file: indexPath });
  }
  return (shards as string[]).sort().map((n) => join(dir, n));
}

/** A folder container's root config.json member, or undefined. */
async function configMember(ckpt: Checkpoint): Promise<LlamaConfig | undefined> {
  const m = ckpt.reader.index.members.find((x) => x.path === 'config.json');
  if (!m) return undefined;
  const file = `${ckpt.reader.source.name}:config.json`;
  if (m.originalBytes > MAX_CONFIG_BYTES) throw new LimitError('LIMIT_EXCEEDED', `config of ${m.originalBytes} bytes is above the limit of ${MAX_CONFIG_BYTES}`, { file });
  const parts: Uint8Array[] = [];
  for (const seg of m.segments) parts.push(await ckpt.reader.readSegment(seg));
  const bytes = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return parseLlamaConfig(new TextDecoder().decode(bytes), file);
}

/**
 * Opens a model for the evaluator.
 * @param path a model folder, a .safetensors file (config.json beside it) or a .wcodec container of either
 * @returns the config and the store of its tensors (to be closed by the caller)
 */
async function openModel(path: string): Promise<{ config: LlamaConfig; store: TensorStore }> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new IoError('IO_ERROR', `cannot open the model: ${(e as Error).message}`, { file: path, cause: e });
  }
  if (st.isDirectory()) {
    const config = await readConfigFile(join(path, 'config.json'));
    return { config, store: await safetensorsStore(await folderShards(path)) };
  }
  if (await isContainer(path)) {
    const ckpt = await openContainer(await FileSource.open(path));
    try {
      const config = (await configMember(ckpt)) ?? (await readConfigFile(join(dirname(path), 'config.json')));
      return { config, store: checkpointStore(ckpt) };
    } catch (e) {
      await ckpt.close();
      throw e;
    }
  }
  const config = await readConfigFile(join(dirname(path), 'config.json'));
  return { config, store: await safetensorsStore([path]) };
}

/**
 * Loads a Llama model's config and weights as float32 values (exact widening of BF16, F16 and F32), each weight
 * checked against the shape the config implies, with an optional lossy variant applied to every 2-D weight.
 * @param path a model folder, a .safetensors file with config.json beside it, or a .wcodec container of either
 * @param options see LoadLlamaOptions
 * @throws IO_ERROR for a path that cannot be read; UNSUPPORTED_MODEL for a config the evaluator does not implement or
 *   a weight of another dtype or shape; NOT_FOUND for a missing weight; AMBIGUOUS_NAME for a weight in two files;
 *   BAD_SAFETENSORS, LIMIT_EXCEEDED and the container reader's errors for malformed files
 */
export async function loadLlama(path: string, options: LoadLlamaOptions = {}): Promise<LlamaWeights> {
  const { config, store } = await openModel(path);
  const label = basename(path) || path;
  try {
    const tensors = new Map<string, Float32Array>();
    for (const [name, shape] of llamaTensorShapes(config)) {
      const t = await store.read(name);
      if (!WEIGHT_DTYPES.includes(t.dtype)) throw new FormatError('UNSUPPORTED_MODEL', `tensor '${name}' has dtype ${t.dtype}, not one of ${WEIGHT_DTYPES.join(', ')}`, { file: path });
      if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        throw new FormatError('UNSUPPORTED_MODEL', `tensor '${name}' has shape [${t.shape.join(', ')}], the config of ${label} implies [${shape.join(', ')}]`, { file: path });
      }
      let values = toFloat32(t.dtype, t.bytes);
      if (options.variant !== undefined && shape.length === 2) values = applyLossyVariant(options.variant, values, shape[0], shape[1]);
      tensors.set(name, values);
    }
    return { config, tensors };
  } finally {
    await store.close();
  }
}
