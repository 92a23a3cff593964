// The binary arithmetic coder shared by the byte model (FORMAT.md §5.5.5) and the tensor model (§5.6): 32-bit range
// [x1, x2], a bit of probability p/4096 splits it at xmid, and equal top bytes of x1 and x2 shift out; the stream ends
// with the 4 bytes of x1. Both models drive it bit by bit with the probability their mixers give.

import { makeError, type ErrorPlace, type WcodecError } from '../errors.js';

/** Splits [x1, x2] for a bit of probability p/4096 (p in 1 … 4095) without overflowing 2^53 (FORMAT.md §5.5.5). */
function splitPoint(x1: number, x2: number, p: number): number {
  return x1 + Math.floor((x2 - x1) / 4096) * p + Math.floor((((x2 - x1) % 4096) * p) / 4096);
}

/** Codes bits into a growing buffer; finish() flushes x1 and returns the stream. */
export class BinaryEncoder {
  private out: Uint8Array;
  private o = 0;
  private x1 = 0;
  private x2 = 0xffffffff;

  /** @param capacity the first buffer's size (it grows as needed) */
  constructor(capacity: number) {
    this.out = new Uint8Array(Math.max(64, capacity));
  }

  /** Codes bit `y` with P(y = 1) = p/4096. */
  encode(y: number, p: number): void {
    const xmid = splitPoint(this.x1, this.x2, p);
    if (y) this.x2 = xmid;
    else this.x1 = xmid + 1;
    while (((this.x1 ^ this.x2) & 0xff000000) === 0) {
      if (this.o + 8 > this.out.length) this.grow(this.out.length * 2);
      this.out[this.o++] = this.x2 >>> 24;
      this.x1 = (this.x1 << 8) >>> 0;
      this.x2 = ((this.x2 << 8) | 255) >>> 0;
    }
  }

  /** Flushes the 4 bytes of x1; returns the whole stream. */
  finish(): Uint8Array {
    if (this.o + 4 > this.out.length) this.grow(this.o + 4);
    const x1 = this.x1;
    this.out[this.o++] = x1 >>> 24;
    this.out[this.o++] = (x1 >>> 16) & 255;
    this.out[this.o++] = (x1 >>> 8) & 255;
    this.out[this.o++] = x1 & 255;
    return this.out.slice(0, this.o);
  }

  private grow(size: number): void {
    const grown = new Uint8Array(size);
    grown.set(this.out);
    this.out = grown;
  }
}

/**
 * Decodes the bits a BinaryEncoder coded. Errors are CORRUPT_CHUNK at `place.offset` plus the stream position, worded
 * with `what` (the model's name) and `goal` (what the stream should decode to, e.g. "its 5 values").
 */
export class BinaryDecoder {
  private pos = 4;
  private x: number;
  private x1 = 0;
  private x2 = 0xffffffff;
  private readonly base: number;

  /** @throws CORRUPT_CHUNK when the stream is shorter than its 4-byte flush */
  constructor(private readonly stream: Uint8Array, private readonly what: string, private readonly goal: string, private readonly place: ErrorPlace) {
    this.base = place.offset ?? 0;
    if (stream.length < 4) throw makeError('CORRUPT_CHUNK', `${what} stream of ${stream.length} bytes is shorter than its 4-byte flush`, { ...place, offset: this.base });
    this.x = ((stream[0] << 24) | (stream[1] << 16) | (stream[2] << 8) | stream[3]) >>> 0;
  }

  /** The next bit, coded with P(1) = p/4096. @throws CORRUPT_CHUNK when the stream ends early */
  decode(p: number): number {
    const xmid = splitPoint(this.x1, this.x2, p);
    const y = this.x <= xmid ? 1 : 0;
    if (y) this.x2 = xmid;
    else this.x1 = xmid + 1;
    const stream = this.stream;
    while (((this.x1 ^ this.x2) & 0xff000000) === 0) {
      if (this.pos >= stream.length) throw makeError('CORRUPT_CHUNK', `${this.what} stream of ${stream.length} bytes ends before ${this.goal} are decoded`, { ...this.place, offset: this.base + stream.length });
      this.x1 = (this.x1 << 8) >>> 0;
      this.x2 = ((this.x2 << 8) | 255) >>> 0;
      this.x = ((this.x << 8) | stream[this.pos++]) >>> 0;
    }
    return y;
  }

  /** Checks that every byte was read and that the stream ends in the state the encoder flushed. @throws CORRUPT_CHUNK */
  finish(): void {
    const { stream, pos, base } = this;
    if (pos !== stream.length) throw makeError('CORRUPT_CHUNK', `${this.what} stream ends at byte ${pos} of ${stream.length}`, { ...this.place, offset: base + pos });
    if (this.x !== this.x1) throw makeError('CORRUPT_CHUNK', `${this.what} stream does not end in its flushed state`, { ...this.place, offset: base + pos - 4 });
  }
}

/**
 * The error a WebAssembly decoder of these streams reports by its status (-1: the stream ended early; -2: bytes left
 * over; any other non-zero: not in its flushed state), worded as BinaryDecoder words it; `errorAt` is where in the
 * stream the kernel found the problem.
 */
export function binaryStreamError(what: string, goal: string, status: number, streamBytes: number, errorAt: number, place: ErrorPlace): WcodecError {
  const problem =
    status === -1 ? `${what} stream of ${streamBytes} bytes ends before ${goal} are decoded`
    : status === -2 ? `${what} stream ends at byte ${errorAt} of ${streamBytes}`
    : `${what} stream does not end in its flushed state`;
  return makeError('CORRUPT_CHUNK', problem, { ...place, offset: (place.offset ?? 0) + errorAt });
}
