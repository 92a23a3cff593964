// The index (FORMAT.md §3): members (original files), their segments (tensors and byte ranges) and each
// segment's coding and chunk table. writeIndex/readIndex mirror each other; readIndex validates every
// field against the limits and the container's size before anything is allocated from it.

import { ByteReader, ByteWriter } from './byte-cursor.js';
import {
  HEADER_BYTES,
  MAX_CHUNK_VALUES,
  MAX_CHUNKS,
  MAX_DTYPE_BYTES,
  MAX_MEMBERS,
  MAX_NAME_BYTES,
  MAX_RANK,
  MAX_SEGMENTS,
} from './constants.js';
import { readFreqTable, writeFreqTable } from '../entropy/freq-table.js';
import { validLaneCount } from '../entropy/rans.js';
import { checkLayout, codablePlane, planeBits, type PlaneSpec } from '../transform/planes.js';
import { dtypeBytes } from '../transform/dtypes.js';
import type { SegmentCoding } from './chunk-codec.js';
import { FormatError, LimitError } from '../errors.js';

/** Where one chunk lies in the container and its CRC-32C. */
export interface ChunkRecord {
  offset: number;
  bytes: number;
  crc32c: number;
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
  chunks: ChunkRecord[];
}

/** One original file: its path inside the input, size, digest and segments in file order. */
export interface MemberRecord {
  path: string;
  originalBytes: number;
  sha256: Uint8Array;
  segments: SegmentRecord[];
}

/** Whether the container holds one file or a folder of files. */
export type ContainerKind = 'file' | 'folder';

/** The decoded index. */
export interface ContainerIndex {
  kind: ContainerKind;
  members: MemberRecord[];
}

const SEGMENT_KIND = { bytes: 0, tensor: 1 } as const;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const CONTAINER_KIND = { file: 0, folder: 1 } as const;

/** Serialises the index (FORMAT.md §3.1-§3.4). */
export function writeIndex(index: ContainerIndex): Uint8Array {
  const w = new ByteWriter();
  w.u8(CONTAINER_KIND[index.kind]);
  w.u8(0);
  w.u16(0);
  w.u32(index.members.length);
  for (const m of index.members) {
    w.str16(m.path);
    w.u64(m.originalBytes);
    w.bytes(m.sha256);
    w.u32(m.segments.length);
    let prevName = new Uint8Array(0);
    for (const s of m.segments) {
      w.u8(SEGMENT_KIND[s.kind]);
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
      w.bytes(s.sha256);
      const { layout, tables } = s.coding;
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
        w.u8(t ? 1 : 0);
        if (t) writeFreqTable(w, t);
      });
      w.u8(s.coding.lanes);
      w.u32(s.chunkValues);
      w.u32(s.chunks.length);
      for (const c of s.chunks) {
        w.u32(c.bytes);
        w.u32(c.crc32c);
      }
    }
  }
  return w.finish();
}

/** Whether a member path is safe to create under an output folder (no escape, no oddities). */
export function unsafePathReason(path: string): string | undefined {
  if (path.length === 0) return 'empty path';
  if (path.startsWith('/')) return 'absolute path';
  if (/[\\\0:]/.test(path)) return 'path holds a backslash, colon or NUL';
  for (const part of path.split('/')) {
    if (part === '' || part === '.' || part === '..') return `path component '${part}'`;
  }
  return undefined;
}

/**
 * Parses and validates the index read from `bytes` (which start at container offset `base`, or, when
 * `decodedLabel` is given, were decoded from a block at `base`: errors then report `base` and the position).
 * Chunks must tile the data region [HEADER_BYTES, dataEnd) in index order, so every byte of the
 * container is covered by some checksum.
 * @throws CORRUPT_INDEX / LIMIT_EXCEEDED / BAD_PATH with the offset of the offending field
 */
