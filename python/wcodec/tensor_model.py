"""The tensor model of FORMAT.md §5.6 (format version 10): a context-mixing model over the bits of each value's plane
symbols, decoded with the byte model's 32-bit binary arithmetic coder (§5.5.5). Pure Python, integer arithmetic only;
it gives the symbols of the reference (src/entropy/tensor-model.ts), at a few kilobytes a second."""

from .binary_coder import binary_decoder
from .byte_model import APM_ROW, COUNTER_INIT, M32, RATE, STRETCH, WEIGHT_INIT, WEIGHT_MAX, mix_hash, squash

INPUTS = 6
COUNTER_LIMIT = 255
MIX_RATE = 12
APM2_GROUPS = 4
C0_SPREAD = 0x9E3779B1


def table_bits(n, planes):
    """Bits of each hashed table for a chunk of `n` values of `planes` planes (§5.6.2)."""
    lg = 0
    while lg < 40 and (1 << lg) < n * planes:
        lg += 1
    return min(16, max(12, lg + 1))


class TensorModelError(Exception):
    """A stream that breaks §5.6.5's validity rules; `pos` is the stream offset where it shows."""

    def __init__(self, problem, pos):
        super().__init__(problem)
        self.problem, self.pos = problem, pos


def decode_tensor_model(stream, n, widths, deposit, row):
    """Decodes the plane symbols of `n` values (a list of n × P ints, value-major) from one tensor-model stream.

    `widths`: each plane's bits (1 … 8); `deposit[k][s]`: the head bits symbol s of plane k stands for (0 for byte
    planes); `row`: `rowValues`. Raises TensorModelError.
    """
    stream = bytes(stream)
    decide, finish = binary_decoder(stream, TensorModelError, 'tensor-model', f'its {n} values')
    P = len(widths)
    bits = table_bits(n, P)
    shift = 32 - bits
    t0 = [COUNTER_INIT] * (P * 256)
    t = [[COUNTER_INIT] * (1 << bits) for _ in range(4)]
    w1 = [WEIGHT_INIT] * (P * 8 * INPUTS)
    w2 = [WEIGHT_INIT] * (P * 256 * INPUTS)
    apm1 = APM_ROW * (P * 256)
    apm2 = {}  # block (group × 256 + context) -> 256 rows of 33 entries, set up on first use
    mag = [0] * n
    syms = [0] * (n * P)

    def upd(tab, i, y):
        v = tab[i]
        p, cnt = v >> 16, v & 0xFFFF
        p += (((65535 if y else 0) - p) * RATE[cnt]) >> 15
        tab[i] = (p << 16) | (cnt + 1 if cnt < COUNTER_LIMIT else cnt)

    for i in range(n):
        left = i >= 1 and i % row != 0
        up = i >= row
        a = mag[i - 1] if left else mag[i - row] if up else 0
        b = mag[i - row] if up else a
        c = mag[i - row - 1] if left and up else b
        pred = max(0, min(2047, a + b - c))
        for k in range(P):
            prev = syms[(i - 1) * P + k] if i >= 1 else 0
            above = syms[(i - row) * P + k] if up else 0
            first = syms[i * P] if k >= 1 else 256
            earlier = 0 if k == 0 else syms[i * P] if k == 1 else syms[i * P] | (syms[i * P + 1] << 8)
            hs = (mix_hash(k, earlier, 0), mix_hash(16 + k, prev, 0), mix_hash(32 + k, above, 0), mix_hash(48 + k, pred >> 1, first))
            actx = prev if k == 0 else syms[i * P]
            block = min(k, APM2_GROUPS - 1) * 256 + actx
            rows = apm2.get(block)
            if rows is None:
                rows = apm2[block] = APM_ROW * 256
            c0 = 1
            for j in range(widths[k]):
                spread = (c0 * C0_SPREAD) & M32
                slots = [((hs[q] + spread) & M32) >> shift for q in range(4)]
                x = [STRETCH[t0[k * 256 + c0] >> 20]] + [STRETCH[t[q][slots[q]] >> 20] for q in range(4)] + [256]
                s1 = (k * 8 + j) * INPUTS
                s2 = (k * 256 + c0) * INPUTS
                d1 = max(-2047, min(2047, sum(w1[s1 + q] * x[q] for q in range(INPUTS)) >> 16))
                d2 = max(-2047, min(2047, sum(w2[s2 + q] * x[q] for q in range(INPUTS)) >> 16))
                p1, p2 = squash(d1), squash(d2)
                pm = squash((d1 + d2) >> 1)
                s = STRETCH[pm] + 2048
                lo, wt = s >> 7, s & 127
                r1 = (k * 256 + c0) * 33 + lo
                r2 = c0 * 33 + lo
                a1 = (apm1[r1] * (128 - wt) + apm1[r1 + 1] * wt) >> 11
                a2 = (rows[r2] * (128 - wt) + rows[r2 + 1] * wt) >> 11
                y = decide(max(1, min(4095, (pm + a1 + 2 * a2 + 2) >> 2)))
                e1 = ((y << 12) - p1) * MIX_RATE
                e2 = ((y << 12) - p2) * MIX_RATE
                for q in range(INPUTS):
                    v = w1[s1 + q] + ((x[q] * e1) >> 14)
                    w1[s1 + q] = WEIGHT_MAX if v > WEIGHT_MAX else -WEIGHT_MAX if v < -WEIGHT_MAX else v
                    v = w2[s2 + q] + ((x[q] * e2) >> 14)
                    w2[s2 + q] = WEIGHT_MAX if v > WEIGHT_MAX else -WEIGHT_MAX if v < -WEIGHT_MAX else v
                tg = 65535 if y else 0
                i1, i2 = r1 + (wt >> 6), r2 + (wt >> 6)
                apm1[i1] += (tg - apm1[i1]) >> 7
                rows[i2] += (tg - rows[i2]) >> 7
                upd(t0, k * 256 + c0, y)
                for q in range(4):
                    upd(t[q], slots[q], y)
                c0 = (c0 << 1) | y
            syms[i * P + k] = c0 - (1 << widths[k])
        head = 0
        for k in range(P):
            head |= deposit[k][syms[i * P + k]]
        mag[i] = (head & 0x7FFF) >> 4
    finish()
    return syms
