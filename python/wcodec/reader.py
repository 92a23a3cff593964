"""Decoding of segments and members (FORMAT.md §3.5, §6, §7.3) from an open container, with the digest, label and
link checks in the order §9 gives."""

import hashlib

import numpy as np

from .byte_model import ByteModelError, decode_byte_model
from .chunk_decoder import check_digest, decode_coding
from .constants import TRANSFORM_DUPLICATE, TRANSFORM_XOR_DELTA
from .container import ContainerFile
from .errors import make_error
from . import arrays, layouts
from .labels import check_labels, is_safetensors_member
from .paths import check_link_target
from .reference import Reference
from .value_transforms import invert_value_transform


def segment_offset(seg):
    """The container offset of a segment's first chunk (or of its record's stream's first chunk), for errors."""
    codings = [seg.coding] if seg.coding is not None else [c for _, c in seg.streams]
    for c in codings:
        if c.chunks:
            return c.chunks[0].offset
    return None


class Reader:
    """Decodes the members and segments of the container at `path`.

    `reference` (a path to a safetensors file, a folder of them, or a container) serves XOR_DELTA segments;
    `check_sha256` asks for segment SHA-256 checks in version 4 too (versions 1-3 always check them on
    segments read on their own); `max_output_bytes` refuses (LIMIT_EXCEEDED) any segment or member the index
    declares larger, before anything is allocated for it. Raises the reader's errors while opening (header,
    footer, index).
    """

    def __init__(self, path, reference=None, check_sha256=False, max_output_bytes=None):
        self.max_output_bytes = max_output_bytes
        self.cf = ContainerFile(path)
        self.file = self.cf.file
        self.index = self.cf.index
        self.reference = Reference(reference) if reference is not None else None
        self.check_sha256 = check_sha256
        self._checked_headers = {}
        self._group = (None, None)

    def close(self):
        """Releases the container's memory map (arrays already returned stay valid)."""
        try:
            self.cf.close()
        except BufferError:
            pass

    def decode_segment(self, seg, check_sha256=None):
        """The original bytes of segment `seg` as a uint8 array.

        The segment's SHA-256 is checked when `check_sha256` is true (default: in versions 1-3, or when the
        reader was opened with `check_sha256`), and always for segments rebuilt by a value transform or an
        XOR delta. Raises CORRUPT_CHUNK, CHECKSUM_MISMATCH, CORRUPT_TRANSFORM, REFERENCE_MISSING or
        REFERENCE_MISMATCH.
        """
        self.check_output_size(seg.original_bytes, f'segment {seg.name!r}')
        if check_sha256 is None:
            check_sha256 = self.cf.version < 4 or self.check_sha256
        if seg.kind != 2 and (seg.group_leader is not None or seg.group_bytes is not None):
            at = seg.group_offset
            out = self._group_stream(seg.group_leader or seg)[at:at + seg.original_bytes].copy()
        elif seg.kind != 2:
            out = decode_coding(self.cf, seg.coding)
        elif seg.transform == TRANSFORM_DUPLICATE:
            out = self.decode_segment(seg.params, check_sha256=False)
        else:
            streams = [decode_coding(self.cf, c) for _, c in seg.streams]
            if seg.transform == TRANSFORM_XOR_DELTA:
                out = self._xor_delta(seg, streams[0])
            else:
                out = invert_value_transform(seg, streams, self.file, segment_offset(seg))
            check_sha256 = True
        if check_sha256 and hashlib.sha256(out).digest() != seg.sha256:
            raise make_error('CHECKSUM_MISMATCH', f'segment {seg.name!r} does not match its SHA-256', self.file,
                             segment_offset(seg))
        return out

    def _group_stream(self, leader):
        """The bytes of the byte-model group that `leader` starts (version 11, §3.4): its one chunk decoded and
        checked by its chunk digest. The last group is kept for its continuations."""
        if self._group[0] is leader:
            return self._group[1]
        ch = leader.coding.chunks[0]
        n = leader.group_bytes if leader.group_bytes is not None else leader.original_bytes
        try:
            decoded = decode_byte_model(self.cf.view(ch.offset, ch.size).tobytes(), n, b'')
        except ByteModelError as e:
            raise make_error('CORRUPT_CHUNK', f'chunk 0: {e.problem}', self.file, ch.offset + e.pos) from None
        out = np.frombuffer(decoded, dtype=np.uint8)
        check_digest(self.cf, leader.coding, 0, out)
        self._group = (leader, out)
        return out

    def check_output_size(self, declared, what):
        """Raises LIMIT_EXCEEDED when `declared` bytes of `what` exceed the reader's `max_output_bytes`."""
        if self.max_output_bytes is not None and declared > self.max_output_bytes:
            raise make_error('LIMIT_EXCEEDED', f'{what} declares {declared} bytes, above max_output_bytes '
                             f'{self.max_output_bytes}', self.file)

    def _xor_delta(self, seg, stream):
        offset = segment_offset(seg)
        if self.reference is None:
            raise make_error('REFERENCE_MISSING', f'XOR_DELTA segment {seg.name!r} needs a reference checkpoint', self.file, offset)
        found = self.reference.get(seg.name)
        if found is None:
            raise make_error('REFERENCE_MISSING', f'the reference holds no tensor {seg.name!r}', self.file, offset)
        dtype, shape, data = found
        if dtype != seg.dtype or tuple(shape) != seg.shape or data.size != seg.original_bytes:
            raise make_error('REFERENCE_MISMATCH', f'reference tensor {seg.name!r} has another dtype, shape or size', self.file, offset)
        if hashlib.sha256(data).digest() != seg.params:
            raise make_error('REFERENCE_MISMATCH', f'reference tensor {seg.name!r} does not match its SHA-256', self.file, offset)
        return np.bitwise_xor(stream, data)

    def header_object(self, member):
        """The stored safetensors header of `member`, decoded, SHA-256-checked and label-checked (§4.4)."""
        key = member.index
        if key not in self._checked_headers:
            head = member.segments[0] if member.segments else None
            data = self.decode_segment(head, check_sha256=True) if head is not None and head.kind == 0 else b''
            self._checked_headers[key] = check_labels(member, data, self.file, segment_offset(head) if head else None)
        return self._checked_headers[key]

    def decode_member(self, member, check_segments=False):
        """The original bytes of `member`: its segments, its SHA-256 checked, then its labels and link target.

        `check_segments` checks each segment's SHA-256 as well (as a verify pass does).
        """
        self.check_output_size(member.original_bytes, f'member {member.path!r}')
        parts = [self.decode_segment(s, check_sha256=check_segments) for s in member.segments]
        out = np.concatenate(parts) if parts else np.zeros(0, np.uint8)
        if hashlib.sha256(out).digest() != member.sha256:
            raise make_error('CHECKSUM_MISMATCH', f'member {member.path!r} does not match its SHA-256', self.file,
                             segment_offset(member.segments[0]) if member.segments else None)
        if is_safetensors_member(member):
            head = member.segments[0]
            check_labels(member, out[:head.original_bytes] if head.kind == 0 else b'', self.file, segment_offset(head))
        if getattr(member, 'layout', None) and any(seg.kind != 0 for seg in member.segments):
            self.check_layout_labels(member, out)
        if member.type == 1:
            check_link_target(member.path_raw, out.tobytes(), self.file, segment_offset(member.segments[0]))
        return out

    def check_layout_labels(self, member, out=None):
        """LABEL_MISMATCH unless the tensor segments of a version 5 GGUF, ONNX model or ONNX external data member, or a
        version 9 NumPy array or raw array member, carry the labels its stored bytes (or its model's, or its path) give
        them (§4.6-§4.9). `out`: the member's bytes, if
        decoded; otherwise its byte segments are decoded."""
        def pieces(m, data):
            return [(s.offset_in_member, bytes(data[s.offset_in_member:s.offset_in_member + s.original_bytes]) if data is not None
                     else bytes(self.decode_segment(s))) for s in m.segments if s.kind == 0]
        head = member.segments[0] if member.segments else None
        try:
            if member.layout == arrays.LAYOUT_NPY:
                head_ok = head is not None and head.kind == 0 and head.original_bytes <= 12 + arrays.MAX_NPY_HEADER_BYTES
                if not head_ok:
                    raise arrays.Problem('its first segment is not a .npy header byte segment')
                arrays.check_npy(member, out[:head.original_bytes] if out is not None else self.decode_segment(head))
            elif member.layout == arrays.LAYOUT_RAW_ARRAY:
                arrays.check_raw_array(member)
            elif member.layout == layouts.LAYOUT_GGUF:
                if head is None or head.kind != 0 or head.original_bytes > layouts.MAX_GGUF_HEADER_BYTES:
                    raise layouts.Problem('its first segment is not a GGUF header byte segment')
                header = out[:head.original_bytes] if out is not None else self.decode_segment(head)
                layouts.check_gguf(member, header)
            elif member.layout == layouts.LAYOUT_ONNX:
                layouts.check_onnx(member, layouts.onnx_tensors(layouts.ByteRuns(pieces(member, out)), member.original_bytes))
            else:
                for m in self.index.members:
                    if m.layout != layouts.LAYOUT_ONNX:
                        continue
                    try:
                        tensors = layouts.onnx_tensors(layouts.ByteRuns(pieces(m, None)), m.original_bytes)
                    except layouts.Problem:
                        continue
                    if layouts.references(m.path, tensors, member.path):
                        layouts.check_onnx_data(member, m.path, tensors)
                        break
                else:
                    raise layouts.Problem('no ONNX model member names it as external data')
        except (layouts.Problem, arrays.Problem) as e:
            raise make_error('LABEL_MISMATCH', f'member {member.path!r}: {e}', self.file, segment_offset(head) if head else None) from None

    def verify(self):
        """Decodes every member with every digest checked; raises the first error, returns None when all hold."""
        for m in self.index.members:
            self.decode_member(m, check_segments=True)
            if is_safetensors_member(m):
                self.header_object(m)
