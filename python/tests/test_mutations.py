"""Mutation fuzzing of the reader: valid vectors with random bytes changed, inserted or cut must decode or raise a
WcodecError, never another exception. Bounded in time; the seed is printed so that a failure can be replayed."""

import os
import random
import struct
import sys
import time
import unittest

from helpers import VECTORS
from wcodec import Reader, WcodecError
from wcodec.checksums import crc32c

SECONDS = float(os.environ.get('WCODEC_FUZZ_SECONDS', '4'))
VECTOR_NAMES = ('bf16-single', 'coded-index', 'multi-chunk', 'lanes-32', 'v2-huffman', 'v2-quant-scale',
                'v2-int-predict', 'v2-zero-flags', 'v3-attrs', 'v4-file', 'v4-folder', 'folder')


def _mutate(rng, data):
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.random()
        i = rng.randrange(len(data))
        if op < 0.7:
            data[i] ^= 1 << rng.randrange(8)
        elif op < 0.8:
            data[i] = rng.randrange(256)
        elif op < 0.9:
            del data[i:i + rng.randint(1, 8)]
        else:
            data[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return bytes(data)


def _mutate_index(rng, data):
    """Flips bits inside a raw index block and recomputes the index and footer CRCs, so the index parser and the
    decoders behind it see the damage."""
    data = bytearray(data)
    index_offset, index_bytes = struct.unpack_from('<QQ', data, len(data) - 40)
    if data[index_offset + 4] != 0 or index_bytes <= 5:
        return _mutate(rng, bytes(data))
    for _ in range(rng.randint(1, 3)):
        data[index_offset + 5 + rng.randrange(index_bytes - 5)] ^= 1 << rng.randrange(8)
    footer = len(data) - 40
    struct.pack_into('<I', data, footer + 16, crc32c(data[index_offset:index_offset + index_bytes]))
    struct.pack_into('<I', data, footer + 24, crc32c(data[footer:footer + 24]))
    return bytes(data)


class MutationTest(unittest.TestCase):
    def test_mutated_vectors_raise_only_wcodec_errors(self):
        seed = int(os.environ.get('WCODEC_FUZZ_SEED', random.randrange(1 << 32)))
        print(f'\n# mutation fuzz seed {seed} (WCODEC_FUZZ_SEED replays it)', file=sys.stderr)
        rng = random.Random(seed)
        originals = []
        for name in VECTOR_NAMES:
            with open(os.path.join(VECTORS, 'valid', name + '.wcodec'), 'rb') as f:
                originals.append(f.read())
        path = os.path.join(os.environ.get('TMPDIR', '/tmp'), f'wcodec-fuzz-{os.getpid()}.wcodec')
        runs, end = 0, time.monotonic() + SECONDS
        try:
            while time.monotonic() < end:
                mutate = _mutate_index if rng.random() < 0.5 else _mutate
                data = mutate(rng, rng.choice(originals))
                with open(path, 'wb') as f:
                    f.write(data)
                try:
                    r = Reader(path)
                    r.verify()
                    r.close()
                except WcodecError:
                    pass
                except Exception as e:  # noqa: BLE001 - any other exception is the failure under test
                    self.fail(f'seed {seed}, run {runs}: {type(e).__name__}: {e}')
                runs += 1
        finally:
            if os.path.exists(path):
                os.remove(path)
        self.assertGreater(runs, 0)


if __name__ == '__main__':
    unittest.main()
