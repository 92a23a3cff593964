"""Shared paths and safetensors writing for the reader's tests."""

import json
import os
import struct
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, 'python'))
VECTORS = os.path.join(REPO, 'test', 'vectors')


def write_safetensors(path, tensors, metadata=None):
    """Writes {name: (dtype, shape, bytes)} as a safetensors file, tensors in the given order."""
    header, offset, blobs = {}, 0, []
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {'dtype': dtype, 'shape': list(shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))


def read_safetensors(path):
    """{name: (dtype, shape, bytes)} of a safetensors file, and its metadata."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack_from('<Q', data)
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', None)
    return {k: (v['dtype'], tuple(v['shape']), data[8 + n + v['data_offsets'][0]:8 + n + v['data_offsets'][1]])
            for k, v in header.items()}, meta
