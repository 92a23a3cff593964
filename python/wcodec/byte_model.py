"""The byte model of FORMAT.md §5.5 (format version 8): a context-mixing model over each byte's bits, decoded with a
32-bit binary arithmetic coder, and the safetensors header primer of §4.4. Pure Python, integer arithmetic only; it
gives the bytes of the reference (src/entropy/byte-model.ts), at tens of kilobytes a second."""

import json

from .binary_coder import M32, binary_decoder

SQUASH_POINTS = (1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546, 2048, 2550, 2994, 3349, 3608,
                 3785, 3902, 3976, 4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095)
MATCH_MIN = 5
MATCH_VERIFY = 32
LIMIT_LOW = 1023
LIMIT_HIGH = 127
WEIGHT_MAX = (1 << 20) - 1
WEIGHT_INIT = 1 << 14
COUNTER_INIT = 0x8000 << 16
MAX_PRIMER_BYTES = 1 << 24


def _squash_table():
    t = []
    for s in range(4096):
        lo, w = s >> 7, s & 127
        t.append((SQUASH_POINTS[lo] * (128 - w) + SQUASH_POINTS[lo + 1] * w + 64) >> 7)
    return t


_SQ = _squash_table()


def squash(d):
    if d > 2047:
        d = 2047
    elif d < -2047:
        d = -2047
    return _SQ[d + 2048]


def _stretch_table():
    t = [0] * 4096
    pi = 0
    for d in range(-2047, 2048):
        v = squash(d)
        for j in range(pi, v + 1):
            t[j] = d
        pi = v + 1
    for j in range(pi, 4096):
        t[j] = 2047
    return t


