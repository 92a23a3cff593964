"""Huffman-coded 8-bit planes of FORMAT.md §5.4: canonical codes of at most 11 bits, eight LSB-first streams per
chunk block. The eight streams of every chunk in a batch decode in lockstep through one 2^11-entry lookup table."""

import numpy as np

from .constants import HUFFMAN_MAX_BITS, HUFFMAN_STREAMS

_WINDOW = 1 << HUFFMAN_MAX_BITS


class HuffmanTable:
    """A canonical code, as lookup arrays indexed by the next 11 stream bits (LSB-first): symbol and code length."""

    def __init__(self, symbols, lengths):
        self.lookup_symbol = np.zeros(_WINDOW, dtype=np.uint16)
        self.lookup_length = np.zeros(_WINDOW, dtype=np.int64)
        order = sorted(range(len(symbols)), key=lambda i: (lengths[i], symbols[i]))
        code, prev_len = -1, 0
        for i in order:
            ln = lengths[i]
            code = 0 if code < 0 else (code + 1) << (ln - prev_len)
            prev_len = ln
            rev = int(format(code, f'0{ln}b')[::-1], 2)
            idx = rev + (np.arange(1 << (HUFFMAN_MAX_BITS - ln)) << ln)
            self.lookup_symbol[idx] = symbols[i]
            self.lookup_length[idx] = ln


def read_huffman_table(r):
    """Reads a Huffman table from ByteReader `r`; CORRUPT_INDEX unless §5.4's rules hold (complete code)."""
    start = r.pos
    present = r.u16('Huffman present')
    if not 2 <= present <= 256:
        raise r.fail('CORRUPT_INDEX', f'Huffman table lists {present} symbols (2 … 256)', start)
    symbols, lengths = [], []
    s, kraft = -1, 0
    for _ in range(present):
        s += r.varint('Huffman symbol gap') + 1
        ln = r.u8('Huffman code length')
        if s > 255:
            raise r.fail('CORRUPT_INDEX', f'Huffman symbol {s} above 255', start)
        if not 1 <= ln <= HUFFMAN_MAX_BITS:
            raise r.fail('CORRUPT_INDEX', f'Huffman code length {ln} outside 1 … {HUFFMAN_MAX_BITS}', start)
        kraft += 1 << (HUFFMAN_MAX_BITS - ln)
        symbols.append(s)
        lengths.append(ln)
    if kraft != _WINDOW:
        raise r.fail('CORRUPT_INDEX', 'Huffman code is not complete', start)
    return HuffmanTable(symbols, lengths)


class HuffmanError(Exception):
    """A block that breaks §5.4; `chunk` is its index in the batch."""

    def __init__(self, chunk, problem):
        super().__init__(problem)
        self.chunk = chunk
        self.problem = problem


def read_block_sizes(data, pos, end, n, chunk):
    """Stream sizes of the block at `data[pos:]` (which must end by `end`): (starts, sizes, block end)."""
    if end - pos < 4 * HUFFMAN_STREAMS:
        raise HuffmanError(chunk, 'Huffman block sizes run past the chunk')
    sizes = np.frombuffer(bytes(data[pos:pos + 4 * HUFFMAN_STREAMS]), dtype='<u4').astype(np.int64)
    total = int(sizes.sum())
    start = pos + 4 * HUFFMAN_STREAMS
    if total > end - start:
        raise HuffmanError(chunk, f'Huffman streams of {total} bytes run past the chunk')
    starts = start + np.concatenate(([0], np.cumsum(sizes)[:-1]))
    return starts, sizes, start + total


def decode_huffman_batch(buffer, starts, sizes, table, n):
    """Decodes the blocks of several chunks of `n` values from `buffer` (uint8, zero-padded by at least 3 bytes).

    `starts` and `sizes` have shape (chunks, 8). Returns uint8 symbols of shape (chunks, n); raises HuffmanError
    unless every stream uses exactly its bytes and leaves its last byte's unused bits zero.
    """
    g = starts.shape[0]
    q = -(-n // HUFFMAN_STREAMS)
    k = np.arange(HUFFMAN_STREAMS)
    counts = np.clip(np.minimum(n, (k + 1) * q) - k * q, 0, None)
    bitpos = (starts * 8).reshape(-1).astype(np.int64)
    buf = buffer.astype(np.int64)
    out = np.zeros((g * HUFFMAN_STREAMS, q), dtype=np.uint8)
    full = counts == q
    for s in range(q):
        live = np.tile(counts > s, g) if not full.all() else None
        byte = bitpos >> 3
        window = ((buf[byte] | (buf[byte + 1] << 8) | (buf[byte + 2] << 16)) >> (bitpos & 7)) & (_WINDOW - 1)
        out[:, s] = table.lookup_symbol[window]
        ln = table.lookup_length[window]
        if live is not None:
            ln = np.where(live, ln, 0)
        bitpos += ln
    used = bitpos - (starts * 8).reshape(-1)
    sz = sizes.reshape(-1)
    bad = np.nonzero((used + 7) // 8 != sz)[0]
    if bad.size:
        raise HuffmanError(int(bad[0]) // HUFFMAN_STREAMS, 'a Huffman stream does not end at its last byte')
    tail = used % 8
    ends = (starts.reshape(-1) + sz - 1)
    has_tail = np.nonzero(tail)[0]
    if has_tail.size:
        last = buf[ends[has_tail]] >> tail[has_tail]
        bad = np.nonzero(last)[0]
        if bad.size:
            raise HuffmanError(int(has_tail[bad[0]]) // HUFFMAN_STREAMS, 'unused bits of a Huffman stream are not zero')
    out = out.reshape(g, HUFFMAN_STREAMS, q)
    result = np.empty((g, n), dtype=np.uint8)
    for j in range(HUFFMAN_STREAMS):
        if counts[j]:
            result[:, j * q:j * q + counts[j]] = out[:, j, :counts[j]]
    return result
