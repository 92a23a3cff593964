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


def decode_rans_batch(streams, tables, n, lanes):
    """Decodes several streams (a list of bytes-likes, one per chunk) of `n` values each, in lockstep.

    Returns one uint16 array of shape (chunks, n) per coded plane; raises RansError naming the first bad chunk.
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
    # int64 throughout: NumPy gathers with native-width indices without converting them first.
    words = np.concatenate(word_parts + [np.zeros(1, dtype=np.uint16)]).astype(np.int64)
    base = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    rp = base.copy()  # each chunk's read position, in words of `words`
    steps = -(-n // k)
    outs = [np.empty((steps, g, k), dtype=np.uint16) for _ in tables]  # step-major: each round writes one block
    plan = [(t.prob_bits, (1 << t.prob_bits) - 1, t.slot_freq.astype(np.int64), t.slot_bias.astype(np.int64))
            for t in tables]
    x = states.astype(np.int64)
    low = RANS_STATE_LOW
    for s in range(steps):
        active = min(k, n - k * s)
        for p, (pb, mask, freq, bias) in enumerate(plan):
            slot = x & mask
            outs[p][s] = slot
            nx = freq.take(slot) * (x >> pb) + bias.take(slot)
            renorm = nx < low
            if active < k:
                renorm[:, active:] = False
                nx[:, active:] = x[:, active:]
            csum = np.cumsum(renorm, axis=1)
            # A renormalising lane reads at rp + (renormalising lanes before it) = rp − 1 + its inclusive count.
            # Indices outside `words` occur only in a corrupt stream, which the final position check rejects.
            w = words.take((rp - 1)[:, None] + csum, mode='clip')
            x = np.where(renorm, (nx << 16) | w, nx)
            rp += csum[:, -1]
    used = rp - base
    bad = np.nonzero(used != counts)[0]
    if bad.size:
        c = int(bad[0])
        if used[c] > counts[c]:
            raise RansError(c, 'a word is needed at the end of the stream')
        raise RansError(c, f'{int(counts[c] - used[c])} words left unread')
    bad = np.nonzero((x != _LOW).any(axis=1))[0]
    if bad.size:
        raise RansError(int(bad[0]), 'a lane does not end in state 2^16')
    return [t.slot_symbol[o.transpose(1, 0, 2).reshape(g, steps * k)[:, :n]] for t, o in zip(tables, outs)]
