"""Decoding of a coding record's chunks (FORMAT.md §6) into the values they hold, with the chunk checks of §7.3:
CRC-32C of the stored bytes (versions 1-3) before, and the bound WD64 digest (version 4) after decoding."""

import numpy as np

from .byte_model import ByteModelError, decode_byte_model
from .checksums import chunk_binding, crc32c, wd64
from .errors import make_error
from .huffman import HuffmanError, decode_huffman_batch, read_block_sizes
from .layout import deposit_head, head_lookup, padding_is_zero, raw_plane_bytes, read_raw_plane
from .rans import RansError, decode_rans_batch, decode_rans_scalar
from .tensor_model import TensorModelError, decode_tensor_model

BATCH_CHUNKS = 128  # chunks decoded in lockstep: more amortise NumPy calls, fewer keep a round's arrays in cache
BATCH_VALUES = 1 << 24  # values per batch at most (whole chunks, at least one): bounds the words it gathers


def decode_coding(cf, coding, out=None):
    """Decodes every chunk of `coding` from container `cf` into a uint8 array of values × valueBytes bytes.

    Version 4 chunk digests are bound by `coding.sha256` and `coding.stream_tag` (§7.5). Raises CORRUPT_CHUNK for a chunk whose CRC,
    size, stream or padding is wrong, CHECKSUM_MISMATCH for a chunk whose digest differs, LIMIT_EXCEEDED when the
    output cannot be allocated.
    """
    w = coding.value_bytes
    if out is None:
        try:
            out = np.empty(coding.values * w, dtype=np.uint8)
        except MemoryError:
            raise make_error('LIMIT_EXCEEDED', f'{coding.values * w} decoded bytes cannot be held in memory here',
                             cf.file, coding.chunks[0].offset if coding.chunks else None) from None
    if coding.byte_model is not None:
        _decode_byte_model_chunks(cf, coding, out)
        return out
    if coding.tensor_model is not None:
        _decode_tensor_model_chunks(cf, coding, out)
        return out
    groups = {}
    for c in range(len(coding.chunks)):
        groups.setdefault(coding.value_count(c), []).append(c)
    for n, members in groups.items():
        per_batch = max(1, min(BATCH_CHUNKS, BATCH_VALUES // max(n, 1)))
        for i in range(0, len(members), per_batch):
            _decode_group(cf, coding, members[i:i + per_batch], n, out)
    return out


def _decode_byte_model_chunks(cf, coding, out):
    """Each chunk of a byte-model segment (version 8) is one byte-model stream of its values (§5.5, §6)."""
    for c, ch in enumerate(coding.chunks):
        n = coding.value_count(c)
        try:
            decoded = decode_byte_model(cf.view(ch.offset, ch.size).tobytes(), n, coding.primer)
        except ByteModelError as e:
            raise _fail(cf, 'CORRUPT_CHUNK', f'chunk {c}: {e.problem}', ch.offset + e.pos) from None
        start = c * coding.chunk_values
        out[start:start + n] = np.frombuffer(decoded, dtype=np.uint8)
        check_digest(cf, coding, c, out[start:start + n])


def _decode_tensor_model_chunks(cf, coding, out):
    """Each chunk of a tensor-model segment (version 10) is one tensor-model stream of all its planes (§5.6, §6)."""
    w, planes = coding.value_bytes, coding.planes
    widths = [p.bits for p in planes]
    deposit = [head_lookup(p).tolist() if p.kind == 0 else [0] * (1 << p.bits) for p in planes]
    for c, ch in enumerate(coding.chunks):
        n = coding.value_count(c)
        if cf.version < 4 and crc32c(cf.view(ch.offset, ch.size)) != ch.check:
            raise _fail(cf, 'CORRUPT_CHUNK', f'chunk {c} fails its CRC-32C', ch.offset)
        try:
            syms = decode_tensor_model(cf.view(ch.offset, ch.size).tobytes(), n, widths, deposit, coding.tensor_model)
        except TensorModelError as e:
            raise _fail(cf, 'CORRUPT_CHUNK', f'chunk {c}: {e.problem}', ch.offset + e.pos) from None
        s = np.array(syms, dtype=np.uint16).reshape(n, len(planes))
        values = np.zeros((n, w), dtype=np.uint8)
        head = np.zeros(n, dtype=np.uint16)
        for k, p in enumerate(planes):
            if p.kind == 0:
                head |= np.array(deposit[k], dtype=np.uint16)[s[:, k]]
            else:
                values[:, p.byte_index] = s[:, k]
        values[:, w - 2] = head & 0xFF
        values[:, w - 1] = head >> 8
        start = c * coding.chunk_values
        out[start * w:(start + n) * w] = values.reshape(-1)
        check_digest(cf, coding, c, out[start * w:(start + n) * w])


def _fail(cf, code, problem, offset):
    return make_error(code, problem, cf.file, offset)


def _decode_group(cf, coding, chunk_numbers, n, out):
    planes, w, k = coding.planes, coding.value_bytes, coding.lanes
    raw = [p for p in planes if p.coding == 0]
    rans_planes = [p for p in planes if p.coding == 1]
    huff_planes = [p for p in planes if p.coding == 2]
    raw_total = sum(raw_plane_bytes(n, p.bits) for p in raw)
    views, coded_lens = [], []
    for c in chunk_numbers:
        ch = coding.chunks[c]
        v = cf.view(ch.offset, ch.size)
        if cf.version < 4 and crc32c(v) != ch.check:
            raise _fail(cf, 'CORRUPT_CHUNK', f'chunk {c} fails its CRC-32C', ch.offset)
        coded = ch.size - raw_total
        if coded < 0 or (not rans_planes and not huff_planes and coded) or (rans_planes and coded < 4 * k):
            raise _fail(cf, 'CORRUPT_CHUNK', f'chunk {c} of {ch.size} bytes does not fit its layout', ch.offset)
        pos = coded
        for p in raw:
            size = raw_plane_bytes(n, p.bits)
            if p.bits < 8 and size and not padding_is_zero(v[pos:pos + size], n, p.bits):
                raise _fail(cf, 'CORRUPT_CHUNK', f'chunk {c}: padding bits of a packed plane are not zero', ch.offset + pos + size - 1)
            pos += size
        views.append(v)
        coded_lens.append(coded)
    # A group holds consecutive chunks: all chunks but the last hold chunkValues values, the last forms its own.
    g = len(chunk_numbers)
    start = chunk_numbers[0] * coding.chunk_values * w
    target = out[start:start + g * n * w].reshape(g, n, w)
    # The head: the value's top byte (W = 1) or top two bytes, an aligned little-endian u16 of the value's u16s.
    head = target[..., 0] if w == 1 else target.view('<u2')[..., w // 2 - 1]
    head_type = head.dtype
    # Every plane writes its part of the values in place: raw and Huffman planes first, then the rANS planes as they
    # decode, round by round. The first head plane in that order sets the head bits, the others OR theirs into them.
    first_head = next((p for p in raw + huff_planes + rans_planes if p.kind == 0), None)

    def put(p, i, symbols):
        if p.kind == 1:
            target[i, :, p.byte_index] = symbols
        elif p is first_head:
            head[i] = deposit_head(p, symbols)
        else:
            head[i] |= deposit_head(p, symbols).astype(head_type, copy=False)

    for j, (v, cl) in enumerate(zip(views, coded_lens)):
        pos = cl
        for p in raw:
            size = raw_plane_bytes(n, p.bits)
            put(p, j, read_raw_plane(v[pos:pos + size], n, p.bits))
            pos += size
    if huff_planes:
        for p, symbols in zip(huff_planes, _decode_huffman(cf, coding, chunk_numbers, n, views, coded_lens, huff_planes)):
            put(p, slice(None), symbols)
    if rans_planes:
        tables = [p.table for p in rans_planes]
        streams = [v[:cl] for v, cl in zip(views, coded_lens)]
        try:
            if g * k < 16:  # too few lanes for NumPy's per-call cost to pay off
                for j, st in enumerate(streams):
                    try:
                        decoded = decode_rans_scalar(bytes(st), tables, n, k)
                    except RansError as e:
                        raise RansError(j, e.problem) from None
                    for p, symbols in zip(rans_planes, decoded):
                        put(p, j, symbols)
            else:
                dests = []
                for p in rans_planes:
                    if p.kind == 1:
                        dests.append((p.table.slot_symbol.astype(np.uint8), target[:, :, p.byte_index], 'set'))
                    else:
                        dests.append((_slot_lut(p).astype(head_type, copy=False), head, 'set' if p is first_head else 'or'))
                decode_rans_batch(streams, tables, n, k, dests)
        except RansError as e:
            c = chunk_numbers[e.chunk]
            raise _fail(cf, 'CORRUPT_CHUNK', f'chunk {c}: rANS stream: {e.problem}', coding.chunks[c].offset) from None
    if cf.version >= 4:
        for c, values in zip(chunk_numbers, target):
            check_digest(cf, coding, c, values)


def _slot_lut(plane):
    """The head bits that each slot of a rANS head plane's table deposits: one lookup per value gives its part."""
    return head_lookup(plane)[plane.table.slot_symbol]


def _decode_huffman(cf, coding, chunk_numbers, n, views, coded_lens, huff_planes):
    """The symbols of each Huffman plane, (chunks, n) uint8 arrays."""
    g = len(chunk_numbers)
    lens = [len(v) for v in views]
    buffer = np.zeros(sum(lens) + 8, dtype=np.uint8)
    bases = np.concatenate(([0], np.cumsum(lens)[:-1])).astype(np.int64)
    for v, b in zip(views, bases):
        buffer[b:b + len(v)] = v
    starts = np.empty((len(huff_planes), g, 8), dtype=np.int64)
    sizes = np.empty_like(starts)
    for i, (c, v, cl) in enumerate(zip(chunk_numbers, views, coded_lens)):
        pos = 0
        try:
            for j in range(len(huff_planes)):
                st, sz, pos = read_block_sizes(v, pos, cl, n, 0)
                starts[j, i], sizes[j, i] = st + bases[i], sz
            if pos != cl:
                raise HuffmanError(0, 'Huffman blocks do not end where the raw planes begin')
        except HuffmanError as e:
            raise _fail(cf, 'CORRUPT_CHUNK', f'chunk {c}: {e.problem}', coding.chunks[c].offset) from None
    symbols = []
    for j, p in enumerate(huff_planes):
        try:
            symbols.append(decode_huffman_batch(buffer, starts[j], sizes[j], p.table, n))
        except HuffmanError as e:
            c = chunk_numbers[e.chunk]
            raise _fail(cf, 'CORRUPT_CHUNK', f'chunk {c}: {e.problem}', coding.chunks[c].offset) from None
    return symbols


def check_digest(cf, coding, c, decoded):
    """Raises CHECKSUM_MISMATCH unless chunk `c` of `coding` decoded to `decoded` by its bound chunk digest (§7.5)."""
    ch = coding.chunks[c]
    if wd64(decoded.reshape(-1)) ^ chunk_binding(coding.sha256, coding.stream_tag, c) != ch.check:
        raise _fail(cf, 'CHECKSUM_MISMATCH', f'chunk {c}: digest of its decoded bytes does not match', ch.offset)
