// The stored form of the index (FORMAT.md §3.0): u32 indexBytes, u8 coding, then the index either raw, order-0
// rANS-coded over its bytes with one lane, or (version 8) one byte-model stream (§5.5). Names, shapes and sizes compress
// well; digests do not.

import { ByteReader, ByteWriter } from '../format/byte-cursor.js';
import { MAX_INDEX_BYTES } from '../format/constants.js';
import { readFreqTable, writeFreqTable } from '../entropy/freq-table.js';
import { decodeRansBytes, encodeRans } from '../entropy/rans.js';
import { bestPlaneCoding } from './choose-layout.js';
import { FormatError, LimitError, type WcodecError } from '../errors.js';
import { decodeByteModel, encodeByteModel } from '../wasm/wasm-byte-model.js';
import type { Kernels } from '../wasm/kernels.js';
import { FORMAT_VERSION_BYTE_MODEL } from '../format/constants.js';

/** A coded index may expand at most this much (plus 4 KiB): bounds the allocation a tiny hostile block can cause. */
export const MAX_INDEX_EXPANSION = 16;
const INDEX_EXPANSION_SLACK = 4096;
/**
 * Largest index coded with the byte model (version 8, `coding` 2): the index is decoded in one thread before anything
 * else (about 1 MB/s with the WebAssembly kernel, 0.2 MB/s with the TypeScript reference), so this bounds that time for
 * any block, hostile or not.
 */
export const MAX_MODELLED_INDEX_BYTES = 1 << 20;
/** Index block `coding` values (FORMAT.md §3.0). */
const INDEX_RAW = 0;
const INDEX_RANS = 1;
const INDEX_BYTE_MODEL = 2;

/**
 * Codes the serialised index of a container of `version`: the smallest of raw, order-0 rANS and (version 8, an index
 * of at most MAX_MODELLED_INDEX_BYTES) the byte model, among those that meet the expansion bound; ties keep the earlier.
 * @param options.kernels the WebAssembly kernels for the byte model (the TypeScript reference without them: same bytes)
 * @param options.minSavedBytes the byte model is used only where it saves at least this many bytes over the better of
 *   raw and rANS (it decodes at about 1 MB/s, rANS at hundreds): the writer asks for a share of the container's size,
 *   so that a large container does not spend its decode time on its index; where raw or rANS is already smaller than
 *   that, the byte model is not tried at all
 */
export function writeIndexBlock(index: Uint8Array, version = 1, options: { kernels?: Kernels; minSavedBytes?: number } = {}): Uint8Array {
  let coding = INDEX_RAW;
  let body = index;
  const fits = (b: Uint8Array): boolean => b.length < body.length && index.length <= MAX_INDEX_EXPANSION * (5 + b.length) + INDEX_EXPANSION_SLACK;
  const counts = new Float64Array(256);
  for (const b of index) counts[b]++;
  const best = index.length > 0 ? bestPlaneCoding(counts, 8, index.length) : { bytes: 0 };
  if (best.table) {
    const coded = new ByteWriter();
    writeFreqTable(coded, best.table);
    const symbols = Uint16Array.from(index);
    coded.bytes(encodeRans([symbols], [best.table], index.length, 1));
    const rans = coded.finish();
    if (fits(rans)) {
      coding = INDEX_RANS;
      body = rans;
    }
  }
  const minSaved = options.minSavedBytes ?? 0;
  if (version >= FORMAT_VERSION_BYTE_MODEL && index.length > 0 && index.length <= MAX_MODELLED_INDEX_BYTES && body.length > minSaved) {
    const modelled = encodeByteModel(options.kernels, index);
    if (fits(modelled) && body.length - modelled.length >= minSaved) {
      coding = INDEX_BYTE_MODEL;
      body = modelled;
    }
  }
  const w = new ByteWriter();
  w.u32(index.length);
  w.u8(coding);
  w.bytes(body);
  return w.finish();
}

/**
 * Decodes a stored index block (already CRC-checked) that starts at container offset `base`; a byte-model block with the
 * WebAssembly `kernels` when given (the TypeScript reference otherwise: the same bytes and errors).
 * @throws CORRUPT_INDEX (also for a broken rANS stream inside the block), LIMIT_EXCEEDED
 */
export function readIndexBlock(block: Uint8Array, base: number, file?: string, version = 1, kernels?: Kernels): { index: Uint8Array; coded: boolean; indexAt: number } {
  const r = new ByteReader(block, base, file, 'CORRUPT_INDEX');
  const indexBytes = r.u32('index size');
  if (indexBytes > MAX_INDEX_BYTES) {
    throw new LimitError('LIMIT_EXCEEDED', `index of ${indexBytes} bytes, limit ${MAX_INDEX_BYTES}`, { file, offset: base });
  }
  const coding = r.u8('index coding');
  if (coding === 0) {
    if (r.remaining !== indexBytes) r.fail(`raw index holds ${r.remaining} bytes, header says ${indexBytes}`, 0);
    return { index: r.bytes(indexBytes), coded: false, indexAt: base + 5 };
  }
  if (coding !== INDEX_RANS && !(coding === INDEX_BYTE_MODEL && version >= FORMAT_VERSION_BYTE_MODEL)) return r.fail(`index coding ${coding}`, 4);
  if (indexBytes > MAX_INDEX_EXPANSION * block.length + INDEX_EXPANSION_SLACK) {
    throw new LimitError('LIMIT_EXCEEDED', `a ${block.length}-byte index block claims ${indexBytes} bytes`, { file, offset: base });
  }
  if (coding === INDEX_BYTE_MODEL) {
    if (indexBytes > MAX_MODELLED_INDEX_BYTES) {
      throw new LimitError('LIMIT_EXCEEDED', `byte-model index of ${indexBytes} bytes, limit ${MAX_MODELLED_INDEX_BYTES}`, { file, offset: base });
    }
    const index = new Uint8Array(indexBytes);
    try {
      decodeByteModel(kernels, block.subarray(5), indexBytes, new Uint8Array(0), index, { file, offset: base + 5 });
    } catch (e) {
      const err = e as WcodecError;
      const problem = err.message.replace(/^[A-Z_]+: /, '').replace(/ \([^()]* at offset \d+\)$/, '');
      throw new FormatError('CORRUPT_INDEX', `coded index: ${problem}`, { file, offset: err.offset ?? base, cause: e });
    }
    return { index, coded: true, indexAt: base };
  }
  const table = readFreqTable(r, 8);
  let index: Uint8Array;
  try {
    index = decodeRansBytes(block.subarray(r.pos), indexBytes, table, { file, offset: base + r.pos });
  } catch (e) {
    const err = e as WcodecError;
    const problem = err.message.replace(/^[A-Z_]+: /, '').replace(/ \([^()]* at offset \d+\)$/, '');
    throw new FormatError('CORRUPT_INDEX', `coded index: ${problem}`, { file, offset: err.offset ?? base, cause: e });
  }
  return { index, coded: true, indexAt: base };
}
