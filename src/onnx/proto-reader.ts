// A minimal protocol buffers wire-format reader (FORMAT.md §4.7): the fields of one message, each tag and length
// checked against the message's end before it is used. Nothing is allocated from a length read; the caller asks for
// the bytes of a field only after it has checked the length against its own bound.

/** Random access to the bytes of a message tree: exactly `length` bytes at `at`, or a ProtoProblem. */
export interface ProtoBytes {
  read(at: number, length: number): Promise<Uint8Array>;
  /** From 1 to `max` bytes at `at` (fewer where the readable bytes end: a varint is read this way), or a ProtoProblem. */
  readUpTo(at: number, max: number): Promise<Uint8Array>;
}

/** A structure the reader refuses, and where (a byte offset in the file or member). */
export class ProtoProblem extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

/** Wire types (the low three bits of a tag). */
export const WIRE_VARINT = 0;
export const WIRE_I64 = 1;
export const WIRE_LEN = 2;
export const WIRE_I32 = 5;

/** One field of a message. */
export interface ProtoField {
  /** Field number (≥ 1). */
  field: number;
  wire: number;
  /** Offset of the tag. */
  at: number;
  /** WIRE_VARINT: the value, or -1 when it is 2^53 or more (a negative int64 among them). */
  value: number;
  /** The field's payload: a varint's or fixed value's bytes, a length-delimited field's content (after its length). */
  begin: number;
  end: number;
}

/** Longest varint: 10 bytes carry 64 bits. */
const MAX_VARINT_BYTES = 10;

/**
 * Decodes the varint at the start of `bytes`.
 * @returns its value (-1 when 2^53 or more) and its length in bytes
 * @throws ProtoProblem (offset `at`) for a varint longer than 10 bytes or cut off by the end of `bytes`
 */
export function decodeVarint(bytes: Uint8Array, at: number): { value: number; length: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < Math.min(bytes.length, MAX_VARINT_BYTES); i++) {
    const b = bytes[i];
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return { value: Number.isSafeInteger(value) ? value : -1, length: i + 1 };
  }
  throw new ProtoProblem(bytes.length >= MAX_VARINT_BYTES ? 'a varint longer than 10 bytes' : 'a varint runs past the end of its message', at);
}

/**
 * The fields of the message at [begin, end), in order. Groups (wire types 3 and 4) and wire types 6 and 7 are refused.
 * @throws ProtoProblem for a tag, length or payload that does not fit in the message
 */
export async function* readFields(src: ProtoBytes, begin: number, end: number): AsyncGenerator<ProtoField> {
  let pos = begin;
  const varint = async (what: string): Promise<number> => {
    const bytes = await src.readUpTo(pos, Math.min(MAX_VARINT_BYTES, end - pos));
    const { value, length } = decodeVarint(bytes, pos);
    if (value < 0) throw new ProtoProblem(`${what} is 2^53 or more`, pos);
    pos += length;
    return value;
  };
  while (pos < end) {
    const at = pos;
    const tag = await varint('a tag');
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new ProtoProblem('field number 0', at);
    let value = 0;
    const payloadAt = pos;
    if (wire === WIRE_VARINT) {
      const bytes = await src.readUpTo(pos, Math.min(MAX_VARINT_BYTES, end - pos));
      const v = decodeVarint(bytes, pos);
      value = v.value;
      pos += v.length;
    } else if (wire === WIRE_I64 || wire === WIRE_I32) {
      const n = wire === WIRE_I64 ? 8 : 4;
      if (n > end - pos) throw new ProtoProblem(`a ${n}-byte field runs past the end of its message`, at);
      pos += n;
    } else if (wire === WIRE_LEN) {
      const n = await varint('a length');
      if (n > end - pos) throw new ProtoProblem(`a field of ${n} bytes runs past the end of its message (${end - pos} bytes left)`, at);
      const contentAt = pos;
      pos += n;
      yield { field, wire, at, value: 0, begin: contentAt, end: pos };
      continue;
    } else throw new ProtoProblem(`wire type ${wire} (groups and unknown wire types are not read)`, at);
    yield { field, wire, at, value, begin: payloadAt, end: pos };
  }
}
