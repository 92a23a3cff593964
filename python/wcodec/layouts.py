"""The label rules of FORMAT.md §4.6 and §4.7 (version 5 member layouts): a GGUF member's tensor segments are its
stored header's tensor infos, an ONNX model's are raw_data fields of its eligible initializers, and an ONNX external
data file's are the ranges its model's eligible external initializers name."""

import struct

from .constants import MAX_NAME_BYTES, MAX_RANK, MAX_SEGMENTS

MAX_GGUF_HEADER_BYTES = 100_000_000
MAX_GGUF_ARRAY_DEPTH = 8
MAX_ONNX_GRAPH_DEPTH = 8
LAYOUT_GGUF, LAYOUT_ONNX, LAYOUT_ONNX_DATA = 1, 2, 3

# ggml type code -> (dtype, values per block, bytes per block), FORMAT.md §4.6 "Tensor types".
GGML_TYPES = {
    0: ('F32', 1, 4), 1: ('F16', 1, 2), 2: ('Q4_0', 32, 18), 3: ('Q4_1', 32, 20), 6: ('Q5_0', 32, 22),
    7: ('Q5_1', 32, 24), 8: ('Q8_0', 32, 34), 9: ('Q8_1', 32, 36), 10: ('Q2_K', 256, 84), 11: ('Q3_K', 256, 110),
    12: ('Q4_K', 256, 144), 13: ('Q5_K', 256, 176), 14: ('Q6_K', 256, 210), 15: ('Q8_K', 256, 292),
    16: ('IQ2_XXS', 256, 66), 17: ('IQ2_XS', 256, 74), 18: ('IQ3_XXS', 256, 98), 19: ('IQ1_S', 256, 50),
    20: ('IQ4_NL', 32, 18), 21: ('IQ3_S', 256, 110), 22: ('IQ2_S', 256, 82), 23: ('IQ4_XS', 256, 136),
    24: ('I8', 1, 1), 25: ('I16', 1, 2), 26: ('I32', 1, 4), 27: ('I64', 1, 8), 28: ('F64', 1, 8),
    29: ('IQ1_M', 256, 56), 30: ('BF16', 1, 2), 34: ('TQ1_0', 256, 54), 35: ('TQ2_0', 256, 66), 39: ('MXFP4', 32, 17),
}
_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

ONNX_DTYPES = {1: ('F32', 4), 2: ('U8', 1), 3: ('I8', 1), 4: ('U16', 2), 5: ('I16', 2), 6: ('I32', 4), 7: ('I64', 8),
               9: ('BOOL', 1), 10: ('F16', 2), 11: ('F64', 8), 12: ('U32', 4), 13: ('U64', 8), 16: ('BF16', 2),
               17: ('F8_E4M3', 1), 19: ('F8_E5M2', 1)}


class Problem(Exception):
    """A stored header or model that does not give the index's labels."""


