"""The label rule of FORMAT.md §4.4 ("Labels"): a safetensors member's tensor segments must be the tensors its
stored header lists, in data order, with the same names, dtypes, shapes and offsets."""

import json
import struct

from .constants import MAX_JSON_DEPTH, MAX_RANK, MAX_SAFETENSORS_HEADER_BYTES, MAX_SEGMENTS
from .errors import make_error


class _Duplicate(Exception):
    pass


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise _Duplicate(k)
        obj[k] = v
    return obj


def _reject_constant(name):
    raise ValueError(f'{name} is not JSON')


def parse_header_json(text):
    """Parses strict JSON (RFC 8259) with no duplicate key in any object, no unpaired surrogate escape, nesting at
    most MAX_JSON_DEPTH levels below the top, at most MAX_RANK items per array and MAX_SEGMENTS + 1 keys per object
    (§4.4 "Labels" rule 1); raises ValueError otherwise."""
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_reject_constant)
    except _Duplicate as e:
        raise ValueError(f'duplicate key {e.args[0]!r}') from None
    except RecursionError:
        raise ValueError(f'nesting deeper than {MAX_JSON_DEPTH}') from None
    _check_bounds(value)
    return value


def _check_bounds(top):
    stack = [(top, 0)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f'nesting deeper than {MAX_JSON_DEPTH}')
        if isinstance(v, str):
            v.encode('utf-8')  # raises (a ValueError) on an unpaired surrogate
        elif isinstance(v, list):
            if len(v) > MAX_RANK:
                raise ValueError(f'an array of more than {MAX_RANK} items')
            stack.extend((x, depth + 1) for x in v)
        elif isinstance(v, dict):
            if len(v) > MAX_SEGMENTS + 1:
                raise ValueError(f'an object of more than {MAX_SEGMENTS + 1} keys')
            for k, x in v.items():
                k.encode('utf-8')
                stack.append((x, depth + 1))


def is_safetensors_member(member):
    """Whether `member` has a tensor segment (kind 1 or 2) and layout 0 (version 5), which makes its labels subject
    to §4.4; members of the other layouts follow §4.6 and §4.7 (layouts.py)."""
    return not getattr(member, 'layout', None) and any(s.kind != 0 for s in member.segments)


def check_labels(member, header, file, offset):
    """Raises LABEL_MISMATCH unless `header` (the decoded bytes of the member's first segment) lists exactly the
    member's tensor segments. Returns the parsed header object."""
    def fail(problem):
        return make_error('LABEL_MISMATCH', f'member {member.path!r}: {problem}', file, offset)
    segs = member.segments
    if not segs or segs[0].kind != 0 or segs[0].original_bytes > 8 + MAX_SAFETENSORS_HEADER_BYTES:
        raise fail('its first segment is not a safetensors header byte segment')
    header = bytes(header)
    if len(header) < 8 or struct.unpack_from('<Q', header)[0] != len(header) - 8:
        raise fail('its header length prefix does not match the header segment')
    try:
        obj = parse_header_json(header[8:].decode('utf-8', 'strict'))
    except (UnicodeDecodeError, ValueError) as e:
        raise fail(f'its stored header is not strict JSON: {e}') from None
    if not isinstance(obj, dict):
        raise fail('its stored header is not a JSON object')
    if any(s.kind == 0 for s in segs[1:]):
        raise fail('a segment after the header is not a tensor segment')
    entries = []
    for pos, (name, e) in enumerate(obj.items()):
        if name == '__metadata__':
            continue
        try:
            begin, end = e['data_offsets']
            entries.append(((begin, end, pos), name, e))
        except (TypeError, KeyError, ValueError):
            raise fail(f'tensor {name!r} has no data_offsets pair') from None
    try:
        entries.sort(key=lambda t: t[0])
    except TypeError:
        raise fail('data_offsets are not numbers') from None
    tensors = segs[1:]
    if len(entries) != len(tensors):
        raise fail(f'its header lists {len(entries)} tensors, its record {len(tensors)}')
    d = 0
    for (offsets, name, e), s in zip(entries, tensors):
        shape = e.get('shape') if isinstance(e, dict) else None
        ok = (name == s.name and e.get('dtype') == s.dtype and isinstance(shape, list) and len(shape) == len(s.shape)
              and all(_number(a) and a == b for a, b in zip(shape, s.shape))
              and _number(offsets[0]) and _number(offsets[1]) and offsets[0] == d and offsets[1] == d + s.original_bytes)
        if not ok:
            raise fail(f'tensor {s.name!r} is not the header\'s {name!r}')
        d += s.original_bytes
    return obj


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)
