// Opens the reference checkpoint of `--ref` (Node only): a .safetensors file, a model folder of them, or a .wcodec
// container, as a TensorReference (src/api/reference.ts).

import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { IoError } from '../errors.js';
import { ContainerReader } from '../pipeline/container-reader.js';
import type { TensorReference } from '../format/tensor-reference.js';
import { FileSource } from '../io/file-source.js';
import type { ByteSource } from '../io/byte-source.js';
import { checkedCheckpoint } from '../api/checkpoint.js';
import { referenceFromCheckpoint, referenceFromSafetensors } from '../api/reference.js';
import { listFolder } from './folder-walk.js';

/**
 * Opens `path` as a reference: a folder (its `.safetensors` files, at any depth), a `.wcodec` container (by its magic,
 * whatever its name), or a single `.safetensors` file. Close it when done.
 * @throws IO_ERROR, BAD_SAFETENSORS, and the format errors of a container
 */
export async function openReference(path: string): Promise<TensorReference> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    throw new IoError('IO_ERROR', `cannot read the reference: ${(e as Error).message}`, { file: path, cause: e });
  }
  if (st.isDirectory()) {
    const files = (await listFolder(path)).filter((p) => p.endsWith('.safetensors'));
    const sources: ByteSource[] = [];
    try {
      for (const f of files) sources.push(await FileSource.open(join(path, f)));
      return await referenceFromSafetensors(sources, path);
    } catch (e) {
      for (const s of sources) await s.close();
      throw e;
    }
  }
  const source = await FileSource.open(path);
  try {
    const head = await source.read(0, Math.min(source.size, 8));
    const isContainer = head.length === 8 && head[0] === 0x89 && new TextDecoder().decode(head.subarray(1, 7)) === 'WCODEC';
    if (isContainer) return referenceFromCheckpoint(await checkedCheckpoint(await ContainerReader.open(source)), path);
    return await referenceFromSafetensors([source], path);
  } catch (e) {
    await source.close();
    throw e;
  }
}
