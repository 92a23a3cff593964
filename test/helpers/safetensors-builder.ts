// Builds safetensors files for tests: u64 LE header length N, N bytes of JSON (padded with spaces so that
// 8 + N is a multiple of 8, as the safetensors library writes it), then the tensors' data back to back.
// Also assembles deliberately malformed files from raw header text, for the rejection tests.

/** One tensor to write: its bytes are taken as they are (the builder does not check shape x dtype). */
export interface TensorInput {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** Options for buildSafetensors. */
export interface BuildOptions {
  /** `__metadata__` (string to string), written first unless headerOrder places it. */
  metadata?: Record<string, string>;
  /** Pad the JSON with spaces so that 8 + N is a multiple of 8 (default true). */
  align?: boolean;
  /** Spaces added after the JSON on top of the alignment padding (default 0). */
  extraSpaces?: number;
  /**
   * Order of the keys in the JSON header (tensor names and possibly '__metadata__'); must name every tensor.
   * Default: '__metadata__' first, then the tensors in data order.
   */
  headerOrder?: string[];
}

/** A built file and where each tensor's data lies in it (absolute offsets). */
export interface BuiltSafetensors {
  bytes: Uint8Array;
  /** 8 + N: where the data starts. */
  headerEnd: number;
  /** Absolute [begin, end) of each tensor, by name. */
  offsets: Map<string, [number, number]>;
}

/** The JSON header object of `tensors` laid out back to back in list order (data_offsets relative to the data). */
export function headerObject(tensors: TensorInput[], options: BuildOptions = {}): Record<string, unknown> {
  const entries = new Map<string, unknown>();
  let at = 0;
  for (const t of tensors) {
    if (entries.has(t.name)) throw new RangeError(`tensor name ${t.name} given twice`);
    entries.set(t.name, { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + t.data.length] });
    at += t.data.length;
  }
  const order = options.headerOrder ?? [...(options.metadata ? ['__metadata__'] : []), ...tensors.map((t) => t.name)];
  if (options.metadata) entries.set('__metadata__', options.metadata);
  if (order.length !== entries.size || !order.every((k) => entries.has(k))) {
    throw new RangeError(`headerOrder ${JSON.stringify(order)} does not list exactly the header keys`);
  }
  // A null-prototype object keeps a key such as '__proto__' as an ordinary own key.
  const header: Record<string, unknown> = Object.create(null);
  for (const k of order) header[k] = entries.get(k);
  return header;
}

/**
 * Assembles a file from header text and data: the length prefix (`headerLength`, default the padded text's
 * byte length), the UTF-8 text (or raw bytes) padded with spaces, then `data`. Does not validate anything.
 */
export function assembleSafetensors(
  header: string | Uint8Array,
  data: Uint8Array,
  options: { align?: boolean; extraSpaces?: number; headerLength?: bigint | number } = {},
): Uint8Array {
  const text = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  let n = text.length + (options.extraSpaces ?? 0);
  if (options.align ?? true) n += (8 - ((8 + n) % 8)) % 8;
  const out = new Uint8Array(8 + n + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(options.headerLength ?? n), true);
  out.set(text, 8);
  out.fill(0x20, 8 + text.length, 8 + n);
  out.set(data, 8 + n);
  return out;
}

/** Builds a valid safetensors file (given consistent shapes and dtypes) from `tensors`, in data order. */
export function buildSafetensors(tensors: TensorInput[], options: BuildOptions = {}): BuiltSafetensors {
  const json = JSON.stringify(headerObject(tensors, options));
  const dataBytes = tensors.reduce((a, t) => a + t.data.length, 0);
  const data = new Uint8Array(dataBytes);
  let at = 0;
  for (const t of tensors) {
    data.set(t.data, at);
    at += t.data.length;
  }
  const bytes = assembleSafetensors(json, data, options);
  const headerEnd = bytes.length - dataBytes;
  const offsets = new Map<string, [number, number]>();
  at = headerEnd;
  for (const t of tensors) {
    offsets.set(t.name, [at, at + t.data.length]);
    at += t.data.length;
  }
  return { bytes, headerEnd, offsets };
}
