"""Containers written by the TypeScript encoder (the CLI in dist/, after `npm run build`) from generated
safetensors files of every dtype, odd sizes and several encoder options decode to the input bytes, tensor by
tensor and file by file. Skipped when node or the built CLI is missing."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

import numpy as np

from helpers import REPO, read_safetensors, write_safetensors
from wcodec import load_file, safe_open

CLI = os.path.join(REPO, 'dist', 'src', 'cli', 'main.js')
OPTIONS = ([], ['--huffman'], ['--fast-decode'], ['--profile', 'gpu'], ['--chunk-bytes', '4096', '--no-transforms'])


def _bf16(x):
    return (np.asarray(x, np.float32).view(np.uint32) >> 16).astype('<u2').tobytes()


def _float_tensors(rng):
    w = rng.standard_normal(300_001).astype(np.float32) * 0.02
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-40, -1e-45, 65504.0, 3.0e38], np.float32)
    return {
        'bf16.big': ('BF16', (300_001,), _bf16(w)),
        'bf16.odd': ('BF16', (7, 13), _bf16(w[:91])),
        'f32.w': ('F32', (1023, 17), (w[:1023 * 17] * 3).astype('<f4').tobytes()),
        'f32.special': ('F32', (9,), special.astype('<f4').tobytes()),
        'f16.w': ('F16', (65_537,), w[:65_537].astype('<f2').tobytes()),
        'f16.special': ('F16', (9,), np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 6e-8, -6e-8, 65504.0, -65504.0], '<f2').tobytes()),
        'f64.w': ('F64', (4099,), w[:4099].astype('<f8').tobytes()),
        'f8e4m3.w': ('F8_E4M3', (2049,), rng.integers(0, 256, 2049, dtype=np.uint8).tobytes()),
        'f8e5m2.w': ('F8_E5M2', (3, 5), rng.integers(0x30, 0x48, 15, dtype=np.uint8).tobytes()),
        'scalar': ('F32', (), np.float32(1.5).tobytes()),
        'empty': ('BF16', (0, 4), b''),
        'one': ('F16', (1,), np.float16(-2).tobytes()),
        'bf16.dup': ('BF16', (7, 13), _bf16(w[:91])),
    }


def _other_tensors(rng):
    codes = rng.integers(-127, 128, (64, 256)).astype(np.float32)
    scales = (rng.random(64).astype(np.float32) + 0.5) * np.float32(0.01)
    q = codes * scales[:, None]
    sparse = rng.standard_normal(20_000).astype(np.float32)
    sparse[rng.random(20_000) < 0.9] = 0
    return {
        'q8.row': ('BF16', (64, 256), _bf16(q)),
        'sparse': ('F32', (20_000,), sparse.astype('<f4').tobytes()),
        'position_ids': ('I64', (1, 4097), np.arange(4097, dtype='<i8').tobytes()),
        'ramp.i32': ('I32', (128, 129), (np.arange(128 * 129, dtype='<i4') * 3 - 7).tobytes()),
        'i8': ('I8', (1001,), rng.integers(-128, 128, 1001, dtype=np.int8).tobytes()),
        'u8': ('U8', (5,), bytes([1, 2, 3, 250, 0])),
        'i16': ('I16', (333,), rng.integers(-300, 300, 333).astype('<i2').tobytes()),
        'u16': ('U16', (2,), np.array([1, 65535], '<u2').tobytes()),
        'u32': ('U32', (3,), np.array([0, 1, 2**32 - 1], '<u4').tobytes()),
        'u64': ('U64', (3,), np.array([0, 7, 2**64 - 1], '<u8').tobytes()),
        'mask': ('BOOL', (17,), (rng.random(17) < 0.5).astype(np.uint8).tobytes()),
        'c64': ('C64', (2,), rng.standard_normal(4).astype('<f4').tobytes()),
    }


def _compress(src, out, options):
    subprocess.run(['node', CLI, 'compress', '-q', '-o', out, *options, src], check=True, timeout=120,
                   stdout=subprocess.DEVNULL)


@unittest.skipUnless(shutil.which('node') and os.path.exists(CLI), 'node or dist/src/cli/main.js missing (npm run build)')
class TypeScriptRoundTripTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='wcodec-py-')
        rng = np.random.default_rng(7)
        cls.model = os.path.join(cls.tmp, 'model')
        os.mkdir(cls.model)
        shards = {'model-1.safetensors': _float_tensors(rng), 'model-2.safetensors': _other_tensors(rng)}
        for name, tensors in shards.items():
            write_safetensors(os.path.join(cls.model, name), tensors, {'format': 'pt'})
        weight_map = {t: name for name, ts in shards.items() for t in ts}
        with open(os.path.join(cls.model, 'model.safetensors.index.json'), 'w') as f:
            json.dump({'metadata': {}, 'weight_map': weight_map}, f)
        with open(os.path.join(cls.model, 'config.json'), 'w') as f:
            f.write('{"hidden_size": 91}\n')

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def _check_folder(self, container):
        with safe_open(container) as f:
            for shard in ('model-1.safetensors', 'model-2.safetensors'):
                src = os.path.join(self.model, shard)
                tensors, meta = read_safetensors(src)
                for name, (dtype, shape, data) in tensors.items():
                    t = f.get_tensor(name)
                    self.assertEqual(t.tobytes(), data, name)
                    if dtype not in ('C64',):
                        self.assertEqual(t.shape, shape, name)
                with open(src, 'rb') as fh:
                    self.assertEqual(f.member_bytes(shard).tobytes(), fh.read())
            self.assertEqual(f.metadata()['model-1.safetensors'], {'format': 'pt'})
            with open(os.path.join(self.model, 'config.json'), 'rb') as fh:
                self.assertEqual(f.member_bytes('config.json').tobytes(), fh.read())
            f.reader.verify()

    def test_folder_with_each_encoder_option(self):
        for options in OPTIONS:
            with self.subTest(options=' '.join(options) or 'default'):
                out = os.path.join(self.tmp, 'model-' + '-'.join(o.strip('-') for o in options) + '.wcodec')
                _compress(self.model, out, options)
                self._check_folder(out)

    def test_single_file_and_xor_delta_reference(self):
        src = os.path.join(self.model, 'model-1.safetensors')
        out = os.path.join(self.tmp, 'single.wcodec')
        _compress(src, out, [])
        tensors, _ = read_safetensors(src)
        got = load_file(out)
        self.assertEqual(sorted(got), sorted(tensors))
        self.assertEqual(got['bf16.big'].dtype.itemsize, 2)
        for name, (_, _, data) in tensors.items():
            self.assertEqual(got[name].tobytes(), data, name)
        # A fine-tuned copy coded against the original as reference.
        rng = np.random.default_rng(8)
        tuned = dict(tensors)
        big = np.frombuffer(tensors['bf16.big'][2], '<u2').copy()
        flip = rng.random(big.size) < 0.05
        big[flip] ^= 1
        tuned['bf16.big'] = ('BF16', (300_001,), big.tobytes())
        tuned_path = os.path.join(self.tmp, 'tuned.safetensors')
        write_safetensors(tuned_path, tuned)
        delta = os.path.join(self.tmp, 'tuned.wcodec')
        _compress(tuned_path, delta, ['--ref', src])
        got = load_file(delta, reference=src)
        self.assertEqual(got['bf16.big'].tobytes(), big.tobytes())


if __name__ == '__main__':
    unittest.main()
