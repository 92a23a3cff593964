// Finds the tensors of an ONNX model (FORMAT.md §4.7): ModelProto.graph (field 7) -> GraphProto.initializer (field 5),
// and the tensors and subgraphs of node attributes, and which of them can be tensor segments: their data in `raw_data`
// (inline) or in an external file (`data_location` EXTERNAL). Every other field is skipped by its length, so nesting
// elsewhere in the model costs nothing, and subgraphs nest at most MAX_ONNX_GRAPH_DEPTH deep.

import { MAX_NAME_BYTES, MAX_RANK } from '../format/constants.js';
import { decodeVarint, ProtoProblem, readFields, WIRE_LEN, WIRE_VARINT, type ProtoBytes, type ProtoField } from './proto-reader.js';

/** TensorProto.DataType codes that become tensor segments, and their dtypes (FORMAT.md §4.7 "Data types"). */
const ONNX_DTYPES: Readonly<Record<number, { dtype: string; bytes: number }>> = {
  1: { dtype: 'F32', bytes: 4 },
  2: { dtype: 'U8', bytes: 1 },
  3: { dtype: 'I8', bytes: 1 },
  4: { dtype: 'U16', bytes: 2 },
  5: { dtype: 'I16', bytes: 2 },
  6: { dtype: 'I32', bytes: 4 },
  7: { dtype: 'I64', bytes: 8 },
  9: { dtype: 'BOOL', bytes: 1 },
  10: { dtype: 'F16', bytes: 2 },
  11: { dtype: 'F64', bytes: 8 },
  12: { dtype: 'U32', bytes: 4 },
  13: { dtype: 'U64', bytes: 8 },
  16: { dtype: 'BF16', bytes: 2 },
  17: { dtype: 'F8_E4M3', bytes: 1 },
  19: { dtype: 'F8_E5M2', bytes: 1 },
};

/** Field numbers (onnx.proto). */
const MODEL_GRAPH = 7;
const GRAPH_NODE = 1;
const GRAPH_INITIALIZER = 5;
const NODE_ATTRIBUTE = 5;
const ATTRIBUTE = { t: 5, g: 6, tensors: 10, graphs: 11 } as const;
const TENSOR = { dims: 1, dataType: 2, segment: 3, name: 8, rawData: 9, externalData: 13, dataLocation: 14 } as const;
const ENTRY = { key: 1, value: 2 } as const;
/** TensorProto.DataLocation EXTERNAL. */
const LOCATION_EXTERNAL = 1;
/** Longest external_data key or value read; a longer one makes its initializer ineligible. */
const MAX_ENTRY_BYTES = 4096;

