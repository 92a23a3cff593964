"""wcodec: a pure-Python reader of .wcodec containers (docs/FORMAT.md, versions 1 to 8 and 10), NumPy only."""

from .api import LazyStateDict, lazy_state_dict, load_file, load_to_torch, numpy_dtype, safe_open
from .errors import (
    ERROR_CODES, ChecksumError, FormatError, IoError, LimitError, WcodecError,
)
from .reader import Reader

__version__ = '0.1.0'
__all__ = [
    'load_file', 'load_to_torch', 'lazy_state_dict', 'LazyStateDict', 'safe_open', 'numpy_dtype', 'Reader',
    'WcodecError', 'FormatError', 'ChecksumError', 'LimitError', 'IoError', 'ERROR_CODES',
]
