// The index (FORMAT.md §3): members (original files), their segments (tensors and byte ranges) and each
// segment's coding and chunk table. writeIndex/readIndex mirror each other; readIndex validates every
// field against the limits and the container's size before anything is allocated from it.

import { ByteReader, ByteWriter } from '../format/byte-cursor.js';
import {
  HEADER_BYTES,
  HUFFMAN_STREAMS,
  MAX_CHUNK_VALUES,
  MAX_CHUNKS,
  MAX_DTYPE_BYTES,
  MAX_MEMBERS,
  MAX_NAME_BYTES,
  MAX_RANK,
  MAX_SEGMENTS,
  MAX_TRANSFORM_BYTES,
  MAX_TRANSFORM_PARAM_BYTES,
  MAX_TRANSFORM_STREAMS,
} from '../format/constants.js';
import { checkFreqTable, writeFreqTable } from '../entropy/freq-table.js';
import { checkHuffmanTable, writeHuffmanTable } from '../entropy/huffman.js';
import { StoredFreqTable, StoredHuffmanTable } from '../entropy/stored-tables.js';
import { validLaneCount } from '../entropy/rans.js';
import { checkLayout, codablePlane, planeBits, type BitRange, type PlaneLayout, type PlaneSpec } from '../transform/planes.js';
import { dtypeBytes } from '../transform/dtypes.js';
import { packedBytes } from '../transform/bit-pack.js';
import { isHuffman, type ByteModelCoding, type PlaneTable, type SegmentCoding, type TensorModelCoding } from '../entropy/chunk-codec.js';
import { sameBytes } from '../format/sha256.js';
import { FORMAT_VERSION_BYTE_MODEL, FORMAT_VERSION_CM, FORMAT_VERSION_COMPACT, FORMAT_VERSION_DIGESTS, FORMAT_VERSION_FLOAT_ARRAYS, FORMAT_VERSION_IDENTITY, FORMAT_VERSION_LAYOUTS, FORMAT_VERSION_LOSSY } from '../format/constants.js';
import { safetensorsPrimer } from '../safetensors/header-primer.js';
import { identityDigest } from '../format/identity-digest.js';
import { FormatError, LimitError } from '../errors.js';
import { rawCoding } from './choose-layout.js';
import { TRANSFORM_DUPLICATE, TRANSFORM_XOR_DELTA, transformByCode } from '../transform/transform-registry.js';
import { TRANSFORM_BLOCK_FIELDS } from '../transform/block-fields.js';
import { groupQuantStreamProblem, readGroupQuantParams, TRANSFORM_GROUP_QUANT } from '../transform/group-quant-segment.js';

/** Where one chunk lies in the container and what checks it: a CRC-32C of its bytes (versions 1-3) or a digest of its decoded bytes (version 4). */
export interface ChunkRecord {
  offset: number;
  bytes: number;
  /** Versions 1-3: CRC-32C of the chunk's stored bytes (FORMAT.md §7.1); 0 and unused in version 4. */
  crc32c: number;
  /**
   * Version 4: the record's `digest` field as stored: the chunk digest (FORMAT.md §7.5) of the bytes the chunk decodes
   * to, XOR the binding of its place (src/format/chunk-binding.ts); absent in versions 1-3.
   */
  digest?: bigint;
}

/** One stream of a transformed segment (FORMAT.md §3.5): `originalBytes` bytes coded exactly like a segment's values (§3.4). */
export interface StreamRecord {
  originalBytes: number;
  coding: SegmentCoding;
  chunkValues: number;
  chunks: ChunkRecord[];
}

/** How a transformed segment (version 2, segment kind 2) is stored: a transform code, its params and its streams. */
export interface TransformRecord {
  /** Transform code (FORMAT.md §3.5): 1 DUPLICATE, 2 XOR_DELTA, 3+ value transforms of the registry. */
  code: number;
  params: Uint8Array;
  streams: StreamRecord[];
  /** DUPLICATE only: the earlier segment whose bytes this one repeats (member and segment index). */
  target?: { member: number; segment: number };
}

/** A contiguous byte range of an original file: a tensor's data, or other bytes (a header, a whole non-tensor file). */
export interface SegmentRecord {
  kind: 'tensor' | 'bytes';
  /** Tensor name ('' for byte segments). */
  name: string;
  /** safetensors dtype ('' for byte segments). */
  dtype: string;
  shape: number[];
  originalBytes: number;
  /** SHA-256 of the segment's original bytes. */
  sha256: Uint8Array;
  coding: SegmentCoding;
  /** Values per chunk; the last chunk holds the remainder. */
  chunkValues: number;
  /**
   * Set only on the record a reader makes of stream k of a transformed segment to decode it like a segment: k + 1,
   * the stream number its version 4 chunk digests are bound to (FORMAT.md §7.5); absent (0) for a segment.
   */
  stream?: number;
  /** The segment's chunks; none for a transformed segment, whose chunks are its streams'. */
  chunks: ChunkRecord[];
  /**
   * Present for a transformed segment (kind 2 in the index, format version 2): its bytes are the transform's inverse
   * of its decoded streams. `coding` is then a placeholder (raw planes of the value width) and `chunks` is empty.
   */
  transform?: TransformRecord;
  /**
   * Version 11, the first segment of a byte-model group (FORMAT.md §3.4 "Byte-model groups"): the bytes its one chunk
   * decodes to, its own followed by those of the continuations after it. Absent when no continuation follows.
   */
  groupBytes?: number;
  /**
   * Version 11, a continuation (byte-model `primer` 2): it has no chunks; its bytes are those at `offset` of the stream
   * of the group's first segment `leader`.
   */
  group?: { leader: SegmentRecord; offset: number };
}

/** The byte-model primer of a continuation (version 11, FORMAT.md §3.4): the segment's bytes continue its group's stream. */
export const PRIMER_CONTINUATION = 2;

/** Every chunk a segment's bytes come from: its own, or its streams' (in stream order) for a transformed segment. */
export function segmentChunks(seg: SegmentRecord): ChunkRecord[] {
  return seg.transform ? seg.transform.streams.flatMap((st) => st.chunks) : seg.chunks;
}

/** Whether any segment of the index is transformed or has a Huffman-coded plane, which makes the container version 2. */
export function usesTransforms(index: ContainerIndex): boolean {
  const huffman = (c: SegmentCoding): boolean => c.tables.some(isHuffman);
  return index.members.some((m) => m.segments.some((s) => s.transform !== undefined || huffman(s.coding)));
}

/** What a member is (FORMAT.md §3.2 `type`, version 3): a regular file, a symbolic link (its bytes are the target) or an empty folder. */
export type MemberType = 'file' | 'link' | 'folder';

/** What a version 3 member record says beyond path, size and digests (FORMAT.md §3.2); all absent in versions 1 and 2. */
export interface MemberAttributes {
  /** Absent: a regular file. */
  type?: MemberType;
  /** Permission bits (≤ 0o7777), when recorded. */
  mode?: number;
  /** Modification time in microseconds since the Unix epoch (< 2^53), when recorded. */
  mtimeUs?: number;
  /** Version 5: how the member's tensor segments are bound to its bytes; absent for layout 0. */
  layout?: MemberLayout;
  /** The path's bytes when they are not valid UTF-8 (flag bit 2); `path` then shows them with invalid bytes as \xNN. */
  pathBytes?: Uint8Array;
}

/**
 * How a member's tensor segments are bound to its stored bytes (FORMAT.md §3.2 `layout`, version 5): a GGUF file (§4.6),
 * an ONNX model or an ONNX external data file (§4.7); from version 9 a NumPy `.npy` file (§4.8) or a raw array (§4.9).
 * Absent: layout 0, a member whose tensor segments, if any, are those of a safetensors file (§4.4).
 */
