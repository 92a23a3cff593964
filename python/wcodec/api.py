"""The public reading API, in the manner of safetensors: `safe_open`, `load_file` and `load_to_torch`, and
`lazy_state_dict`, a mapping that decodes each tensor when it is first used."""

import json
import posixpath
from collections.abc import Mapping

import numpy as np

from .errors import make_error
from .labels import is_safetensors_member
from .reader import Reader

try:
    import ml_dtypes as _ml  # bfloat16 and float8 NumPy dtypes, when installed
except ImportError:  # pragma: no cover - depends on the environment
    _ml = None

_NUMPY_DTYPES = {
    'BOOL': np.bool_, 'U8': np.uint8, 'I8': np.int8, 'I16': '<i2', 'U16': '<u2', 'F16': '<f2',
    'I32': '<i4', 'U32': '<u4', 'F32': '<f4', 'I64': '<i8', 'U64': '<u8', 'F64': '<f8',
    'BF16': _ml.bfloat16 if _ml else '<u2',
    'F8_E4M3': _ml.float8_e4m3fn if _ml else np.uint8,
    'F8_E5M2': _ml.float8_e5m2 if _ml else np.uint8,
}


def numpy_dtype(dtype):
    """The NumPy dtype a safetensors dtype is returned as: BF16 as ml_dtypes.bfloat16 when ml_dtypes is installed,
    else uint16 holding the same bits (F8 likewise, else uint8); None for a dtype wcodec does not know (returned as
    its raw bytes, uint8 of one dimension)."""
    d = _NUMPY_DTYPES.get(dtype)
    return None if d is None else np.dtype(d)


def _torch_dtype(torch, dtype):
    names = {'BOOL': 'bool', 'U8': 'uint8', 'I8': 'int8', 'I16': 'int16', 'U16': 'uint16', 'F16': 'float16',
             'BF16': 'bfloat16', 'I32': 'int32', 'U32': 'uint32', 'F32': 'float32', 'I64': 'int64',
             'U64': 'uint64', 'F64': 'float64', 'F8_E4M3': 'float8_e4m3fn', 'F8_E5M2': 'float8_e5m2'}
    return getattr(torch, names[dtype], None) if dtype in names else None


def _import_torch():
    try:
        import torch
    except ImportError:
        raise ImportError('framework "pt" needs PyTorch (pip install torch); framework "np" needs NumPy only') from None
    return torch


class safe_open:  # noqa: N801 - named after safetensors.safe_open
    """A container opened for reading tensors by name, lazily: `get_tensor` reads and decodes only the chunks of
    that tensor (and, once per file, its safetensors header, to check the labels).

    `framework` is "np" (NumPy arrays) or "pt" (PyTorch tensors on `device`). `reference` serves XOR_DELTA
    segments; `check_sha256` checks each tensor's SHA-256 in version 4 too; `max_output_bytes` refuses
    (LIMIT_EXCEEDED) a tensor the index declares larger. Raises the reader's errors (header, footer, index) while
    opening; usable as a context manager.
    """

    def __init__(self, path, framework='np', device='cpu', reference=None, check_sha256=False, max_output_bytes=None):
        if framework not in ('np', 'numpy', 'pt', 'torch'):
            raise ValueError(f'framework {framework!r} is not "np" or "pt"')
        self.framework = 'pt' if framework in ('pt', 'torch') else 'np'
        self.device = device
        self._torch = _import_torch() if self.framework == 'pt' else None
        self.reader = Reader(path, reference=reference, check_sha256=check_sha256, max_output_bytes=max_output_bytes)
        self.file = self.reader.file
        self._names = {}
        self._checked_layouts = set()
        for m in self.reader.index.members:
            if is_safetensors_member(m):
                for s in m.segments[1:]:
                    self._names.setdefault(s.name, []).append((m, s))
            elif getattr(m, 'layout', None):  # GGUF, ONNX (version 5), NumPy or raw array (version 9): tensors by name
                for s in m.segments:
                    if s.kind != 0:
                        self._names.setdefault(s.name, []).append((m, s))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.reader.close()

    def _check_labels(self, member):
        """Checks, once per member, that its tensor segments carry the labels its stored bytes give them: the
        safetensors header (§4.4), or the GGUF header / ONNX initializers of a version 5 member (§4.6, §4.7)."""
        if getattr(member, 'layout', None):
            if member.index not in self._checked_layouts:
                self.reader.check_layout_labels(member)
                self._checked_layouts.add(member.index)
        else:
            self.reader.header_object(member)

    def keys(self):
        """The tensor names of every safetensors member (and GGUF or ONNX member), sorted, each once."""
        return sorted(self._names)

    def members(self):
        """The member paths of the container, in index order."""
        return [m.path for m in self.reader.index.members]

    def metadata(self):
        """The `__metadata__` of the stored safetensors header when the container holds one safetensors member
        (None when it has none); for several, a dict of member path to metadata."""
        ms = [m for m in self.reader.index.members if is_safetensors_member(m)]
        metas = {m.path: self.reader.header_object(m).get('__metadata__') for m in ms}
        if len(ms) == 1:
            return metas[ms[0].path]
        return metas or None

    def segment(self, name):
        """The segment record of tensor `name`; NOT_FOUND or AMBIGUOUS_NAME (resolved through a
        `*.safetensors.index.json` member's weight_map when there is one)."""
        held = self._names.get(name)
        if not held:
            raise make_error('NOT_FOUND', f'no tensor {name!r}', self.file)
        if len(held) > 1:
            held = self._resolve(name, held)
        return held[0][1]

    def _member_of(self, name):
        held = self._names.get(name)
        if not held:
            raise make_error('NOT_FOUND', f'no tensor {name!r}', self.file)
        return (self._resolve(name, held) if len(held) > 1 else held)[0]

    def _resolve(self, name, held):
        for m in self.reader.index.members:
            if m.path.endswith('.safetensors.index.json') and m.type == 0:
                try:
                    weight_map = json.loads(self.reader.decode_member(m).tobytes()).get('weight_map', {})
                except ValueError:
                    continue
                target = weight_map.get(name)
                if target is not None:
                    want = posixpath.join(posixpath.dirname(m.path), target)
                    picked = [h for h in held if h[0].path == want]
                    if len(picked) == 1:
                        return picked
        raise make_error('AMBIGUOUS_NAME', f'tensor {name!r} is held by {len(held)} members', self.file)

    def tensor_bytes(self, name):
        """The bytes of tensor `name` as a uint8 array, after its file's labels are checked."""
        member, seg = self._member_of(name)
        self._check_labels(member)
        return self.reader.decode_segment(seg)

    def get_tensor(self, name):
        """Tensor `name` as a NumPy array (or a torch tensor with framework "pt") of its dtype and shape."""
        member, seg = self._member_of(name)
        self._check_labels(member)
        data = self.reader.decode_segment(seg)
        if self.framework == 'pt':
            torch = self._torch
            td = _torch_dtype(torch, seg.dtype)
            t = torch.from_numpy(data)
            t = t.view(td).reshape(seg.shape) if td is not None else t
            return t.to(self.device) if self.device != 'cpu' else t
        nd = numpy_dtype(seg.dtype)
        if nd is None:
            return data
        return data.view(nd).reshape(seg.shape)

    def member_bytes(self, path):
        """The whole original bytes of member `path` (its SHA-256, labels and link target checked)."""
        for m in self.reader.index.members:
            if m.path == path:
                return self.reader.decode_member(m)
        raise make_error('NOT_FOUND', f'no member {path!r}', self.file)


