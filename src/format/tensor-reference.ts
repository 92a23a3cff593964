// The reference checkpoint of XOR deltas (FORMAT.md §3.5, XOR_DELTA): tensors looked up by name, whatever holds them
// (a .safetensors file, a folder of them, a .wcodec container). The encoder codes against it; the decoder needs it back.

/** What a reference holds under one name: enough to decide whether a delta applies before reading any bytes. */
export interface ReferenceTensorInfo {
  dtype: string;
  shape: readonly number[];
  originalBytes: number;
}

/** A checkpoint that XOR deltas are coded against, tensors resolved by name. */
export interface TensorReference {
  /** Names the reference in error messages (a path, or a label). */
  readonly label: string;
  /** The tensor of that name, or undefined when the reference holds none (or several it cannot choose between). */
  describe(name: string): ReferenceTensorInfo | undefined;
  /**
   * The bytes of the tensor `describe` lists under `name` (a buffer the caller may keep).
   * @throws any WcodecError of the underlying source; NOT_FOUND when `describe` lists no such tensor
   */
  read(name: string): Promise<Uint8Array>;
  /**
   * `length` bytes at `offset` of the tensor `describe` lists under `name` (a buffer the caller may change): how
   * decoders and encoders stream XOR deltas. @throws as read; RangeError for a range outside the tensor
   */
  readRange(name: string, offset: number, length: number): Promise<Uint8Array>;
  /** Releases what the reference holds open (files). */
  close(): Promise<void>;
}
