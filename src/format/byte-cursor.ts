// Little-endian binary writing and bounds-checked reading for the header, footer and index (FORMAT.md §1 conventions).
// Every read is checked against the buffer end: a short buffer raises a typed error, never yields undefined.

import { makeError, type ErrorCode } from '../errors.js';

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Growable little-endian writer. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, v);
    this.length += 1;
  }
  u16(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`u16 field out of range: ${v}`);
    this.reserve(2);
    this.view.setUint16(this.length, v, true);
    this.length += 2;
  }
  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, v >>> 0, true);
    this.length += 4;
  }
  /** Writes a non-negative safe integer as u64. */
  u64(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`u64 field out of range: ${v}`);
    this.reserve(8);
    this.view.setUint32(this.length, v >>> 0, true);
    this.view.setUint32(this.length + 4, Math.floor(v / 2 ** 32), true);
    this.length += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  /** A string as u16 byte length + UTF-8 bytes. */
  str16(s: string): void {
    const b = utf8.encode(s);
    if (b.length > 0xffff) throw new RangeError(`string too long: ${b.length} bytes`);
    this.u16(b.length);
    this.bytes(b);
  }
  /** Writes at an earlier position (for fields known only later). */
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Bounds-checked little-endian reader; errors carry `file` and the absolute offset (`base` + position). */
export class ByteReader {
  pos = 0;
  private view: DataView;

  /**
   * @param base container offset of buf[0]; for bytes that were decoded (a coded index) the offset of the
   *   coded block, and `decodedLabel` names what the positions count in
   */
  constructor(
    readonly buf: Uint8Array,
    readonly base: number,
    readonly file: string | undefined,
    readonly code: ErrorCode,
    readonly decodedLabel?: string,
  ) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** The container offset to report for position `at` (the block start for decoded bytes). */
  offsetOf(at: number): number {
    return this.decodedLabel === undefined ? this.base + at : this.base;
  }

  /** `problem`, plus where in the decoded bytes it is when offsets cannot point into the file. */
  describe(problem: string, at: number): string {
    return this.decodedLabel === undefined ? problem : `${problem} (byte ${at} of the ${this.decodedLabel})`;
  }

  /** Throws this reader's error code at the current position. */
  fail(problem: string, at = this.pos): never {
    throw makeError(this.code, this.describe(problem, at), { file: this.file, offset: this.offsetOf(at) });
  }
  private need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) {
      this.fail(`${what} needs ${n} bytes but ${this.buf.length - this.pos} remain`);
    }
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
  u8(what = 'u8'): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }
  u16(what = 'u16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(what = 'u32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  /** u64 that must be a safe integer (FORMAT.md: all u64 fields are < 2^53). */
  u64(what = 'u64'): number {
    this.need(8, what);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    if (hi >= 1 << 21) this.fail(`${what} = ${hi} * 2^32 + ${lo} exceeds 2^53`);
    this.pos += 8;
    // A value below 2^31 comes back as a small integer: a double would be boxed in every record that keeps it.
    return hi === 0 && lo < 2 ** 31 ? lo | 0 : hi * 2 ** 32 + lo;
  }
  bytes(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** u16-length UTF-8 string, at most `max` bytes, rejected if not valid UTF-8. */
  str16(max: number, what = 'string'): string {
    const at = this.pos;
    const n = this.u16(`${what} length`);
    if (n > max) this.fail(`${what} is ${n} bytes, limit ${max}`, at);
    const b = this.bytes(n, what);
    try {
      return utf8Strict.decode(b);
    } catch {
      return this.fail(`${what} is not valid UTF-8`, at + 2);
    }
  }
}
