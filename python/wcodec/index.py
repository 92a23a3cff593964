"""The decoded index of FORMAT.md §3.1-§3.5: member, segment, coding and transform records, checked as they are
read, in the order of §9 ("Order of checks"), with chunk offsets implied by the tiling of the data region (§2.3)."""

import hashlib
import struct

from .constants import (
    DTYPE_BYTES, HEADER_BYTES, MAX_CHUNK_VALUES, MAX_CHUNKS, MAX_CODED_SYMBOL_BITS, MAX_DTYPE_BYTES, MAX_MEMBER_MODE,
    MAX_MEMBERS, MAX_NAME_BYTES, MAX_PLANES, MAX_RANGES, MAX_RANK, MAX_SEGMENTS, MAX_TRANSFORM_BYTES,
    MAX_TRANSFORM_PARAM_BYTES, MAX_TRANSFORM_STREAMS, RANS_LANES, TRANSFORM_DUPLICATE, TRANSFORM_XOR_DELTA,
    U64_LIMIT, VALUE_TRANSFORMS, TRANSFORM_BLOCK_FIELDS, TRANSFORM_GROUP_QUANT,
)
from .byte_model import safetensors_primer
from .freq_table import read_freq_table
from .huffman import read_huffman_table
from .layout import Plane, check_layout, raw_plane_bytes
from .paths import check_member_path, check_path_prefixes


class Chunk:
    """A chunk record with its implied `offset`: `size` in bytes and `check` (CRC-32C, or the bound digest)."""

    __slots__ = ('offset', 'size', 'check')

    def __init__(self, offset, size, check):
        self.offset, self.size, self.check = offset, size, check


class Coding:
    """A coding record (§3.4): `value_bytes`, `planes`, `lanes`, `chunk_values`, `chunks`, and `values`."""

    __slots__ = ('value_bytes', 'planes', 'lanes', 'chunk_values', 'chunks', 'values', 'sha256', 'stream_tag',
                 'byte_model', 'primer', 'tensor_model')

    def value_count(self, c):
        """Values held by chunk `c`."""
        return min(self.chunk_values, self.values - c * self.chunk_values)


class Segment:
    """A segment record: `kind` (0 bytes, 1 tensor, 2 transformed), `name`, `dtype`, `shape`, `original_bytes`,
    `sha256`, `offset_in_member`, and either `coding` or `transform`, `params` and `streams` (a list of Coding)."""

    __slots__ = ('kind', 'name', 'name_raw', 'dtype', 'dtype_raw', 'shape', 'original_bytes', 'sha256', 'coding',
                 'transform', 'params', 'streams', 'offset_in_member', 'record_offset', 'member_index', 'index',
                 'group_leader', 'group_offset', 'group_bytes')


class Member:
    """A member record: `path`, `original_bytes`, `sha256`, version 3 `type`, `flags`, `mode`, `mtime_us`, and
    its `segments`."""

    __slots__ = ('seg_count', 'path', 'path_raw', 'original_bytes', 'sha256', 'identity', 'type', 'flags', 'mode', 'mtime_us',
                 'layout', 'segments', 'index')


class Index:
    """The whole index: container `kind` ('file' or 'folder'), `version` and `members`."""

    def __init__(self, kind, version, members):
        self.kind, self.version, self.members = kind, version, members


def _product_ok(shape):
    p = 1
    for d in shape:
        p *= d
        if p >= U64_LIMIT:
            return False
    return True


