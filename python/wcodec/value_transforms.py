"""Inverses of the value transforms of FORMAT.md §3.5.3: QUANT_SCALE (3), ZERO_FLAGS (4), INT_PREDICT (5),
BLOCK_FIELDS (6) and the lossy GROUP_QUANT (7).
Each takes the decoded streams (uint8 arrays) and returns the tensor's bytes, or raises CORRUPT_TRANSFORM."""

import struct

import numpy as np

from .constants import DTYPE_BYTES, MAX_TRANSFORM_STREAMS, TRANSFORM_BLOCK_FIELDS, TRANSFORM_GROUP_QUANT, TRANSFORM_INT_PREDICT, TRANSFORM_QUANT_SCALE, TRANSFORM_ZERO_FLAGS
from .errors import make_error


def invert_value_transform(seg, streams, file, offset):
    """The original bytes of transformed segment `seg` from its decoded `streams`."""
    def fail(problem):
        return make_error('CORRUPT_TRANSFORM', f'{seg.name!r}: {problem}', file, offset)
    inverse = {TRANSFORM_QUANT_SCALE: _quant_scale, TRANSFORM_ZERO_FLAGS: _zero_flags,
               TRANSFORM_INT_PREDICT: _int_predict, TRANSFORM_BLOCK_FIELDS: _block_fields,
               TRANSFORM_GROUP_QUANT: _group_quant}[seg.transform]
    return inverse(seg, streams, fail)


def _block_fields(seg, streams, fail):
    p = bytes(seg.params)
    if len(p) < 2 or p[0] != 0:
        raise fail('BLOCK_FIELDS params shorter than 2 bytes or version not 0')
    count = p[1]
    if not 1 <= count <= MAX_TRANSFORM_STREAMS or len(p) != 2 + 2 * count:
        raise fail(f'BLOCK_FIELDS params of {len(p)} bytes for {count} fields')
    sizes = struct.unpack_from(f'<{count}H', p, 2)
    block = sum(sizes)
    if 0 in sizes or seg.original_bytes % block:
        raise fail(f'fields {sizes} do not make whole blocks of {seg.original_bytes} bytes')
    blocks = seg.original_bytes // block
    if len(streams) != count or any(st.size != blocks * b for st, b in zip(streams, sizes)):
        raise fail('a stream size does not match its field')
    out = np.empty((blocks, block), np.uint8)
    o = 0
    for st, b in zip(streams, sizes):
        out[:, o:o + b] = st.reshape(blocks, b)
        o += b
    return out.reshape(-1)


