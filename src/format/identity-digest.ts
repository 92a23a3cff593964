// A member's identity digest (FORMAT.md §7.4, version 3): SHA-256 over its path, size and digest, type, flags, mode and
// modification time (and, in version 5, layout) and, per segment, the kind, name, dtype, shape, size and digest. It binds every label a reader
// presents to the byte digests that check them.

import { ByteWriter } from './byte-cursor.js';
import { createSha256 } from './sha256.js';
import { FORMAT_VERSION_LAYOUTS } from './constants.js';

/** The labels of one segment that the identity covers (coding and transform are how it is stored, not what it is). */
export interface IdentitySegment {
  kind: 'tensor' | 'bytes';
  name: string;
  dtype: string;
  shape: number[];
  originalBytes: number;
  sha256: Uint8Array;
}

/** The labels of one member that the identity covers (`pathBytes` instead of the UTF-8 of `path` for a raw path). */
export interface IdentityMember {
  path: string;
  pathBytes?: Uint8Array;
  originalBytes: number;
  sha256: Uint8Array;
  type?: 'file' | 'link' | 'folder';
  mode?: number;
  mtimeUs?: number;
  /** Version 5: the member layout (FORMAT.md §3.2); absent for layout 0. */
  layout?: 'gguf' | 'onnx' | 'onnx-data' | 'npy' | 'raw-array';
  segments: IdentitySegment[];
}

/** Member `type` codes and `flags` bits as in the member record (FORMAT.md §3.2). */
const TYPE_CODE = { file: 0, link: 1, folder: 2 } as const;
/** Member `layout` codes as in the member record (FORMAT.md §3.2, version 5; 4 and 5 from version 9). */
const LAYOUT_CODE = { gguf: 1, onnx: 2, 'onnx-data': 3, npy: 4, 'raw-array': 5 } as const;

/** The 16 bytes that open every identity (FORMAT.md §7.4): "wcodec identity" and a NUL, so it is hashed apart from any file. */
export const IDENTITY_TAG = new Uint8Array([...new TextEncoder().encode('wcodec identity'), 0]);

/** Identity bytes gathered before they are hashed: a bound on the buffer, whatever the segment count. */
const FLUSH_BYTES = 64 * 1024;

/**
 * SHA-256 of the member's identity (FORMAT.md §7.4). Memory stays at FLUSH_BYTES plus one record at any segment count.
 * @param version the container version: from 5 the member's `layout` byte follows `mtimeUs`
 * @returns the 32-byte digest
 */
export function identityDigest(member: IdentityMember, version = 3): Uint8Array {
  const hash = createSha256();
  let w = new ByteWriter();
  w.bytes(IDENTITY_TAG);
  const path = member.pathBytes ?? new TextEncoder().encode(member.path);
  w.u16(path.length);
  w.bytes(path);
  w.u64(member.originalBytes);
  w.bytes(member.sha256);
  w.u8(TYPE_CODE[member.type ?? 'file']);
  w.u8((member.mode !== undefined ? 1 : 0) | (member.mtimeUs !== undefined ? 2 : 0) | (member.pathBytes !== undefined ? 4 : 0));
  w.u32(member.mode ?? 0);
  w.u64(member.mtimeUs ?? 0);
  if (version >= FORMAT_VERSION_LAYOUTS) w.u8(member.layout !== undefined ? LAYOUT_CODE[member.layout] : 0);
  w.u32(member.segments.length);
  for (const s of member.segments) {
    w.u8(s.kind === 'tensor' ? 1 : 0);
    w.str16(s.name);
    w.str16(s.dtype);
    w.u8(s.shape.length);
    for (const d of s.shape) w.u64(d);
    w.u64(s.originalBytes);
    w.bytes(s.sha256);
    if (w.length >= FLUSH_BYTES) {
      hash.update(w.finish());
      w = new ByteWriter();
    }
  }
  hash.update(w.finish());
  return hash.digest();
}
