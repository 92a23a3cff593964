"""Member path and symbolic link target rules of FORMAT.md §3.2, on exact bytes."""

from .errors import make_error


def check_member_path(r, path, version, kind, pos):
    """Raises BAD_PATH (through ByteReader `r`, at `pos`) unless member path `path` (bytes) follows §3.2."""
    problem = None
    if not path or path.startswith(b'/'):
        problem = 'is empty or absolute'
    elif b'\x00' in path:
        problem = 'contains NUL'
    elif version < 3 and (b'\\' in path or b':' in path):
        problem = 'contains a backslash or a colon'
    elif any(c in (b'', b'.', b'..') for c in path.split(b'/')):
        problem = 'has an empty, . or .. component'
    elif kind == 0 and b'/' in path:
        problem = 'holds / in a file container'
    if problem:
        raise r.fail('BAD_PATH', f'member path {path!r} {problem}', pos)


def check_path_prefixes(r, paths):
    """Raises BAD_PATH unless no path is a proper prefix folder of another (members `a` and `a/b`)."""
    known = set(paths)
    for p in paths:
        i = p.find(b'/')
        while i >= 0:
            if p[:i] in known:
                raise r.fail('BAD_PATH', f'member {p[:i]!r} is a file and the folder of {p!r}')
            i = p.find(b'/', i + 1)


def check_link_target(link_path, target, file, offset):
    """Raises BAD_PATH unless a symbolic link at `link_path` with `target` (bytes) stays inside the output (§3.2)."""
    problem = None
    if not target or b'\x00' in target or target.startswith(b'/'):
        problem = 'is empty, holds NUL or is absolute'
    else:
        parts = target.split(b'/')
        leading = 0
        while leading < len(parts) and parts[leading] == b'..':
            leading += 1
        if b'..' in parts[leading:]:
            problem = 'has a .. component after another component'
        elif leading > link_path.count(b'/'):
            problem = 'climbs above the output folder'
    if problem:
        raise make_error('BAD_PATH', f'symbolic link {link_path!r} target {target!r} {problem}', file, offset)
