"""Interleaved rANS decoding of FORMAT.md §5.3: K lanes in lockstep, 16-bit words read in lane order per round.

Chunks of one segment that hold the same number of values share every table and the same symbol order, so they
decode together: lane states form an array of shape (chunks, K), and each round reads, for every lane that
renormalises, the word at its chunk's read position plus the number of renormalising lanes before it (an
exclusive prefix sum of the mask). A stream is valid only if each chunk ends with every state at 2^16 and its
read position exactly at its end; a read past the end shows as a final position beyond it, since positions
only grow.
"""

import numpy as np

from .constants import RANS_STATE_LOW

_LOW = np.uint32(RANS_STATE_LOW)


class RansError(Exception):
    """A stream that breaks §5.3; `chunk` is its index in the batch."""

    def __init__(self, chunk, problem):
        super().__init__(problem)
        self.chunk = chunk
        self.problem = problem


def decode_rans_scalar(stream, tables, n, lanes):
    """Decodes one stream (bytes) of `n` values over `tables` (one per coded plane) with plain Python integers.

    Returns a list of symbol lists, one per plane; raises RansError(0, …) if the stream breaks §5.3.
    """
    k = lanes
    if len(stream) < 4 * k or (len(stream) - 4 * k) % 2:
        raise RansError(0, f'stream of {len(stream)} bytes does not fit {k} lane states and whole words')
    x = [int.from_bytes(stream[4 * l:4 * l + 4], 'little') for l in range(k)]
    if min(x) < RANS_STATE_LOW:
        raise RansError(0, 'an initial lane state is below 2^16')
    words = np.frombuffer(stream, dtype='<u2', offset=4 * k).tolist()
    nw = len(words)
    rp = 0
    out = [[0] * n for _ in tables]
    steps = -(-n // k)
    planes = [(t.prob_bits, (1 << t.prob_bits) - 1, t.symbol_list, t.freq_list, t.bias_list, out[p])
              for p, t in enumerate(tables)]
    for s in range(steps):
        active = min(k, n - k * s)
        for pb, mask, sym, freq, bias, o in planes:
            for l in range(active):
                xl = x[l]
                slot = xl & mask
                o[k * s + l] = sym[slot]
                xl = freq[slot] * (xl >> pb) + bias[slot]
                if xl < RANS_STATE_LOW:
                    if rp >= nw:
                        raise RansError(0, 'a word is needed at the end of the stream')
                    xl = (xl << 16) | words[rp]
                    rp += 1
                x[l] = xl
    if rp != nw:
        raise RansError(0, f'{nw - rp} words left unread')
    if any(v != RANS_STATE_LOW for v in x):
        raise RansError(0, 'a lane does not end in state 2^16')
    return [np.array(o, dtype=np.uint16) for o in out]


def decode_rans_batch(streams, tables, n, lanes, dests=None):
    """Decodes several streams (a list of bytes-likes, one per chunk) of `n` values each, in lockstep.

    Without `dests`, returns one uint16 array of shape (chunks, n) per coded plane: each value's symbol. With `dests`,
    one (lut, dest, combine) per plane: value j of chunk c puts lut[its table slot] into dest[c, j] (dest of shape
    (chunks, n), any strides, the dtype of lut), replacing it (combine 'set') or OR-ed into it ('or'); returns None.
    Raises RansError naming the first bad chunk; dests may then hold part of the values.
    """
    g, k = len(streams), lanes
    states = np.empty((g, k), dtype=np.uint32)
    word_parts, counts = [], np.empty(g, dtype=np.int64)
    for c, st in enumerate(streams):
        if len(st) < 4 * k or (len(st) - 4 * k) % 2:
            raise RansError(c, f'stream of {len(st)} bytes does not fit {k} lane states and whole words')
        states[c] = np.frombuffer(st, dtype='<u4', count=k)
        w = np.frombuffer(st, dtype='<u2', offset=4 * k)
        word_parts.append(w)
        counts[c] = w.size
    bad = np.nonzero((states < _LOW).any(axis=1))[0]
    if bad.size:
        raise RansError(int(bad[0]), 'an initial lane state is below 2^16')
    # Lane states, products and words are uint32 (x < 2^32, freq · (x >> probBits) + bias < 2^32, and a
    # renormalising state is below 2^16 before its shift); word positions are int64, NumPy's native index width.
    words = np.concatenate(word_parts + [np.zeros(1, dtype=np.uint16)]).astype(np.uint32)
    base = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    steps = -(-n // k)
    outs = None
    if dests is None:
        outs = [np.empty((g, n), dtype=np.uint16) for _ in tables]
        dests = [(t.slot_symbol, o, 'set') for t, o in zip(tables, outs)]
    plan = [(np.uint32(t.prob_bits), np.uint32((1 << t.prob_bits) - 1), t.slot_freq, t.slot_bias, lut, dest, combine == 'or',
             np.empty((g, k), dtype=lut.dtype)) for t, (lut, dest, combine) in zip(tables, dests)]
    x = states
    low = np.uint32(RANS_STATE_LOW)
    sixteen = np.uint32(16)
    # A round's word positions come from one small matrix product: [renorm | rp − 1] @ [upper; ones] gives, for lane l
    # of chunk c, rp[c] − 1 + (renormalising lanes 0 … l of chunk c), where a renormalising lane reads its word. Exact
    # in float32 while positions stay below 2^24 (float64 past that); several times faster in NumPy than a cumulative
    # sum along rows of K lanes.
    ft = np.float32 if words.size < (1 << 24) else np.float64
    lhs = np.zeros((g, k + 1), dtype=ft)
    lhs[:, k] = base - 1
    rhs = np.vstack([np.triu(np.ones((k, k))), np.ones((1, k))]).astype(ft)
    pos = np.empty((g, k), dtype=ft)
    f = np.empty((g, k), dtype=np.uint32)
    y = np.empty((g, k), dtype=np.uint32)
    w = np.empty((g, k), dtype=np.uint32)
    renorm = np.empty((g, k), dtype=bool)
    at = np.empty((g, k), dtype=np.int64)
    slot = np.empty((g, k), dtype=np.intp)  # gathers index with native-width integers without converting them first
    for s in range(steps):
        active = min(k, n - k * s)
        if active < k:  # the last round: lanes past the last value keep their state and read nothing
            kept = x[:, active:].copy()
        for pb, mask, freq, bias, lut, dest, combine_or, part in plan:
            np.bitwise_and(x, mask, out=slot, casting='unsafe')
            # slot < 2^probBits = len(lut): no index is clipped. A round's values go straight to their places.
            place = dest[:, k * s:k * s + active]
            if combine_or:
                lut.take(slot, out=part, mode='clip')
                place |= part[:, :active]
            elif active == k:
                lut.take(slot, out=place, mode='clip')
            else:
                place[...] = lut.take(slot[:, :active], mode='clip')
            np.right_shift(x, pb, out=x)
            freq.take(slot, out=f, mode='clip')
            x *= f
            bias.take(slot, out=f, mode='clip')
            x += f
            if active < k:
                x[:, active:] = kept
            np.less(x, low, out=renorm)
            lhs[:, :k] = renorm
            np.matmul(lhs, rhs, out=pos)
            at[...] = pos
            # Indices outside `words` occur only in a corrupt stream, which the final position check rejects.
            words.take(at, out=w, mode='clip')
            lhs[:, k] = pos[:, k - 1]
            np.left_shift(x, sixteen, out=y)
            y |= w
            np.copyto(x, y, where=renorm)
    used = lhs[:, k].astype(np.int64) + 1 - base
    bad = np.nonzero(used != counts)[0]
    if bad.size:
        c = int(bad[0])
        if used[c] > counts[c]:
            raise RansError(c, 'a word is needed at the end of the stream')
        raise RansError(c, f'{int(counts[c] - used[c])} words left unread')
    bad = np.nonzero((x != _LOW).any(axis=1))[0]
    if bad.size:
        raise RansError(int(bad[0]), 'a lane does not end in state 2^16')
    return outs
