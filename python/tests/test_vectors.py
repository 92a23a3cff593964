"""The conformance vectors of FORMAT.md §10: every valid vector decodes to its manifest's members (and passes a
verify pass that checks every digest), every invalid one is rejected with its manifest's code and file name."""

import hashlib
import json
import os
import unittest

from helpers import VECTORS
from wcodec import Reader, WcodecError


def _manifest(kind):
    with open(os.path.join(VECTORS, kind, 'manifest.json')) as f:
        return json.load(f)['vectors']


def _reference(entry):
    ref = entry.get('reference')
    return os.path.join(VECTORS, 'valid', ref) if ref else None


class ValidVectorsTest(unittest.TestCase):
    def test_every_valid_vector_decodes_to_its_members(self):
        vectors = _manifest('valid')
        self.assertGreater(len(vectors), 0)
        for v in vectors:
            with self.subTest(vector=v['file']):
                r = Reader(os.path.join(VECTORS, 'valid', v['file']), reference=_reference(v))
                self.assertEqual(r.index.kind, v['kind'])
                got = []
                for m in r.index.members:
                    data = r.decode_member(m)
                    path = m.path_raw.hex() if 'pathHex' in v['members'][len(got)] else m.path
                    got.append((path, len(data), hashlib.sha256(data).hexdigest()))
                r.verify()
                r.close()
                want = [(x.get('pathHex', x['path']), x['bytes'], x['sha256']) for x in v['members']]
                self.assertEqual(got, want)


class InvalidVectorsTest(unittest.TestCase):
    def test_every_invalid_vector_is_rejected_with_its_code(self):
        vectors = _manifest('invalid')
        self.assertGreater(len(vectors), 0)
        for v in vectors:
            with self.subTest(vector=v['file'], code=v['code']):
                try:
                    r = Reader(os.path.join(VECTORS, 'invalid', v['file']), reference=_reference(v))
                    r.verify()
                except WcodecError as e:
                    self.assertEqual(e.code, v['code'], str(e))
                    self.assertEqual(e.file, v['file'])
                    continue
                self.fail(f"{v['file']} was accepted; expected {v['code']}")


if __name__ == '__main__':
    unittest.main()
