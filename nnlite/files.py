"""Files, written so that a crash never leaves half a file, and read so that a hostile size
claim never costs more memory than the bytes really present.

- ``atomic_write(path, write)``: write a temporary file beside ``path``, fsync, rename over it.
  A symlink at ``path`` is written through (its target is replaced, the link stays); a new file
  gets the permissions the umask allows (0o666 & ~umask), a replaced file keeps its own.
- ``write_json`` / ``write_text`` / ``write_csv``: the three formats nnlite writes, atomically.
- ``fresh_folder(parent, stem)``: a new, empty folder ``parent/stem-<time>`` (never one that
  exists), for outputs that must not overwrite earlier ones.
- ``read_at_most(fh, n)``: read up to n bytes in chunks.
- ``jsonable(obj)``: numpy scalars and arrays to Python numbers and lists, tuples to lists,
  keys to strings; NaN/Inf to ``None`` (strict JSON has neither).
"""
import csv
import errno
import io
import json
import math
import os
import stat
import tempfile
import time

import numpy as np


def atomic_write(path, write):
    """Call ``write(fileobj)`` on a binary temporary file beside ``path``, fsync, then rename it
    over ``path``. A crash at any point leaves the previous file untouched. An ``OSError``
    (disk full, permission denied, ...) names ``path``."""
    path = os.path.realpath(os.fspath(path))      # through symlinks: replace the target
    folder = os.path.dirname(path)
    tmp = None
    try:
        try:
            os.makedirs(folder, exist_ok=True)
        except FileExistsError:                  # a file stands where the folder should be
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), path) from None
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                   dir=folder)
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(path))               # mkstemp makes 0600 whatever the umask
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename is None:
            exc.filename = path                      # "No space left on device: <path>"
        raise
    _fsync_folder(folder)


def _mode_for(path):
    """The permission bits a file written to ``path`` gets: those of the file it replaces, or
    0o666 minus the umask for a new file (what ``open(path, "w")`` would give)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~current_umask()


def current_umask():
    """The process umask, read without changing it (``os.umask`` can only be read by setting
    it, which would race with other threads creating files)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder):
    """Make the rename itself durable (the folder entry), where the platform allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text(path, text):
    """Atomically write ``text`` (UTF-8) to ``path``."""
    atomic_write(path, lambda fh: fh.write(text.encode()))


def write_json(path, obj, indent=1):
    """Atomically write ``jsonable(obj)`` as JSON to ``path``."""
    write_text(path, json.dumps(jsonable(obj), indent=indent) + "\n")


def write_csv(path, rows, fieldnames=None):
    """Atomically write a list of dicts as CSV (columns: ``fieldnames`` or the first row's keys)."""
    buf = io.StringIO(newline="")
    keys = list(fieldnames or (rows[0] if rows else []))
    writer = csv.DictWriter(buf, fieldnames=keys)
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buf.getvalue())


def fresh_folder(parent, stem):
    """Create and return a new empty folder ``parent/stem-YYYYmmdd-HHMMSS`` (``-2``, ``-3``, ...
    appended when that name is taken): two runs in the same second never share a folder."""
    os.makedirs(parent, exist_ok=True)
    base = os.path.join(parent, f"{stem}-{time.strftime('%Y%m%d-%H%M%S')}")
    for n in range(1, 10_000):
        path = base if n == 1 else f"{base}-{n}"
        try:
            os.mkdir(path)                        # atomic: fails if another run took the name
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{base}-*: 10,000 folders of that name already exist")


def read_at_most(fh, n_bytes, chunk=1 << 20):
    """Read up to ``n_bytes`` from ``fh`` in chunks: memory grows with the bytes really
    present, never with what a (possibly hostile) header claims."""
    data = bytearray()
    while len(data) < n_bytes:
        block = fh.read(min(chunk, n_bytes - len(data)))
        if not block:
            break
        data += block
    return bytes(data)


def jsonable(obj):
    """``obj`` with everything JSON cannot hold converted (see the module docstring)."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