def load_file(path, reference=None, check_sha256=False, max_output_bytes=None):
    """Every tensor of the container at `path` as {name: numpy.ndarray} (see `safe_open` for the options;
    `max_output_bytes` bounds the tensors' total)."""
    with safe_open(path, 'np', reference=reference, check_sha256=check_sha256, max_output_bytes=max_output_bytes) as f:
        f.reader.check_output_size(sum(f.segment(k).original_bytes for k in f.keys()), 'the tensors')
        return {k: f.get_tensor(k) for k in f.keys()}


def load_to_torch(path, device='cpu', reference=None, check_sha256=False, max_output_bytes=None):
    """Every tensor of the container at `path` as {name: torch.Tensor} on `device`; ImportError without torch."""
    with safe_open(path, 'pt', device=device, reference=reference, check_sha256=check_sha256,
                   max_output_bytes=max_output_bytes) as f:
        f.reader.check_output_size(sum(f.segment(k).original_bytes for k in f.keys()), 'the tensors')
        return {k: f.get_tensor(k) for k in f.keys()}


class LazyStateDict(Mapping):
    """{name: tensor} over an open container: each tensor is read and decoded on its first access and kept (NumPy
    arrays or torch tensors, as `safe_open`'s framework). Keys are known at once, from the index; `close()` (or
    leaving a `with` block) releases the container, after which tensors not yet decoded raise ValueError."""

    def __init__(self, f):
        self._f = f
        self._keys = f.keys()
        self._known = set(self._keys)
        self._decoded = {}

    def __getitem__(self, name):
        t = self._decoded.get(name)
        if t is None:
            if name not in self._known:
                raise KeyError(name)
            if self._f is None:
                raise ValueError(f'tensor {name!r} asked for after the container was closed')
            t = self._decoded[name] = self._f.get_tensor(name)
        return t

    def __iter__(self):
        return iter(self._keys)

    def __len__(self):
        return len(self._keys)

    def __contains__(self, name):
        return name in self._known

    def decoded(self):
        """The names decoded so far."""
        return [k for k in self._keys if k in self._decoded]

    def close(self):
        """Releases the container; tensors already decoded stay valid."""
        if self._f is not None:
            self._f.__exit__(None, None, None)
            self._f = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def lazy_state_dict(path, framework='pt', device='cpu', reference=None, check_sha256=False, max_output_bytes=None):
    """A LazyStateDict of the container at `path`: `model.load_state_dict(lazy_state_dict(path))` decodes every
    tensor once, as the model asks for it; `sd[name]` decodes one. framework "pt" (default) or "np"; the other
    options as `safe_open`'s. Raises the reader's errors while opening, and each tensor's when it is decoded."""
    return LazyStateDict(safe_open(path, framework, device=device, reference=reference, check_sha256=check_sha256,
                                   max_output_bytes=max_output_bytes))


__all__ = ['safe_open', 'load_file', 'load_to_torch', 'lazy_state_dict', 'LazyStateDict', 'numpy_dtype']
