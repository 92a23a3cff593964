// Builds GGUF files (version 2 or 3, little-endian) for tests and test vectors (docs/FORMAT.md §4.6): metadata of any
// value type, tensor infos, and tensor data at aligned offsets, with the padding bytes given (never assumed zero).

/** GGUF metadata value types (gguf_type). */
export const GGUF = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STRING: 8, ARRAY: 9, U64: 10, I64: 11, F64: 12 } as const;

/** A metadata value: a number (bigint for 64-bit integers), a boolean, a string, or an array of one item type. */
export type GgufValue = number | bigint | boolean | string | { itemType: number; items: GgufValue[] };

export interface GgufKv {
  key: string;
  type: number;
  value: GgufValue;
}

export interface GgufTensorSpec {
  name: string;
  /** ggml type code (0 F32, 1 F16, 8 Q8_0, …). */
  type: number;
  /** ggml dimensions, ne[0] first. */
  dims: number[];
  data: Uint8Array;
  /** Data offset; default: the next multiple of the alignment after the previous tensor. */
  offset?: number;
}

export interface GgufSpec {
  version?: 2 | 3;
  kvs?: GgufKv[];
  tensors: GgufTensorSpec[];
  /** Alignment used to place tensors (write general.alignment in `kvs` to make a reader use it); default 32. */
  alignment?: number;
  /** Byte i of the padding (counted from the file's start); default 0xA5 ^ (i & 0xff), non-zero and varied. */
  pad?: (i: number) => number;
  /** Bytes appended after the last tensor. */
  trailing?: Uint8Array;
}

class Writer {
  parts: number[] = [];
  u8(v: number): void {
    this.parts.push(v & 0xff);
  }
  u32(v: number): void {
    for (let k = 0; k < 4; k++) this.u8(v >>> (8 * k));
  }
  u64(v: number | bigint): void {
    const b = BigInt.asUintN(64, BigInt(v));
    for (let k = 0n; k < 8n; k++) this.u8(Number((b >> (8n * k)) & 0xffn));
  }
  bytes(b: Uint8Array): void {
    for (const x of b) this.parts.push(x);
  }
  string(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u64(b.length);
    this.bytes(b);
  }
  value(type: number, v: GgufValue): void {
    const dv = new DataView(new ArrayBuffer(8));
    switch (type) {
      case GGUF.U8: case GGUF.I8: case GGUF.BOOL: return this.u8(Number(v));
      case GGUF.U16: case GGUF.I16: this.u8(Number(v)); return this.u8(Number(v) >> 8);
      case GGUF.U32: case GGUF.I32: return this.u32(Number(v));
      case GGUF.F32: dv.setFloat32(0, Number(v), true); return this.bytes(new Uint8Array(dv.buffer, 0, 4));
      case GGUF.U64: case GGUF.I64: return this.u64(v as bigint | number);
      case GGUF.F64: dv.setFloat64(0, Number(v), true); return this.bytes(new Uint8Array(dv.buffer, 0, 8));
      case GGUF.STRING: return this.string(v as string);
      case GGUF.ARRAY: {
        const a = v as { itemType: number; items: GgufValue[] };
        this.u32(a.itemType);
        this.u64(a.items.length);
        for (const item of a.items) this.value(a.itemType, item);
        return;
      }
      default: throw new RangeError(`GGUF value type ${type}`);
    }
  }
}

/** The bytes of the GGUF file `spec` describes. */
export function buildGguf(spec: GgufSpec): Uint8Array {
  const alignment = spec.alignment ?? 32;
  const pad = spec.pad ?? ((i: number) => 0xa5 ^ (i & 0xff));
  const w = new Writer();
  w.bytes(new TextEncoder().encode('GGUF'));
  w.u32(spec.version ?? 3);
  w.u64(spec.tensors.length);
  const kvs = spec.kvs ?? [];
  w.u64(kvs.length);
  for (const kv of kvs) {
    w.string(kv.key);
    w.u32(kv.type);
    w.value(kv.type, kv.value);
  }
  const offsets: number[] = [];
  let next = 0;
  for (const t of spec.tensors) {
    const offset = t.offset ?? Math.ceil(next / alignment) * alignment;
    offsets.push(offset);
    next = offset + t.data.length;
    w.string(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(t.type);
    w.u64(offset);
  }
  const headerEnd = w.parts.length;
  const dataStart = Math.ceil(headerEnd / alignment) * alignment;
  const end = spec.tensors.length ? Math.max(...spec.tensors.map((t, k) => dataStart + offsets[k] + t.data.length)) : headerEnd;
  const out = new Uint8Array(Math.max(end, spec.tensors.length ? dataStart : headerEnd) + (spec.trailing?.length ?? 0));
  out.set(w.parts);
  for (let i = headerEnd; i < out.length; i++) out[i] = pad(i);
  spec.tensors.forEach((t, k) => out.set(t.data, dataStart + offsets[k]));
  if (spec.trailing) out.set(spec.trailing, out.length - spec.trailing.length);
  return out;
}
