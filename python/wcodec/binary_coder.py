"""The binary arithmetic decoder of the byte model and the tensor model (FORMAT.md §5.5.5), as
src/entropy/binary-coder.ts's BinaryDecoder: 32-bit range, P(1) in 12 bits, byte-wise renormalisation."""

M32 = 0xFFFFFFFF


def binary_decoder(stream, error, what, goal):
    """Returns (decide, finish) over `stream`: decide(p) is the next bit, coded with P(1) = p/4096; finish() checks
    that every byte was read and the stream ends in the flushed state. Problems raise error(problem, position), worded
    with `what` (the model's name) and `goal` (what the stream decodes to, e.g. "its 5 values")."""
    if len(stream) < 4:
        raise error(f'{what} stream of {len(stream)} bytes is shorter than its 4-byte flush', 0)
    ac = {'x1': 0, 'x2': M32, 'x': int.from_bytes(stream[:4], 'big'), 'pos': 4}

    def decide(p):
        x1, x2 = ac['x1'], ac['x2']
        r = x2 - x1
        xmid = x1 + (r >> 12) * p + (((r & 4095) * p) >> 12)
        y = 1 if ac['x'] <= xmid else 0
        if y:
            x2 = xmid
        else:
            x1 = xmid + 1
        while ((x1 ^ x2) & 0xFF000000) == 0:
            if ac['pos'] >= len(stream):
                raise error(f'{what} stream of {len(stream)} bytes ends before {goal} are decoded', len(stream))
            x1 = (x1 << 8) & M32
            x2 = ((x2 << 8) | 255) & M32
            ac['x'] = ((ac['x'] << 8) | stream[ac['pos']]) & M32
            ac['pos'] += 1
        ac['x1'], ac['x2'] = x1, x2
        return y

    def finish():
        if ac['pos'] != len(stream):
            raise error(f"{what} stream ends at byte {ac['pos']} of {len(stream)}", ac['pos'])
        if ac['x'] != ac['x1']:
            raise error(f'{what} stream does not end in its flushed state', ac['pos'] - 4)

    return decide, finish
