// Reads the variables of a NetCDF classic file (CDF-1, or CDF-2 with 64-bit offsets): the header's dimensions,
// attributes and variables, and each variable's data gathered from its records, converted from big-endian to
// little-endian. Enough for the data extractors of tools/; not a general NetCDF library (no CDF-5, no HDF5-based NetCDF-4).

/** NetCDF external types: 1 byte, 2 char, 3 short, 4 int, 5 float, 6 double, and their sizes in bytes. */
const TYPE_BYTES: Readonly<Record<number, number>> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8 };
/** The NetCDF types by name. */
export const NC_FLOAT = 5;
export const NC_DOUBLE = 6;

/** One variable of a classic file. */
export interface NetcdfVariable {
  name: string;
  /** NetCDF external type (NC_FLOAT, NC_DOUBLE, …). */
  type: number;
  /** Dimensions, outermost first; a record variable's first is the number of records. */
  shape: number[];
  /** Its text attributes (long_name, units, …). */
  attributes: Record<string, string>;
  /** Whether its first dimension is the unlimited (record) one. */
  record: boolean;
  /** Offset of its data (of its first record's data, for a record variable). */
  begin: number;
  /** Bytes of one record's data as the header states it (padded to 4, except for the only record variable). */
  vsize: number;
}

/** A classic file's header. */
export interface NetcdfHeader {
  version: 1 | 2;
  records: number;
  variables: NetcdfVariable[];
  /** Bytes from one record's start to the next. */
  recordBytes: number;
}

/** Parses the header of a NetCDF classic file. @throws Error for anything else, or a header past the end */
export function readNetcdfHeader(bytes: Uint8Array): NetcdfHeader {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u32 = (): number => {
    const v = dv.getUint32(at, false);
    at += 4;
    return v;
  };
  if (bytes[0] !== 0x43 || bytes[1] !== 0x44 || bytes[2] !== 0x46 || (bytes[3] !== 1 && bytes[3] !== 2)) throw new Error('not a NetCDF classic file (CDF-1 or CDF-2)');
  const version = bytes[3] as 1 | 2;
  at = 4;
  const records = u32();
  const name = (): string => {
    const n = u32();
    const s = new TextDecoder().decode(bytes.subarray(at, at + n));
    at += Math.ceil(n / 4) * 4;
    return s;
  };
  const list = (tag: number, item: () => void): void => {
    const t = u32();
    const n = u32();
    if (t === 0 && n === 0) return;
    if (t !== tag) throw new Error(`list tag ${t} where ${tag} was expected, at ${at - 8}`);
    for (let k = 0; k < n; k++) item();
  };
  const dims: { name: string; size: number }[] = [];
  list(0x0a, () => dims.push({ name: name(), size: u32() }));
  const attributes = (): Record<string, string> => {
    const out: Record<string, string> = {};
    list(0x0c, () => {
      const key = name();
      const type = u32();
      const n = u32();
      const bytesOf = n * (TYPE_BYTES[type] ?? 1);
      if (type === 2) out[key] = new TextDecoder().decode(bytes.subarray(at, at + n)).replace(/\0+$/, '');
      at += Math.ceil(bytesOf / 4) * 4;
    });
    return out;
  };
  attributes();
  const variables: NetcdfVariable[] = [];
  list(0x0b, () => {
    const vname = name();
    const rank = u32();
    const ids: number[] = [];
    for (let k = 0; k < rank; k++) ids.push(u32());
    const attrs = attributes();
    const type = u32();
    const vsize = u32();
    const begin = version === 1 ? u32() : u32() * 2 ** 32 + u32();
    const record = rank > 0 && dims[ids[0]].size === 0;
    const shape = ids.map((id, k) => (k === 0 && record ? records : dims[id].size));
    variables.push({ name: vname, type, shape, attributes: attrs, record, begin, vsize });
  });
  const recordVars = variables.filter((v) => v.record);
  const recordBytes = recordVars.length === 1 ? recordVars[0].shape.slice(1).reduce((a, d) => a * d, TYPE_BYTES[recordVars[0].type]) : recordVars.reduce((a, v) => a + v.vsize, 0);
  return { version, records, variables, recordBytes };
}

/**
 * The data of variable `v` as little-endian bytes, its records gathered in order.
 * @throws Error when the data lies past the end of `bytes`
 */
export function readNetcdfVariable(bytes: Uint8Array, header: NetcdfHeader, v: NetcdfVariable): Uint8Array {
  const W = TYPE_BYTES[v.type];
  const perRecord = (v.record ? v.shape.slice(1) : v.shape).reduce((a, d) => a * d, W);
  const records = v.record ? header.records : 1;
  const out = new Uint8Array(perRecord * records);
  for (let r = 0; r < records; r++) {
    const from = v.begin + r * (v.record ? header.recordBytes : 0);
    if (from + perRecord > bytes.length) throw new Error(`variable '${v.name}' ends past the end of the file`);
    out.set(bytes.subarray(from, from + perRecord), r * perRecord);
  }
  // Big-endian to little-endian, value by value.
  if (W > 1) for (let i = 0; i < out.length; i += W) out.subarray(i, i + W).reverse();
  return out;
}
