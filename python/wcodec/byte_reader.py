"""A bounds-checked little-endian cursor over bytes, raising the reader's errors with container offsets."""

import struct

from .constants import U64_LIMIT
from .errors import make_error


class ByteReader:
    """Reads fields from `data` in order. `base` maps positions to container offsets; `fixed_offset`, when given,
    is reported for every position instead (the offset of a coded index block); `code` is the error code of a read
    past the end."""

    def __init__(self, data, file, base=0, fixed_offset=None, code='CORRUPT_INDEX'):
        self.data = data
        self.pos = 0
        self.file = file
        self.base = base
        self.fixed_offset = fixed_offset
        self.code = code

    def offset(self, pos=None):
        """The container offset of position `pos` (default: the current one)."""
        if self.fixed_offset is not None:
            return self.fixed_offset
        return self.base + (self.pos if pos is None else pos)

    def fail(self, code, problem, pos=None):
        """An error of `code` at position `pos` (default: the current one); the index position is in the message."""
        p = self.pos if pos is None else pos
        where = f' (index byte {p})' if self.fixed_offset is not None else ''
        return make_error(code, problem + where, self.file, self.offset(p))

    def take(self, n, what='field'):
        """The next `n` bytes; reading past the end raises the cursor's code."""
        if n > len(self.data) - self.pos:
            raise self.fail(self.code, f'{what} of {n} bytes runs past the end ({len(self.data) - self.pos} left)')
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return bytes(b)

    def u8(self, what='u8'):
        """A u8 field."""
        return self.take(1, what)[0]

    def u16(self, what='u16'):
        """A little-endian u16 field."""
        return struct.unpack('<H', self.take(2, what))[0]

    def u32(self, what='u32'):
        """A little-endian u32 field."""
        return struct.unpack('<I', self.take(4, what))[0]

    def u64(self, what='u64', code='CORRUPT_INDEX'):
        """A u64 field, which must be below 2^53 (§1)."""
        start = self.pos
        v = struct.unpack('<Q', self.take(8, what))[0]
        if v >= U64_LIMIT:
            raise self.fail(code, f'{what} {v} is not below 2^53', start)
        return v

    def varint(self, what='varint'):
        """An unsigned LEB128 of at most 4 bytes (§5.2)."""
        start = self.pos
        v = 0
        for i in range(4):
            b = self.u8(what)
            v |= (b & 0x7F) << (7 * i)
            if not b & 0x80:
                return v
        raise self.fail('CORRUPT_INDEX', f'{what} longer than 4 bytes', start)

    def utf8(self, raw, what, pos):
        """`raw` decoded as strict UTF-8, or CORRUPT_INDEX at `pos`."""
        try:
            return raw.decode('utf-8', 'strict')
        except UnicodeDecodeError:
            raise self.fail('CORRUPT_INDEX', f'{what} is not valid UTF-8', pos) from None

    def str16(self, what, limit, limit_code='CORRUPT_INDEX'):
        """A str16 of at most `limit` bytes, as (text, raw bytes)."""
        start = self.pos
        n = self.u16(what)
        if n > limit:
            raise self.fail(limit_code, f'{what} of {n} bytes exceeds {limit}', start)
        raw = self.take(n, what)
        return self.utf8(raw, what, start), raw
