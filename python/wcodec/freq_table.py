"""Frequency tables of FORMAT.md §5.2, read into the per-slot arrays the rANS decoder gathers from."""

import numpy as np

from .constants import MAX_PROB_BITS, MIN_PROB_BITS


class FreqTable:
    """A static table: `prob_bits`, and per slot (0 … 2^probBits − 1) its symbol, frequency and slot − cum."""

    def __init__(self, prob_bits, symbols, freqs):
        self.prob_bits = prob_bits
        m = 1 << prob_bits
        freqs_arr = np.array(freqs, dtype=np.uint32)
        self.slot_symbol = np.repeat(np.array(symbols, dtype=np.uint16), freqs_arr)
        self.slot_freq = np.repeat(freqs_arr, freqs_arr)
        cum = np.concatenate(([0], np.cumsum(freqs_arr)[:-1])).astype(np.uint32)
        self.slot_bias = (np.arange(m, dtype=np.uint32) - np.repeat(cum, freqs_arr)).astype(np.uint32)
        # Python lists for the scalar decoder, which is faster on one lane than NumPy's per-call overhead.
        self.symbol_list = self.slot_symbol.tolist()
        self.freq_list = self.slot_freq.tolist()
        self.bias_list = self.slot_bias.tolist()


def read_freq_table(r, bits):
    """Reads a table for symbols of `bits` bits from ByteReader `r`; CORRUPT_INDEX unless §5.2's rules hold."""
    start = r.pos
    prob_bits = r.u8('probBits')
    if not MIN_PROB_BITS <= prob_bits <= MAX_PROB_BITS:
        raise r.fail('CORRUPT_INDEX', f'probBits {prob_bits} outside {MIN_PROB_BITS} … {MAX_PROB_BITS}', start)
    alphabet = 1 << bits
    present = r.u16('present')
    if not 1 <= present <= alphabet:
        raise r.fail('CORRUPT_INDEX', f'present {present} outside 1 … {alphabet}', start)
    m = 1 << prob_bits
    symbols, freqs = [], []
    s, total = -1, 0
    for _ in range(present):
        s += r.varint('symbol gap') + 1
        f = r.varint('frequency') + 1
        if s >= alphabet:
            raise r.fail('CORRUPT_INDEX', f'symbol {s} outside the alphabet of {alphabet}', start)
        total += f
        if total > m:
            raise r.fail('CORRUPT_INDEX', f'frequencies exceed 2^{prob_bits}', start)
        symbols.append(s)
        freqs.append(f)
    if total != m:
        raise r.fail('CORRUPT_INDEX', f'frequencies sum to {total}, not 2^{prob_bits}', start)
    return FreqTable(prob_bits, symbols, freqs)