def _narrow(x, dtype):
    """Finite binary32 values `x` as little-endian bytes of `dtype`, each rounded once, to nearest, ties to even."""
    n = x.size
    if dtype == 'F32':
        return x.view('<u4').view(np.uint8).reshape(n, 4).copy()
    if dtype == 'F16':
        with np.errstate(over='ignore'):
            return x.astype('<f2').view(np.uint8).reshape(n, 2).copy()
    b = x.view('<u4').astype(np.uint32)
    m = b & np.uint32(0x7FFFFFFF)
    h = ((b >> np.uint32(16)) & np.uint32(0x8000)) | ((m + np.uint32(0x7FFF) + ((m >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16))
    return h.astype('<u2').view(np.uint8).reshape(n, 2).copy()


def _fp8_levels(levels):
    """The binary32 value of each of the 256 FP8 patterns (§3.5.3.5 levels 1 E4M3, 2 E5M2); NaN where not finite."""
    e, m = (4, 3) if levels == 1 else (5, 2)
    bias = (1 << (e - 1)) - 1
    out = np.empty(256, dtype=np.float32)
    for c in range(256):
        sign = -1.0 if c & 0x80 else 1.0
        ex, man = (c >> m) & ((1 << e) - 1), c & ((1 << m) - 1)
        if (levels == 1 and ex == 15 and man == 7) or (levels == 2 and ex == 31):
            out[c] = np.nan
        elif ex == 0:
            out[c] = sign * man * 2.0 ** (1 - bias - m)
        else:
            out[c] = sign * ((1 << m) + man) * 2.0 ** (ex - bias - m)
    return out


def _group_quant(seg, streams, fail):
    """GROUP_QUANT (§3.5.3.5): level x scale in binary32, rounded once to the dtype; lossy, its params checked with the index."""
    if seg.dtype not in ('BF16', 'F16', 'F32'):
        raise fail(f'GROUP_QUANT does not apply to {seg.dtype}')
    if len(seg.shape) < 2 or seg.shape[-1] == 0:
        raise fail(f'GROUP_QUANT needs rank >= 2 and a last dimension >= 1, not {list(seg.shape)}')
    cols = seg.shape[-1]
    rows = 1
    for d in seg.shape[:-1]:
        rows *= d
    code_bytes = seg.params[1]
    (g,) = struct.unpack_from('<I', seg.params, 4)
    if not 1 <= g <= cols:
        raise fail(f'group size {g} outside 1 ... {cols}')
    groups = -(-cols // g)
    if len(streams) != 2 or streams[0].size != rows * cols * code_bytes or streams[1].size != rows * groups * 4:
        raise fail('a stream size does not match the tensor')
    levels, sparsity = seg.params[2], seg.params[3]
    if levels == 0:
        codes = streams[0].view('<i2' if code_bytes == 2 else np.int8).reshape(rows, cols)
        if np.abs(codes.astype(np.int32)).max(initial=0) > 32767:
            raise fail('a code beyond +-32767')
        level = codes.astype(np.float32)
    else:
        level = _fp8_levels(levels)[streams[0].view(np.uint8).reshape(rows, cols)]
        if np.isnan(level).any():
            raise fail('an FP8 code is not the pattern of a finite value')
    scales = streams[1].view('<f4').reshape(rows, groups)
    if not np.isfinite(scales).all():
        raise fail('a scale is not finite')
    if sparsity == 1:
        pad = -cols % 4
        # A last run of k < 4 values padded with 4 - k zeros: 2 zeros of 4 then asks floor(k / 2) of k for k = 3 and 1,
        # but none for k = 2, which needs 1: one padding zero is not counted there.
        zeros = np.pad(level == 0, ((0, 0), (0, pad)), constant_values=True).reshape(rows, -1, 4).sum(axis=2)
        if pad == 2:
            zeros[:, -1] -= 1
        if (zeros < 2).any():
            raise fail('fewer than 2 zero levels in a run of 4 values, breaking the 2:4 sparsity its params state')
    per_value = np.repeat(scales, g, axis=1)[:, :cols]
    x = (level * per_value).astype(np.float32).reshape(-1)  # one binary32 rounding (levels are exact)
    return _narrow(x, seg.dtype).reshape(-1)


def _quant_scale(seg, streams, fail):
    w = {'BF16': 2, 'F16': 2, 'F32': 4}.get(seg.dtype)
    if w is None:
        raise fail(f'QUANT_SCALE does not apply to {seg.dtype}')
    n = seg.original_bytes // w
    if len(seg.params) != 8:
        raise fail(f'QUANT_SCALE params of {len(seg.params)} bytes')
    if seg.params[:4] != bytes(4):
        raise fail('QUANT_SCALE version or reserved byte not zero')
    (g,) = struct.unpack_from('<I', seg.params, 4)
    if g == 0 or n % g:
        raise fail(f'groupValues {g} does not divide {n} values')
    if len(streams) != 3:
        raise fail(f'{len(streams)} streams, not 3')
    codes = streams[0].view(np.int8)
    escaped = codes == -128
    if codes.size != n or streams[1].size != 4 * (n // g) or streams[2].size != w * int(escaped.sum()):
        raise fail('a stream size does not match the tensor')
    scales = streams[1].view('<f4')
    if not np.isfinite(scales).all():
        raise fail('a scale is not finite')
    with np.errstate(over='ignore'):
        x = codes.astype(np.float32) * np.repeat(scales, g)  # exact product rounded once to binary32
    if seg.dtype == 'F32':
        out = x.view('<u4').view(np.uint8).reshape(n, 4).copy()
    elif seg.dtype == 'F16':
        with np.errstate(over='ignore'):
            out = x.astype('<f2').view(np.uint8).reshape(n, 2).copy()
    else:
        b = x.view('<u4').astype(np.uint32)
        m = b & np.uint32(0x7FFFFFFF)
        h = ((b >> np.uint32(16)) & np.uint32(0x8000)) | ((m + np.uint32(0x7FFF) + ((m >> np.uint32(16)) & np.uint32(1))) >> np.uint32(16))
        out = h.astype('<u2').view(np.uint8).reshape(n, 2).copy()
    out[escaped] = streams[2].reshape(-1, w)
    return out.reshape(-1)


def _zero_flags(seg, streams, fail):
    w = DTYPE_BYTES.get(seg.dtype, 1)
    if seg.original_bytes % w:
        raise fail(f'{seg.original_bytes} bytes are not whole values')
    n = seg.original_bytes // w
    if seg.params:
        raise fail('ZERO_FLAGS takes no params')
    if len(streams) != 2:
        raise fail(f'{len(streams)} streams, not 2')
    flags = streams[0]
    if flags.size != (n + 7) // 8:
        raise fail('flags stream size does not match the tensor')
    bits = np.unpackbits(flags, bitorder='little')
    if bits[n:].any():
        raise fail('a flag past the last value is set')
    nonzero = bits[:n].astype(bool)
    if streams[1].size != w * int(nonzero.sum()):
        raise fail('values stream size does not match the flags')
    out = np.zeros((n, w), dtype=np.uint8)
    out[nonzero] = streams[1].reshape(-1, w)
    return out.reshape(-1)


_INT_DTYPES = {'I8': (1, True), 'U8': (1, False), 'I16': (2, True), 'U16': (2, False), 'I32': (4, True), 'U32': (4, False)}


def _int_predict(seg, streams, fail):
    if seg.dtype not in _INT_DTYPES:
        raise fail(f'INT_PREDICT does not apply to {seg.dtype}')
    w, signed = _INT_DTYPES[seg.dtype]
    n = seg.original_bytes // w
    if len(seg.params) != 8:
        raise fail(f'INT_PREDICT params of {len(seg.params)} bytes')
    tile_rows, tile_cols = struct.unpack('<II', seg.params)
    if tile_rows == 0 or tile_cols == 0:
        raise fail('a tile dimension is 0')
    cols = seg.shape[-1] if len(seg.shape) >= 2 else n
    if (cols == 0 and n > 0) or (cols and n % cols):
        raise fail(f'{cols} columns do not divide {n} values')
    rows = n // cols if cols else 0
    if len(streams) != 2:
        raise fail(f'{len(streams)} streams, not 2')
    tr, tc = -(-rows // tile_rows), -(-cols // tile_cols)
    predictors = streams[0]
    if predictors.size != tr * tc:
        raise fail(f'{predictors.size} predictors for {tr} x {tc} tiles')
    if predictors.size and predictors.max() > 4:
        raise fail('a predictor above 4')
    if streams[1].size != seg.original_bytes:
        raise fail('residuals stream size does not match the tensor')
    bits = 8 * w
    mod = 1 << bits
    z = streams[1].view(f'<u{w}').astype(np.int64)
    sres = np.where(z % 2 == 0, z // 2, -(z + 1) // 2).reshape(rows, cols) if n else z
    x = np.zeros((rows + 1, cols + 1), dtype=np.int64)  # a zero border: neighbours outside the matrix are 0
    half = 1 << (bits - 1)

    def as_read(v):  # values as the dtype reads them, for the average predictor
        return ((v + half) % mod - half) if signed else v

    for ti in range(tr):
        r0, r1 = ti * tile_rows, min(rows, (ti + 1) * tile_rows)
        for tj in range(tc):
            c0, c1 = tj * tile_cols, min(cols, (tj + 1) * tile_cols)
            kind = int(predictors[ti * tc + tj])
            s = sres[r0:r1, c0:c1]
            if kind == 0:
                x[r0 + 1:r1 + 1, c0 + 1:c1 + 1] = s % mod
            elif kind == 2:
                for r in range(r0, r1):
                    x[r + 1, c0 + 1:c1 + 1] = (x[r, c0 + 1:c1 + 1] + s[r - r0]) % mod
            elif kind == 1:
                x[r0 + 1:r1 + 1, c0 + 1:c1 + 1] = (x[r0 + 1:r1 + 1, c0:c0 + 1] + np.cumsum(s, axis=1)) % mod
            elif kind == 4:
                for r in range(r0, r1):
                    d = x[r, c0 + 1:c1 + 1] - x[r, c0:c1] + s[r - r0]
                    x[r + 1, c0 + 1:c1 + 1] = (x[r + 1, c0] + np.cumsum(d)) % mod
            else:
                for r in range(r0, r1):
                    top = as_read(x[r, c0 + 1:c1 + 1]).tolist()
                    left = int(as_read(x[r + 1, c0]))
                    row = s[r - r0].tolist()
                    vals = []
                    for c in range(c1 - c0):
                        v = ((left + top[c]) // 2 + row[c]) % mod
                        vals.append(v)
                        left = v - mod if signed and v >= half else v
                    x[r + 1, c0 + 1:c1 + 1] = vals
    return x[1:, 1:].astype(f'<u{w}').view(np.uint8).reshape(-1) if n else np.zeros(0, np.uint8)
