"""CRC-32C (FORMAT.md §7.1) and the version 4 chunk digest WD64 (§7.5), the latter vectorised with NumPy."""

import numpy as np

_CRC_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)

try:  # an optional C implementation; the table loop below is the reference
    import crc32c as _crc32c_module  # type: ignore
except ImportError:  # pragma: no cover
    _crc32c_module = None


def crc32c(data):
    """CRC-32C of `data` (bytes-like): reflected 0x82F63B78, initial and final XOR 0xFFFFFFFF."""
    if _crc32c_module is not None:
        return _crc32c_module.crc32c(bytes(data))
    c = 0xFFFFFFFF
    t = _CRC_TABLE
    for b in bytes(data):
        c = t[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


_K = np.array([
    0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x85EBCA77C2B2AE63,
    0x27D4EB2F165667C5, 0xD6E8FEB86659FD93, 0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53,
], dtype=np.uint64)
K1, K2, K3, K5, K7 = (int(_K[i]) for i in (1, 2, 3, 5, 7))
_M64 = (1 << 64) - 1
_SWAP = np.array([1, 0, 3, 2, 5, 4, 7, 6])


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
        m = np.arange(stripes, dtype=np.uint64) * np.uint64(K5)
        t = w ^ _K[None, :] ^ m[:, None]
        prod = (t & np.uint64(0xFFFFFFFF)) * (t >> np.uint64(32)) + w[:, _SWAP]
        a = a + prod.sum(axis=0, dtype=np.uint64)  # uint64 sums wrap modulo 2^64
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
