// Container constants and limits (docs/FORMAT.md §2 and §8). Each limit says what it guards against.

/** First 8 bytes of every .wcodec file: non-ASCII first byte and CR LF catch text-mode transfers (as PNG). */
export const MAGIC = new Uint8Array([0x89, 0x57, 0x43, 0x4f, 0x44, 0x45, 0x43, 0x0a]); // "\x89WCODEC\n"
/** Last 8 bytes of every .wcodec file, so a truncated file is recognised from its end. */
export const FOOTER_MAGIC = new Uint8Array([0x0a, 0x43, 0x45, 0x44, 0x4f, 0x43, 0x57, 0x89]); // reversed MAGIC
/** Container version 1: plain segments only (what `formatVersion: 2` writes when nothing needs version 2). */
export const FORMAT_VERSION = 1;
/** Container version 2: transformed segments (FORMAT.md §3.5) and Huffman-coded planes (§5.4). */
export const FORMAT_VERSION_TRANSFORMS = 2;
/** Container version 3: version 2 plus each member's identity digest (FORMAT.md §3.2, §7.4). */
export const FORMAT_VERSION_IDENTITY = 3;
/**
 * Container version 4: version 3 plus a digest of each chunk's decoded bytes in place of the CRC-32C of its stored
 * bytes (FORMAT.md §3.4, §7.5) and packed raw head planes narrower than 8 bits (§6). What the writer writes by default.
 */
export const FORMAT_VERSION_DIGESTS = 4;
/**
 * Container version 5: version 4 plus a member `layout` (FORMAT.md §3.2): a member split as a GGUF file, an ONNX model or
 * an ONNX external data file, whose tensor segments are bound to what its stored bytes say (§4.6, §4.7). The writer
 * writes it only when asked (the file API asks when the input holds `.gguf` or `.onnx` files).
 */
export const FORMAT_VERSION_LAYOUTS = 5;
/**
 * Container version 6: version 5 plus lossy tensor segments (FORMAT.md §3.5.3.5, transform GROUP_QUANT), whose bytes
 * and digests are those of the dequantized values. The writer writes it only when given a quantizer (`lossy`).
 */
export const FORMAT_VERSION_LOSSY = 6;
/**
 * Container version 7: version 6 plus, in GROUP_QUANT params, FP8 levels (codes that are E4M3 or E5M2 bit patterns) and
 * a 2:4 sparsity claim that decoders check (FORMAT.md §3.5.3.5). The writer writes it only for a quantizer that asks.
 */
export const FORMAT_VERSION_LOSSY_LEVELS = 7;
/**
 * Container version 8: version 7 plus the byte model (FORMAT.md §5.5, plane coding 3) for byte planes, with safetensors
 * headers primed from their tensor labels (§4.4). The writer writes it when asked (`formatVersion: 8`).
 */
export const FORMAT_VERSION_BYTE_MODEL = 8;
/**
 * Container version 9: version 8 plus the member layouts of float arrays outside safetensors (FORMAT.md §4.8, §4.9): a
 * NumPy `.npy` file (its header and one tensor bound to what the header says) and a raw array (a file of one tensor
 * whose dtype and shape the writer was given). The writer writes it only when such a member is present.
 */
export const FORMAT_VERSION_FLOAT_ARRAYS = 9;
/**
 * Container version 10: version 9 plus the tensor model (FORMAT.md §5.6, plane coding 4), a context-mixing coder for
 * all planes of a tensor's values at once. The writer writes it only when asked (`level: 'max'`).
 */
export const FORMAT_VERSION_CM = 10;
/**
 * Container version 11: version 10 plus byte-model groups (a run of 1-byte segments coded as one byte-model stream,
 * FORMAT.md §3.4 primer 2) and members of one segment whose segment SHA-256 is the member's and is not stored again
 * (§3.3). What the writer writes by default wherever the byte model makes the container smaller.
 */
export const FORMAT_VERSION_COMPACT = 11;
/** The container versions this code reads. */
export const FORMAT_VERSIONS: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
/** File header: magic(8) version(u16) flags(u16) crc32c(u32). */
export const HEADER_BYTES = 16;
/** Footer: indexOffset(u64) indexBytes(u64) indexCrc32c(u32) version(u16) flags(u16) footerCrc32c(u32) reserved(u32) magic(8). */
export const FOOTER_BYTES = 40;

