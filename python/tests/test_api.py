"""The reading API: names, metadata, lazy tensor reads, dtypes, errors, and PyTorch when it is installed."""

import os
import unittest

import numpy as np

from helpers import VECTORS
import wcodec
from wcodec import WcodecError, load_file, safe_open
from wcodec.container import ContainerFile

VALID = os.path.join(VECTORS, 'valid')


class SafeOpenTest(unittest.TestCase):
    def test_names_dtypes_and_shapes(self):
        with safe_open(os.path.join(VALID, 'mixed-dtypes.wcodec')) as f:
            self.assertEqual(f.keys(), sorted(f.keys()))
            for name in f.keys():
                seg = f.segment(name)
                t = f.get_tensor(name)
                self.assertEqual(t.shape, seg.shape)
                self.assertEqual(t.nbytes, seg.original_bytes)

    def test_bf16_is_uint16_bits_or_ml_dtypes(self):
        with safe_open(os.path.join(VALID, 'bf16-single.wcodec')) as f:
            t = f.get_tensor(f.keys()[0])
        self.assertEqual(t.dtype.itemsize, 2)
        self.assertIn(t.dtype.name, ('uint16', 'bfloat16'))

    def test_get_tensor_reads_only_its_own_chunks_and_the_header(self):
        path = os.path.join(VALID, 'mixed-dtypes.wcodec')
        reads = []
        original = ContainerFile.view

        def spy(self, offset, size):
            reads.append(offset)
            return original(self, offset, size)

        ContainerFile.view = spy
        try:
            with safe_open(path) as f:
                name = f.keys()[0]
                seg = f.segment(name)
                member = f.reader.index.members[0]
                allowed = {c.offset for s in (member.segments[0], seg) for c in s.coding.chunks}
                reads.clear()
                f.get_tensor(name)
        finally:
            ContainerFile.view = original
        self.assertTrue(reads)
        self.assertLessEqual(set(reads), allowed)

    def test_unknown_name_is_not_found(self):
        with safe_open(os.path.join(VALID, 'bf16-single.wcodec')) as f:
            with self.assertRaises(WcodecError) as ctx:
                f.get_tensor('no such tensor')
        self.assertEqual(ctx.exception.code, 'NOT_FOUND')

    def test_load_file_matches_get_tensor(self):
        path = os.path.join(VALID, 'folder.wcodec')
        tensors = load_file(path)
        with safe_open(path) as f:
            for name in f.keys():
                np.testing.assert_array_equal(tensors[name].view(np.uint8), f.get_tensor(name).view(np.uint8))

    def test_max_output_bytes_refuses_larger_declared_sizes(self):
        path = os.path.join(VALID, 'mixed-dtypes.wcodec')
        with self.assertRaises(WcodecError) as ctx:
            load_file(path, max_output_bytes=16)
        self.assertEqual(ctx.exception.code, 'LIMIT_EXCEEDED')
        self.assertTrue(load_file(path, max_output_bytes=1 << 20))

    def test_open_errors_carry_code_file_and_offset(self):
        with self.assertRaises(WcodecError) as ctx:
            safe_open(os.path.join(VECTORS, 'invalid', 'bad-magic.wcodec'))
        e = ctx.exception
        self.assertEqual((e.code, e.file, e.offset), ('BAD_MAGIC', 'bad-magic.wcodec', 0))


class TorchTest(unittest.TestCase):
    def test_load_to_torch(self):
        try:
            import torch
        except ImportError:
            with self.assertRaises(ImportError):
                wcodec.load_to_torch(os.path.join(VALID, 'bf16-single.wcodec'))
            return
        tensors = wcodec.load_to_torch(os.path.join(VALID, 'mixed-dtypes.wcodec'))
        arrays = load_file(os.path.join(VALID, 'mixed-dtypes.wcodec'))
        for name, t in tensors.items():
            self.assertEqual(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes(),
                             arrays[name].tobytes())


class LayoutMembersTest(unittest.TestCase):
    def test_gguf_and_onnx_tensors_are_listed_and_read_by_name(self):
        """Version 5 GGUF and ONNX members list their tensors; each reads back as the member's bytes at its place."""
        for name in ('v5-gguf', 'v5-onnx', 'v5-onnx-external'):
            path = os.path.join(VALID, f'{name}.wcodec')
            with safe_open(path) as f:
                keys = f.keys()
                self.assertTrue(keys, name)
                for k in keys:
                    member, seg = f._member_of(k)
                    whole = f.member_bytes(member.path)
                    at = seg.offset_in_member
                    got = f.get_tensor(k)
                    self.assertEqual(got.tobytes(), whole[at:at + seg.original_bytes].tobytes(), f'{name}: {k}')
                    if got.dtype != np.uint8:
                        self.assertEqual(got.shape, tuple(seg.shape), f'{name}: {k}')

    def test_relabelled_gguf_tensor_is_refused_when_read(self):
        with safe_open(os.path.join(VECTORS, 'invalid', 'v5-gguf-name.wcodec')) as f:
            with self.assertRaises(WcodecError) as ctx:
                for k in f.keys():
                    f.get_tensor(k)
            self.assertEqual(ctx.exception.code, 'LABEL_MISMATCH')


class LazyStateDictTest(unittest.TestCase):
    def test_decodes_each_tensor_on_first_access(self):
        path = os.path.join(VALID, 'mixed-dtypes.wcodec')
        arrays = load_file(path)
        with wcodec.lazy_state_dict(path, framework='np') as sd:
            self.assertIsInstance(sd, wcodec.LazyStateDict)
            self.assertEqual(list(sd), sorted(arrays))
            self.assertEqual(len(sd), len(arrays))
            self.assertEqual(sd.decoded(), [])
            first = next(iter(sd))
            self.assertIn(first, sd)
            self.assertNotIn('no such tensor', sd)
            self.assertEqual(sd[first].tobytes(), arrays[first].tobytes())
            self.assertIs(sd[first], sd[first])  # decoded once, then kept
            self.assertEqual(sd.decoded(), [first])
            with self.assertRaises(KeyError):
                sd['no such tensor']
        self.assertEqual(sd[first].tobytes(), arrays[first].tobytes())  # kept after close
        rest = [k for k in arrays if k != first]
        if rest:
            with self.assertRaises(ValueError):
                sd[rest[0]]

    def test_errors_surface_when_the_tensor_is_decoded(self):
        with open(os.path.join(VALID, 'bf16-single.wcodec'), 'rb') as fh:
            data = bytearray(fh.read())
        with safe_open(os.path.join(VALID, 'bf16-single.wcodec')) as f:
            name = f.keys()[0]
            at = f.segment(name).coding.chunks[0].offset
        data[at + 40] ^= 0x10  # a byte inside the first chunk's stored bytes
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'damaged.wcodec')
            with open(path, 'wb') as fh:
                fh.write(data)
            with wcodec.lazy_state_dict(path, framework='np') as sd:  # the index is intact: opening succeeds
                with self.assertRaises(WcodecError) as ctx:
                    sd[name]
                self.assertIn(ctx.exception.code, ('CORRUPT_CHUNK', 'CHECKSUM_MISMATCH'))


if __name__ == '__main__':
    unittest.main()
