// Container surgery for the invalid test vectors: take a valid container apart (header, index, chunk payloads),
// change fields or bytes, and put it back together with every CRC and size either recomputed or deliberately left.

import { FOOTER_BYTES, HEADER_BYTES } from '../../src/format/constants.js';
import { ContainerReader } from '../../src/pipeline/container-reader.js';
import { crc32c } from '../../src/format/crc32c.js';
import { readFooter, writeFooter } from '../../src/format/envelope.js';
import { readIndexBlock, writeIndexBlock } from '../../src/pipeline/index-block.js';
import { segmentChunks, writeIndex, type ChunkRecord, type ContainerIndex, type SegmentRecord } from '../../src/pipeline/index-codec.js';
import { MemorySource } from '../../src/io/byte-source.js';
import { isHuffman, type SegmentCoding } from '../../src/entropy/chunk-codec.js';

/** Every segment of every member, in index order. */
export const segmentsOf = (index: ContainerIndex): SegmentRecord[] => index.members.flatMap((m) => m.segments);
/** The tensor segment called `name`, if any. */
export const tensor = (index: ContainerIndex, name: string): SegmentRecord | undefined => segmentsOf(index).find((s) => s.kind === 'tensor' && s.name === name);

/** A container taken apart: header, parsed index and each chunk's payload in data order (records are the index's). */
export interface Parts {
  header: Uint8Array;
  index: ContainerIndex;
  chunks: { record: ChunkRecord; payload: Uint8Array }[];
}

/**
 * Opens `container` (it must be valid) and copies out its header, index and chunk payloads. The index is made editable:
 * a reader's codings share layouts and read their tables from the index bytes, so each segment gets plain copies.
 */
export async function takeApart(container: Uint8Array): Promise<Parts> {
  const index = editable((await ContainerReader.open(new MemorySource(container))).index);
  const chunks = segmentsOf(index).flatMap((s) => segmentChunks(s).map((record) => ({ record, payload: container.slice(record.offset, record.offset + record.bytes) })));
  return { header: container.slice(0, HEADER_BYTES), index, chunks };
}

/** `coding` with its own layout and plain, mutable copies of its tables. */
function editableCoding(coding: SegmentCoding): SegmentCoding {
  const tables = coding.tables.map((t) =>
    t === undefined ? undefined : isHuffman(t) ? { kind: 'huffman' as const, lengths: t.lengths.slice() } : { probBits: t.probBits, freqs: t.freqs.slice(), cum: t.cum.slice() },
  );
  const copy: SegmentCoding = { layout: structuredClone(coding.layout), tables, lanes: coding.lanes };
  if (coding.byteModel) copy.byteModel = { primer: coding.byteModel.primer, primerBytes: coding.byteModel.primerBytes };
  if (coding.tensorModel) copy.tensorModel = { rowValues: coding.tensorModel.rowValues };
  return copy;
}

/** `index` with every segment's and stream's coding and chunk list its own to edit. */
function editable(index: ContainerIndex): ContainerIndex {
  for (const m of index.members) {
    m.segments = m.segments.map((s) => ({
      ...s,
      coding: editableCoding(s.coding),
      chunks: [...s.chunks],
      transform: s.transform && { ...s.transform, streams: s.transform.streams.map((st) => ({ ...st, coding: editableCoding(st.coding), chunks: [...st.chunks] })) },
    }));
  }
  return index;
}

/** Recomputes every chunk record (offset, size, and in versions 1-3 the CRC-32C) from the payloads, tiling them after the header. */
export function layOut(p: Parts): void {
  let at = HEADER_BYTES;
  for (const c of p.chunks) {
    c.record.offset = at;
    c.record.bytes = c.payload.length;
    // Version 4 records keep their digest: it covers decoded bytes, which a payload edit does not recompute.
    if (c.record.digest === undefined) c.record.crc32c = crc32c(c.payload);
    at += c.payload.length;
  }
}

/** The byte arrays joined into one. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Writes header, payloads, `gap`, the index as it now stands, and a footer with correct CRCs. */
export function putTogether(p: Parts, gap = new Uint8Array(0)): Uint8Array {
  const data = concat(p.header, ...p.chunks.map((c) => c.payload), gap);
  const index = writeIndexBlock(writeIndex(p.index, versionOf(p.header)), versionOf(p.header));
  return concat(data, index, writeFooter({ indexOffset: data.length, indexBytes: index.length, indexCrc32c: crc32c(index), version: versionOf(p.header) }));
}

/** The version a container's header names (the footer must repeat it). */
export const versionOf = (container: Uint8Array): number => container[8] | (container[9] << 8);

/** Parses `container`, lets `edit` change the index (and payloads), and reassembles it with every CRC correct. */
export async function editIndex(container: Uint8Array, edit: (index: ContainerIndex, p: Parts) => void, relayout = false): Promise<Uint8Array> {
  const p = await takeApart(container);
  edit(p.index, p);
  if (relayout) layOut(p);
  return putTogether(p);
}

