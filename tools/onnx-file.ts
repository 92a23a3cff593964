// Builds ONNX models (protobuf ModelProto bytes) for tests and test vectors (docs/FORMAT.md §4.7): a graph with one
// node and initializers with raw_data, float_data or external data, written field by field as onnx.proto numbers them.

export const ONNX_TYPE = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, STRING: 8, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;

export interface OnnxInitializerSpec {
  name: string;
  dataType: number;
  dims: number[];
  /** Inline data (TensorProto.raw_data). */
  raw?: Uint8Array;
  /** TensorProto.float_data (packed), instead of raw_data. */
  floatData?: number[];
  /** External data: location, offset and length (written as strings), data_location EXTERNAL. */
  external?: { location: string; offset?: number; length?: number };
  /** Write dims packed (default: one varint field each, as proto2 does). */
  packedDims?: boolean;
}

export interface OnnxSpec {
  initializers: OnnxInitializerSpec[];
  /** Raw bytes appended to the ModelProto as an unknown field 999 (wire type 2), e.g. to place bytes after the graph. */
  extra?: Uint8Array;
}

/** Protobuf writing: varints, tags and length-delimited fields. */
export class ProtoWriter {
  bytes: number[] = [];
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      const b = Number(x & 0x7fn);
      x >>= 7n;
      this.bytes.push(x ? b | 0x80 : b);
    } while (x);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }
  int(field: number, v: number | bigint): this {
    return this.tag(field, 0).varint(v);
  }
  len(field: number, content: Uint8Array | number[]): this {
    this.tag(field, 2).varint(content.length);
    for (const b of content) this.bytes.push(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.len(field, new TextEncoder().encode(s));
  }
  message(field: number, m: ProtoWriter): this {
    return this.len(field, m.bytes);
  }
  finish(): Uint8Array {
    return new Uint8Array(this.bytes);
  }
}

/** The TensorProto of `t`, fields in field-number order as protobuf serialisers write them. */
export function tensorProto(t: OnnxInitializerSpec): ProtoWriter {
  const w = new ProtoWriter();
  if (t.packedDims) {
    const d = new ProtoWriter();
    for (const x of t.dims) d.varint(x);
    w.len(1, d.bytes);
  } else for (const x of t.dims) w.int(1, x);
  w.int(2, t.dataType);
  if (t.floatData) {
    const f = new Uint8Array(4 * t.floatData.length);
    const dv = new DataView(f.buffer);
    t.floatData.forEach((x, i) => dv.setFloat32(4 * i, x, true));
    w.len(4, f);
  }
  w.string(8, t.name);
  if (t.raw) w.len(9, t.raw);
  if (t.external) {
    const entry = (k: string, v: string): ProtoWriter => new ProtoWriter().string(1, k).string(2, v);
    w.message(13, entry('location', t.external.location));
    if (t.external.offset !== undefined) w.message(13, entry('offset', String(t.external.offset)));
    if (t.external.length !== undefined) w.message(13, entry('length', String(t.external.length)));
    w.int(14, 1);
  }
  return w;
}

/** The bytes of a model: ir_version 8, opset 17, a graph with one Identity node, the initializers, input and output. */
export function buildOnnx(spec: OnnxSpec): Uint8Array {
  const graph = new ProtoWriter();
  const node = new ProtoWriter().string(1, 'x').string(2, 'y').string(3, 'identity').string(4, 'Identity');
  graph.message(1, node);
  graph.string(2, 'test-graph');
  for (const t of spec.initializers) graph.message(5, tensorProto(t));
  const valueInfo = (name: string): ProtoWriter => {
    const tensorType = new ProtoWriter().int(1, 1);
    const type = new ProtoWriter().message(1, tensorType);
    return new ProtoWriter().string(1, name).message(2, type);
  };
  graph.message(11, valueInfo('x'));
  graph.message(12, valueInfo('y'));
  const model = new ProtoWriter().int(1, 8).string(2, 'wcodec-test').string(3, '1');
  model.message(7, graph);
  model.message(8, new ProtoWriter().string(1, '').int(2, 17));
  if (spec.extra) model.len(999, spec.extra);
  return model.finish();
}
