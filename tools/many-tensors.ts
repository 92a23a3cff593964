// Crafted containers of very many records, for the index memory benchmark (bench/index-memory.ts) and its test:
// valid indexes (FORMAT.md §3) of N empty tensors, each with coding tables of its own, written record by record.

import { ByteWriter } from '../src/format/byte-cursor.js';
import { writeVarint } from '../src/entropy/freq-table.js';
import { crc32c } from '../src/format/crc32c.js';
import { sha256 } from '../src/format/sha256.js';
import { HEADER_BYTES } from '../src/format/constants.js';
import { writeFooter, writeHeader } from '../src/format/envelope.js';

const utf8 = new TextEncoder();

/**
 * Index of `n` empty F16 tensors (FORMAT.md §3.1-§3.4), each with a distinct 12-bit table of two symbols on its head
 * plane's top 12 bits and an 8-bit table on the low 4 bits. Written record by record (not through writeIndex, whose
 * input would hold every table's arrays: the memory this benchmark measures on the reading side).
 */
export function craftEmptyTensorsIndex(n: number): Uint8Array {
  const w = new ByteWriter();
  const empty = sha256(new Uint8Array(0));
  w.u8(0); // single file
  w.u8(0);
  w.u16(0);
  w.u32(1);
  w.str16('model.safetensors');
  w.u64(0);
  w.bytes(empty);
  w.u32(n);
  let prev = new Uint8Array(0);
  for (let i = 0; i < n; i++) {
    w.u8(1); // tensor
    const name = utf8.encode(`model.layers.${i}.weight`);
    let shared = 0;
    while (shared < 255 && shared < prev.length && shared < name.length && prev[shared] === name[shared]) shared++;
    w.u8(shared);
    w.u16(name.length - shared);
    w.bytes(name.subarray(shared));
    prev = name;
    w.str16('F16');
    w.u8(1);
    w.u64(0); // shape [0]
    w.u64(0);
    w.bytes(empty);
    w.u8(2); // value bytes
    w.u8(2); // planes
    // Head plane of bits 4..15, rANS with a distinct table: symbols a < b, frequencies split and 4096 - split.
    const a = i % 4095;
    const b = a + 1 + (Math.floor(i / 4095) % (4095 - a));
    const split = 1 + (Math.floor(i / (4095 * 64)) % 4095);
    w.u8(0);
    w.u8(1);
    w.u8(4);
    w.u8(12);
    w.u8(1);
    w.u8(12); // probBits
    w.u16(2);
    writeVarint(w, a);
    writeVarint(w, split - 1);
    writeVarint(w, b - a - 1);
    writeVarint(w, 4096 - split - 1);
    // Head plane of bits 0..3, rANS: one symbol of frequency 2^8.
    w.u8(0);
    w.u8(1);
    w.u8(0);
    w.u8(4);
    w.u8(1);
    w.u8(8);
    w.u16(1);
    writeVarint(w, 0);
    writeVarint(w, 255);
    w.u8(1); // lanes
    w.u32(1); // chunk values
    w.u32(0); // chunks
  }
  return w.finish();
}

/** A whole container around a raw (uncoded) index block: header, no chunks, index block, footer. */
export function craftContainer(index: Uint8Array): Uint8Array {
  const block = new Uint8Array(5 + index.length);
  new DataView(block.buffer).setUint32(0, index.length, true);
  block[4] = 0; // raw
  block.set(index, 5);
  const header = writeHeader(1);
  const footer = writeFooter({ indexOffset: HEADER_BYTES, indexBytes: block.length, indexCrc32c: crc32c(block), version: 1 });
  const out = new Uint8Array(header.length + block.length + footer.length);
  out.set(header, 0);
  out.set(block, header.length);
  out.set(footer, header.length + block.length);
  return out;
}
