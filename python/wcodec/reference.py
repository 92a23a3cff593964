"""Reference checkpoints for XOR_DELTA segments (FORMAT.md §3.5.2): tensors by name from a safetensors file, a
folder of them, or a container."""

import json
import os
import struct

import numpy as np

from .constants import MAGIC, MAX_SAFETENSORS_HEADER_BYTES
from .errors import make_error


def read_safetensors(path):
    """{name: (dtype, shape, uint8 array)} of a safetensors file; BAD_SAFETENSORS if its header is unreadable."""
    data = np.fromfile(path, dtype=np.uint8)
    try:
        (n,) = struct.unpack_from('<Q', data.tobytes()[:8])
        if n > MAX_SAFETENSORS_HEADER_BYTES or 8 + n > data.size:
            raise ValueError('header length out of range')
        header = json.loads(data[8:8 + n].tobytes().decode('utf-8'))
        out = {}
        for name, e in header.items():
            if name == '__metadata__':
                continue
            begin, end = e['data_offsets']
            out[name] = (e['dtype'], tuple(e['shape']), data[8 + n + begin:8 + n + end])
        return out
    except (ValueError, KeyError, TypeError, struct.error) as e:
        raise make_error('BAD_SAFETENSORS', f'reference is not a readable safetensors file: {e}', os.path.basename(path)) from None


class Reference:
    """Tensors of a reference checkpoint at `path`, looked up by name with `get(name)`."""

    def __init__(self, path):
        self.tensors = {}
        path = os.fspath(path)
        if os.path.isdir(path):
            for root, _, files in os.walk(path):
                for f in sorted(files):
                    if f.endswith('.safetensors'):
                        self.tensors.update(read_safetensors(os.path.join(root, f)))
            return
        with open(path, 'rb') as fh:
            head = fh.read(8)
        if head == MAGIC:
            from .api import safe_open  # a container as reference: decode its tensors
            with safe_open(path) as f:
                for name in f.keys():
                    seg = f.segment(name)
                    self.tensors[name] = (seg.dtype, seg.shape, f.tensor_bytes(name))
        else:
            self.tensors = read_safetensors(path)

    def get(self, name):
        """(dtype, shape, uint8 array) of tensor `name`, or None."""
        return self.tensors.get(name)
