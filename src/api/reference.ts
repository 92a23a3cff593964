// Reference checkpoints for XOR deltas (FORMAT.md §3.5, XOR_DELTA), browser-safe: tensors by name from safetensors
// files (one, or the shards of a folder) or from an opened .wcodec container.

import { FormatError } from '../errors.js';
import type { ByteSource } from '../io/byte-source.js';
import type { ReferenceTensorInfo, TensorReference } from '../format/tensor-reference.js';
import { readSafetensorsLayout } from '../safetensors/read-layout.js';
import type { Checkpoint } from './checkpoint.js';

/** Where a named tensor's bytes are, plus its description. */
interface Located<T> {
  info: ReferenceTensorInfo;
  at: T;
}

/** Names held once, mapped; names held several times (in different files) are left out: no choice between them is safe. */
function uniqueNames<T>(entries: { name: string; info: ReferenceTensorInfo; at: T }[]): Map<string, Located<T>> {
  const map = new Map<string, Located<T>>();
  const twice = new Set<string>();
  for (const e of entries) {
    if (map.has(e.name)) twice.add(e.name);
    else map.set(e.name, { info: e.info, at: e.at });
  }
  for (const n of twice) map.delete(n);
  return map;
}

function checkRange(name: string, offset: number, length: number, size: number): void {
  if (!(Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= size)) {
    throw new RangeError(`range ${offset}+${length} outside the ${size} bytes of reference tensor '${name}'`);
  }
}

function notFound(label: string, name: string): FormatError {
  return new FormatError('NOT_FOUND', `the reference ${label} holds no tensor '${name}'`, { file: label });
}

/**
 * A reference made of safetensors files (a single file, or the shards of a model folder): each tensor by name. A name
 * that several files hold is not offered (describe gives undefined). The sources stay open until close().
 * @throws BAD_SAFETENSORS / LIMIT_EXCEEDED for a malformed file
 */
export async function referenceFromSafetensors(sources: readonly ByteSource[], label: string): Promise<TensorReference> {
  const entries: { name: string; info: ReferenceTensorInfo; at: { source: ByteSource; begin: number; end: number } }[] = [];
  for (const source of sources) {
    const layout = await readSafetensorsLayout(source);
    for (const t of layout.tensors) {
      entries.push({ name: t.name, info: { dtype: t.dtype, shape: t.shape, originalBytes: t.end - t.begin }, at: { source, begin: t.begin, end: t.end } });
    }
  }
  const map = uniqueNames(entries);
  return {
    label,
    describe: (name) => map.get(name)?.info,
    async read(name) {
      const e = map.get(name);
      if (!e) throw notFound(label, name);
      // A buffer of its own: a source's read may be a view of memory the caller keeps using.
      return new Uint8Array(await e.at.source.read(e.at.begin, e.at.end - e.at.begin));
    },
    async readRange(name, offset, length) {
      const e = map.get(name);
      if (!e) throw notFound(label, name);
      checkRange(name, offset, length, e.at.end - e.at.begin);
      return new Uint8Array(await e.at.source.read(e.at.begin + offset, length));
    },
    async close() {
      for (const s of sources) await s.close();
    },
  };
}

/**
 * A reference read from an opened .wcodec container: each tensor by name, decoded (and checked by its SHA-256) when
 * read. A name that several members hold is not offered, nor a tensor the container stores as an XOR delta (it would
 * need that container's own reference). readRange decodes the tensor whole and keeps the last one so read (one tensor
 * in memory). Closing the reference closes the checkpoint.
 */
export function referenceFromCheckpoint(checkpoint: Checkpoint, label: string = checkpoint.reader.source.name): TensorReference {
  // A tensor stored as an XOR delta itself would need that container's own reference: not offered (no chains).
  const map = uniqueNames(
    checkpoint.tensors
      .filter((t) => t.transform !== 'xor-delta')
      .map((t) => ({ name: t.name, info: { dtype: t.dtype, shape: t.shape, originalBytes: t.originalBytes }, at: t })),
  );
  // Ranges come from the last tensor decoded whole: a container's tensor decodes chunk by chunk, not by byte range.
  let last: { name: string; bytes: Uint8Array } | undefined;
  const read = async (name: string): Promise<Uint8Array> => {
    const e = map.get(name);
    if (!e) throw notFound(label, name);
    return checkpoint.reader.readSegment(checkpoint.segmentOf(e.at));
  };
  return {
    label,
    describe: (name) => map.get(name)?.info,
    read,
    async readRange(name, offset, length) {
      if (last?.name !== name) last = { name, bytes: await read(name) };
      checkRange(name, offset, length, last.bytes.length);
      return last.bytes.slice(offset, offset + length);
    },
    close: () => checkpoint.close(),
  };
}
