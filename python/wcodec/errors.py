"""The error hierarchy of the reader: one base class whose `code` is from the closed list of FORMAT.md §9."""

ERROR_CODES = (
    'BAD_MAGIC', 'UNSUPPORTED_VERSION', 'TRUNCATED', 'CORRUPT_HEADER', 'CORRUPT_INDEX', 'CORRUPT_CHUNK',
    'CHECKSUM_MISMATCH', 'LIMIT_EXCEEDED', 'BAD_SAFETENSORS', 'BAD_PATH', 'NOT_FOUND', 'AMBIGUOUS_NAME',
    'OUTPUT_EXISTS', 'IO_ERROR', 'GPU_UNAVAILABLE', 'CORRUPT_TRANSFORM', 'REFERENCE_MISSING',
    'REFERENCE_MISMATCH', 'LABEL_MISMATCH', 'INPUT_CHANGED', 'OUTPUT_IS_INPUT', 'NO_SPACE', 'WRONG_KIND',
    'HTTP_ERROR', 'RANGE_UNSUPPORTED', 'SOURCE_CHANGED', 'ABORTED',
    'UNSUPPORTED_MODEL', 'LOSSY_REFUSED',
)


class WcodecError(Exception):
    """Base of every error raised on bad container bytes or failed I/O.

    Attributes: `code` (one of ERROR_CODES), `file` (path or label, or None) and `offset` (the byte position in
    the container of the offending field, or None).
    """

    def __init__(self, code, problem, file=None, offset=None):
        if code not in ERROR_CODES:
            raise ValueError(f'unknown error code {code!r}')
        where = ''
        if file is not None or offset is not None:
            where = f" ({file if file is not None else '<input>'}" + (f' at offset {offset}' if offset is not None else '') + ')'
        super().__init__(f'{code}: {problem}{where}')
        self.code = code
        self.problem = problem
        self.file = file
        self.offset = offset


class FormatError(WcodecError):
    """Container bytes that break a structural rule of FORMAT.md."""


class ChecksumError(WcodecError):
    """A CRC-32C, chunk digest or SHA-256 that does not match, or a chunk whose coded stream is broken."""


class LimitError(WcodecError):
    """A size or count above a limit of FORMAT.md §8."""


class IoError(WcodecError):
    """The operating system refused a read."""


_CLASS_OF = {
    'CORRUPT_CHUNK': ChecksumError, 'CHECKSUM_MISMATCH': ChecksumError, 'LIMIT_EXCEEDED': LimitError,
    'OUTPUT_EXISTS': IoError, 'IO_ERROR': IoError, 'INPUT_CHANGED': IoError, 'OUTPUT_IS_INPUT': IoError,
    'NO_SPACE': IoError, 'HTTP_ERROR': IoError, 'RANGE_UNSUPPORTED': IoError, 'SOURCE_CHANGED': IoError,
    'ABORTED': IoError, 'LOSSY_REFUSED': IoError,
}


def make_error(code, problem, file=None, offset=None):
    """The error of the class FORMAT.md §9 gives `code`, with its message, file and offset."""
    return _CLASS_OF.get(code, FormatError)(code, problem, file, offset)
