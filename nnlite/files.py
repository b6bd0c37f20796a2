"""Files, written so that a crash never leaves half a file, and read so that a hostile size
claim never costs more memory than the bytes really present.

- ``atomic_write(path, write)``: write a temporary file beside ``path``, fsync, rename over it.
- ``write_json`` / ``write_text`` / ``write_csv``: the three formats nnlite writes, atomically.
- ``read_at_most(fh, n)``: read up to n bytes in chunks.
- ``jsonable(obj)``: numpy scalars and arrays to Python numbers and lists, tuples to lists,
  keys to strings; NaN/Inf to ``None`` (strict JSON has neither).
"""
import csv
import io
import json
import math
import os
import tempfile

import numpy as np


def atomic_write(path, write):
    """Call ``write(fileobj)`` on a binary temporary file beside ``path``, fsync, then rename it
    over ``path``. A crash at any point leaves the previous file untouched."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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