STRETCH = _stretch_table()
RATE = [65536 // (2 * n + 3) for n in range(1024)]
APM_ROW = [squash((j - 16) * 128) * 16 for j in range(33)]


def mix_hash(k, a, b):
    x = (a * 0x9E3779B1 + b * 0x85EBCA77 + (k + 1) * 0xC2B2AE3D) & M32
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & M32
    return x ^ (x >> 13)


def table_bits(total):
    lg = 0
    while lg < 30 and (1 << lg) < total:
        lg += 1
    return min(18, max(10, lg - 2)), min(20, max(10, lg))


class ByteModelError(Exception):
    """A stream that breaks §5.5's validity rules; `pos` is the stream offset where it shows."""

    def __init__(self, problem, pos):
        super().__init__(problem)
        self.problem, self.pos = problem, pos


def decode_byte_model(stream, n, primer=b''):
    """Decodes `n` bytes from one byte-model stream after learning `primer`. Raises ByteModelError."""
    stream = bytes(stream)
    decide, finish = binary_decoder(stream, ByteModelError, 'byte-model', f'its {n} bytes')
    total = len(primer) + n
    buf = bytearray(total)
    buf[:len(primer)] = primer
    bucket_bits, match_bits = table_bits(total)
    bshift, mshift = 32 - bucket_bits, 32 - match_bits
    o0 = [COUNTER_INIT] * 256
    o1 = [COUNTER_INIT] * 65536
    buckets = [0] * (16 << bucket_bits)
    mtable = [0] * (1 << match_bits)
    mc = [COUNTER_INIT] * 64
    w1 = [WEIGHT_INIT] * (1024 * 11)
    w2 = [WEIGHT_INIT] * (1024 * 11)
    apm1 = APM_ROW * 256
    apm2 = APM_ROW * 65536
    st = {'c4': 0, 'c8': 0, 'word': 0, 'mptr': 0, 'mlen': 0}
    hashes = [0] * 7
    slots = [0] * 7

    def select(bit, c0):
        for i in range(7):
            h = hashes[i] if bit == 0 else mix_hash(8, hashes[i], c0)
            b = (h >> bshift) * 16
            tag = (h & 0xFFFF) | 0x10000
            if buckets[b] != tag:
                buckets[b] = tag
                for j in range(1, 16):
                    buckets[b + j] = COUNTER_INIT
            slots[i] = b

    def byte_start(pos):
        if pos > 0:
            c = buf[pos - 1]
            st['c8'] = ((st['c8'] << 8) | (st['c4'] >> 24)) & M32
            st['c4'] = ((st['c4'] << 8) | c) & M32
            if 97 <= c <= 122 or 65 <= c <= 90 or 48 <= c <= 57 or c >= 128:
                st['word'] = ((st['word'] + (c | 32) + 1) * 0x01000193) & M32
            else:
                st['word'] = 0
            if st['mlen'] > 0:
                if buf[st['mptr']] == c:
                    st['mptr'] += 1
                    if st['mlen'] < 65535:
                        st['mlen'] += 1
                else:
                    st['mlen'] = 0
            if pos >= MATCH_MIN:
                hm = mix_hash(9, st['c4'], st['c8'] & 0xFF) >> mshift
                if st['mlen'] == 0:
                    cand = mtable[hm]
                    if cand > 0:
                        ln = 0
                        while ln < MATCH_VERIFY and ln < cand and buf[cand - 1 - ln] == buf[pos - 1 - ln]:
                            ln += 1
                        if ln >= MATCH_MIN:
                            st['mlen'], st['mptr'] = ln, cand
                mtable[hm] = pos
        c4, c8 = st['c4'], st['c8']
        hashes[0] = mix_hash(2, c4 & 0xFFFF, 0)
        hashes[1] = mix_hash(3, c4 & 0xFFFFFF, 0)
        hashes[2] = mix_hash(4, c4, 0)
        hashes[3] = mix_hash(6, c4, c8 & 0xFFFF)
        hashes[4] = mix_hash(7, st['word'], 0)
        hashes[5] = mix_hash(10, c4 & 0xFF, pos & 3)
        hashes[6] = mix_hash(11, c4 >> 24, pos & 3)
        select(0, 1)

    def upd(t, i, y, limit):
        v = t[i]
        p, cnt = v >> 16, v & 0xFFFF
        p += (((65535 if y else 0) - p) * RATE[cnt]) >> 15
        t[i] = (p << 16) | (cnt + 1 if cnt < limit else cnt)

    def code_byte(pos, known, coder):
        """Models the byte at `pos`: learns `known` when given, else decodes it through `coder`."""
        c0 = 1
        c1 = st['c4'] & 0xFF
        rate = 16 + 1024 // (8 + (pos >> 10))
        for bit in range(8):
            node = c0 if bit < 4 else (c0 & ((1 << (bit - 4)) - 1)) | (1 << (bit - 4))
            x = [STRETCH[o0[c0] >> 20], STRETCH[o1[(c1 << 8) | c0] >> 20]]
            for i in range(7):
                x.append(STRETCH[buckets[slots[i] + node] >> 20])
            mlb, mbit, xm = 0, -1, 0
            mlen = st['mlen']
            if mlen > 0:
                e = buf[st['mptr']] | 256
                if e >> (8 - bit) == c0:
                    mbit = (e >> (7 - bit)) & 1
                    mlb = 1 if mlen < 16 else 2 if mlen < 32 else 3
                    xm = STRETCH[mc[(min(mlen, 31) << 1) | mbit] >> 20]
            x.append(xm)
            x.append(256)
            s1 = ((mlb << 8) | c0) * 11
            s2 = (((pos & 3) << 8) | c1) * 11
            dot1 = sum(w1[s1 + i] * x[i] for i in range(11))
            dot2 = sum(w2[s2 + i] * x[i] for i in range(11))
            d1 = max(-2047, min(2047, dot1 >> 16))
            d2 = max(-2047, min(2047, dot2 >> 16))
            p1, p2 = squash(d1), squash(d2)
            p = squash((d1 + d2) >> 1)
            s = STRETCH[p] + 2048
            lo, wt = s >> 7, s & 127
            r1 = c0 * 33 + lo
            r2 = ((c1 << 8) | c0) * 33 + lo
            a1 = (apm1[r1] * (128 - wt) + apm1[r1 + 1] * wt) >> 11
            a2 = (apm2[r2] * (128 - wt) + apm2[r2 + 1] * wt) >> 11
            pf = max(1, min(4095, (p + a1 + 2 * a2 + 2) >> 2))
            y = ((known >> (7 - bit)) & 1) if coder is None else coder(pf)
            e1 = ((y << 12) - p1) * rate
            e2 = ((y << 12) - p2) * rate
            for i in range(11):
                v = w1[s1 + i] + ((x[i] * e1) >> 14)
                w1[s1 + i] = WEIGHT_MAX if v > WEIGHT_MAX else -WEIGHT_MAX if v < -WEIGHT_MAX else v
                v = w2[s2 + i] + ((x[i] * e2) >> 14)
                w2[s2 + i] = WEIGHT_MAX if v > WEIGHT_MAX else -WEIGHT_MAX if v < -WEIGHT_MAX else v
            t = 65535 if y else 0
            i1, i2 = r1 + (wt >> 6), r2 + (wt >> 6)
            apm1[i1] += (t - apm1[i1]) >> 7
            apm2[i2] += (t - apm2[i2]) >> 7
            upd(o0, c0, y, LIMIT_LOW)
            upd(o1, (c1 << 8) | c0, y, LIMIT_LOW)
            for i in range(7):
                upd(buckets, slots[i] + node, y, LIMIT_HIGH)
            if mbit >= 0:
                upd(mc, (min(mlen, 31) << 1) | mbit, y, LIMIT_LOW)
                if mbit != y:
                    st['mlen'] = 0
            c0 = (c0 << 1) | y
            if bit == 3:
                select(4, c0)
        return c0 & 0xFF

    byte_start(0)
    for pos in range(len(primer)):
        code_byte(pos, buf[pos], None)
        byte_start(pos + 1)
    for pos in range(len(primer), total):
        buf[pos] = code_byte(pos, 0, decide)
        byte_start(pos + 1)
    finish()
    return bytes(buf[len(primer):])


def safetensors_primer(tensors):
    """The header primer of §4.4 from (name, dtype, shape, original_bytes) tuples in record order."""
    parts = ['{"__metadata__":{"format":"pt"}']
    chars, offset = len(parts[0]), 0
    for name, dtype, shape, size in tensors:
        if chars > MAX_PRIMER_BYTES:
            break
        end = offset + size
        part = (',' + json.dumps(name, ensure_ascii=False) + ':{"dtype":' + json.dumps(dtype, ensure_ascii=False)
                + ',"shape":[' + ','.join(str(d) for d in shape) + '],"data_offsets":[' + f'{offset},{end}]}}')
        parts.append(part)
        chars += len(part)
        offset = end
    parts.append('}')
    data = ''.join(parts).encode('utf-8')
    return data[:MAX_PRIMER_BYTES]