export function readIndex(bytes: Uint8Array, base: number, dataEnd: number, file?: string, decodedLabel?: string): ContainerIndex {
  // Memory per record matters: a hostile index of 256 MiB holds 4 million 63-byte segment records, and at the
  // ~1.1 KB each they used to take, parsing it ran out of heap (a fatal crash, not an error). So the digests are
  // views of one private copy of the index rather than a buffer each, and a segment whose coding record (layout,
  // tables, lanes) repeats an earlier one byte for byte shares that segment's coding object.
  const own = bytes.slice();
  const r = new ByteReader(own, base, file, 'CORRUPT_INDEX', decodedLabel);
  const codings = new Map<string, SegmentCoding>();
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
  const paths = new Set<string>();
  let nextChunk = HEADER_BYTES;
  for (let mi = 0; mi < memberCount; mi++) {
    const pathAt = r.pos;
    const path = r.str16(MAX_NAME_BYTES, 'member path');
    const bad = unsafePathReason(path) ?? (kind === 'file' && path.includes('/') ? 'file member path has a /' : undefined);
    if (bad) throw pathError(r, `${bad}: '${path}'`, pathAt);
    if (paths.has(path)) throw pathError(r, `member path '${path}' appears twice`, pathAt);
    paths.add(path);
    const originalBytes = r.u64('member size');
    const sha256 = r.bytes(32, 'member sha256');
    const segCount = r.u32('segment count');
    if (segCount > MAX_SEGMENTS) limit(r, `${segCount} segments, limit ${MAX_SEGMENTS}`);
    const segments: SegmentRecord[] = [];
    let covered = 0;
    let prevName = new Uint8Array(0);
    for (let si = 0; si < segCount; si++) {
      const segAt = r.pos;
      const kc = r.u8('segment kind');
      const skind = kc === 0 ? 'bytes' : kc === 1 ? 'tensor' : r.fail(`segment kind ${kc}`, segAt);
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
      const shape: number[] = [];
      let elements = 1;
      for (let d = 0; d < rank; d++) {
        const dim = r.u64('dimension');
        elements *= dim;
        if (!Number.isSafeInteger(elements)) r.fail(`shape product overflows 2^53`);
        shape.push(dim);
      }
      const segBytes = r.u64('segment size');
      const segSha = r.bytes(32, 'segment sha256');
      const layoutAt = r.pos;
      const valueBytes = r.u8('value bytes');
      const planeCount = r.u8('plane count');
      const planes: PlaneSpec[] = [];
      const tables: SegmentCoding['tables'] = [];
      for (let p = 0; p < planeCount; p++) {
        const pk = r.u8('plane kind');
        let spec: PlaneSpec;
        if (pk === 0) {
          const rc = r.u8('range count');
          const ranges = [];
          for (let k = 0; k < rc; k++) ranges.push({ lo: r.u8('range lo'), width: r.u8('range width') });
          spec = { kind: 'head', ranges };
        } else if (pk === 1) spec = { kind: 'byte', byteIndex: r.u8('byte index') };
        else return r.fail(`plane kind ${pk}`, r.pos - 1);
        planes.push(spec);
        const codingAt = r.pos;
        const coding = r.u8('plane coding');
        if (coding === 1) {
          if (!codablePlane(spec)) r.fail(`a ${planeBits(spec)}-bit plane cannot be rANS-coded`, codingAt);
          tables.push(readFreqTable(r, planeBits(spec)));
        } else if (coding === 0) {
          if (planeBits(spec) !== 8) r.fail(`a ${planeBits(spec)}-bit plane cannot be stored raw`, codingAt);
          tables.push(undefined);
        } else r.fail(`plane coding ${coding}`, codingAt);
      }
      const lanesAt = r.pos;
      const lanes = r.u8('lane count');
      if (!validLaneCount(lanes)) r.fail(`lane count ${lanes} is not a power of two from 1 to 32`, lanesAt);
      const layout = { valueBytes, planes };
      const layoutProblem = checkLayout(layout);
      if (layoutProblem) r.fail(`plane layout: ${layoutProblem}`, layoutAt);
      const codingKey = latin1(own.subarray(layoutAt, r.pos));
      let coding = codings.get(codingKey);
      if (!coding) {
        coding = { layout, tables, lanes };
        if (codings.size >= MAX_SHARED_CODINGS) codings.clear();
        codings.set(codingKey, coding);
      }
      const known = skind === 'tensor' ? dtypeBytes(dtype) : undefined;
      if (skind === 'bytes' && (name !== '' || dtype !== '' || rank !== 0)) {
        r.fail('byte segment with a name, dtype or shape', segAt);
      }
      if (known !== undefined) {
        if (valueBytes !== known) r.fail(`${dtype} values are ${known} bytes, layout says ${valueBytes}`, layoutAt);
        if (elements * known !== segBytes) r.fail(`shape [${shape}] of ${dtype} is ${elements * known} bytes, segment is ${segBytes}`, segAt);
      } else if (valueBytes !== 1) r.fail(`untyped segment with ${valueBytes}-byte values`, layoutAt);
      const values = segBytes / valueBytes;
      const chunkValues = r.u32('chunk values');
      if (chunkValues < 1) r.fail('chunk of 0 values', r.pos - 4);
      if (chunkValues > MAX_CHUNK_VALUES) limit(r, `chunk of ${chunkValues} values, limit ${MAX_CHUNK_VALUES}`);
      const chunkCount = r.u32('chunk count');
      if (chunkCount > MAX_CHUNKS) limit(r, `${chunkCount} chunks, limit ${MAX_CHUNKS}`);
      if (chunkCount !== Math.ceil(values / chunkValues)) {
        r.fail(`${chunkCount} chunks for ${values} values at ${chunkValues} per chunk`, r.pos - 4);
      }
      // Largest valid chunk: lane states + one word per coded symbol + raw planes.
      const perValueMax = tables.reduce((a, t) => a + (t ? 2 : 1), 0);
      const chunks: ChunkRecord[] = [];
      for (let c = 0; c < chunkCount; c++) {
        const at = r.pos;
        const offset = nextChunk; // chunks tile the data region in index order
        const cbytes = r.u32('chunk bytes');
        const crc = r.u32('chunk crc32c');
        const n = Math.min(chunkValues, values - c * chunkValues);
        if (cbytes > lanes * 4 + n * perValueMax) r.fail(`chunk of ${cbytes} bytes exceeds the bound for ${n} values`, at);
        nextChunk = offset + cbytes;
        if (nextChunk > dataEnd) r.fail(`chunk ends at ${nextChunk}, past the data region end ${dataEnd}`, at);
        chunks.push({ offset, bytes: cbytes, crc32c: crc });
      }
      covered += segBytes;
      segments.push({ kind: skind, name, dtype, shape, originalBytes: segBytes, sha256: segSha, coding, chunkValues, chunks });
    }
    if (covered !== originalBytes) r.fail(`segments of '${path}' cover ${covered} bytes, member is ${originalBytes}`, pathAt);
    members.push({ path, originalBytes, sha256, segments });
  }
  if (nextChunk !== dataEnd) r.fail(`chunks end at ${nextChunk}, data region ends at ${dataEnd}`);
  const clash = folderClash(paths);
  if (clash) throw pathError(r, `member '${clash[0]}' is also a folder of '${clash[1]}'`, 0);
  if (r.remaining !== 0) r.fail(`${r.remaining} bytes after the last index record`);
  return { kind, members };
}

/** Distinct coding records remembered for sharing while one index is read (a bound on the cache itself). */
const MAX_SHARED_CODINGS = 4096;

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
