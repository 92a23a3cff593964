"""Header, footer and index block of FORMAT.md §2 and §3.0: opening a container file and reading its index."""

import mmap
import os
import struct

import numpy as np

from .byte_reader import ByteReader
from .checksums import crc32c
from .constants import (
    FOOTER_BYTES, FOOTER_MAGIC, HEADER_BYTES, MAGIC, MAX_INDEX_BYTES, MAX_INDEX_EXPANSION, MAX_MODELLED_INDEX_BYTES, U64_LIMIT, VERSIONS,
)
from .errors import IoError, make_error
from .byte_model import ByteModelError, decode_byte_model
from .freq_table import read_freq_table
from .index import read_index
from .rans import RansError, decode_rans_scalar


def check_header(data, size, file):
    """Checks the 16-byte header (§2.1) given the first bytes `data` of a `size`-byte input; returns `version`."""
    if data[:min(len(data), 8)] != MAGIC[:min(len(data), 8)]:
        raise make_error('BAD_MAGIC', 'header magic does not match', file, 0)
    if size < HEADER_BYTES:
        raise make_error('TRUNCATED', f'input of {size} bytes ends inside the header', file, size)
    if crc32c(data[:12]) != struct.unpack_from('<I', data, 12)[0]:
        raise make_error('CORRUPT_HEADER', 'header CRC-32C does not match', file, 12)
    version, flags = struct.unpack_from('<HH', data, 8)
    if version not in VERSIONS:
        raise make_error('UNSUPPORTED_VERSION', f'header version {version} is not one of {VERSIONS}', file, 8)
    if flags:
        raise make_error('CORRUPT_HEADER', f'header flags {flags:#x} are not 0', file, 10)
    if size < HEADER_BYTES + FOOTER_BYTES:
        raise make_error('TRUNCATED', f'input of {size} bytes is shorter than a header and a footer', file, size)
    return version


def check_footer(f, size, version, file):
    """Checks the 40-byte footer `f` (§2.2); returns (indexOffset, indexBytes, indexCrc32c)."""
    at = size - FOOTER_BYTES
    if f[32:40] != FOOTER_MAGIC:
        raise make_error('BAD_MAGIC', 'footer magic missing (a truncated file?)', file, at + 32)
    if crc32c(f[:24]) != struct.unpack_from('<I', f, 24)[0]:
        raise make_error('CORRUPT_HEADER', 'footer CRC-32C does not match', file, at + 24)
    index_offset, index_bytes, index_crc, fversion, flags, _, reserved = struct.unpack_from('<QQIHHII', f, 0)
    for name, v, pos in (('indexOffset', index_offset, 0), ('indexBytes', index_bytes, 8)):
        if v >= U64_LIMIT:
            raise make_error('CORRUPT_HEADER', f'footer {name} is not below 2^53', file, at + pos)
    if fversion not in VERSIONS or fversion != version:
        place = at + 20 if fversion > version else 8
        raise make_error('UNSUPPORTED_VERSION', f'footer version {fversion} with header version {version}', file, place)
    if flags or reserved:
        raise make_error('CORRUPT_HEADER', 'footer flags or reserved field not 0', file, at + 22 if flags else at + 28)
    if index_bytes > MAX_INDEX_BYTES:
        raise make_error('LIMIT_EXCEEDED', f'index block of {index_bytes} bytes exceeds {MAX_INDEX_BYTES}', file, at + 8)
    if index_offset < HEADER_BYTES or index_offset + index_bytes != at:
        raise make_error('CORRUPT_HEADER', f'index at {index_offset} of {index_bytes} bytes does not end at the footer', file, at)
    return index_offset, index_bytes, index_crc


def decode_index_block(block, index_offset, index_crc, file, version=1):
    """The decoded index bytes of a stored index block (§3.0), after checking its CRC, limits and coding."""
    if crc32c(block) != index_crc:
        raise make_error('CORRUPT_INDEX', 'index block CRC-32C does not match', file, index_offset)
    r = ByteReader(block, file, base=index_offset)
    decoded_bytes = r.u32('index block indexBytes')
    if decoded_bytes > MAX_INDEX_BYTES:
        raise make_error('LIMIT_EXCEEDED', f'index of {decoded_bytes} bytes exceeds {MAX_INDEX_BYTES}', file, index_offset)
    coding = r.u8('index block coding')
    if coding == 0:
        if len(block) - 5 != decoded_bytes:
            raise make_error('CORRUPT_INDEX', f'raw index body of {len(block) - 5} bytes, not {decoded_bytes}', file, index_offset)
        return block[5:], None
    if coding != 1 and not (coding == 2 and version >= 8):
        raise make_error('CORRUPT_INDEX', f'index block coding {coding} unknown in version {version}', file, index_offset + 4)
    if decoded_bytes > MAX_INDEX_EXPANSION * len(block) + 4096:
        raise make_error('LIMIT_EXCEEDED', f'coded index claims {decoded_bytes} bytes from a {len(block)}-byte block', file, index_offset)
    if coding == 2:
        if decoded_bytes > MAX_MODELLED_INDEX_BYTES:
            raise make_error('LIMIT_EXCEEDED', f'byte-model index of {decoded_bytes} bytes exceeds {MAX_MODELLED_INDEX_BYTES}', file, index_offset)
        try:
            return decode_byte_model(block[5:], decoded_bytes), index_offset
        except ByteModelError as e:
            raise make_error('CORRUPT_INDEX', f'coded index: {e.problem}', file, index_offset + 5 + e.pos) from None
    table = read_freq_table(r, 8)
    try:
        symbols = decode_rans_scalar(block[r.pos:], [table], decoded_bytes, 1)[0]
    except RansError as e:
        raise make_error('CORRUPT_INDEX', f'coded index stream: {e.problem}', file, index_offset) from None
    return symbols.astype(np.uint8).tobytes(), index_offset


class ContainerFile:
    """An open container: `version`, `index` (an Index) and `data` (the file's bytes, memory-mapped)."""

    def __init__(self, path):
        self.path = os.fspath(path)
        self.file = os.path.basename(self.path)
        try:
            with open(self.path, 'rb') as fh:
                size = os.fstat(fh.fileno()).st_size
                self.data = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b''
        except OSError as e:
            raise IoError('IO_ERROR', f'cannot read: {e.strerror}', self.path) from e
        size = len(self.data)
        self.version = check_header(self.data[:HEADER_BYTES], size, self.file)
        index_offset, index_bytes, index_crc = check_footer(self.data[size - FOOTER_BYTES:], size, self.version, self.file)
        block = self.data[index_offset:index_offset + index_bytes]
        body, fixed = decode_index_block(block, index_offset, index_crc, self.file, self.version)
        r = ByteReader(body, self.file, base=index_offset + 5, fixed_offset=fixed)
        self.index_offset = index_offset
        self.index = read_index(r, self.version, index_offset)

    def view(self, offset, size):
        """The container's bytes [offset, offset + size) as a read-only uint8 array (no copy)."""
        return np.frombuffer(self.data, dtype=np.uint8, count=size, offset=offset) if size else np.empty(0, np.uint8)

    def close(self):
        """Releases the memory map."""
        if isinstance(self.data, mmap.mmap):
            self.data.close()