def _read_coding(r, version, values_of, tile, segment_kind_check=None, segment=False):
    """Reads a coding record. `values_of(value_bytes)` gives the value count once the layout is valid (after the
    kind rules, run by `segment_kind_check(value_bytes)`); `tile` advances the data-region position. `segment`: a
    segment's record (not a transform stream's), where version 8 allows the byte model (§5.5)."""
    c = Coding()
    c.byte_model, c.primer, c.tensor_model = None, b'', None
    vb_pos = r.pos
    c.value_bytes = r.u8('valueBytes')
    count_pos = r.pos
    count = r.u8('planeCount')
    if not 1 <= count <= MAX_PLANES:
        raise r.fail('CORRUPT_INDEX', f'planeCount {count} outside 1 … {MAX_PLANES}', count_pos)
    planes = []
    kinds = set()
    for _ in range(count):
        ppos = r.pos
        kind = r.u8('plane kind')
        ranges, byte_index = (), None
        if kind == 0:
            rc = r.u8('rangeCount')
            if not 1 <= rc <= MAX_RANGES:
                raise r.fail('CORRUPT_INDEX', f'rangeCount {rc} outside 1 … {MAX_RANGES}', ppos)
            ranges = tuple((r.u8('lo'), r.u8('width')) for _ in range(rc))
            bits = sum(wd for _, wd in ranges)
        elif kind == 1:
            byte_index = r.u8('byteIndex')
            bits = 8
        else:
            raise r.fail('CORRUPT_INDEX', f'plane kind {kind} is not 0 or 1', ppos)
        cpos = r.pos
        coding = r.u8('plane coding')
        table = None
        if coding == 0:
            if not (bits == 8 or (version >= 4 and kind == 0 and 1 <= bits <= 8)):
                raise r.fail('CORRUPT_INDEX', f'raw plane of {bits} bits', cpos)
        elif coding == 1:
            if not 1 <= bits <= MAX_CODED_SYMBOL_BITS:
                raise r.fail('CORRUPT_INDEX', f'coded plane of {bits} bits', cpos)
            table = read_freq_table(r, bits)
        elif coding == 2 and version >= 2:
            if bits != 8:
                raise r.fail('CORRUPT_INDEX', f'Huffman plane of {bits} bits', cpos)
            table = read_huffman_table(r)
        elif coding == 3 and version >= 8:
            if not segment:
                raise r.fail('CORRUPT_INDEX', 'a byte-model plane in a transform stream', cpos)
            if c.value_bytes != 1 or count != 1 or bits != 8:
                raise r.fail('CORRUPT_INDEX', 'a byte-model plane must be the only plane of 1-byte values', cpos)
            table = r.u8('byte-model primer')
            if table > (2 if version >= 11 else 1):
                raise r.fail('CORRUPT_INDEX', f'byte-model primer {table}', r.pos - 1)
            c.byte_model = table
        elif coding == 4 and version >= 10:
            if not segment:
                raise r.fail('CORRUPT_INDEX', 'a tensor-model plane in a transform stream', cpos)
            if c.value_bytes < 2 or bits > 8:
                raise r.fail('CORRUPT_INDEX', f'a {bits}-bit plane of {c.value_bytes}-byte values cannot be coded with the tensor model', cpos)
            row_pos = r.pos
            row = r.u32('tensor-model rowValues')
            if row < 1:
                raise r.fail('CORRUPT_INDEX', 'tensor-model row of 0 values', row_pos)
            if c.tensor_model is not None and row != c.tensor_model:
                raise r.fail('CORRUPT_INDEX', f'tensor-model planes give rows of {c.tensor_model} and {row} values', row_pos)
            c.tensor_model = row
        else:
            raise r.fail('CORRUPT_INDEX', f'plane coding {coding} unknown in version {version}', cpos)
        if coding:
            kinds.add(coding)
            if len(kinds) > 1:
                raise r.fail('CORRUPT_INDEX', 'a segment mixes planes of different codings', cpos)
        elif c.tensor_model is not None:
            raise r.fail('CORRUPT_INDEX', 'a segment mixes tensor-model planes with other codings', cpos)
        planes.append(Plane(kind, ranges, byte_index, coding, table, bits))
    c.planes = planes
    lanes_pos = r.pos
    c.lanes = r.u8('lanes')
    if c.lanes not in (1, 2, 4, 8, 16, RANS_LANES):
        raise r.fail('CORRUPT_INDEX', f'lanes {c.lanes} is not a power of two from 1 to {RANS_LANES}', lanes_pos)
    if c.tensor_model is not None and c.lanes != 1:
        raise r.fail('CORRUPT_INDEX', f'lanes {c.lanes} in a tensor-model segment (must be 1)', lanes_pos)
    problem = check_layout(c.value_bytes, planes)
    if problem:
        raise r.fail('CORRUPT_INDEX', f'invalid plane layout: {problem}', vb_pos)
    if segment_kind_check:
        segment_kind_check(c.value_bytes, vb_pos)
    c.values = values_of(c.value_bytes, vb_pos)
    cv_pos = r.pos
    c.chunk_values = r.u32('chunkValues')
    if c.chunk_values == 0:
        raise r.fail('CORRUPT_INDEX', 'chunkValues 0', cv_pos)
    if c.chunk_values > MAX_CHUNK_VALUES:
        raise r.fail('LIMIT_EXCEEDED', f'chunkValues {c.chunk_values} exceeds {MAX_CHUNK_VALUES}', cv_pos)
    cc_pos = r.pos
    chunk_count = r.u32('chunkCount')
    if chunk_count > MAX_CHUNKS:
        raise r.fail('LIMIT_EXCEEDED', f'chunkCount {chunk_count} exceeds {MAX_CHUNKS}', cc_pos)
    need = -(-c.values // c.chunk_values)
    if c.byte_model == 2:
        # A continuation (version 11, §3.4): its bytes are in its group's stream.
        if c.chunk_values != 1 or chunk_count != 0:
            raise r.fail('CORRUPT_INDEX', f'a byte-model continuation with chunkValues {c.chunk_values} and {chunk_count} chunks, not 1 and 0', cv_pos)
    elif chunk_count != need:
        raise r.fail('CORRUPT_INDEX', f'chunkCount {chunk_count} for {c.values} values needs {need}', cc_pos)
    coded = sum(1 for p in planes if p.coding)
    huff = sum(1 for p in planes if p.coding == 2)
    raw_bits = [p.bits for p in planes if p.coding == 0]
    chunks = []
    for i in range(chunk_count):
        rec = r.pos
        size = r.u32('chunk bytes')
        check = int.from_bytes(r.take(8 if version >= 4 else 4, 'chunk check'), 'little')
        n = min(c.chunk_values, c.values - i * c.chunk_values)
        if c.byte_model == 0 and chunk_count == 1 and version >= 11:
            bound = None  # the chunk may hold its group's bytes: checked once the member's segments are read
        elif c.byte_model is not None:
            bound = n + 8
        elif c.tensor_model is not None:
            bound = n * c.value_bytes + 8
        else:
            bound = 4 * c.lanes + 2 * n * coded + sum(raw_plane_bytes(n, b) for b in raw_bits) + 40 * huff
        if bound is not None and size > bound:
            raise r.fail('CORRUPT_INDEX', f'chunk {i} of {size} bytes exceeds its bound {bound}', rec)
        chunks.append(Chunk(tile(size, rec), size, check))
    c.chunks = chunks
    return c


def read_index(r, version, index_offset):
    """Reads and checks the decoded index from ByteReader `r` (container `version`, index block at
    `index_offset`). Returns an Index; raises the codes of §9 for every structural rule broken."""
    kind = r.u8('container kind')
    if kind not in (0, 1):
        raise r.fail('CORRUPT_INDEX', f'container kind {kind} is not 0 (file) or 1 (folder)', 0)
    if r.u8('reserved') or r.u16('reserved'):
        raise r.fail('CORRUPT_INDEX', 'reserved index header field is not 0', 1)
    mc_pos = r.pos
    member_count = r.u32('memberCount')
    if member_count > MAX_MEMBERS:
        raise r.fail('LIMIT_EXCEEDED', f'memberCount {member_count} exceeds {MAX_MEMBERS}', mc_pos)
    if kind == 0 and member_count != 1:
        raise r.fail('CORRUPT_INDEX', f'a file container holds {member_count} members, not 1', mc_pos)
    position = [HEADER_BYTES]

    def tile(size, rec):
        off = position[0]
        if off + size > index_offset:
            raise r.fail('CORRUPT_INDEX', f'chunk at {off} of {size} bytes ends past the data region', rec)
        position[0] = off + size
        return off

    members, seen_paths = [], set()
    for mi in range(member_count):
        m = Member()
        m.index = mi
        p_pos = r.pos
        plen = r.u16('path length')
        if plen > MAX_NAME_BYTES:
            raise r.fail('CORRUPT_INDEX', f'path of {plen} bytes exceeds {MAX_NAME_BYTES}', p_pos)
        m.path_raw = r.take(plen, 'path')
        m.original_bytes = r.u64('member originalBytes')
        m.sha256 = r.take(32, 'member sha256')
        m.identity, m.type, m.flags, m.mode, m.mtime_us = None, 0, 0, 0, 0
        m.layout = 0 if version >= 5 else None
        if version >= 3:
            m.identity = r.take(32, 'identitySha256')
            t_pos = r.pos
            m.type = r.u8('member type')
            if m.type > 2:
                raise r.fail('CORRUPT_INDEX', f'member type {m.type} above 2', t_pos)
            m.flags = r.u8('member flags')
            if m.flags & 0xF8:
                raise r.fail('CORRUPT_INDEX', f'member flags {m.flags:#x} set reserved bits', t_pos + 1)
            if version >= 5:
                m.layout = r.u8('member layout')
                top = 5 if version >= 9 else 3  # layouts 4 and 5 (NumPy array, raw array) from version 9
                if m.layout > top:
                    raise r.fail('CORRUPT_INDEX', f'member layout {m.layout} above {top}', t_pos + 2)
                if m.layout and m.type:
                    raise r.fail('CORRUPT_INDEX', f'member layout {m.layout} on a member of type {m.type}', t_pos + 2)
                if r.u8('member reserved'):
                    raise r.fail('CORRUPT_INDEX', 'member reserved field is not 0', t_pos + 3)
            elif r.u16('member reserved'):
                raise r.fail('CORRUPT_INDEX', 'member reserved field is not 0', t_pos + 2)
            m.mode = r.u32('mode')
            if m.mode > MAX_MEMBER_MODE or (m.mode and not m.flags & 1):
                raise r.fail('CORRUPT_INDEX', f'mode {m.mode:#o} out of range or not flagged', t_pos + 4)
            m.mtime_us = r.u64('mtimeUs')
            if m.mtime_us and not m.flags & 2:
                raise r.fail('CORRUPT_INDEX', 'mtimeUs set without its flag', t_pos + 8)
            if m.type != 0 and kind == 0:
                raise r.fail('CORRUPT_INDEX', f'member type {m.type} in a file container', t_pos)
            if m.type == 2 and m.original_bytes:
                raise r.fail('CORRUPT_INDEX', 'an empty folder member has bytes', t_pos)
            if m.type == 1 and m.original_bytes == 0:
                raise r.fail('CORRUPT_INDEX', 'a symbolic link member of 0 bytes', t_pos)
            if m.type == 1 and m.original_bytes > MAX_NAME_BYTES:
                raise r.fail('LIMIT_EXCEEDED', f'link target of {m.original_bytes} bytes exceeds {MAX_NAME_BYTES}', t_pos)
        raw_path = version >= 3 and bool(m.flags & 4)
        m.path = m.path_raw.decode('utf-8', 'surrogateescape') if raw_path else r.utf8(m.path_raw, 'path', p_pos + 2)
        check_member_path(r, m.path_raw, version, kind, p_pos)
        if m.path_raw in seen_paths:
            raise r.fail('BAD_PATH', f'path {m.path!r} repeats an earlier member', p_pos)
        seen_paths.add(m.path_raw)
        sc_pos = r.pos
        seg_count = r.u32('segCount')
        if seg_count > MAX_SEGMENTS:
            raise r.fail('LIMIT_EXCEEDED', f'segCount {seg_count} exceeds {MAX_SEGMENTS}', sc_pos)
        if version >= 3 and m.type == 2 and seg_count:
            raise r.fail('CORRUPT_INDEX', 'an empty folder member has segments', sc_pos)
        m.segments = []
        m.seg_count = seg_count
        prev_name = b''
        in_member = 0
        last_modelled, leaders = None, []
        for si in range(seg_count):
            s_pos = r.pos
            s = _read_segment(r, version, prev_name, members, m, si, tile)
            s.group_leader, s.group_offset, s.group_bytes = None, 0, None
            bm = s.coding.byte_model if s.coding is not None else None
            if bm == 2:
                last_modelled = _continue_group(r, last_modelled, s, s_pos)
            elif bm == 0:
                last_modelled = s
                if len(s.coding.chunks) == 1 and version >= 11:
                    leaders.append((s, s_pos))
            s.offset_in_member = in_member
            in_member += s.original_bytes
            prev_name = s.name_raw
            m.segments.append(s)
        if in_member != m.original_bytes:
            raise r.fail('CORRUPT_INDEX', f'segments cover {in_member} bytes of a {m.original_bytes}-byte member', sc_pos)
        for s, s_pos in leaders:
            n = s.group_bytes if s.group_bytes is not None else s.original_bytes
            if s.coding.chunks[0].size > n + 8:
                raise r.fail('CORRUPT_INDEX', f'a byte-model chunk of {s.coding.chunks[0].size} bytes exceeds its bound {n + 8}', s_pos)
        if m.segments and m.segments[0].coding is not None and m.segments[0].coding.byte_model == 1:
            # The header primer (§4.4): the header the labels of the member's tensor segments imply.
            m.segments[0].coding.primer = safetensors_primer(
                (t.name, t.dtype, t.shape, t.original_bytes) for t in m.segments if t.kind in (1, 2))
        if version >= 3 and identity_digest(m) != m.identity:
            raise r.fail('LABEL_MISMATCH', f'identity digest of member {m.path!r} does not match its record', p_pos + 2 + plen + 40)
        members.append(m)
    if position[0] != index_offset:
        raise r.fail('CORRUPT_INDEX', f'chunks end at {position[0]}, not at the index at {index_offset}')
    check_path_prefixes(r, [m.path_raw for m in members])
    if r.pos != len(r.data):
        raise r.fail('CORRUPT_INDEX', f'{len(r.data) - r.pos} bytes after the last member record')
    return Index('file' if kind == 0 else 'folder', version, members)


def _continue_group(r, prev, s, pos):
    """Places continuation `s` (byte-model primer 2, version 11, §3.4) in the group of `prev`, the member's last
    earlier segment coded with the byte model with primer 0 or 2; returns `s` (now the last such segment)."""
    if prev is None:
        raise r.fail('CORRUPT_INDEX', 'a byte-model continuation (primer 2) with no earlier byte-model segment of primer 0 or 2 in its member', pos)
    leader = prev.group_leader if prev.group_leader is not None else prev
    if len(leader.coding.chunks) != 1:
        raise r.fail('CORRUPT_INDEX', f'a byte-model continuation in a group whose first segment has {len(leader.coding.chunks)} chunks, not 1', pos)
    offset = leader.group_bytes if leader.group_bytes is not None else leader.original_bytes
    if offset + s.original_bytes > leader.coding.chunk_values:
        raise r.fail('CORRUPT_INDEX', f'a byte-model group of {offset + s.original_bytes} bytes, above its first segment\'s chunkValues {leader.coding.chunk_values}', pos)
    leader.group_bytes = offset + s.original_bytes
    s.group_leader, s.group_offset = leader, offset
    return s


def _read_segment(r, version, prev_name, members, member, si, tile):
    s = Segment()
    s.record_offset = r.pos
    s.member_index, s.index = member.index, si
    k_pos = r.pos
    s.kind = r.u8('segment kind')
    if s.kind not in (0, 1, 2) or (s.kind == 2 and version < 2):
        raise r.fail('CORRUPT_INDEX', f'segment kind {s.kind} unknown in version {version}', k_pos)
    n_pos = r.pos
    shared = r.u8('shared')
    suffix_len = r.u16('suffixBytes')
    if shared > len(prev_name):
        raise r.fail('CORRUPT_INDEX', f'name shares {shared} bytes of a {len(prev_name)}-byte name', n_pos)
    if shared + suffix_len > MAX_NAME_BYTES:
        raise r.fail('LIMIT_EXCEEDED', f'name of {shared + suffix_len} bytes exceeds {MAX_NAME_BYTES}', n_pos)
    s.name_raw = prev_name[:shared] + r.take(suffix_len, 'name')
    s.name = r.utf8(s.name_raw, 'tensor name', n_pos)
    s.dtype, s.dtype_raw = r.str16('dtype', MAX_DTYPE_BYTES)
    rank_pos = r.pos
    rank = r.u8('rank')
    if rank > MAX_RANK:
        raise r.fail('LIMIT_EXCEEDED', f'rank {rank} exceeds {MAX_RANK}', rank_pos)
    s.shape = tuple(r.u64('dimension') for _ in range(rank))
    if not _product_ok(s.shape):
        raise r.fail('CORRUPT_INDEX', f'shape {list(s.shape)} has an element count of 2^53 or more', rank_pos)
    ob_pos = r.pos
    s.original_bytes = r.u64('segment originalBytes')
    # Version 11: the only segment of a member is the member, and its SHA-256 is the member's (§3.3).
    s.sha256 = member.sha256 if version >= 11 and member.seg_count == 1 else r.take(32, 'segment sha256')
    s.coding, s.transform, s.params, s.streams = None, None, None, []
    width = DTYPE_BYTES.get(s.dtype)

    def kind_rules(value_bytes, pos):
        if s.kind == 0:
            if s.name_raw or s.dtype_raw or s.shape or value_bytes != 1:
                raise r.fail('CORRUPT_INDEX', 'a byte segment with a name, dtype, shape or values of more than 1 byte', pos)
        elif width is not None:
            if value_bytes != width:
                raise r.fail('CORRUPT_INDEX', f'{s.dtype} values of {value_bytes} bytes, not {width}', pos)
        elif value_bytes != 1:
            raise r.fail('CORRUPT_INDEX', f'unknown dtype {s.dtype!r} with values of {value_bytes} bytes', pos)
        _check_tensor_size(r, s, width, ob_pos)

    if s.kind in (0, 1):
        seg_pos = r.pos
        s.coding = _read_coding(r, version, lambda vb, pos: s.original_bytes // vb, tile, kind_rules, segment=True)
        s.coding.sha256, s.coding.stream_tag = s.sha256, 0
        if s.coding.byte_model == 1 and (si != 0 or s.kind != 0):
            raise r.fail('CORRUPT_INDEX', 'a primed byte-model plane outside the first segment of its member, a byte segment', seg_pos)
        return s
    _check_tensor_size(r, s, width, ob_pos)
    _read_transform(r, version, s, members, member, si, width, tile)
    return s


def _check_tensor_size(r, s, width, pos):
    if s.kind != 0 and width is not None:
        count = 1
        for d in s.shape:
            count *= d
        if s.original_bytes != width * count:
            raise r.fail('CORRUPT_INDEX', f'{s.original_bytes} bytes for shape {list(s.shape)} of {s.dtype}', pos)


def group_quant_params_problem(p, version):
    """The problem with GROUP_QUANT params (§3.5.3.5) in a container of `version` as text, or None."""
    p = bytes(p)
    if len(p) < 41:
        return f'params of {len(p)} bytes'
    if p[0] != 0 or p[1] not in (1, 2):
        return 'params version or codeBytes'
    levels, sparsity = p[2], p[3]
    if version < 7 and (levels or sparsity):
        return f'levels {levels} and sparsity {sparsity} in a version {version} container'
    if levels > 2 or sparsity > 1 or (levels and p[1] != 1):
        return f'levels {levels}, sparsity {sparsity} or codeBytes {p[1]}'
    n = p[40]
    if not 1 <= n <= 32 or len(p) != 41 + n or any(not 0x20 <= b <= 0x7E for b in p[41:]):
        return f'label of {n} bytes in {len(p)} bytes of params'
    metrics = struct.unpack_from('<4d', p, 8)
    if any(m != m for m in metrics) or any(m < 0 for m in metrics[:3]):
        return f'metrics {metrics}'
    return None


def _read_transform(r, version, s, members, member, si, width, tile):
    t_pos = r.pos
    s.transform = r.u8('transform')
    if s.transform not in (TRANSFORM_DUPLICATE, TRANSFORM_XOR_DELTA) + VALUE_TRANSFORMS or (s.transform == TRANSFORM_BLOCK_FIELDS and version < 5):
        raise r.fail('CORRUPT_INDEX', f'transform code {s.transform} unknown in version {version}', t_pos)
    value_transform = s.transform in VALUE_TRANSFORMS
    if value_transform and s.original_bytes > MAX_TRANSFORM_BYTES:
        raise r.fail('LIMIT_EXCEEDED', f'{s.original_bytes} bytes exceed MAX_TRANSFORM_BYTES', t_pos)
    pb_pos = r.pos
    param_bytes = r.u32('paramBytes')
    if param_bytes > MAX_TRANSFORM_PARAM_BYTES:
        raise r.fail('LIMIT_EXCEEDED', f'paramBytes {param_bytes} exceeds {MAX_TRANSFORM_PARAM_BYTES}', pb_pos)
    s.params = r.take(param_bytes, 'params')
    sc_pos = r.pos
    stream_count = r.u8('streamCount')
    if stream_count > MAX_TRANSFORM_STREAMS:
        raise r.fail('LIMIT_EXCEEDED', f'streamCount {stream_count} exceeds {MAX_TRANSFORM_STREAMS}', sc_pos)
    if s.transform == TRANSFORM_DUPLICATE:
        target = None
        if param_bytes == 8 and stream_count == 0:
            tm, ts = struct.unpack('<II', s.params)
            if tm < member.index and ts < len(members[tm].segments):
                target = members[tm].segments[ts]
            elif tm == member.index and ts < si:
                target = member.segments[ts]
        ok = (target is not None and (target.kind == 1 or (target.kind == 2 and target.transform != TRANSFORM_DUPLICATE))
              and target.dtype_raw == s.dtype_raw and target.shape == s.shape
              and target.original_bytes == s.original_bytes and target.sha256 == s.sha256)
        if not ok:
            raise r.fail('CORRUPT_TRANSFORM', 'DUPLICATE params, streams or target are inconsistent', t_pos)
        s.params = target
        return
    if s.transform == TRANSFORM_XOR_DELTA and (param_bytes != 32 or stream_count != 1):
        raise r.fail('CORRUPT_TRANSFORM', 'XOR_DELTA needs 32 bytes of params and one stream', t_pos)
    if s.transform == TRANSFORM_GROUP_QUANT:
        if version < 6:
            raise r.fail('CORRUPT_TRANSFORM', f'GROUP_QUANT in a version {version} container', t_pos)
        problem = group_quant_params_problem(s.params, version)
        if problem:
            raise r.fail('CORRUPT_TRANSFORM', f'GROUP_QUANT {problem}', pb_pos)
        if stream_count != 2:
            raise r.fail('CORRUPT_TRANSFORM', f'GROUP_QUANT segment with {stream_count} streams, not 2', sc_pos)
    total = 0
    for k in range(stream_count):
        sb_pos = r.pos
        stream_bytes = r.u64('streamBytes')
        total += stream_bytes
        if value_transform and total > MAX_TRANSFORM_BYTES:
            raise r.fail('LIMIT_EXCEEDED', 'transform streams exceed MAX_TRANSFORM_BYTES', sb_pos)

        def values_of(vb, pos, stream_bytes=stream_bytes, sb_pos=sb_pos):
            if stream_bytes % vb:
                raise r.fail('CORRUPT_INDEX', f'stream of {stream_bytes} bytes is not whole {vb}-byte values', pos)
            if s.transform == TRANSFORM_XOR_DELTA:
                if stream_bytes != s.original_bytes:
                    raise r.fail('CORRUPT_TRANSFORM', f'XOR_DELTA stream of {stream_bytes} bytes for a {s.original_bytes}-byte tensor', sb_pos)
                if vb != (width or 1):
                    raise r.fail('CORRUPT_INDEX', f'XOR_DELTA stream values of {vb} bytes', pos)
            if s.transform == TRANSFORM_GROUP_QUANT and vb not in ((1, 2) if k == 0 else (4,)):
                raise r.fail('CORRUPT_TRANSFORM', f'GROUP_QUANT stream {k} of {vb}-byte values', pos)
            return stream_bytes // vb

        c = _read_coding(r, version, values_of, tile)
        c.sha256, c.stream_tag = s.sha256, k + 1
        s.streams.append((stream_bytes, c))


def identity_digest(m):
    """The identity digest of §7.4 of member record `m`."""
    h = hashlib.sha256()
    h.update(b'wcodec identity\x00')
    h.update(struct.pack('<H', len(m.path_raw)) + m.path_raw)
    h.update(struct.pack('<Q', m.original_bytes) + m.sha256)
    h.update(struct.pack('<BBIQ', m.type, m.flags, m.mode, m.mtime_us))
    if m.layout is not None:  # version 5
        h.update(bytes([m.layout]))
    h.update(struct.pack('<I', len(m.segments)))
    for s in m.segments:
        h.update(bytes([0 if s.kind == 0 else 1]))
        h.update(struct.pack('<H', len(s.name_raw)) + s.name_raw)
        h.update(struct.pack('<H', len(s.dtype_raw)) + s.dtype_raw)
        h.update(bytes([len(s.shape)]) + b''.join(struct.pack('<Q', d) for d in s.shape))
        h.update(struct.pack('<Q', s.original_bytes) + s.sha256)
    return h.digest()