export type MemberLayout = 'gguf' | 'onnx' | 'onnx-data' | 'npy' | 'raw-array';

/** Member `layout` codes (FORMAT.md §3.2, version 5; 4 and 5 from version 9). */
export const MEMBER_LAYOUT = { gguf: 1, onnx: 2, 'onnx-data': 3, npy: 4, 'raw-array': 5 } as const;
const MEMBER_LAYOUTS: (MemberLayout | undefined)[] = [undefined, 'gguf', 'onnx', 'onnx-data', 'npy', 'raw-array'];

/** The highest member `layout` code a container of `version` may hold (FORMAT.md §3.2). */
function maxMemberLayout(version: number): number {
  return version >= FORMAT_VERSION_FLOAT_ARRAYS ? MEMBER_LAYOUT['raw-array'] : MEMBER_LAYOUT['onnx-data'];
}

/** One original file: its path inside the input, size, digest and segments in file order. */
export interface MemberRecord extends MemberAttributes {
  path: string;
  originalBytes: number;
  sha256: Uint8Array;
  segments: SegmentRecord[];
  /** Version 3: the SHA-256 of the member's identity (FORMAT.md §7.4), checked against its labels when the index is read. */
  identitySha256?: Uint8Array;
}

/** Member `type` codes (FORMAT.md §3.2). */
export const MEMBER_TYPE = { file: 0, link: 1, folder: 2 } as const;
const MEMBER_TYPES: MemberType[] = ['file', 'link', 'folder'];
/** Member `flags` bits (FORMAT.md §3.2): `mode` present, `mtimeUs` present, `path` is raw bytes. */
export const MEMBER_FLAG_MODE = 1;
export const MEMBER_FLAG_MTIME = 2;
export const MEMBER_FLAG_RAW_PATH = 4;
/** Largest `mode`: the 12 permission bits (rwx for owner, group, others; setuid, setgid, sticky). */
export const MAX_MEMBER_MODE = 0o7777;

/** The `flags` byte of a member record (FORMAT.md §3.2) for what `m` records. */
export function memberFlags(m: MemberAttributes): number {
  return (m.mode !== undefined ? MEMBER_FLAG_MODE : 0) | (m.mtimeUs !== undefined ? MEMBER_FLAG_MTIME : 0) | (m.pathBytes !== undefined ? MEMBER_FLAG_RAW_PATH : 0);
}

/** The bytes of a member path as stored: `pathBytes` for a raw path, else the UTF-8 of `path`. */
export function memberPathBytes(m: { path: string; pathBytes?: Uint8Array }): Uint8Array {
  return m.pathBytes ?? utf8.encode(m.path);
}

/** Whether the container holds one file or a folder of files. */
export type ContainerKind = 'file' | 'folder';

/** The decoded index. */
export interface ContainerIndex {
  kind: ContainerKind;
  members: MemberRecord[];
}

const SEGMENT_KIND = { bytes: 0, tensor: 1 } as const;
/** Plane coding value of a Huffman-coded plane (version 2 only, FORMAT.md §3.4 and §5.4). */
const PLANE_CODING_HUFFMAN = 2;
/** Plane coding value of a byte-model plane (version 8, FORMAT.md §3.4 and §5.5). */
const PLANE_CODING_BYTE_MODEL = 3;
/** Bytes a byte-model chunk may take beyond one per value (FORMAT.md §3.4 "Chunk size bound"). */
const BYTE_MODEL_CHUNK_EXTRA = 8;
/** Plane coding value of a tensor-model plane (version 10, FORMAT.md §3.4 and §5.6). */
const PLANE_CODING_TENSOR_MODEL = 4;
/** Bytes a tensor-model chunk may take beyond its values' bytes (FORMAT.md §3.4 "Chunk size bound"). */
const TENSOR_MODEL_CHUNK_EXTRA = 8;

/** Bytes a Huffman block may take beyond 2 per symbol: its stream sizes and a padded last byte per stream. */
const HUFFMAN_BLOCK_OVERHEAD = 5 * HUFFMAN_STREAMS;

/** Bytes of a chunk record: u32 bytes, then u32 crc32c (versions 1-3) or the u64 chunk digest (version 4). */
const chunkRecordBytes = (version: number): number => (version >= FORMAT_VERSION_DIGESTS ? 12 : 8);
/** The chunk list of every segment read without chunks (frozen: shared by all of them). */
const NO_CHUNKS: ChunkRecord[] = Object.freeze([]) as unknown as ChunkRecord[];

/** Segment kind of a transformed tensor segment (version 2 only). */
const SEGMENT_KIND_TRANSFORMED = 2;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const CONTAINER_KIND = { file: 0, folder: 1 } as const;

/**
 * Serialises the index (FORMAT.md §3.1-§3.4) of a container of `version`: from version 3 each member record carries
 * its identity digest (§7.4): the member's `identitySha256` when it has one (as read), else computed from its labels.
 */
export function writeIndex(index: ContainerIndex, version = 1): Uint8Array {
  const w = new ByteWriter();
  w.u8(CONTAINER_KIND[index.kind]);
  w.u8(0);
  w.u16(0);
  w.u32(index.members.length);
  for (const m of index.members) {
    const pathBytes = memberPathBytes(m);
    w.u16(pathBytes.length);
    w.bytes(pathBytes);
    w.u64(m.originalBytes);
    w.bytes(m.sha256);
    if (version >= FORMAT_VERSION_IDENTITY) {
      w.bytes(m.identitySha256 ?? identityDigest(m, version));
      w.u8(MEMBER_TYPE[m.type ?? 'file']);
      w.u8(memberFlags(m));
      if (m.layout !== undefined && MEMBER_LAYOUT[m.layout] > maxMemberLayout(version)) throw new Error(`internal: member layout '${m.layout}' in a version ${version} container`);
      // Version 5 gives the reserved u16's low byte to `layout`; its high byte stays reserved.
      w.u8(m.layout !== undefined ? MEMBER_LAYOUT[m.layout] : 0);
      w.u8(0);
      w.u32(m.mode ?? 0);
      w.u64(m.mtimeUs ?? 0);
    }
    w.u32(m.segments.length);
    let prevName = new Uint8Array(0);
    for (const s of m.segments) {
      w.u8(s.transform ? SEGMENT_KIND_TRANSFORMED : SEGMENT_KIND[s.kind]);
      // Names are front-coded against the previous segment's name: checkpoints list long shared prefixes.
      const name = utf8.encode(s.name);
      let shared = 0;
      while (shared < 255 && shared < prevName.length && shared < name.length && prevName[shared] === name[shared]) shared++;
      w.u8(shared);
      w.u16(name.length - shared);
      w.bytes(name.subarray(shared));
      prevName = name;
      w.str16(s.dtype);
      w.u8(s.shape.length);
      for (const d of s.shape) w.u64(d);
      w.u64(s.originalBytes);
      // Version 11: the only segment of a member is the member; its SHA-256 is the member's and is not stored twice.
      if (!(version >= FORMAT_VERSION_COMPACT && m.segments.length === 1)) w.bytes(s.sha256);
      if (s.transform) {
        w.u8(s.transform.code);
        w.u32(s.transform.params.length);
        w.bytes(s.transform.params);
        w.u8(s.transform.streams.length);
        for (const st of s.transform.streams) {
          w.u64(st.originalBytes);
          writeCodingRecord(w, st.coding, st.chunkValues, st.chunks, version);
        }
      } else writeCodingRecord(w, s.coding, s.chunkValues, s.chunks, version);
    }
  }
  return w.finish();
}

