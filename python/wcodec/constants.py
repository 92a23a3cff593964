"""Format constants and limits of FORMAT.md §2 and §8; each limit guards the allocation named beside it."""

MAGIC = b'\x89WCODEC\n'
FOOTER_MAGIC = MAGIC[::-1]
HEADER_BYTES = 16
FOOTER_BYTES = 40
VERSIONS = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
MAX_MODELLED_INDEX_BYTES = 1 << 20  # an index block coded with the byte model (version 8, §3.0)

MAX_CHUNK_VALUES = 1 << 22  # per-chunk output buffers
MAX_INDEX_BYTES = 256 << 20  # the index is read whole before anything is decoded
MAX_INDEX_EXPANSION = 16  # a small coded index block claiming a huge index (plus 4096 bytes)
MAX_MEMBERS = 1 << 16  # member table
MAX_SEGMENTS = 1 << 20  # segment table per member
MAX_CHUNKS = 1 << 24  # chunk table per segment
MAX_RANK = 32  # absurd shapes
MAX_NAME_BYTES = 4096  # names, paths and link targets held in memory
MAX_DTYPE_BYTES = 32  # dtype strings
MAX_PLANES = 16  # plane arrays per segment
MAX_RANGES = 16  # bit ranges per head plane
MAX_CODED_SYMBOL_BITS = 12  # frequency tables of at most 4096 entries
HUFFMAN_MAX_BITS = 11  # Huffman lookup tables of 2^11 entries
MIN_PROB_BITS, MAX_PROB_BITS = 8, 15  # slot tables; probBits < 16 keeps one word per symbol
RANS_LANES = 32  # lane count bound
RANS_STATE_LOW = 1 << 16
MAX_SAFETENSORS_HEADER_BYTES = 100_000_000  # a safetensors header held in memory
MAX_JSON_DEPTH = 64  # nesting of a stored safetensors header, bounding a parser's recursion
MAX_TRANSFORM_BYTES = 256 << 20  # a value transform's tensor and streams held whole
MAX_TRANSFORM_PARAM_BYTES = 64 << 10  # transform params
MAX_TRANSFORM_STREAMS = 16  # transform stream table
MAX_MEMBER_MODE = 0o7777
HUFFMAN_STREAMS = 8
U64_LIMIT = 1 << 53  # every u64 field is below 2^53

DTYPE_BYTES = {
    'BOOL': 1, 'U8': 1, 'I8': 1, 'F8_E4M3': 1, 'F8_E5M2': 1,
    'I16': 2, 'U16': 2, 'F16': 2, 'BF16': 2,
    'I32': 4, 'U32': 4, 'F32': 4,
    'I64': 8, 'U64': 8, 'F64': 8,
}

TRANSFORM_DUPLICATE, TRANSFORM_XOR_DELTA = 1, 2
TRANSFORM_QUANT_SCALE, TRANSFORM_ZERO_FLAGS, TRANSFORM_INT_PREDICT, TRANSFORM_BLOCK_FIELDS = 3, 4, 5, 6
TRANSFORM_GROUP_QUANT = 7  # lossy (version 6, §3.5.3.5)
VALUE_TRANSFORMS = (TRANSFORM_QUANT_SCALE, TRANSFORM_ZERO_FLAGS, TRANSFORM_INT_PREDICT, TRANSFORM_BLOCK_FIELDS, TRANSFORM_GROUP_QUANT)
