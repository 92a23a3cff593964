"""CRC-32C (FORMAT.md §7.1) and the version 4 chunk digest WD64 (§7.5), the latter vectorised with NumPy."""

import numpy as np

_CRC_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)

_CRC_TABLE_ARRAY = np.array(_CRC_TABLE, dtype=np.uint32)
CRC_BLOCK_BYTES = 1024  # inputs are cut into blocks of this size, whose CRCs run side by side as NumPy lanes
_shift_tables = []


def _crc_update(reg, data):
    """The CRC-32C register after `data` from register `reg` (no initial or final XOR), byte by byte."""
    t = _CRC_TABLE
    for b in bytes(data):
        reg = t[(reg ^ b) & 0xFF] ^ (reg >> 8)
    return reg


def _block_shift():
    """Four 256-entry tables whose XOR maps a register to the register after CRC_BLOCK_BYTES zero bytes: the map is
    linear over GF(2), so it is the XOR of its images of each register byte."""
    if not _shift_tables:
        basis = np.uint32(1) << np.arange(32, dtype=np.uint32)
        for _ in range(CRC_BLOCK_BYTES):
            basis = _CRC_TABLE_ARRAY[basis & np.uint32(0xFF)] ^ (basis >> np.uint32(8))
        byte = np.arange(256, dtype=np.uint32)
        for t in range(4):
            z = np.zeros(256, dtype=np.uint32)
            for bit in range(8):
                z ^= np.where((byte >> np.uint32(bit)) & np.uint32(1), basis[8 * t + bit], np.uint32(0))
            _shift_tables.append(z.tolist())
    return _shift_tables


def crc32c(data):
    """CRC-32C of `data` (bytes-like): reflected 0x82F63B78, initial and final XOR 0xFFFFFFFF.

    Long inputs are cut into blocks whose CRCs (from a zero register) run in lockstep as NumPy lanes; by
    linearity, the register after block i is the register before it carried over the block's length (the shift
    tables) XOR the block's own CRC.
    """
    d = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.reshape(-1)
    blocks = d.size // CRC_BLOCK_BYTES
    if blocks < 8:
        return _crc_update(0xFFFFFFFF, d.tobytes()) ^ 0xFFFFFFFF
    cols = np.ascontiguousarray(d[:blocks * CRC_BLOCK_BYTES].reshape(blocks, CRC_BLOCK_BYTES).T)
    regs = np.zeros(blocks, dtype=np.uint32)
    table, low, eight = _CRC_TABLE_ARRAY, np.uint32(0xFF), np.uint32(8)
    for j in range(CRC_BLOCK_BYTES):
        regs = table[(regs ^ cols[j]) & low] ^ (regs >> eight)
    z0, z1, z2, z3 = _block_shift()
    reg = 0xFFFFFFFF
    for r in regs.tolist():
        reg = z0[reg & 0xFF] ^ z1[(reg >> 8) & 0xFF] ^ z2[(reg >> 16) & 0xFF] ^ z3[reg >> 24] ^ r
    return _crc_update(reg, d[blocks * CRC_BLOCK_BYTES:].tobytes()) ^ 0xFFFFFFFF


_K = np.array([
    0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x85EBCA77C2B2AE63,
    0x27D4EB2F165667C5, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53,
], dtype=np.uint64)
K1, K2, K3, K5, K7 = (int(_K[i]) for i in (1, 2, 3, 5, 7))
_M64 = (1 << 64) - 1


_keys_cache = {}


def _stripe_keys(stripes):
    """K[j] ⊕ (i × K5) for stripe i and lane j, as a (stripes, 8) uint64 array (kept for the last few sizes)."""
    keys = _keys_cache.get(stripes)
    if keys is None:
        if len(_keys_cache) >= 4:
            _keys_cache.clear()
        m = np.arange(stripes, dtype=np.uint64) * np.uint64(K5)
        keys = _keys_cache[stripes] = _K[None, :] ^ m[:, None]
    return keys


def _column_sums(x):
    """The column sums of a 2-D uint64 array modulo 2^64, by halving its rows in place (x is destroyed): a few
    contiguous adds, several times faster in NumPy than a reduction along axis 0 of 8 columns."""
    n = x.shape[0]
    while n > 1:
        h = n // 2
        if n % 2:
            x[0] += x[n - 1]
        x[:h] += x[h:2 * h]
        n = h
    return x[0]


def wd64(data):
    """WD64 of a byte string (bytes or a uint8 array) as a Python int; arithmetic modulo 2^64 in uint64 arrays."""
    d = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.reshape(-1)
    length = d.size
    a = _K.copy()
    if length:
        stripes = -(-length // 64)
        if length % 64:
            padded = np.zeros(stripes * 64, dtype=np.uint8)
            padded[:length] = d
            d = padded
        w = np.ascontiguousarray(d).view('<u8').reshape(stripes, 8)
        t = w ^ _stripe_keys(stripes)
        prod = t & np.uint64(0xFFFFFFFF)
        prod *= t >> np.uint64(32)
        prod.reshape(stripes, 4, 2)[...] += w.reshape(stripes, 4, 2)[:, :, ::-1]  # + the word of the paired lane
        a = a + _column_sums(prod)
    h = (length * K1) & _M64
    for j in range(8):
        h = ((h ^ int(a[j])) * K2) & _M64
        h ^= h >> 31
    h ^= h >> 33
    h = (h * K3) & _M64
    h ^= h >> 29
    return h


def chunk_binding(segment_sha256, stream_tag, chunk_number):
    """The binding B of §7.5: S ⊕ ((t × 2^32 + c) × K7), S the first 8 bytes of the segment's SHA-256."""
    s = int.from_bytes(segment_sha256[:8], 'little')
    return s ^ ((((stream_tag << 32) + chunk_number) * K7) & _M64)