/** rANS: lanes decoded in lockstep per chunk (one GPU subgroup / SIMD group of lanes). */
export const RANS_LANES = 32;
/** rANS state lower bound L = 2^16; states live in [L, 2^32) and renormalise by 16-bit words. */
export const RANS_STATE_LOW = 1 << 16;
/** Smallest and largest precision of a frequency table (sum of frequencies = 2^probBits). */
export const MIN_PROB_BITS = 8;
export const MAX_PROB_BITS = 15;
/** Widest symbol an rANS-coded plane may carry: bounds the per-table arrays to 4096 entries. */
export const MAX_CODED_SYMBOL_BITS = 12;
/** Longest Huffman code (version 2, FORMAT.md §5.4): a decoder's lookup window; 2^11 table entries stay in L1. */
export const HUFFMAN_MAX_BITS = 11;
/** Independent bit streams per Huffman block: a decoder interleaves them to hide each lookup's latency. */
export const HUFFMAN_STREAMS = 8;

/** Default values per chunk aim at 256 KiB of original bytes: small enough for GPU parallelism, large enough that 132 bytes of per-chunk state stay under 0.1%. */
export const DEFAULT_CHUNK_BYTES = 256 * 1024;
/** Upper bound on one chunk's values: bounds a decoder's per-chunk buffers (4 Mi values: 32 MiB of output at 8 bytes a value, plus 8 MiB per plane of symbols). */
export const MAX_CHUNK_VALUES = 1 << 22;
/** Bound on the index: the whole index is read into memory before anything is decoded. */
export const MAX_INDEX_BYTES = 256 * 1024 * 1024;
/** Bound on members (files) per container: guards the member table allocation. */
export const MAX_MEMBERS = 1 << 16;
/** Bound on segments (tensors and byte ranges) per member. */
export const MAX_SEGMENTS = 1 << 20;
/** Bound on chunks per segment (x MAX_CHUNK_VALUES covers any real tensor). */
export const MAX_CHUNKS = 1 << 24;
/** Bound on a tensor rank: safetensors does not limit it, so a header could ask for absurd shapes. */
export const MAX_RANK = 32;
/** Bound on a tensor name, member path or dtype string, in UTF-8 bytes. */
export const MAX_NAME_BYTES = 4096;
/** Bound on a dtype name in bytes. */
export const MAX_DTYPE_BYTES = 32;
/** Bound on planes per transform (a 64-bit value has at most 2 head planes + 6 byte planes). */
export const MAX_PLANES = 16;
/** Bound on bit ranges per head plane. */
export const MAX_RANGES = 16;
/** Bound on a safetensors JSON header (the safetensors library uses the same 100 MB cap). */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;
/** Bound on nesting depth inside the safetensors JSON header (guards recursion in parsers). */
export const MAX_JSON_DEPTH = 64;
/**
 * Largest GGUF header (magic through the last tensor info) the encoder splits, and the largest first segment a decoder
 * parses to check a GGUF member's labels (FORMAT.md §4.6): the header is held whole in memory. Tokenizer metadata of
 * large vocabularies takes tens of megabytes.
 */
export const MAX_GGUF_HEADER_BYTES = 100_000_000;
/** Deepest nesting of GGUF metadata arrays (FORMAT.md §4.6): bounds the parser's recursion. */
export const MAX_GGUF_ARRAY_DEPTH = 8;
/**
 * Largest `.npy` header dict (FORMAT.md §4.8, its HEADER_LEN), at encode time and in the first segment of a NumPy array
 * member: the header is held whole in memory and parsed; NumPy writes a few hundred bytes for any array it can load
 * with its own default bound (10 000 bytes).
 */
export const MAX_NPY_HEADER_BYTES = 65_536;
/** Deepest nesting of tuples and lists in a `.npy` header dict (FORMAT.md §4.8): bounds the parser's recursion. */
export const MAX_NPY_LITERAL_DEPTH = 16;
/** Bound on a transform's params record (FORMAT.md §3.5): guards the allocation before the params are read. */
export const MAX_TRANSFORM_PARAM_BYTES = 64 * 1024;
/** Bound on streams per transformed segment: guards the stream table allocation. */
export const MAX_TRANSFORM_STREAMS = 16;
/**
 * Bound on a transformed tensor's original size: a transform needs the whole tensor (and its streams) in memory, on
 * encode and on decode, so the writer transforms only tensors up to this size and a reader rejects larger ones.
 */
export const MAX_TRANSFORM_BYTES = 256 * 1024 * 1024;
/** Bound on any original file size: keeps every offset a safe JavaScript integer. */
export const MAX_FILE_BYTES = Number.MAX_SAFE_INTEGER;
