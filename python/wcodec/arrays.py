"""The label rules of FORMAT.md §4.8 and §4.9 (version 9 member layouts): a NumPy array member's tensor segment is the
array its stored `.npy` header describes, and a raw array member is one tensor segment of a known dtype, each named
after the member."""

import re

from .constants import DTYPE_BYTES, MAX_RANK

LAYOUT_NPY, LAYOUT_RAW_ARRAY = 4, 5
MAX_NPY_HEADER_BYTES = 65_536
MAX_NPY_LITERAL_DEPTH = 16
NPY_DTYPES = {
    '<f2': 'F16', '<f4': 'F32', '<f8': 'F64', '|i1': 'I8', '<i1': 'I8', '<i2': 'I16', '<i4': 'I32', '<i8': 'I64',
    '|u1': 'U8', '<u1': 'U8', '<u2': 'U16', '<u4': 'U32', '<u8': 'U64', '|b1': 'BOOL', '<b1': 'BOOL',
}
_INT = re.compile(r'(?:True|False|0|[1-9][0-9]*)(?![A-Za-z0-9_.])')


class Problem(Exception):
    """A stored header or member that does not give the index's labels."""


def array_name(path):
    """The member's array name (§4.8): its path up to the last '.' of the last component, unless that '.' begins it."""
    slash, dot = path.rfind('/'), path.rfind('.')
    return path[:dot] if dot > slash + 1 else path


class _Literal:
    """The Python literal subset of §4.8 rule 3: dicts, tuples, lists, quoted strings, integers, True, False."""

    def __init__(self, text):
        self.t, self.at, self.depth = text, 0, 0

    def spaces(self):
        while self.at < len(self.t) and self.t[self.at] == ' ':
            self.at += 1

    def items(self, close, item):
        count, comma = 0, False
        while self.at >= len(self.t) or self.t[self.at] != close:
            if self.at >= len(self.t) or (count and not comma):
                raise Problem(f"',' or '{close}' expected at header character {self.at}")
            item()
            count += 1
            self.spaces()
            comma = self.at < len(self.t) and self.t[self.at] == ','
            if comma:
                self.at += 1
                self.spaces()
        self.at += 1
        return count, comma

    def enter(self):
        self.depth += 1
        if self.depth > MAX_NPY_LITERAL_DEPTH:
            raise Problem('literals nested too deep')
        self.at += 1
        self.spaces()

    def dict(self):
        out = {}

        def item():
            key = self.value()
            if not isinstance(key, str) or key in out:
                raise Problem('a dict key that is not a string, or a key given twice')
            self.spaces()
            if self.at >= len(self.t) or self.t[self.at] != ':':
                raise Problem("no ':' after a dict key")
            self.at += 1
            self.spaces()
            out[key] = self.value()
        self.enter()
        self.items('}', item)
        self.depth -= 1
        return out

    def value(self):
        c = self.t[self.at] if self.at < len(self.t) else ''
        if c in ('"', "'"):
            end = self.t.find(c, self.at + 1)
            if end < 0 or '\\' in self.t[self.at + 1:end]:
                raise Problem('an unterminated string or an escape')
            s = self.t[self.at + 1:end]
            self.at = end + 1
            return s
        if c in ('(', '['):
            items = []
            self.enter()
            count, comma = self.items(')' if c == '(' else ']', lambda: items.append(self.value()))
            self.depth -= 1
            if c == '(' and count == 1 and not comma:
                return items[0]
            return tuple(items) if c == '(' else items
        m = _INT.match(self.t, self.at)
        if not m:
            raise Problem(f'an unexpected value at header character {self.at}')
        self.at = m.end()
        if m.group() in ('True', 'False'):
            return m.group() == 'True'
        n = int(m.group())
        if n >= 1 << 53:
            raise Problem('an integer of 2^53 or more')
        return n


def parse_npy(h):
    """(header end, dtype or None, fortran_order, shape) of `.npy` header bytes `h` by §4.8 rules 1-5; Problem otherwise."""
    if len(h) < 8 or h[:6] != b'\x93NUMPY' or h[6] not in (1, 2, 3) or h[7] != 0:
        raise Problem('no .npy magic and format 1.0, 2.0 or 3.0')
    start = 10 if h[6] == 1 else 12
    if len(h) < start:
        raise Problem('the header runs past its bytes')
    n = int.from_bytes(h[8:start], 'little')
    if n > MAX_NPY_HEADER_BYTES or start + n > len(h) or n == 0 or h[start + n - 1] != 0x0A:
        raise Problem('a header length out of bounds, or no final newline')
    body = h[start:start + n - 1]
    if any(b < 0x20 or b > 0x7E for b in body):
        raise Problem('a header byte that is not printable ASCII')
    text = bytes(body).decode('ascii')
    if not text.startswith('{'):
        raise Problem("the header does not begin with '{'")
    p = _Literal(text)
    d = p.dict()
    p.spaces()
    if p.at != len(text):
        raise Problem('bytes other than spaces after the dict')
    if set(d) != {'descr', 'fortran_order', 'shape'}:
        raise Problem(f'the dict keys are {sorted(d)}')
    descr, fortran, shape = d['descr'], d['fortran_order'], d['shape']
    if not isinstance(descr, (str, list)) or not isinstance(fortran, bool):
        raise Problem("'descr' or 'fortran_order' of the wrong kind")
    if not isinstance(shape, tuple) or not all(isinstance(x, int) and not isinstance(x, bool) for x in shape) or len(shape) > MAX_RANK:
        raise Problem("'shape' is not a tuple of at most MAX_RANK integers")
    count = 1
    for x in shape:
        count *= x
        if count >= 1 << 53:
            raise Problem('a shape of 2^53 or more values')
    dtype = NPY_DTYPES.get(descr) if isinstance(descr, str) else None
    return start + n, dtype, fortran, shape


def check_npy(member, header):
    """Problem unless NumPy array `member` is its stored `header` (a byte segment) and the one tensor it describes."""
    segs = member.segments
    if not segs or segs[0].kind != 0 or segs[0].original_bytes > 12 + MAX_NPY_HEADER_BYTES:
        raise Problem('its first segment is not a .npy header byte segment')
    end, dtype, fortran, shape = parse_npy(bytes(header))
    if end != len(header) or dtype is None:
        raise Problem('the .npy header does not end with its segment, or its dtype is not a tensor dtype')
    if len(segs) != 2 or segs[1].kind == 0:
        raise Problem('a NumPy array member is a header and one tensor segment')
    s = segs[1]
    want = tuple(reversed(shape)) if fortran else tuple(shape)
    size = DTYPE_BYTES[dtype]
    for x in shape:
        size *= x
    if (s.name, s.dtype, tuple(s.shape), s.original_bytes) != (array_name(member.path), dtype, want, size):
        raise Problem(f'tensor segment {s.name!r} ({s.dtype} {list(s.shape)}) is not the header\'s array '
                      f'{array_name(member.path)!r} ({dtype} {list(want)})')


def check_raw_array(member):
    """Problem unless raw array `member` is one tensor segment of a known dtype named after the member."""
    segs = member.segments
    if len(segs) != 1 or segs[0].kind == 0:
        raise Problem('a raw array member is one tensor segment')
    s = segs[0]
    if s.dtype not in DTYPE_BYTES or s.name != array_name(member.path):
        raise Problem(f'tensor segment {s.name!r} ({s.dtype}) is not the raw array {array_name(member.path)!r} of a known dtype')