/** The plane layout record, lanes, chunkValues and chunk table of a segment or stream (FORMAT.md §3.4). */
function writeCodingRecord(w: ByteWriter, coding: SegmentCoding, chunkValues: number, chunks: ChunkRecord[], version: number): void {
  const { layout, tables } = coding;
  w.u8(layout.valueBytes);
  w.u8(layout.planes.length);
  layout.planes.forEach((p, k) => {
    if (p.kind === 'head') {
      w.u8(0);
      w.u8(p.ranges.length);
      for (const r of p.ranges) {
        w.u8(r.lo);
        w.u8(r.width);
      }
    } else {
      w.u8(1);
      w.u8(p.byteIndex);
    }
    const t = tables[k];
    if (coding.byteModel) {
      w.u8(PLANE_CODING_BYTE_MODEL);
      w.u8(coding.byteModel.primer);
      return;
    }
    if (coding.tensorModel) {
      w.u8(PLANE_CODING_TENSOR_MODEL);
      w.u32(coding.tensorModel.rowValues);
      return;
    }
    w.u8(isHuffman(t) ? PLANE_CODING_HUFFMAN : t ? 1 : 0);
    if (isHuffman(t)) writeHuffmanTable(w, t);
    else if (t) writeFreqTable(w, t);
  });
  w.u8(coding.lanes);
  w.u32(chunkValues);
  w.u32(chunks.length);
  const digests = version >= FORMAT_VERSION_DIGESTS;
  for (const c of chunks) {
    w.u32(c.bytes);
    if (!digests) w.u32(c.crc32c);
    else if (c.digest === undefined) throw new Error('internal: a version 4 chunk record without its digest');
    else {
      w.u32(Number(c.digest & 0xffffffffn));
      w.u32(Number(c.digest >> 32n));
    }
  }
}

/** Whether a member path is safe to create under an output folder (no escape, no oddities): versions 1 and 2. */
export function unsafePathReason(path: string): string | undefined {
  if (path.length === 0) return 'empty path';
  if (path.startsWith('/')) return 'absolute path';
  if (/[\\\0:]/.test(path)) return 'path holds a backslash, colon or NUL';
  for (const part of path.split('/')) {
    if (part === '' || part === '.' || part === '..') return `path component '${part}'`;
  }
  return undefined;
}

const SLASH = 0x2f;
const DOT = 0x2e;

/**
 * Why a version 3 member path (its bytes) breaks FORMAT.md §3.2, or undefined: empty, absolute, holding NUL, or with
 * a component that is empty, `.` or `..`. `\` and `:` are allowed: a decoder refuses them where its OS would read
 * them as a separator, drive or stream (file-api.ts nativeNameProblem).
 */
export function unsafePathBytesReason(b: Uint8Array): string | undefined {
  if (b.length === 0) return 'empty path';
  if (b[0] === SLASH) return 'absolute path';
  let start = 0;
  for (let i = 0; i <= b.length; i++) {
    if (i < b.length && b[i] === 0) return 'path holds a NUL';
    if (i < b.length && b[i] !== SLASH) continue;
    const n = i - start;
    if (n === 0) return "path component ''";
    if (n === 1 && b[start] === DOT) return "path component '.'";
    if (n === 2 && b[start] === DOT && b[start + 1] === DOT) return "path component '..'";
    start = i + 1;
  }
  return undefined;
}

/** Bytes as text: valid UTF-8 sequences decoded, every other byte as \xNN (how a raw member path is shown). */
export function displayPath(b: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < b.length) {
    const lead = b[i];
    const n = lead < 0x80 ? 1 : lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (n === 1) {
      out += String.fromCharCode(lead);
      i++;
      continue;
    }
    if (n > 0 && i + n <= b.length) {
      try {
        out += utf8Strict.decode(b.subarray(i, i + n)); // rejects bad continuations, overlong forms and surrogates
        i += n;
        continue;
      } catch {
        // not a character: shown as an escaped byte below
      }
    }
    out += `\\x${lead.toString(16).padStart(2, '0')}`;
    i++;
  }
  return out;
}

/** The UTF-8 text of `b`, or undefined when it is not valid UTF-8. */
export function strictUtf8(b: Uint8Array): string | undefined {
  try {
    return utf8Strict.decode(b);
  } catch {
    return undefined;
  }
}

/**
 * Why a symbolic link member's target breaks FORMAT.md §3.2, or undefined. The target must be non-empty, hold no NUL,
 * be relative, and climb (`..`) only at its start and no higher than the link's own folder; every other component
 * descends. Every link then resolves inside the output folder whatever the other links point to: its climb ends in a
 * real folder inside (no member lies below a link, so the link's folders are real), and each later step either
 * descends into a real entry or through a link that, by the same rule, resolves inside.
 * @param linkPath the link member's path bytes
 */
export function unsafeLinkTargetReason(linkPath: Uint8Array, target: Uint8Array): string | undefined {
  if (target.length === 0) return 'empty link target';
  if (target.includes(0)) return 'link target holds a NUL';
  if (target[0] === SLASH) return 'absolute link target';
  const depth = linkPath.reduce((a, c) => a + (c === SLASH ? 1 : 0), 0);
  let climbs = 0;
  let descended = false;
  let start = 0;
  for (let i = 0; i <= target.length; i++) {
    if (i < target.length && target[i] !== SLASH) continue;
    const up = i - start === 2 && target[start] === DOT && target[start + 1] === DOT;
    if (up && descended) return "link target climbs ('..') after descending";
    if (up) climbs++;
    else descended = true;
    start = i + 1;
  }
  if (climbs > depth) return `link target climbs ${climbs} folders from a link ${depth} folders deep: it leads outside the output folder`;
  return undefined;
}

/** Names Windows reserves for devices, with or without an extension. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[1-9]|lpt[1-9])(\..*)?$/i;

/**
 * Why a member path would not round-trip on every OS, or undefined: not UTF-8, a `\` or `:` (a separator, drive or
 * stream on Windows), another character Windows forbids in names, a name Windows reserves, or one ending in a dot or
 * space (which Windows drops). The writer warns of these; they are valid in version 3.
 */
