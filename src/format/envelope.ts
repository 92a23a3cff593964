// The fixed-size file header and footer (FORMAT.md §2). The footer locates the index, so a reader needs
// two small reads (footer, index) before it can decode any single tensor.

import { ByteReader, ByteWriter } from './byte-cursor.js';
import { FOOTER_BYTES, FOOTER_MAGIC, FORMAT_VERSION, FORMAT_VERSIONS, HEADER_BYTES, MAGIC, MAX_INDEX_BYTES } from './constants.js';
import { crc32c } from './crc32c.js';
import { FormatError, LimitError } from '../errors.js';
import { sameBytes } from './sha256.js';

/** Header: magic, version (default 1; 2 when a segment is transformed, FORMAT.md §3.5), flags (0), CRC-32C of the first 12 bytes. */
export function writeHeader(version: number = FORMAT_VERSION): Uint8Array {
  const w = new ByteWriter();
  w.bytes(MAGIC);
  w.u16(version);
  w.u16(0);
  const b = w.finish();
  w.u32(crc32c(b));
  return w.finish();
}

/** Checks the 16 header bytes and returns the container version (1, 2 or 3). @throws BAD_MAGIC, UNSUPPORTED_VERSION, CORRUPT_HEADER */
export function readHeader(bytes: Uint8Array, file?: string): number {
  // Magic first, over whatever bytes there are: a short file that is not a container is reported as such.
  const prefix = Math.min(bytes.length, 8);
  if (!sameBytes(bytes.subarray(0, prefix), MAGIC.subarray(0, prefix))) {
    throw new FormatError('BAD_MAGIC', 'not a .wcodec file (header magic)', { file, offset: 0 });
  }
  if (bytes.length < HEADER_BYTES) {
    throw new FormatError('TRUNCATED', `${bytes.length} bytes cannot hold the ${HEADER_BYTES}-byte header`, { file, offset: bytes.length });
  }
  const r = new ByteReader(bytes.subarray(0, HEADER_BYTES), 0, file, 'CORRUPT_HEADER');
  r.pos = 8;
  const version = r.u16();
  const flags = r.u16();
  const crc = r.u32();
  if (crc !== crc32c(bytes.subarray(0, 12))) throw new FormatError('CORRUPT_HEADER', 'header CRC-32C mismatch', { file, offset: 12 });
  if (!FORMAT_VERSIONS.includes(version)) {
    throw new FormatError('UNSUPPORTED_VERSION', `container version ${version}; this decoder reads versions ${FORMAT_VERSIONS.join(', ')}`, { file, offset: 8 });
  }
  if (flags !== 0) throw new FormatError('CORRUPT_HEADER', `header flags ${flags} are reserved and must be 0`, { file, offset: 10 });
  return version;
}

/** Where the index lies, as the footer records it. */
export interface Footer {
  indexOffset: number;
  indexBytes: number;
  indexCrc32c: number;
  /** Container version, 1, 2 or 3; it must equal the header's (writeFooter: default 1). */
  version?: number;
}

/** Footer: indexOffset u64, indexBytes u64, indexCrc32c u32, version u16, flags u16, footerCrc32c u32, reserved u32, magic. */
export function writeFooter(f: Footer): Uint8Array {
  const w = new ByteWriter();
  w.u64(f.indexOffset);
  w.u64(f.indexBytes);
  w.u32(f.indexCrc32c);
  w.u16(f.version ?? FORMAT_VERSION);
  w.u16(0);
  w.u32(crc32c(w.finish()));
  w.u32(0);
  w.bytes(FOOTER_MAGIC);
  return w.finish();
}

/**
 * Checks the last 40 bytes of a container of `fileBytes` bytes and returns where the index is.
 * @param headerVersion the header's version, when known: the footer's must equal it (FORMAT.md §2.2)
 * @throws BAD_MAGIC (also for most truncations), UNSUPPORTED_VERSION, CORRUPT_HEADER, LIMIT_EXCEEDED
 */
export function readFooter(bytes: Uint8Array, fileBytes: number, file?: string, headerVersion?: number): Footer {
  const base = fileBytes - FOOTER_BYTES;
  if (!sameBytes(bytes.subarray(32, 40), FOOTER_MAGIC)) {
    throw new FormatError('BAD_MAGIC', 'footer magic missing: the file is truncated or not a .wcodec file', { file, offset: base + 32 });
  }
  const r = new ByteReader(bytes, base, file, 'CORRUPT_HEADER');
  const crc = new DataView(bytes.buffer, bytes.byteOffset + 24, 4).getUint32(0, true);
  if (crc !== crc32c(bytes.subarray(0, 24))) throw new FormatError('CORRUPT_HEADER', 'footer CRC-32C mismatch', { file, offset: base + 24 });
  const indexOffset = r.u64('index offset');
  const indexBytes = r.u64('index size');
  const indexCrc32c = r.u32('index crc32c');
  const version = r.u16();
  const flags = r.u16();
  r.u32();
  const reserved = r.u32();
  if (!FORMAT_VERSIONS.includes(version)) {
    throw new FormatError('UNSUPPORTED_VERSION', `footer says version ${version}; this decoder reads versions ${FORMAT_VERSIONS.join(', ')}`, { file, offset: base + 20 });
  }
  if (headerVersion !== undefined && headerVersion !== version) {
    // Reported at the field that claims the later version: a version 1 container damaged in one of the two reads as such.
    if (headerVersion > version) {
      throw new FormatError('UNSUPPORTED_VERSION', `container version ${headerVersion} in the header but ${version} in the footer`, { file, offset: 8 });
    }
    throw new FormatError('UNSUPPORTED_VERSION', `footer says version ${version} but the header says ${headerVersion}`, { file, offset: base + 20 });
  }
  if (flags !== 0) throw new FormatError('CORRUPT_HEADER', `footer flags ${flags} are reserved and must be 0`, { file, offset: base + 22 });
  if (reserved !== 0) throw new FormatError('CORRUPT_HEADER', 'reserved footer field must be 0', { file, offset: base + 28 });
  if (indexBytes > MAX_INDEX_BYTES) {
    throw new LimitError('LIMIT_EXCEEDED', `index of ${indexBytes} bytes, limit ${MAX_INDEX_BYTES}`, { file, offset: base + 8 });
  }
  if (indexOffset < HEADER_BYTES || indexOffset + indexBytes !== base) {
    throw new FormatError('CORRUPT_HEADER', `index at ${indexOffset}+${indexBytes} does not end where the footer starts (${base})`, { file, offset: base });
  }
  return { indexOffset, indexBytes, indexCrc32c, version };
}
