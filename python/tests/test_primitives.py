"""Check values of FORMAT.md: CRC-32C (§7.1), WD64 (§7.5) and the worked rANS example (§5.3)."""

import unittest

import numpy as np

import helpers  # noqa: F401 - puts the package on the path
from wcodec.byte_reader import ByteReader
from wcodec.checksums import _crc_update, crc32c, wd64
from wcodec.freq_table import read_freq_table
from wcodec.rans import RansError, decode_rans_batch, decode_rans_scalar

TABLE = bytes.fromhex('08040000c701002700070007')
STREAM = bytes.fromhex('f37b1400fa33030088fef079')
SYMBOLS = [2, 3, 0, 2, 3, 1, 2, 3, 2]


class ChecksumTest(unittest.TestCase):
    def test_crc32c_check_value(self):
        self.assertEqual(crc32c(b'123456789'), 0xE3069283)

    def test_crc32c_lanes_agree_with_the_bytewise_loop(self):
        data = bytes((i * 7919 + (i >> 9)) & 0xFF for i in range(300_001))
        for n in (8191, 8192, 8193, 65_536, 300_001):
            self.assertEqual(crc32c(data[:n]), _crc_update(0xFFFFFFFF, data[:n]) ^ 0xFFFFFFFF, n)

    def test_wd64_check_values(self):
        self.assertEqual(wd64(b''), 0xB43667E249FC5325)
        self.assertEqual(wd64(b'abc'), 0xF7F7842B01AF8EAC)
        self.assertEqual(wd64(bytes(64)), 0x8BD2140E8BDC1C32)
        self.assertEqual(wd64(bytes(i % 256 for i in range(1000))), 0x89A3866CC81AEC95)


class RansTest(unittest.TestCase):
    def setUp(self):
        self.table = read_freq_table(ByteReader(TABLE, 'table'), 8)

    def test_worked_example_scalar(self):
        self.assertEqual(decode_rans_scalar(STREAM, [self.table], 9, 2)[0].tolist(), SYMBOLS)

    def test_worked_example_lockstep(self):
        out = decode_rans_batch([STREAM] * 9, [self.table], 9, 2)[0]
        self.assertEqual(out.tolist(), [SYMBOLS] * 9)

    def test_lockstep_buffering_and_prefix_methods(self):
        """Rounds flushed every 1, 2 or 64 rounds, word positions by matrix product or cumulative sum: same symbols."""
        from wcodec import rans
        saved = rans.FLUSH_STEPS, rans._product_faster
        try:
            for flush in (1, 2, 64):
                for by_product in (True, False):
                    rans.FLUSH_STEPS, rans._product_faster = flush, by_product
                    out = decode_rans_batch([STREAM] * 9, [self.table], 9, 2)[0]
                    self.assertEqual(out.tolist(), [SYMBOLS] * 9, (flush, by_product))
                    with self.assertRaises(RansError):
                        decode_rans_batch([STREAM, STREAM[:-2]] * 5, [self.table], 9, 2)
        finally:
            rans.FLUSH_STEPS, rans._product_faster = saved

    def test_lockstep_into_place(self):
        """With `dests`, each value's slot is looked up and set into, or OR-ed into, a strided destination."""
        lut = self.table.slot_symbol.astype(np.uint8) << np.uint8(4)
        for combine, fill in (('set', 0xFF), ('or', 0x05)):
            dest = np.full((3, 9, 2), fill, dtype=np.uint8)
            self.assertIsNone(decode_rans_batch([STREAM] * 3, [self.table], 9, 2, [(lut, dest[:, :, 1], combine)]))
            want = [(s << 4) | (0x05 if combine == 'or' else 0) for s in SYMBOLS]
            self.assertEqual(dest[:, :, 1].tolist(), [want] * 3)
            self.assertTrue((dest[:, :, 0] == fill).all())

    def test_end_conditions(self):
        for decode in (lambda s: decode_rans_scalar(s, [self.table], 9, 2),
                       lambda s: decode_rans_batch([STREAM, s], [self.table], 9, 2)):
            with self.assertRaises(RansError):
                decode(STREAM + b'\0\0')  # a word left unread
            with self.assertRaises(RansError):
                decode(STREAM[:-2])  # a word missing
            with self.assertRaises(RansError):
                decode(STREAM[:-3] + bytes([STREAM[-3] ^ 1]) + STREAM[-2:])  # a flipped word bit


if __name__ == '__main__':
    unittest.main()


class RawPlaneTest(unittest.TestCase):
    def test_packed_planes_read_symbol_by_symbol(self):
        """read_raw_plane equals reading each symbol from its bits i·b .. i·b + b − 1, LSB-first (FORMAT.md §6)."""
        import numpy as np
        from wcodec.layout import read_raw_plane
        rng = np.random.default_rng(7)
        for bits in range(1, 9):
            for n in [0, 1, 2, 3, 5, 7, 8, 9, 31, 1000, 4099]:
                data = rng.integers(0, 256, (n * bits + 7) // 8, dtype=np.uint8)
                if n * bits % 8:
                    data[-1] &= (1 << (n * bits % 8)) - 1
                as_int = int.from_bytes(data.tobytes(), 'little')
                want = [(as_int >> (i * bits)) & ((1 << bits) - 1) for i in range(n)]
                got = read_raw_plane(data, n, bits)
                self.assertEqual(got.tolist(), want, f'{bits} bits, {n} symbols')
