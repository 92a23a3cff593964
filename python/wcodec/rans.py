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


FLUSH_STEPS = 64  # rounds buffered before their values are written to their places


def _flush(dest, buf, s0, m, k, combine_or):
    """Writes buffered rounds s0 … s0 + m − 1 (buf[0:m], step-major) to dest[:, k·s0 : k·(s0 + m)] (chunk-major)."""
    if m <= 0:
        return
    part = dest[:, k * s0:k * (s0 + m)]
    # The same memory seen as (chunks, m, k): a view (as_strided), never a copy, so that the writes land in dest.
    place = np.lib.stride_tricks.as_strided(part, shape=(part.shape[0], m, k),
                                            strides=(part.strides[0], k * part.strides[1], part.strides[1]))
    if combine_or:
        place |= buf[:m].transpose(1, 0, 2)
    else:
        place[...] = buf[:m].transpose(1, 0, 2)


_product_faster = None


def _product_is_faster():
    """Whether a (128 × 33) @ (33 × 32) float32 product takes less time here than a cumulative sum along rows of 32
    (it does with an optimised BLAS, not with the reference one); measured once. Both give the same positions."""
    global _product_faster
    if _product_faster is None:
        import time
        m = np.zeros((128, 33), dtype=np.float32)
        r = np.ones((33, 32), dtype=np.float32)
        o = np.empty((128, 32), dtype=np.float32)
        b = np.zeros((128, 32), dtype=bool)
        c = np.empty((128, 32), dtype=np.int64)
        best = [float('inf'), float('inf')]
        for _ in range(3):
            t = time.perf_counter()
            for _ in range(20):
                np.dot(m, r, out=o)
            best[0] = min(best[0], time.perf_counter() - t)
            t = time.perf_counter()
            for _ in range(20):
                np.cumsum(b, axis=1, out=c)
            best[1] = min(best[1], time.perf_counter() - t)
        _product_faster = best[0] < best[1]
    return _product_faster


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
    plan = [(np.uint32(t.prob_bits), np.uint32((1 << t.prob_bits) - 1), t.slot_freq, t.slot_bias, lut, dest, combine == 'or')
            for t, (lut, dest, combine) in zip(tables, dests)]
    x = states
    low = np.uint32(RANS_STATE_LOW)
    sixteen = np.uint32(16)
    # A round's word positions: lane l of chunk c, when it renormalises, reads at rp[c] + (renormalising lanes 0 … l of
    # chunk c) − 1. The prefix count comes from one small matrix product, [renorm | rp − 1] @ [upper; ones] (exact in
    # float32 while positions stay below 2^24, float64 past that), where NumPy's BLAS makes that faster than a
    # cumulative sum along rows of K lanes; otherwise from the cumulative sum.
    by_product = _product_is_faster()
    ft = np.float32 if words.size < (1 << 24) else np.float64
    lhs = np.zeros((g, k + 1), dtype=ft)
    lhs[:, k] = base - 1
    rhs = np.vstack([np.triu(np.ones((k, k))), np.ones((1, k))]).astype(ft)
    pos = np.empty((g, k), dtype=ft)
    rp1 = (base - 1)[:, None].copy()
    f = np.empty((g, k), dtype=np.uint32)
    y = np.empty((g, k), dtype=np.uint32)
    w = np.empty((g, k), dtype=np.uint32)
    renorm = np.empty((g, k), dtype=bool)
    at = np.empty((g, k), dtype=np.int64)
    slot = np.empty((g, k), dtype=np.intp)  # gathers index with native-width integers without converting them first
    # Each round's looked-up values go to a step-major buffer of FLUSH_STEPS rounds, then to their places in `dest` in
    # one strided pass: writing each round straight into `dest` would touch a page per chunk per round.
    t_steps = min(FLUSH_STEPS, steps)
    bufs = [np.empty((t_steps, g, k), dtype=lut.dtype) for _, _, _, _, lut, _, _ in plan]
    full = n // k  # rounds in which every lane decodes a value
    for s in range(steps):
        active = min(k, n - k * s)
        if active < k:  # the last round: lanes past the last value keep their state and read nothing
            kept = x[:, active:].copy()
        for (pb, mask, freq, bias, lut, dest, combine_or), buf in zip(plan, bufs):
            np.bitwise_and(x, mask, out=slot, casting='unsafe')
            lut.take(slot, out=buf[s % t_steps], mode='clip')  # slot < 2^probBits = len(lut): nothing is clipped
            np.right_shift(x, pb, out=x)
            freq.take(slot, out=f, mode='clip')
            x *= f
            bias.take(slot, out=f, mode='clip')
            x += f
            if active < k:
                x[:, active:] = kept
            np.less(x, low, out=renorm)
            if by_product:
                lhs[:, :k] = renorm
                np.dot(lhs, rhs, out=pos)
                at[...] = pos
                lhs[:, k] = pos[:, k - 1]
            else:
                np.cumsum(renorm, axis=1, out=at)
                at += rp1
                rp1[:, 0] = at[:, k - 1]
            # Indices outside `words` occur only in a corrupt stream, which the final position check rejects.
            words.take(at, out=w, mode='clip')
            np.left_shift(x, sixteen, out=y)
            y |= w
            np.copyto(x, y, where=renorm)
        if (s + 1) % t_steps == 0 or s == steps - 1:
            s0 = s - s % t_steps
            for (_, _, _, _, _, dest, combine_or), buf in zip(plan, bufs):
                _flush(dest, buf, s0, min(s + 1, full) - s0, k, combine_or)
                if active < k:
                    place = dest[:, k * s:n]
                    if combine_or:
                        place |= buf[s - s0, :, :active]
                    else:
                        place[...] = buf[s - s0, :, :active]
    if not by_product:
        lhs[:, k] = rp1[:, 0]
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
