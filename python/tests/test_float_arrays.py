"""Version 9 NumPy array and raw array members (FORMAT.md §4.8, §4.9): tensors by name with their dtypes and shapes
(a Fortran-ordered array's reversed), and the .npy header rules applied to stored headers."""

import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))
from helpers import VECTORS  # noqa: E402
from wcodec import arrays  # noqa: E402
from wcodec.api import safe_open  # noqa: E402


def npy(dict_text, data=b'', version=1):
    pre = 10 if version == 1 else 12
    pad = (64 - (pre + len(dict_text) + 1) % 64) % 64
    header = (dict_text + ' ' * pad + '\n').encode('ascii')
    return b'\x93NUMPY' + bytes([version, 0]) + len(header).to_bytes(pre - 8, 'little') + header + data


class FloatArrays(unittest.TestCase):
    def test_npy_vector_tensors(self):
        with safe_open(os.path.join(VECTORS, 'valid', 'v9-npy.wcodec')) as f:
            self.assertEqual(sorted(f.keys()), ['arrays/empty', 'arrays/f16-fortran', 'arrays/f32', 'arrays/mask', 'arrays/scalar', 'raw/grid'])
            self.assertEqual(f.get_tensor('arrays/f16-fortran').shape, (4, 3))
            self.assertEqual(f.get_tensor('arrays/scalar').shape, ())
            self.assertEqual(int(f.get_tensor('arrays/scalar')), -5)
            self.assertEqual(f.get_tensor('arrays/empty').shape, (0,))
            grid = f.get_tensor('raw/grid')
            self.assertEqual(grid.dtype, np.float64)
            self.assertTrue(np.isnan(grid[1, 0]) and np.isinf(grid[0, 2]) and np.signbit(grid[0, 1]))

    def test_header_rules(self):
        ok = npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }")
        self.assertEqual(arrays.parse_npy(ok), (len(ok), 'F32', True, (2, 3)))
        self.assertEqual(arrays.parse_npy(npy("{'descr': '>f4', 'fortran_order': False, 'shape': (), }"))[1], None)
        for bad in ("{'descr': '<f4', 'shape': (2,), }", "{'descr': '<f4', 'fortran_order': False, 'shape': (2), }",
                    "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", " {'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                    "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                    "{'descr': '<f\\x34', 'fortran_order': False, 'shape': (), }"):
            with self.assertRaises(arrays.Problem, msg=bad):
                arrays.parse_npy(npy(bad))
        self.assertEqual(arrays.array_name('a/b.c/x.npy'), 'a/b.c/x')
        self.assertEqual(arrays.array_name('.npy'), '.npy')


if __name__ == '__main__':
    unittest.main()