def parse_gguf(h):
    """(header end, data start, tensors sorted by (offset, position)) of GGUF header bytes `h`; Problem otherwise.
    Each tensor is (name, dtype, shape, offset, size)."""
    pos = 0

    def take(n):
        nonlocal pos
        if n > len(h) - pos:
            raise Problem(f'the header runs past its {len(h)} bytes')
        pos += n
        return h[pos - n:pos]

    def u32():
        return struct.unpack('<I', take(4))[0]

    def u64():
        v = struct.unpack('<Q', take(8))[0]
        if v >= 1 << 53:
            raise Problem('a u64 of 2^53 or more')
        return v

    def string():
        return take(u64())

    def skip(t, depth):
        if t in _FIXED:
            take(_FIXED[t])
        elif t == 8:
            string()
        elif t == 9:
            if depth >= MAX_GGUF_ARRAY_DEPTH:
                raise Problem('arrays nested too deep')
            it, n = u32(), u64()
            if it in _FIXED:
                take(n * _FIXED[it])
            elif it in (8, 9):
                if n * 8 > len(h) - pos:
                    raise Problem('an array longer than the header')
                for _ in range(n):
                    skip(it, depth + 1)
            else:
                raise Problem(f'array item type {it}')
        else:
            raise Problem(f'value type {t}')

    if take(4) != b'GGUF' or u32() not in (2, 3):
        raise Problem('not GGUF version 2 or 3')
    count, kvs = u64(), u64()
    if count > MAX_SEGMENTS:
        raise Problem('too many tensors')
    align, keys = 32, set()
    for _ in range(kvs):
        key = bytes(string())
        if key in keys:
            raise Problem('a key appears twice')
        keys.add(key)
        t = u32()
        if key == b'general.alignment':
            if t != 4:
                raise Problem('general.alignment is not UINT32')
            align = u32()
            if align == 0 or align & (align - 1):
                raise Problem('general.alignment is not a power of two')
        else:
            skip(t, 0)
    tensors, names = [], set()
    for k in range(count):
        raw = bytes(string())
        if len(raw) > MAX_NAME_BYTES:
            raise Problem('a tensor name too long')
        try:
            name = raw.decode('utf-8', 'strict')
        except UnicodeDecodeError:
            raise Problem('a tensor name is not UTF-8') from None
        if name in names:
            raise Problem(f'tensor {name!r} appears twice')
        names.add(name)
        nd = u32()
        if nd > 4:
            raise Problem('more than 4 dimensions')
        dims = [u64() for _ in range(nd)]
        n = 1
        for d in dims:
            n *= d
        if n >= 1 << 53:
            raise Problem('2^53 elements or more')
        code = u32()
        if code not in GGML_TYPES:
            raise Problem(f'ggml type {code}')
        dtype, bv, bb = GGML_TYPES[code]
        if (dims[0] if dims else 1) % bv:
            raise Problem('rows of partial blocks')
        off = u64()
        if off % align:
            raise Problem('an unaligned data offset')
        tensors.append((off, k, name, dtype, tuple(reversed(dims)), n // bv * bb))
    tensors.sort(key=lambda t: (t[0], t[1]))
    return pos, (pos + align - 1) // align * align, [(t[2], t[3], t[4], t[0], t[5]) for t in tensors]


def check_gguf(member, header):
    """Problem unless the tensor segments of GGUF `member` are, in order, the tensors of its stored `header`."""
    segs = member.segments
    if not segs or segs[0].kind != 0 or segs[0].original_bytes > MAX_GGUF_HEADER_BYTES:
        raise Problem('its first segment is not a GGUF header byte segment')
    end, data_start, tensors = parse_gguf(bytes(header))
    if end != len(header):
        raise Problem('the GGUF header does not end with its segment')
    i = 0
    for s in segs[1:]:
        if s.kind == 0:
            continue
        if i >= len(tensors):
            raise Problem('more tensor segments than tensors')
        name, dtype, shape, off, size = tensors[i]
        i += 1
        if (name, dtype, shape, data_start + off, size) != (s.name, s.dtype, tuple(s.shape), s.offset_in_member, s.original_bytes):
            raise Problem(f'tensor segment {s.name!r} is not the header\'s {name!r}')
    if i != len(tensors):
        raise Problem('fewer tensor segments than tensors')


class ByteRuns:
    """A member's bytes as its byte segments hold them; a read that touches a tensor segment is a Problem."""

    def __init__(self, pieces):
        self.runs = []
        for at, b in pieces:
            if self.runs and self.runs[-1][0] + len(self.runs[-1][1]) == at:
                self.runs[-1] = (self.runs[-1][0], self.runs[-1][1] + b)
            else:
                self.runs.append((at, b))

    def read(self, at, n, up_to=False):
        for a, b in self.runs:
            if a <= at < a + len(b):
                if up_to:
                    return b[at - a:at - a + n]
                if at + n <= a + len(b):
                    return b[at - a:at - a + n]
        raise Problem(f'the model structure at member byte {at} lies in a tensor segment')


def _varint(b, at):
    v, shift = 0, 0
    for i in range(min(len(b), 10)):
        v |= (b[i] & 0x7F) << shift
        shift += 7
        if not b[i] & 0x80:
            return (v if v < 1 << 53 else -1), i + 1
    raise Problem(f'a broken varint at {at}')


def _fields(src, begin, end):
    pos = begin
    while pos < end:
        at = pos
        tag, n = _varint(src.read(pos, min(10, end - pos), True), pos)
        if tag < 0:
            raise Problem('a tag of 2^53 or more')
        pos += n
        field, wire = tag >> 3, tag & 7
        if field == 0:
            raise Problem('field number 0')
        value = 0
        if wire == 0:
            value, n = _varint(src.read(pos, min(10, end - pos), True), pos)
            pos += n
            yield field, wire, at, value, pos - n, pos
        elif wire in (1, 5):
            n = 8 if wire == 1 else 4
            if n > end - pos:
                raise Problem('a fixed field past its message')
            pos += n
            yield field, wire, at, 0, pos - n, pos
        elif wire == 2:
            length, n = _varint(src.read(pos, min(10, end - pos), True), pos)
            if length < 0 or length > end - pos - n:
                raise Problem('a length past its message')
            pos += n + length
            yield field, wire, at, 0, pos - length, pos
        else:
            raise Problem(f'wire type {wire}')


def _text(src, f, limit):
    if f[1] != 2 or f[5] - f[4] > limit:
        return None
    try:
        return bytes(src.read(f[4], f[5] - f[4])).decode('utf-8', 'strict')
    except UnicodeDecodeError:
        return None


def _tensor(src, begin, end):
    """The eligible tensor at [begin, end) as (name, dtype, shape, size, inline range or None, (location, offset))."""
    fs = {}
    for f in _fields(src, begin, end):
        fs.setdefault(f[0], []).append(f)
    names, types, raws, locs, entries = (fs.get(k, []) for k in (8, 2, 9, 14, 13))
    if 3 in fs or len(names) > 1 or len(types) != 1 or types[0][1] != 0 or types[0][3] not in ONNX_DTYPES:
        return None
    dtype, width = ONNX_DTYPES[types[0][3]]
    name = _text(src, names[0], MAX_NAME_BYTES) if names else ''
    if name is None:
        return None
    dims = []
    for f in fs.get(1, []):
        if f[1] == 0:
            dims.append(f[3])
        elif f[1] == 2:
            if f[5] - f[4] > MAX_RANK * 10:
                return None
            b, p = bytes(src.read(f[4], f[5] - f[4])), 0
            while p < len(b):
                v, n = _varint(b[p:], f[4] + p)
                dims.append(v)
                p += n
        else:
            return None
        if len(dims) > MAX_RANK:
            return None
    if any(d < 0 for d in dims):
        return None
    size = width
    for d in dims:
        size *= d
    if size >= 1 << 53:
        return None
    if len(locs) > 1 or (locs and (locs[0][1] != 0 or locs[0][3] not in (0, 1))):
        return None
    if not (locs and locs[0][3] == 1):
        if entries or len(raws) != 1 or raws[0][1] != 2 or raws[0][5] - raws[0][4] != size:
            return None
        return name, dtype, tuple(dims), size, (raws[0][4], raws[0][5]), None
    if raws:
        return None
    values = {}
    for e in entries:
        if e[1] != 2:
            return None
        kv = {}
        for f in _fields(src, e[4], e[5]):
            kv.setdefault(f[0], []).append(f)
        if len(kv.get(1, [])) != 1 or len(kv.get(2, [])) != 1:
            return None
        k, v = _text(src, kv[1][0], 4096), _text(src, kv[2][0], 4096)
        if k is None or v is None or k in values:
            return None
        values[k] = v
    loc, off, length = values.get('location'), values.get('offset', '0'), values.get('length')
    dec = lambda x: x.isascii() and x.isdigit() and 1 <= len(x) <= 16 and int(x) < 1 << 53
    if loc is None or not dec(off) or (length is not None and (not dec(length) or int(length) != size)):
        return None
    return name, dtype, tuple(dims), size, None, (loc, int(off))


def onnx_tensors(src, size):
    """The eligible tensors of a model (FORMAT.md §4.7 "Initializers"), in the order they are met."""
    out, graphs = [], [f for f in _fields(src, 0, size) if f[0] == 7]
    if any(f[1] != 2 for f in graphs) or len(graphs) > 1:
        raise Problem('ModelProto.graph is not one message')

    def graph(g, depth):
        if depth > MAX_ONNX_GRAPH_DEPTH:
            raise Problem('subgraphs nested too deep')
        for f in _fields(src, g[4], g[5]):
            if f[0] == 5:
                if f[1] != 2:
                    raise Problem('an initializer that is not a message')
                t = _tensor(src, f[4], f[5])
                if t:
                    out.append(t)
            elif f[0] == 1:
                if f[1] != 2:
                    raise Problem('a node that is not a message')
                for a in _fields(src, f[4], f[5]):
                    if a[0] != 5:
                        continue
                    if a[1] != 2:
                        raise Problem('an attribute that is not a message')
                    counts = {5: 0, 6: 0}
                    for x in _fields(src, a[4], a[5]):
                        if x[0] not in (5, 6, 10, 11):
                            continue
                        if x[1] != 2:
                            raise Problem('an attribute tensor or graph that is not a message')
                        if x[0] in counts:
                            counts[x[0]] += 1
                            if counts[x[0]] > 1:
                                raise Problem('an attribute tensor or graph given twice')
                        if x[0] in (5, 10):
                            t = _tensor(src, x[4], x[5])
                            if t:
                                out.append(t)
                        else:
                            graph(x, depth + 1)

    if graphs:
        graph(graphs[0], 1)
    return out


def resolve_location(model_path, loc):
    """The member path external data `loc` names, relative to the model at `model_path`, or None."""
    if not loc or loc.startswith('/') or '\\' in loc or '\x00' in loc or any(c in ('', '.', '..') for c in loc.split('/')):
        return None
    slash = model_path.rfind('/')
    return loc if slash < 0 else model_path[:slash + 1] + loc


def check_onnx(member, tensors):
    """Problem unless each tensor segment of ONNX model `member` is the raw_data of an eligible tensor with its labels."""
    by_begin = {t[4][0]: t for t in tensors if t[4]}
    for s in member.segments:
        if s.kind == 0:
            continue
        t = by_begin.get(s.offset_in_member)
        if not t or (t[0], t[1], t[2], t[3]) != (s.name, s.dtype, tuple(s.shape), s.original_bytes):
            raise Problem(f'tensor segment {s.name!r} is not the raw_data of an initializer with its labels')


def check_onnx_data(member, model_path, tensors):
    """Problem unless each tensor segment of external data `member` lies where an initializer of its model puts it."""
    for s in member.segments:
        if s.kind == 0:
            continue
        if not any(t[5] and resolve_location(model_path, t[5][0]) == member.path and t[5][1] == s.offset_in_member
                   and (t[0], t[1], t[2], t[3]) == (s.name, s.dtype, tuple(s.shape), s.original_bytes) for t in tensors):
            raise Problem(f'tensor segment {s.name!r} is not data of an initializer of {model_path!r} with its labels')


def references(model_path, tensors, path):
    """Whether the model's eligible tensors name `path` as external data."""
    return any(t[5] and resolve_location(model_path, t[5][0]) == path for t in tensors)