export function nonPortablePathReason(b: Uint8Array): string | undefined {
  const text = strictUtf8(b);
  if (text === undefined) return 'not valid UTF-8 (restored as written only where names are bytes, as on Linux)';
  if (/[\\:]/.test(text)) return 'holds a \\ or : (a separator, drive or stream on Windows)';
  if (/[<>"|?*\x01-\x1f]/.test(text)) return 'holds a character Windows forbids in names';
  for (const part of text.split('/')) {
    if (WINDOWS_RESERVED.test(part)) return `component '${part}' is a name Windows reserves`;
    if (/[. ]$/.test(part)) return `component '${part}' ends in a dot or space, which Windows drops`;
  }
  return undefined;
}

/**
 * Parses and validates the index read from `bytes` (which start at container offset `base`, or, when
 * `decodedLabel` is given, were decoded from a block at `base`: errors then report `base` and the position).
 * Chunks must tile the data region [HEADER_BYTES, dataEnd) in index order, so every byte of the
 * container is covered by some checksum. `version` (the header's) decides whether transformed segments may occur.
 * `owned`: `bytes` is the caller's to give away (nothing else holds or changes it), so the index keeps it instead of a
 * private copy (one index's worth of memory less at the peak of opening a container).
 * @throws CORRUPT_INDEX / LIMIT_EXCEEDED / BAD_PATH with the offset of the offending field
 */
export function readIndex(bytes: Uint8Array, base: number, dataEnd: number, file?: string, decodedLabel?: string, version = 1, owned = false): ContainerIndex {
  // Memory per record matters: a hostile index of 256 MiB holds 4 million 63-byte segment records, and at the
  // ~1.1 KB each they used to take, parsing it ran out of heap (a fatal crash, not an error). So the digests are
  // views of one private copy of the index rather than a buffer each, and a segment whose coding record (layout,
  // tables, lanes) repeats an earlier one byte for byte shares that segment's coding object.
  const own = owned ? bytes : bytes.slice();
  const r = new ByteReader(own, base, file, 'CORRUPT_INDEX', decodedLabel);
  const state: ReadState = { own, codings: new BytesMap<SegmentCoding>(), layouts: new BytesMap<PlaneLayout>(), nextChunk: HEADER_BYTES, dataEnd, version };
  const kindCode = r.u8('container kind');
  const kind = kindCode === 0 ? 'file' : kindCode === 1 ? 'folder' : r.fail(`container kind ${kindCode}`, r.pos - 1);
  const reservedAt = r.pos;
  const reserved8 = r.u8('reserved');
  const reserved16 = r.u16('reserved');
  if (reserved8 !== 0 || reserved16 !== 0) r.fail('reserved index field is not zero', reservedAt);
  const memberCount = r.u32('member count');
  if (memberCount > MAX_MEMBERS) limit(r, `${memberCount} members, limit ${MAX_MEMBERS}`);
  if (kind === 'file' && memberCount !== 1) r.fail(`a single-file container holds ${memberCount} members`);
  const members: MemberRecord[] = [];
  // Key of each path (the path; in version 3 its bytes as latin1, since two raw paths may show alike) -> path as shown.
  const paths = new Map<string, string>();
  /** The version 11 byte-model segments of one chunk in the current member (possible group starts) and their records' offsets. */
  const groupStarts: { seg: SegmentRecord; at: number }[] = [];
  for (let mi = 0; mi < memberCount; mi++) {
    const pathAt = r.pos;
    let path: string;
    let key: string;
    let attrs: MemberAttributes = {};
    let originalBytes: number;
    let identitySha256: Uint8Array | undefined;
    let sha256: Uint8Array;
    let identityAt: number;
    if (version < FORMAT_VERSION_IDENTITY) {
      path = r.str16(MAX_NAME_BYTES, 'member path');
      const bad = unsafePathReason(path) ?? (kind === 'file' && path.includes('/') ? 'file member path has a /' : undefined);
      if (bad) throw pathError(r, `${bad}: '${path}'`, pathAt);
      key = path;
      originalBytes = r.u64('member size');
      sha256 = r.bytes(32, 'member sha256');
      identityAt = r.pos;
    } else {
      // The path's encoding (UTF-8 or raw bytes) is in the flags after it: its rules are checked once they are read.
      const n = r.u16('member path length');
      if (n > MAX_NAME_BYTES) r.fail(`member path is ${n} bytes, limit ${MAX_NAME_BYTES}`, pathAt);
      const pathBytes = r.bytes(n, 'member path');
      originalBytes = r.u64('member size');
      sha256 = r.bytes(32, 'member sha256');
      identityAt = r.pos;
      identitySha256 = r.bytes(32, 'member identity sha256');
      attrs = readMemberAttributes(r, kind, originalBytes, version);
      const text = attrs.pathBytes === undefined ? strictUtf8(pathBytes) : undefined;
      if (attrs.pathBytes === undefined && text === undefined) r.fail('member path is not valid UTF-8 (flag bit 2 is clear)', pathAt + 2);
      if (attrs.pathBytes !== undefined) attrs.pathBytes = pathBytes;
      path = text ?? displayPath(pathBytes);
      const bad = unsafePathBytesReason(pathBytes) ?? (kind === 'file' && pathBytes.includes(SLASH) ? 'file member path has a /' : undefined);
      if (bad) throw pathError(r, `${bad}: '${path}'`, pathAt);
      key = latin1(pathBytes);
    }
    if (paths.has(key)) throw pathError(r, `member path '${path}' appears twice`, pathAt);
    paths.set(key, path);
    const segCountAt = r.pos;
    const segCount = r.u32('segment count');
    if (segCount > MAX_SEGMENTS) limit(r, `${segCount} segments, limit ${MAX_SEGMENTS}`);
    if (attrs.type === 'folder' && segCount !== 0) r.fail(`folder member '${path}' with ${segCount} segments`, segCountAt);
    const segments: SegmentRecord[] = [];
    /** The member's last segment so far coded with the byte model, primer 0 or 2: where a continuation's group is. */
    let lastModelled: SegmentRecord | undefined;
    let covered = 0;
    let prevName = new Uint8Array(0);
    for (let si = 0; si < segCount; si++) {
      const segAt = r.pos;
      const kc = r.u8('segment kind');
      const skind = kc === 0 ? 'bytes' : kc === 1 ? 'tensor' : kc === SEGMENT_KIND_TRANSFORMED && version >= 2 ? 'transformed' : r.fail(`segment kind ${kc}`, segAt);
      const nameAt = r.pos;
      const shared = r.u8('shared name prefix');
      if (shared > prevName.length) r.fail(`name shares ${shared} bytes with a ${prevName.length}-byte previous name`, nameAt);
      const suffixBytes = r.u16('name suffix length');
      if (shared + suffixBytes > MAX_NAME_BYTES) limit(r, `tensor name of ${shared + suffixBytes} bytes, limit ${MAX_NAME_BYTES}`);
      const nameBytes = new Uint8Array(shared + suffixBytes);
      nameBytes.set(prevName.subarray(0, shared), 0);
      nameBytes.set(r.bytes(suffixBytes, 'name suffix'), shared);
      prevName = nameBytes;
      let name: string;
      try {
        name = utf8Strict.decode(nameBytes);
      } catch {
        return r.fail('tensor name is not valid UTF-8', nameAt);
      }
      const dtype = r.str16(MAX_DTYPE_BYTES, 'dtype');
      const rank = r.u8('rank');
      if (rank > MAX_RANK) limit(r, `rank ${rank}, limit ${MAX_RANK}`);
      const shape: number[] = new Array(rank); // not grown by push(): that keeps room for 17
      let elements = 1;
      for (let d = 0; d < rank; d++) {
        const dim = r.u64('dimension');
        elements *= dim;
        if (!Number.isSafeInteger(elements)) r.fail(`shape product overflows 2^53`);
        shape[d] = dim;
      }
      const segBytes = r.u64('segment size');
      const segSha = version >= FORMAT_VERSION_COMPACT && segCount === 1 ? sha256 : r.bytes(32, 'segment sha256');
      const known = skind === 'bytes' ? undefined : dtypeBytes(dtype);
      if (skind === 'transformed') {
        const transform = readTransformRecord(r, state, { members, segments, memberIndex: mi, dtype, shape, segBytes, segSha, segAt, name });
        const W = known ?? 1;
        if (known !== undefined && elements * known !== segBytes) r.fail(`shape [${shape}] of ${dtype} is ${elements * known} bytes, segment is ${segBytes}`, segAt);
        covered += segBytes;
        segments.push({ kind: 'tensor', name, dtype, shape, originalBytes: segBytes, sha256: segSha, coding: rawCoding(W), chunkValues: 1, chunks: [], transform });
        continue;
      }
      const { coding, chunkValues, chunks } = readCodingRecord(r, state, segBytes, (valueBytes, layoutAt) => {
        if (skind === 'bytes' && (name !== '' || dtype !== '' || rank !== 0)) {
          r.fail('byte segment with a name, dtype or shape', segAt);
        }
        if (known !== undefined) {
          if (valueBytes !== known) r.fail(`${dtype} values are ${known} bytes, layout says ${valueBytes}`, layoutAt);
          if (elements * known !== segBytes) r.fail(`shape [${shape}] of ${dtype} is ${elements * known} bytes, segment is ${segBytes}`, segAt);
        } else if (valueBytes !== 1) r.fail(`untyped segment with ${valueBytes}-byte values`, layoutAt);
      }, true);
      if (coding.byteModel?.primer === 1 && (si !== 0 || skind !== 'bytes')) r.fail('a primed byte-model plane in a segment other than the first segment of its member, a byte segment', segAt);
      covered += segBytes;
      const record: SegmentRecord = { kind: skind, name, dtype, shape, originalBytes: segBytes, sha256: segSha, coding, chunkValues, chunks };
      if (coding.byteModel?.primer === PRIMER_CONTINUATION) record.group = continueGroup(r, lastModelled, segBytes, segAt);
      if (coding.byteModel !== undefined && coding.byteModel.primer !== 1) lastModelled = record;
      if (coding.byteModel?.primer === 0 && chunks.length === 1 && version >= FORMAT_VERSION_COMPACT) groupStarts.push({ seg: record, at: segAt });
      segments.push(record);
    }
    // Each byte-model chunk that may hold a group (version 11) against the bound of its group's bytes (FORMAT.md §3.4).
    for (const { seg, at } of groupStarts.splice(0)) {
      const n = seg.groupBytes ?? seg.originalBytes;
      if (seg.chunks[0].bytes > n + BYTE_MODEL_CHUNK_EXTRA) r.fail(`a byte-model chunk of ${seg.chunks[0].bytes} bytes exceeds the bound for ${n} values`, at);
    }
    // A primed header's primer comes from the labels of the member's tensor segments (FORMAT.md §4.4), built on first use.
    if (segments.length > 0 && segments[0].coding.byteModel?.primer === 1) segments[0].coding = primedCoding(segments[0].coding, segments);
    if (covered !== originalBytes) r.fail(`segments of '${path}' cover ${covered} bytes, member is ${originalBytes}`, pathAt);
    const member: MemberRecord = { path, originalBytes, sha256, segments, ...attrs };
    if (identitySha256) {
      // Every label of the member (its path, each segment's name, dtype, shape and size) is bound to the byte digests here.
      if (!sameBytes(identityDigest(member, version), identitySha256)) {
        throw new FormatError('LABEL_MISMATCH', r.describe(`the labels of member '${path}' (its path, or a segment's name, dtype, shape or size) do not give its identity digest`, identityAt), { file: r.file, offset: r.offsetOf(identityAt) });
      }
      member.identitySha256 = identitySha256;
    }
    members.push(member);
  }
  if (state.nextChunk !== dataEnd) r.fail(`chunks end at ${state.nextChunk}, data region ends at ${dataEnd}`);
  const clash = folderClash(paths.keys());
  if (clash) throw pathError(r, `member '${paths.get(clash[0])}' is also a folder of '${paths.get(clash[1])}'`, 0);
  if (r.remaining !== 0) r.fail(`${r.remaining} bytes after the last index record`);
  return { kind, members };
}

/**
 * The place of a continuation (byte-model `primer` 2, version 11) of `segBytes` bytes in its group (FORMAT.md §3.4):
 * `prev`, the member's last earlier segment coded with the byte model with primer 0 or 2, must exist; its group's first
 * segment (itself, for primer 0) has exactly one chunk, whose `chunkValues` holds the whole group. Grows the first
 * segment's groupBytes.
 * @throws CORRUPT_INDEX
 */
function continueGroup(r: ByteReader, prev: SegmentRecord | undefined, segBytes: number, at: number): { leader: SegmentRecord; offset: number } {
  if (!prev) return r.fail('a byte-model continuation (primer 2) with no earlier byte-model segment of primer 0 or 2 in its member', at);
  const leader = prev.group?.leader ?? prev;
  if (leader.chunks.length !== 1) r.fail(`a byte-model continuation in a group whose first segment has ${leader.chunks.length} chunks, not 1`, at);
  const offset = leader.groupBytes ?? leader.originalBytes;
  if (offset + segBytes > leader.chunkValues) r.fail(`a byte-model group of ${offset + segBytes} bytes, above its first segment's chunkValues ${leader.chunkValues}`, at);
  leader.groupBytes = offset + segBytes;
  return { leader, offset };
}

/**
 * Reads a version 3 member's type, flags, reserved field, mode and modification time (FORMAT.md §3.2). `pathBytes`
 * in the result is a placeholder (an empty array) when flag bit 2 is set: the caller puts the path's bytes there.
 * @throws CORRUPT_INDEX; LIMIT_EXCEEDED for a link target above MAX_NAME_BYTES
 */
function readMemberAttributes(r: ByteReader, kind: ContainerKind, originalBytes: number, version: number): MemberAttributes {
  const typeAt = r.pos;
  const code = r.u8('member type');
  const type = MEMBER_TYPES[code] ?? r.fail(`member type ${code}`, typeAt);
  if (kind === 'file' && type !== 'file') r.fail(`a single-file container's member is a ${type === 'link' ? 'symbolic link' : 'folder'}`, typeAt);
  if (type === 'folder' && originalBytes !== 0) r.fail(`folder member of ${originalBytes} bytes`, typeAt);
  if (type === 'link' && originalBytes === 0) r.fail('symbolic link member with an empty target', typeAt);
  if (type === 'link' && originalBytes > MAX_NAME_BYTES) limit(r, `symbolic link target of ${originalBytes} bytes, limit ${MAX_NAME_BYTES}`);
  const flagsAt = r.pos;
  const flags = r.u8('member flags');
  if ((flags & ~(MEMBER_FLAG_MODE | MEMBER_FLAG_MTIME | MEMBER_FLAG_RAW_PATH)) !== 0) r.fail(`member flags 0x${flags.toString(16)} set reserved bits`, flagsAt);
  let layout: MemberLayout | undefined;
  if (version >= FORMAT_VERSION_LAYOUTS) {
    const layoutAt = r.pos;
    const code = r.u8('member layout');
    if (code > maxMemberLayout(version)) r.fail(`member layout ${code} (layouts are 0 to ${maxMemberLayout(version)} in version ${version})`, layoutAt);
    layout = MEMBER_LAYOUTS[code];
    if (layout !== undefined && type !== 'file') r.fail(`a ${type === 'link' ? 'symbolic link' : 'folder'} member with layout ${code}`, layoutAt);
    if (r.u8('reserved') !== 0) r.fail('reserved member field is not zero', r.pos - 1);
  } else if (r.u16('reserved') !== 0) r.fail('reserved member field is not zero', r.pos - 2);
  const modeAt = r.pos;
  const mode = r.u32('member mode');
  if (mode > MAX_MEMBER_MODE) r.fail(`member mode 0o${mode.toString(8)} exceeds 0o7777`, modeAt);
  if (mode !== 0 && (flags & MEMBER_FLAG_MODE) === 0) r.fail(`member mode 0o${mode.toString(8)} with flag bit 0 clear`, modeAt);
  const mtimeAt = r.pos;
  const mtimeUs = r.u64('member mtimeUs');
  if (mtimeUs !== 0 && (flags & MEMBER_FLAG_MTIME) === 0) r.fail(`member mtimeUs ${mtimeUs} with flag bit 1 clear`, mtimeAt);
  const attrs: MemberAttributes = {};
  if (type !== 'file') attrs.type = type;
  if (flags & MEMBER_FLAG_MODE) attrs.mode = mode;
  if (flags & MEMBER_FLAG_MTIME) attrs.mtimeUs = mtimeUs;
  if (flags & MEMBER_FLAG_RAW_PATH) attrs.pathBytes = new Uint8Array(0);
  if (layout !== undefined) attrs.layout = layout;
  return attrs;
}

/** What readIndex carries from record to record. */
interface ReadState {
  /** The private copy of the index that digests and params are views of. */
  own: Uint8Array;
  /** Coding records seen so far, by their bytes (shared objects save memory on hostile indexes). */
  codings: BytesMap<SegmentCoding>;
  /** Plane layouts seen so far, by their bytes without the tables. */
  layouts: BytesMap<PlaneLayout>;
  /** Where the next chunk starts: chunks tile the data region in index order. */
  nextChunk: number;
  dataEnd: number;
  /** The container's version: Huffman-coded planes (plane coding 2) exist from version 2. */
  version: number;
}

/**
 * Reads a plane layout record, lanes, chunkValues and chunk table (FORMAT.md §3.4) of `totalBytes` original bytes.
 * `checkKind` runs after the layout (and lanes) are read and checked, before chunkValues: the kind rules of §3.3.
 */
function readCodingRecord(
  r: ByteReader,
  state: ReadState,
  totalBytes: number,
  checkKind: (valueBytes: number, layoutAt: number) => void,
  segment = false,
): { coding: SegmentCoding; chunkValues: number; chunks: ChunkRecord[] } {
  const layoutAt = r.pos;
  const valueBytes = r.u8('value bytes');
  const planeCount = r.u8('plane count');
  // Arrays are made at their final length: one grown by push() keeps room for 17 elements, 152 bytes per array.
  const planes: PlaneSpec[] = new Array(planeCount);
  let rans = 0;
  let huffman = 0;
  /** The byte model's primer (0 or 1) when the single plane is byte-model coded (version 8), else -1. */
  let byteModel = -1;
  /** Planes coded with the tensor model (version 10) and the row length their records give (all the same), else 0. */
  let tensorPlanes = 0;
  let rowValues = 0;
  /** Width of each raw plane: its bytes in a chunk of n values are ⌈n·b/8⌉ (n when b = 8). */
  const rawBits: number[] = [];
  // The layout's bytes without the tables: segments with the same layout share one layout object.
  const layoutKey: number[] = [valueBytes, planeCount];
  for (let p = 0; p < planeCount; p++) {
    const planeAt = r.pos;
    const pk = r.u8('plane kind');
    let spec: PlaneSpec;
    if (pk === 0) {
      const rc = r.u8('range count');
      const ranges: BitRange[] = new Array(rc);
      for (let k = 0; k < rc; k++) ranges[k] = { lo: r.u8('range lo'), width: r.u8('range width') };
      spec = { kind: 'head', ranges };
    } else if (pk === 1) spec = { kind: 'byte', byteIndex: r.u8('byte index') };
    else return r.fail(`plane kind ${pk}`, r.pos - 1);
    planes[p] = spec;
    const codingAt = r.pos;
    const coding = r.u8('plane coding');
    for (let i = planeAt; i < r.pos; i++) layoutKey.push(state.own[i]);
    // Tables are checked here, nothing kept: StoredCoding finds them again in the index copy when they are used.
    if (coding === 1) {
      if (!codablePlane(spec)) r.fail(`a ${planeBits(spec)}-bit plane cannot be rANS-coded`, codingAt);
      checkFreqTable(r, planeBits(spec));
      rans++;
    } else if (coding === 0) {
      // Raw planes are 8 bits wide; from version 4 a head plane of 1 to 8 bits may be raw too (packed, §6).
      const packable = state.version >= FORMAT_VERSION_DIGESTS && spec.kind === 'head' && planeBits(spec) >= 1 && planeBits(spec) <= 8;
      if (planeBits(spec) !== 8 && !packable) r.fail(`a ${planeBits(spec)}-bit plane cannot be stored raw`, codingAt);
      rawBits.push(planeBits(spec));
    } else if (coding === PLANE_CODING_HUFFMAN && state.version >= 2) {
      if (planeBits(spec) !== 8) r.fail(`a ${planeBits(spec)}-bit plane cannot be Huffman-coded`, codingAt);
      checkHuffmanTable(r);
      huffman++;
    } else if (coding === PLANE_CODING_BYTE_MODEL && state.version >= FORMAT_VERSION_BYTE_MODEL) {
      if (!segment) r.fail('a byte-model plane in a transform stream', codingAt);
      if (valueBytes !== 1 || planeCount !== 1 || planeBits(spec) !== 8) r.fail('a byte-model plane must be the only plane of 1-byte values', codingAt);
      const primer = r.u8('byte-model primer');
      if (primer > (state.version >= FORMAT_VERSION_COMPACT ? PRIMER_CONTINUATION : 1)) r.fail(`byte-model primer ${primer}`, r.pos - 1);
      byteModel = primer;
    } else if (coding === PLANE_CODING_TENSOR_MODEL && state.version >= FORMAT_VERSION_CM) {
      if (!segment) r.fail('a tensor-model plane in a transform stream', codingAt);
      if (valueBytes < 2 || planeBits(spec) > 8) r.fail(`a ${planeBits(spec)}-bit plane of ${valueBytes}-byte values cannot be coded with the tensor model`, codingAt);
      const rowAt = r.pos;
      const row = r.u32('tensor-model row values');
      if (row < 1) r.fail('tensor-model row of 0 values', rowAt);
      if (tensorPlanes > 0 && row !== rowValues) r.fail(`tensor-model planes give rows of ${rowValues} and ${row} values`, rowAt);
      rowValues = row;
      tensorPlanes++;
    } else r.fail(`plane coding ${coding}`, codingAt);
  }
  if (huffman > 0 && rans > 0) r.fail('a segment mixes rANS- and Huffman-coded planes', layoutAt);
  if (tensorPlanes > 0 && tensorPlanes !== planeCount) r.fail('a segment mixes tensor-model planes with other codings', layoutAt);
  const lanesAt = r.pos;
  const lanes = r.u8('lane count');
  if (!validLaneCount(lanes)) r.fail(`lane count ${lanes} is not a power of two from 1 to 32`, lanesAt);
  if (tensorPlanes > 0 && lanes !== 1) r.fail(`lane count ${lanes} in a tensor-model segment, which has no lanes (must be 1)`, lanesAt);
  const layoutBytes = Uint8Array.from(layoutKey);
  let layout = state.layouts.get(layoutBytes);
  if (!layout) {
    layout = { valueBytes, planes };
    const layoutProblem = checkLayout(layout);
    if (layoutProblem) r.fail(`plane layout: ${layoutProblem}`, layoutAt);
    if (state.layouts.size >= MAX_SHARED_CODINGS) state.layouts.clear();
    state.layouts.set(layoutBytes, layout);
  }
  const codingKey = state.own.subarray(layoutAt, r.pos);
  let coding = state.codings.get(codingKey);
  if (!coding) {
    coding = new StoredCoding(layout, lanes, state.own, layoutAt);
    if (byteModel >= 0) coding.byteModel = { primer: byteModel };
    if (tensorPlanes > 0) coding.tensorModel = { rowValues };
    if (state.codings.size >= MAX_SHARED_CODINGS) state.codings.clear();
    state.codings.set(codingKey, coding);
  }
  checkKind(valueBytes, layoutAt);
  const values = totalBytes / valueBytes;
  const chunkValues = r.u32('chunk values');
  if (chunkValues < 1) r.fail('chunk of 0 values', r.pos - 4);
  if (chunkValues > MAX_CHUNK_VALUES) limit(r, `chunk of ${chunkValues} values, limit ${MAX_CHUNK_VALUES}`);
  const chunkCount = r.u32('chunk count');
  if (chunkCount > MAX_CHUNKS) limit(r, `${chunkCount} chunks, limit ${MAX_CHUNKS}`);
  if (byteModel === PRIMER_CONTINUATION) {
    // A continuation's bytes are in its group's stream (FORMAT.md §3.4): it has no chunks of its own.
    if (chunkValues !== 1 || chunkCount !== 0) r.fail(`a byte-model continuation with chunkValues ${chunkValues} and ${chunkCount} chunks, not 1 and 0`, r.pos - 8);
  } else if (chunkCount !== Math.ceil(values / chunkValues)) {
    r.fail(`${chunkCount} chunks for ${values} values at ${chunkValues} per chunk`, r.pos - 4);
  }
  // Largest valid chunk: lane states + one word per coded symbol (a Huffman code is at most 11 bits) + raw planes
  // (packed when narrower than 8 bits), plus per Huffman block its stream sizes and a partial last byte per stream.
  const blockExtra = huffman * HUFFMAN_BLOCK_OVERHEAD;
  const boundOf = (n: number): number =>
    byteModel >= 0 ? n + BYTE_MODEL_CHUNK_EXTRA : tensorPlanes > 0 ? n * valueBytes + TENSOR_MODEL_CHUNK_EXTRA : lanes * 4 + n * 2 * (rans + huffman) + rawBits.reduce((a, b) => a + packedBytes(n, b), 0) + blockExtra;
  // Every chunk but the last holds chunkValues values: their bound is computed once.
  const fullBound = boundOf(chunkValues);
  const maxChunkBytes = (n: number): number => (n === chunkValues ? fullBound : boundOf(n));
  // At its final length when the records are there to fill it (a short index fails at the first missing record).
  // Segments without chunks share one frozen empty list.
  const digests = state.version >= FORMAT_VERSION_DIGESTS;
  const chunks: ChunkRecord[] = chunkCount === 0 ? NO_CHUNKS : chunkCount * chunkRecordBytes(state.version) <= r.remaining ? new Array(chunkCount) : [];
  for (let c = 0; c < chunkCount; c++) {
    const at = r.pos;
    const offset = state.nextChunk; // chunks tile the data region in index order
    const cbytes = r.u32('chunk bytes');
    // Version 4: the digest is a full 64-bit value (FORMAT.md §3.4), not a u64 bounded by 2^53.
    const crc = digests ? 0 : r.u32('chunk crc32c');
    const digest = digests ? BigInt(r.u32('chunk digest')) | (BigInt(r.u32('chunk digest')) << 32n) : undefined;
    const n = Math.min(chunkValues, values - c * chunkValues);
    // Version 11: a byte-model segment's only chunk may hold its group's bytes too; its bound is checked once the
    // group's continuations are read (readIndex).
    const grouped = byteModel === 0 && chunkCount === 1 && state.version >= FORMAT_VERSION_COMPACT;
    if (!grouped && cbytes > maxChunkBytes(n)) r.fail(`chunk of ${cbytes} bytes exceeds the bound for ${n} values`, at);
    state.nextChunk = offset + cbytes;
    if (state.nextChunk > state.dataEnd) r.fail(`chunk ends at ${state.nextChunk}, past the data region end ${state.dataEnd}`, at);
    chunks[c] = digest === undefined ? { offset, bytes: cbytes, crc32c: crc } : { offset, bytes: cbytes, crc32c: crc, digest };
  }
  return { coding, chunkValues, chunks };
}

/**
 * A coding record read from an index (FORMAT.md §3.4). Its tables are not kept: `tables` reads them again from the
 * index copy, as StoredFreqTable / StoredHuffmanTable objects whose arrays are built on first use (stored-tables.ts),
 * so a segment costs a few objects whatever its tables' alphabets. Structured cloning drops `tables` (a prototype
 * getter) and the private fields: a coding travels to a worker as plainCoding(coding).
 */
class StoredCoding implements SegmentCoding {
  readonly #index: Uint8Array;
  readonly #at: number;
  byteModel?: ByteModelCoding;
  tensorModel?: TensorModelCoding;

  /** @param at where the record (its value bytes field) starts in `index`, which readCodingRecord checked */
  constructor(readonly layout: PlaneLayout, readonly lanes: number, index: Uint8Array, at: number) {
    this.#index = index;
    this.#at = at;
  }

  get tables(): (PlaneTable | undefined)[] {
    const r = new ByteReader(this.#index, 0, undefined, 'CORRUPT_INDEX');
    r.pos = this.#at + 2; // value bytes, plane count
    const planes = this.layout.planes;
    const tables: (PlaneTable | undefined)[] = new Array(planes.length);
    for (let p = 0; p < planes.length; p++) {
      r.pos += planes[p].kind === 'head' ? 2 + 2 * (planes[p] as { ranges: BitRange[] }).ranges.length : 2;
      const coding = r.u8();
      const at = r.pos;
      const bits = planeBits(planes[p]);
      if (coding === 1) tables[p] = new StoredFreqTable(this.#index, at, bits, checkFreqTable(r, bits));
      else if (coding === PLANE_CODING_HUFFMAN) {
        checkHuffmanTable(r);
        tables[p] = new StoredHuffmanTable(this.#index, at);
      } else {
        if (coding === PLANE_CODING_TENSOR_MODEL) r.pos += 4; // its row length, not a table
        tables[p] = undefined;
      }
    }
    return tables;
  }
}

/**
 * The coding of a member's first segment whose byte-model plane is primed (FORMAT.md §4.4 "Header primer"): its primer,
 * generated on first use from the labels of the member's tensor segments (kinds 1 and 2) in record order.
 */
function primedCoding(coding: SegmentCoding, segments: readonly SegmentRecord[]): SegmentCoding {
  let bytes: Uint8Array | undefined;
  const byteModel: ByteModelCoding = {
    primer: 1,
    get primerBytes(): Uint8Array {
      bytes ??= safetensorsPrimer(segments.filter((s) => s.kind === 'tensor'));
      return bytes;
    },
  };
  return { layout: coding.layout, lanes: coding.lanes, get tables() { return coding.tables; }, byteModel };
}

/** The common fields of a transformed segment and where it sits, for the checks of its transform record. */
interface TransformedSegment {
  members: MemberRecord[];
  /** The current member's segments read so far. */
  segments: SegmentRecord[];
  memberIndex: number;
  name: string;
  dtype: string;
  shape: number[];
  segBytes: number;
  segSha: Uint8Array;
  segAt: number;
}

/** Bytes of DUPLICATE params: u32 member index, u32 segment index. */
const DUPLICATE_PARAM_BYTES = 8;
/** Bytes of XOR_DELTA params: the SHA-256 of the reference tensor's bytes. */
const XOR_DELTA_PARAM_BYTES = 32;

/**
 * Reads the transform record of a transformed segment (FORMAT.md §3.5): transform, params, streams. DUPLICATE and
 * XOR_DELTA params and stream counts are checked here; a value transform's params are checked by its inverse.
 * @throws CORRUPT_INDEX, CORRUPT_TRANSFORM, LIMIT_EXCEEDED
 */
function readTransformRecord(r: ByteReader, state: ReadState, seg: TransformedSegment): TransformRecord {
  const codeAt = r.pos;
  const code = r.u8('transform');
  if (code !== TRANSFORM_DUPLICATE && code !== TRANSFORM_XOR_DELTA && !transformByCode(code)) r.fail(`unknown transform ${code}`, codeAt);
  if (code === TRANSFORM_BLOCK_FIELDS && state.version < FORMAT_VERSION_LAYOUTS) r.fail(`transform ${code} (BLOCK_FIELDS) in a version ${state.version} container: it is version 5`, codeAt);
  // DUPLICATE and XOR_DELTA decode chunk by chunk: only the value transforms hold a whole tensor and its streams.
  const whole = code !== TRANSFORM_DUPLICATE && code !== TRANSFORM_XOR_DELTA;
  if (whole && seg.segBytes > MAX_TRANSFORM_BYTES) {
    limit(r, `transformed segment of ${seg.segBytes} bytes, limit ${MAX_TRANSFORM_BYTES}`);
  }
  const paramsAt = r.pos;
  const paramBytes = r.u32('param bytes');
  if (paramBytes > MAX_TRANSFORM_PARAM_BYTES) limit(r, `transform params of ${paramBytes} bytes, limit ${MAX_TRANSFORM_PARAM_BYTES}`);
  const params = r.bytes(paramBytes, 'transform params');
  const streamsAt = r.pos;
  const streamCount = r.u8('stream count');
  if (streamCount > MAX_TRANSFORM_STREAMS) limit(r, `${streamCount} streams, limit ${MAX_TRANSFORM_STREAMS}`);
  const bad = (problem: string, at: number): never => {
    throw new FormatError('CORRUPT_TRANSFORM', r.describe(problem, at), { file: r.file, offset: r.offsetOf(at) });
  };
  let target: TransformRecord['target'];
  if (code === TRANSFORM_DUPLICATE) {
    if (paramBytes !== DUPLICATE_PARAM_BYTES) bad(`DUPLICATE params of ${paramBytes} bytes, not ${DUPLICATE_PARAM_BYTES}`, paramsAt);
    if (streamCount !== 0) bad(`DUPLICATE segment with ${streamCount} streams`, streamsAt);
    const dv = new DataView(params.buffer, params.byteOffset, params.byteLength);
    const member = dv.getUint32(0, true);
    const segment = dv.getUint32(4, true);
    const earlier =
      member < seg.memberIndex ? seg.members[member]?.segments[segment] : member === seg.memberIndex ? seg.segments[segment] : undefined;
    if (!earlier) bad(`DUPLICATE of segment ${segment} of member ${member}, which is not an earlier segment`, paramsAt + 4);
    if (earlier!.kind !== 'tensor' || earlier!.transform?.code === TRANSFORM_DUPLICATE) {
      bad(`DUPLICATE of segment ${segment} of member ${member}, which is not a tensor stored with its own data`, paramsAt + 4);
    }
    const e = earlier!;
    if (e.dtype !== seg.dtype || e.originalBytes !== seg.segBytes || e.shape.length !== seg.shape.length || e.shape.some((d, k) => d !== seg.shape[k]) || !sameBytes(e.sha256, seg.segSha)) {
      bad(`DUPLICATE of '${e.name}', whose dtype, shape, size or SHA-256 differ`, paramsAt + 4);
    }
    target = { member, segment };
    return { code, params, streams: [], target };
  }
  if (code === TRANSFORM_XOR_DELTA) {
    if (paramBytes !== XOR_DELTA_PARAM_BYTES) bad(`XOR_DELTA params of ${paramBytes} bytes, not ${XOR_DELTA_PARAM_BYTES}`, paramsAt);
    if (streamCount !== 1) bad(`XOR_DELTA segment with ${streamCount} streams, not 1`, streamsAt);
  } else if (streamCount === 0) bad(`transform ${code} with no streams`, streamsAt);
  if (code === TRANSFORM_GROUP_QUANT) {
    if (state.version < FORMAT_VERSION_LOSSY) bad(`transform ${code} (GROUP_QUANT) in a version ${state.version} container: it is version ${FORMAT_VERSION_LOSSY}`, codeAt);
    // The params are labels that `info` shows before any decode: checked here, with the index.
    const p = readGroupQuantParams(params, state.version);
    if (typeof p === 'string') bad(`GROUP_QUANT ${p}`, paramsAt);
    const problem = groupQuantStreamProblem(streamCount, -1, 0);
    if (problem) bad(problem, streamsAt);
  }
  const W = dtypeBytes(seg.dtype) ?? 1;
  const streams: StreamRecord[] = [];
  let total = 0;
  for (let k = 0; k < streamCount; k++) {
    const sizeAt = r.pos;
    const streamBytes = r.u64('stream size');
    total += streamBytes;
    if (whole && total > MAX_TRANSFORM_BYTES) limit(r, `streams of ${total} bytes in all, limit ${MAX_TRANSFORM_BYTES}`);
    const rec = readCodingRecord(r, state, streamBytes, (valueBytes, layoutAt) => {
      if (streamBytes % valueBytes !== 0) r.fail(`stream of ${streamBytes} bytes is not a whole number of ${valueBytes}-byte values`, sizeAt);
      if (code === TRANSFORM_XOR_DELTA) {
        if (streamBytes !== seg.segBytes) bad(`XOR_DELTA stream of ${streamBytes} bytes for a ${seg.segBytes}-byte tensor`, sizeAt);
        if (valueBytes !== W) r.fail(`XOR_DELTA stream of ${valueBytes}-byte values for ${W}-byte values`, layoutAt);
      }
      const lossyProblem = code === TRANSFORM_GROUP_QUANT ? groupQuantStreamProblem(streamCount, k, valueBytes) : undefined;
      if (lossyProblem) bad(lossyProblem, layoutAt);
    });
    streams.push({ originalBytes: streamBytes, ...rec });
  }
  return { code, params, streams };
}

/** Distinct coding records remembered for sharing while one index is read (a bound on the cache itself). */
const MAX_SHARED_CODINGS = 4096;

/**
 * A map keyed by byte strings: entries are found by a 32-bit FNV-1a hash of the key and confirmed byte for byte, so
 * equal bytes always find the same entry. Keys are kept as given (views into the index copy stay valid while it is read).
 */
class BytesMap<V> {
  private buckets = new Map<number, { key: Uint8Array; value: V }[]>();
  size = 0;

  private static hash(b: Uint8Array): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
    return (h ^ b.length) >>> 0;
  }

  get(key: Uint8Array): V | undefined {
    const list = this.buckets.get(BytesMap.hash(key));
    if (!list) return undefined;
    outer: for (const e of list) {
      if (e.key.length !== key.length) continue;
      for (let i = 0; i < key.length; i++) if (e.key[i] !== key[i]) continue outer;
      return e.value;
    }
    return undefined;
  }

  set(key: Uint8Array, value: V): void {
    const h = BytesMap.hash(key);
    let list = this.buckets.get(h);
    if (!list) this.buckets.set(h, (list = []));
    list.push({ key, value });
    this.size++;
  }

  clear(): void {
    this.buckets.clear();
    this.size = 0;
  }
}

/** Bytes as a string of the same length (a Map key). */
function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 4096) s += String.fromCharCode(...b.subarray(i, i + 4096));
  return s;
}

/** A node of the path tree: its child components, and the member path that ends here, if any. */
interface PathNode {
  children: Map<string, PathNode>;
  member: string | undefined;
  /** Some member path below this node (for the error message). */
  below: string | undefined;
}

/**
 * A member path that is also a folder of another member's path ('a' and 'a/b': the folder could not be
 * restored), as [folder, path]; undefined when there is none. Linear in the total path length: a tree of
 * components, each hashed once. (Testing every '/'-prefix of every path against a set hashed O(L^2)
 * characters per path, 4 MB of hashing for one 4 KiB path of 2000 components.)
 */
function folderClash(paths: Iterable<string>): [string, string] | undefined {
  const root: PathNode = { children: new Map(), member: undefined, below: undefined };
  for (const p of paths) {
    let node = root;
    for (const part of p.split('/')) {
      if (node.member !== undefined) return [node.member, p];
      node.below ??= p;
      let next = node.children.get(part);
      if (!next) {
        next = { children: new Map(), member: undefined, below: undefined };
        node.children.set(part, next);
      }
      node = next;
    }
    if (node.below !== undefined) return [p, node.below];
    node.member = p;
  }
  return undefined;
}

function limit(r: ByteReader, problem: string): never {
  throw new LimitError('LIMIT_EXCEEDED', r.describe(problem, r.pos), { file: r.file, offset: r.offsetOf(r.pos) });
}

function pathError(r: ByteReader, problem: string, at: number): FormatError {
  return new FormatError('BAD_PATH', r.describe(problem, at), { file: r.file, offset: r.offsetOf(at) });
}