/** Replaces the stored index block by `edit(block)` and writes a footer that matches it (size and CRC). */
export function editIndexBlock(container: Uint8Array, edit: (block: Uint8Array, dv: DataView) => Uint8Array | void): Uint8Array {
  const f = readFooter(container.subarray(container.length - FOOTER_BYTES), container.length);
  const block = container.slice(f.indexOffset, f.indexOffset + f.indexBytes);
  const out = edit(block, new DataView(block.buffer)) ?? block;
  return concat(container.subarray(0, f.indexOffset), out, writeFooter({ indexOffset: f.indexOffset, indexBytes: out.length, indexCrc32c: crc32c(out), version: f.version }));
}

/** Replaces the serialised index (inside its block) by `edit(index)`, re-stores the block and fixes the footer. */
export function editIndexBytes(container: Uint8Array, edit: (index: Uint8Array, dv: DataView) => Uint8Array | void): Uint8Array {
  const { version } = readFooter(container.subarray(container.length - FOOTER_BYTES), container.length);
  return editIndexBlock(container, (block) => {
    const index = readIndexBlock(block, 0, undefined, version).index.slice();
    return writeIndexBlock(edit(index, new DataView(index.buffer)) ?? index, version);
  });
}

/** Whether a container's index block is stored coded (coding byte 1, rANS, or 2, the byte model) rather than raw (0). */
export function indexIsCoded(container: Uint8Array): boolean {
  const f = readFooter(container.subarray(container.length - FOOTER_BYTES), container.length);
  return container[f.indexOffset + INDEX_BLOCK_HEADER_BYTES - 1] !== 0;
}

/** Where, inside a serialised index, the front-coded name record of tensor `name` starts (its shared-prefix byte), assuming it shares nothing. */
export function nameRecordAt(index: Uint8Array, name: string): number {
  const utf8 = new TextEncoder().encode(name);
  const pattern = concat(new Uint8Array([0, utf8.length & 0xff, utf8.length >> 8]), utf8);
  for (let i = 0; i + pattern.length <= index.length; i++) {
    let k = 0;
    while (k < pattern.length && index[i + k] === pattern[k]) k++;
    if (k === pattern.length) return i;
  }
  throw new Error(`no unshared name record for '${name}'`);
}

/** A copy with `edit` applied to the 16-byte header; the header CRC is recomputed when `fixCrc`. */
export function editHeader(container: Uint8Array, edit: (dv: DataView) => void, fixCrc: boolean): Uint8Array {
  const out = container.slice();
  const dv = new DataView(out.buffer, 0, HEADER_BYTES);
  edit(dv);
  if (fixCrc) dv.setUint32(12, crc32c(out.subarray(0, 12)), true);
  return out;
}

/** A copy with `edit` applied to the 40-byte footer; the footer CRC (over its first 24 bytes) is recomputed when `fixCrc`. */
export function editFooter(container: Uint8Array, edit: (dv: DataView) => void, fixCrc: boolean): Uint8Array {
  const out = container.slice();
  const base = out.length - FOOTER_BYTES;
  const dv = new DataView(out.buffer, base, FOOTER_BYTES);
  edit(dv);
  if (fixCrc) dv.setUint32(24, crc32c(out.subarray(base, base + 24)), true);
  return out;
}

/** Bytes before the index inside a stored index block: u32 index size, u8 coding. */
export const INDEX_BLOCK_HEADER_BYTES = 5;
/** Byte position, inside the index, of the first member's path length (after kind, reserved and member count). */
export const FIRST_PATH_AT = 8;
/** Byte position, inside a version 3 index, of the first member's `type` field (given its path length): after path, size, sha256 and identitySha256. */
export const firstMemberTypeAt = (pathBytes: number): number => FIRST_PATH_AT + 2 + pathBytes + 8 + 32 + 32;
/** Byte position, inside the index, of the first member's first segment record (given its path length). */
export const firstSegmentAt = (pathBytes: number): number => FIRST_PATH_AT + 2 + pathBytes + 8 + 32 + 4;

/** The payload of `seg`'s chunk `c`, and where its rANS stream ends (raw planes follow it). */
export function chunkOf(p: Parts, seg: SegmentRecord, c: number): { payload: Uint8Array; streamEnd: number; n: number; entry: Parts['chunks'][number] } {
  const entry = p.chunks.find((x) => x.record === seg.chunks[c])!;
  const W = seg.coding.layout.valueBytes;
  const n = Math.min(seg.chunkValues, seg.originalBytes / W - c * seg.chunkValues);
  const raw = seg.coding.tables.filter((t) => !t).length;
  return { payload: entry.payload, streamEnd: entry.payload.length - raw * n, n, entry };
}

/** The tensor segment called `name`; throws (a generator bug, not a vector) when the base vector has none. */
export function needTensor(index: ContainerIndex, name: string): SegmentRecord {
  const s = tensor(index, name);
  if (!s) throw new Error(`base vector has no tensor '${name}'`);
  return s;
}
