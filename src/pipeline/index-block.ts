// The stored form of the index (FORMAT.md §3.0): u32 indexBytes, u8 coding, then the index either raw or
// order-0 rANS-coded over its bytes with one lane. Names, shapes and sizes compress well; digests do not.

import { ByteReader, ByteWriter } from '../format/byte-cursor.js';
import { MAX_INDEX_BYTES } from '../format/constants.js';
import { readFreqTable, writeFreqTable } from '../entropy/freq-table.js';
import { decodeRansBytes, encodeRans } from '../entropy/rans.js';
import { bestPlaneCoding } from './choose-layout.js';
import { FormatError, LimitError, type WcodecError } from '../errors.js';

/** A coded index may expand at most this much (plus 4 KiB): bounds the allocation a tiny hostile block can cause. */
export const MAX_INDEX_EXPANSION = 16;
const INDEX_EXPANSION_SLACK = 4096;

/** Codes the serialised index; stores it raw where coding would not pay or would exceed the expansion bound. */
export function writeIndexBlock(index: Uint8Array): Uint8Array {
  const w = new ByteWriter();
  w.u32(index.length);
  const counts = new Float64Array(256);
  for (const b of index) counts[b]++;
  const best = index.length > 0 ? bestPlaneCoding(counts, 8, index.length) : { bytes: 0 };
  if (best.table) {
    const coded = new ByteWriter();
    writeFreqTable(coded, best.table);
    const symbols = Uint16Array.from(index);
    coded.bytes(encodeRans([symbols], [best.table], index.length, 1));
    const body = coded.finish();
    const stored = 5 + body.length;
    if (body.length < index.length && index.length <= MAX_INDEX_EXPANSION * stored + INDEX_EXPANSION_SLACK) {
      w.u8(1);
      w.bytes(body);
      return w.finish();
    }
  }
  w.u8(0);
  w.bytes(index);
  return w.finish();
}

/**
 * Decodes a stored index block (already CRC-checked) that starts at container offset `base`.
 * @throws CORRUPT_INDEX (also for a broken rANS stream inside the block), LIMIT_EXCEEDED
 */
export function readIndexBlock(block: Uint8Array, base: number, file?: string): { index: Uint8Array; coded: boolean; indexAt: number } {
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
  if (coding !== 1) return r.fail(`index coding ${coding}`, 4);
  if (indexBytes > MAX_INDEX_EXPANSION * block.length + INDEX_EXPANSION_SLACK) {
    throw new LimitError('LIMIT_EXCEEDED', `a ${block.length}-byte index block claims ${indexBytes} bytes`, { file, offset: base });
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
