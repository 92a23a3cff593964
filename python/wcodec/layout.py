"""Plane layouts of FORMAT.md §4.2: validity, raw (and packed) plane extraction, and the merge of planes into values."""

import math

import numpy as np

from .constants import MAX_PLANES, MAX_RANGES


class Plane:
    """One plane record: `kind` 0 (head: `ranges` of (lo, width)) or 1 (byte: `byte_index`), its `coding`
    (0 raw, 1 rANS, 2 Huffman), its `table` and its width `bits`."""

    __slots__ = ('kind', 'ranges', 'byte_index', 'coding', 'table', 'bits')

    def __init__(self, kind, ranges, byte_index, coding, table, bits):
        self.kind, self.ranges, self.byte_index = kind, ranges, byte_index
        self.coding, self.table, self.bits = coding, table, bits


def head_bits(value_bytes):
    """H = min(8W, 16), the number of head bits."""
    return min(8 * value_bytes, 16)


def check_layout(value_bytes, planes):
    """The problem with a layout as a string, or None when §4.2's validity rules hold."""
    if value_bytes not in (1, 2, 4, 8):
        return f'valueBytes {value_bytes} is not 1, 2, 4 or 8'
    if not 1 <= len(planes) <= MAX_PLANES:
        return f'{len(planes)} planes (1 … {MAX_PLANES})'
    h = head_bits(value_bytes)
    below = value_bytes - h // 8
    head_mask, bytes_seen = 0, set()
    for p in planes:
        if p.kind == 1:
            if p.byte_index >= below or p.byte_index in bytes_seen:
                return f'byte plane {p.byte_index} is below no head or repeated'
            bytes_seen.add(p.byte_index)
        else:
            if not 1 <= len(p.ranges) <= MAX_RANGES or p.bits > 16:
                return 'a head plane has too many ranges or bits'
            for lo, width in p.ranges:
                if width < 1 or lo + width > h:
                    return f'head range ({lo},{width}) outside the {h} head bits'
                m = ((1 << width) - 1) << lo
                if head_mask & m:
                    return 'a head bit belongs to two ranges'
                head_mask |= m
    if head_mask != (1 << h) - 1 or len(bytes_seen) != below:
        return 'the planes do not cover every bit of the value'
    return None


def raw_plane_bytes(n, bits):
    """Bytes a raw plane of `bits` bits takes for `n` values (§6)."""
    return (n * bits + 7) // 8


def padding_is_zero(data, n, bits):
    """Whether the unused high bits of a packed plane's last byte are zero (§6)."""
    used = (n * bits) % 8
    return used == 0 or (data[-1] >> used) == 0


def read_raw_plane(data, n, bits):
    """The `n` symbols of a raw plane stored in `data` (uint8 array of ⌈n·bits/8⌉ bytes), LSB-first packed."""
    if bits == 8:
        return data
    # Whole groups: g symbols fill g·bits/8 bytes exactly (bits = 6: 4 symbols in 3 bytes); each group's bytes read
    # as one little-endian integer, symbol j at its bits j·bits .. j·bits + bits - 1.
    g = 8 // math.gcd(8, bits)
    group_bytes = g * bits // 8
    m = -(-n // g)
    if data.size == m * group_bytes:
        buf = np.asarray(data)
    else:  # a last partial group: zero-filled to whole groups
        buf = np.zeros(m * group_bytes, dtype=np.uint8)
        buf[:data.size] = data[:m * group_bytes]
    wide = np.uint32 if group_bytes <= 4 else np.uint64
    rows = buf.reshape(m, group_bytes)
    word = rows[:, 0].astype(wide)
    for k in range(1, group_bytes):
        word |= rows[:, k].astype(wide) << wide(8 * k)
    out = np.empty((m, g), dtype=np.uint8)
    mask = wide((1 << bits) - 1)
    for j in range(g):
        np.bitwise_and(word >> wide(j * bits), mask, out=out[:, j], casting='unsafe')
    return out.reshape(-1)[:n]


def head_lookup(plane):
    """The head bits that each symbol of head plane `plane` deposits (§4.2 inverse), as a uint16 lookup table."""
    return deposit_head(plane, np.arange(1 << plane.bits, dtype=np.uint16))


def deposit_head(plane, symbols):
    """The head bits that head-plane `symbols` deposit (§4.2 inverse): a new uint16 array of their shape.

    A symbol's ranges are its bit fields, the first range in the most significant bits; each field goes to bits
    lo … lo + width − 1 of the head.
    """
    s = symbols.astype(np.uint16, copy=False)
    head, shift = None, 0
    for lo, width in reversed(plane.ranges):
        field = s >> np.uint16(shift) if shift else s
        if shift + width < plane.bits:  # bits above the field: masked off
            field = field & np.uint16((1 << width) - 1)
        if lo:
            field = field << np.uint16(lo)
        if head is None:
            head = field.copy() if field is s or field is symbols else field
        else:
            head |= field
        shift += width
    return head