/** An initializer whose data can be a tensor segment, with its position among the graph's initializers (`k`). */
export interface OnnxInitializer {
  name: string;
  dtype: string;
  shape: number[];
  /** Its data's size: the dtype's width times the product of `shape`. */
  bytes: number;
  k: number;
  /** Inline: the byte range of the raw_data field's content in the model. */
  inline?: { begin: number; end: number };
  /** External: the `location`, `offset` (default 0) and size of its data in another file. */
  external?: { location: string; offset: number };
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads the model's eligible tensors (FORMAT.md §4.7 "Initializers"): the initializers of its graph and, in every node
 * attribute, its tensor (`t`, `tensors`: Constant nodes) and its subgraphs' (`g`, `graphs`: If, Loop, Scan bodies),
 * subgraphs nested at most MAX_ONNX_GRAPH_DEPTH deep. A tensor that breaks an eligibility rule is left out; a
 * structure that breaks the wire format, a graph or attribute field given twice, or deeper subgraphs is a ProtoProblem.
 * @param src the model's bytes (a file, or a member whose tensor segments cannot be read)
 * @param size the model's size
 * @returns the eligible tensors in the order they are met
 * @throws ProtoProblem
 */
export async function readOnnxInitializers(src: ProtoBytes, size: number): Promise<OnnxInitializer[]> {
  let graph: ProtoField | undefined;
  for await (const f of readFields(src, 0, size)) {
    if (f.field !== MODEL_GRAPH) continue;
    if (f.wire !== WIRE_LEN) throw new ProtoProblem(`ModelProto.graph with wire type ${f.wire}`, f.at);
    if (graph) throw new ProtoProblem('ModelProto.graph appears twice (protobuf would merge the two)', f.at);
    graph = f;
  }
  const out: OnnxInitializer[] = [];
  if (graph) await readGraph(src, graph, 1, out);
  return out;
}

/** Most levels of graphs: the main graph is level 1, a subgraph of one of its nodes level 2, and so on. */
export const MAX_ONNX_GRAPH_DEPTH = 8;

/** Adds the eligible tensors of the GraphProto in `g` (at nesting `depth`) to `out`. @throws ProtoProblem */
async function readGraph(src: ProtoBytes, g: ProtoField, depth: number, out: OnnxInitializer[]): Promise<void> {
  if (depth > MAX_ONNX_GRAPH_DEPTH) throw new ProtoProblem(`subgraphs nested more than ${MAX_ONNX_GRAPH_DEPTH} deep`, g.at);
  for await (const f of readFields(src, g.begin, g.end)) {
    if (f.field === GRAPH_INITIALIZER) {
      if (f.wire !== WIRE_LEN) throw new ProtoProblem(`GraphProto.initializer with wire type ${f.wire}`, f.at);
      await readTensor(src, f, out);
    } else if (f.field === GRAPH_NODE) {
      if (f.wire !== WIRE_LEN) throw new ProtoProblem(`GraphProto.node with wire type ${f.wire}`, f.at);
      for await (const a of readFields(src, f.begin, f.end)) {
        if (a.field !== NODE_ATTRIBUTE) continue;
        if (a.wire !== WIRE_LEN) throw new ProtoProblem(`NodeProto.attribute with wire type ${a.wire}`, a.at);
        await readAttribute(src, a, depth, out);
      }
    }
  }
}

/** Adds the eligible tensors of the AttributeProto in `a` (of a node at graph level `depth`) to `out`. @throws ProtoProblem */
async function readAttribute(src: ProtoBytes, a: ProtoField, depth: number, out: OnnxInitializer[]): Promise<void> {
  let t = 0;
  let g = 0;
  for await (const f of readFields(src, a.begin, a.end)) {
    const tensor = f.field === ATTRIBUTE.t || f.field === ATTRIBUTE.tensors;
    const graph = f.field === ATTRIBUTE.g || f.field === ATTRIBUTE.graphs;
    if (!tensor && !graph) continue;
    if (f.wire !== WIRE_LEN) throw new ProtoProblem(`AttributeProto field ${f.field} with wire type ${f.wire}`, f.at);
    if ((f.field === ATTRIBUTE.t && ++t > 1) || (f.field === ATTRIBUTE.g && ++g > 1)) throw new ProtoProblem(`AttributeProto field ${f.field} appears twice (protobuf would merge the two)`, f.at);
    if (tensor) await readTensor(src, f, out);
    else await readGraph(src, f, depth + 1, out);
  }
}

/** Adds the TensorProto in `f` to `out` when it is eligible. @throws ProtoProblem for its structure */
async function readTensor(src: ProtoBytes, f: ProtoField, out: OnnxInitializer[]): Promise<void> {
  const init = await readInitializer(src, f.begin, f.end, out.length);
  if (init) out.push(init);
}

/** The fields of one TensorProto that decide its eligibility. */
interface TensorFields {
  names: ProtoField[];
  dataTypes: ProtoField[];
  rawData: ProtoField[];
  locations: ProtoField[];
  entries: ProtoField[];
  dims: ProtoField[];
  segment: boolean;
}

/** The initializer at [begin, end) when it is eligible, else undefined. @throws ProtoProblem for its structure */
async function readInitializer(src: ProtoBytes, begin: number, end: number, k: number): Promise<OnnxInitializer | undefined> {
  const t: TensorFields = { names: [], dataTypes: [], rawData: [], locations: [], entries: [], dims: [], segment: false };
  for await (const f of readFields(src, begin, end)) {
    if (f.field === TENSOR.name) t.names.push(f);
    else if (f.field === TENSOR.dataType) t.dataTypes.push(f);
    else if (f.field === TENSOR.rawData) t.rawData.push(f);
    else if (f.field === TENSOR.dataLocation) t.locations.push(f);
    else if (f.field === TENSOR.externalData) t.entries.push(f);
    else if (f.field === TENSOR.dims) t.dims.push(f);
    else if (f.field === TENSOR.segment) t.segment = true;
  }
  if (t.segment || t.names.length > 1 || t.dataTypes.length !== 1 || t.dataTypes[0].wire !== WIRE_VARINT) return undefined;
  const type = ONNX_DTYPES[t.dataTypes[0].value];
  if (!type) return undefined;
  // An absent name is the empty string (protobuf's default), as Constant nodes' tensors often have it.
  const name = t.names.length === 0 ? '' : await readText(src, t.names[0], MAX_NAME_BYTES);
  if (name === undefined) return undefined;
  const shape = await readDims(src, t.dims);
  if (!shape) return undefined;
  let bytes = type.bytes;
  for (const d of shape) {
    bytes *= d;
    if (!Number.isSafeInteger(bytes)) return undefined;
  }
  if (t.locations.length > 1 || (t.locations.length === 1 && (t.locations[0].wire !== WIRE_VARINT || t.locations[0].value > LOCATION_EXTERNAL || t.locations[0].value < 0))) return undefined;
  const external = t.locations.length === 1 && t.locations[0].value === LOCATION_EXTERNAL;
  const base = { name, dtype: type.dtype, shape, bytes, k };
  if (!external) {
    if (t.entries.length > 0 || t.rawData.length !== 1 || t.rawData[0].wire !== WIRE_LEN) return undefined;
    const raw = t.rawData[0];
    if (raw.end - raw.begin !== bytes) return undefined;
    return { ...base, inline: { begin: raw.begin, end: raw.end } };
  }
  if (t.rawData.length > 0) return undefined;
  const ext = await readExternal(src, t.entries, bytes);
  return ext ? { ...base, external: ext } : undefined;
}

/** The UTF-8 text of a length-delimited field of at most `max` bytes, else undefined. */
async function readText(src: ProtoBytes, f: ProtoField, max: number): Promise<string | undefined> {
  if (f.wire !== WIRE_LEN || f.end - f.begin > max) return undefined;
  try {
    return utf8Strict.decode(await src.read(f.begin, f.end - f.begin));
  } catch (e) {
    if (e instanceof TypeError) return undefined;
    throw e;
  }
}

/** The dims (packed or not, in order) when there are at most MAX_RANK, each 0 … 2^53 − 1; else undefined. */
async function readDims(src: ProtoBytes, fields: ProtoField[]): Promise<number[] | undefined> {
  const dims: number[] = [];
  for (const f of fields) {
    if (f.wire === WIRE_VARINT) dims.push(f.value);
    else if (f.wire === WIRE_LEN) {
      // A packed run of varints: at most MAX_RANK of at most 10 bytes each is read.
      if (f.end - f.begin > MAX_RANK * 10) return undefined;
      const bytes = await src.read(f.begin, f.end - f.begin);
      for (let p = 0; p < bytes.length; ) {
        const { value, length } = decodeVarint(bytes.subarray(p), f.begin + p);
        dims.push(value);
        p += length;
      }
    } else return undefined;
    if (dims.length > MAX_RANK) return undefined;
  }
  return dims.every((d) => d >= 0) ? dims : undefined;
}

/** An unsigned decimal integer below 2^53, as ONNX writes `offset` and `length`. */
const DECIMAL = /^[0-9]{1,16}$/;

/** The external location and offset of an EXTERNAL initializer of `bytes` bytes, when its entries are eligible. */
async function readExternal(src: ProtoBytes, entries: ProtoField[], bytes: number): Promise<{ location: string; offset: number } | undefined> {
  const values = new Map<string, string>();
  for (const e of entries) {
    if (e.wire !== WIRE_LEN) return undefined;
    const keys: ProtoField[] = [];
    const vals: ProtoField[] = [];
    for await (const f of readFields(src, e.begin, e.end)) {
      if (f.field === ENTRY.key) keys.push(f);
      else if (f.field === ENTRY.value) vals.push(f);
    }
    if (keys.length !== 1 || vals.length !== 1) return undefined;
    const key = await readText(src, keys[0], MAX_ENTRY_BYTES);
    const value = await readText(src, vals[0], MAX_ENTRY_BYTES);
    if (key === undefined || value === undefined || values.has(key)) return undefined;
    values.set(key, value);
  }
  const location = values.get('location');
  const offset = values.get('offset') ?? '0';
  const length = values.get('length');
  if (location === undefined || !DECIMAL.test(offset) || (length !== undefined && !DECIMAL.test(length))) return undefined;
  if (!Number.isSafeInteger(Number(offset)) || (length !== undefined && Number(length) !== bytes)) return undefined;
  return { location, offset: Number(offset) };
}

/**
 * The member path of an external data `location` relative to the model at `modelPath`: the model's folder joined with
 * the location, or undefined when the location is empty, absolute, or has an empty, `.` or `..` component, a
 * backslash or a NUL (FORMAT.md §4.7 "External data").
 */
export function resolveLocation(modelPath: string, location: string): string | undefined {
  if (location === '' || location.startsWith('/') || /[\\\u0000]/.test(location)) return undefined;
  if (location.split('/').some((c) => c === '' || c === '.' || c === '..')) return undefined;
  const slash = modelPath.lastIndexOf('/');
  return slash < 0 ? location : `${modelPath.slice(0, slash + 1)}${location}`;
}
