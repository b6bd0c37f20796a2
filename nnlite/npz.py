"""The bytes of an .npz file, read without trusting any size they claim: the zip's end record,
one .npy member, and the nesting depth of a JSON text. Pure functions, no model-file policy
(that is ``nnlite.modelfile``); every refusal is a ``ModelFileError`` naming ``where``."""
import io
import struct

import numpy as np

from .errors import ModelFileError, NNLiteError


def check_end_record(fh, size, max_members, max_directory_bytes, where):
    """Refuse a zip whose end record claims more members, or a larger central directory, than
    allowed, before ``zipfile`` reads (and allocates for) every entry of it."""
    tail_len = min(size, 22 + 65535)
    fh.seek(size - tail_len)
    tail = fh.read(tail_len)
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        raise ModelFileError(f"{where}: not an nnlite model file (not a valid .npz/zip: no "
                             "end-of-directory record)")
    count, cd_size = struct.unpack("<HI", tail[at + 10:at + 16])
    locator = tail[at - 20:at] if at >= 20 else b""
    if locator[:4] == b"PK\x06\x07":                      # zip64: the real numbers are there
        fh.seek(struct.unpack("<Q", locator[8:16])[0])
        record = fh.read(56)
        if record[:4] == b"PK\x06\x06" and len(record) == 56:
            count, cd_size = struct.unpack("<QQ", record[32:48])
    if count > max_members or cd_size > max_directory_bytes:
        raise ModelFileError(f"{where}: the zip directory lists {count:,} members in "
                             f"{cd_size:,} bytes, more than a model file can have "
                             f"({max_members:,} members)")
    fh.seek(0)


def read_npy(zf, info, where, shape=None, dtype=None):
    """Member ``info`` of zip ``zf`` as an array, never via ``np.load`` (which trusts the
    header): the header is parsed alone, the dtype must be plain numbers, the shape must hold
    exactly the bytes the zip directory says the member inflates to (which the caller has
    bounded), and the bytes are read in chunks. With ``shape``/``dtype`` the header must say
    exactly those."""
    try:
        with zf.open(info) as fh:
            version = np.lib.format.read_magic(fh)
            if version not in ((1, 0), (2, 0)):
                raise ModelFileError(f"{where} has .npy version {version}")
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            got_shape, fortran, got_dtype = read_header(fh)
            if got_dtype.hasobject or got_dtype.kind not in "biuf" or got_dtype.fields:
                raise ModelFileError(f"{where} has dtype {got_dtype}; only plain numeric arrays "
                                     "are allowed (object arrays would need pickle)")
            if shape is not None and (tuple(got_shape) != tuple(shape)
                                      or got_dtype != np.dtype(dtype)):
                raise ModelFileError(f"{where} holds {got_dtype} {got_shape}, expected "
                                     f"{np.dtype(dtype)} {tuple(shape)}")
            if any(d < 0 for d in got_shape):
                raise ModelFileError(f"{where} claims negative shape {got_shape}")
            count = int(np.prod(got_shape, dtype=object))
            if count * got_dtype.itemsize != info.file_size - fh.tell():
                raise ModelFileError(f"{where} claims shape {got_shape} ({count:,} values) but "
                                     f"holds {info.file_size - fh.tell():,} bytes")
            arr = np.empty(count, got_dtype)    # pages are touched only as bytes arrive
            if _read_into(fh, memoryview(arr).cast("B")) != arr.nbytes:
                raise ModelFileError(f"{where} is truncated")
    except NNLiteError:
        raise
    except Exception as exc:   # truncated zip, bad CRC, malformed header, ...
        raise ModelFileError(f"{where} is corrupt ({type(exc).__name__}: {exc})") from None
    return arr.reshape(got_shape, order="F" if fortran else "C")


def _read_into(fh, buffer, chunk=1 << 20):
    """Fill ``buffer`` from ``fh`` in chunks -> the number of bytes read."""
    filled = 0
    while filled < len(buffer):
        n = fh.readinto(buffer[filled:filled + chunk])
        if not n:
            break
        filled += n
    return filled


def npy_sizes(shape, dtype):
    """Bytes of a .npy file (version 1.0; C order, then Fortran order) holding ``dtype`` x
    ``shape``: what a member of that array must measure in the zip directory."""
    dtype, sizes = np.dtype(dtype), []
    for fortran in (False, True):
        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(buf, {"descr": np.lib.format.dtype_to_descr(dtype),
                                                   "fortran_order": fortran, "shape": tuple(shape)})
        sizes.append(len(buf.getvalue()) + int(np.prod(shape, dtype=object)) * dtype.itemsize)
    return sizes


def json_depth(raw):
    """Nesting depth of the JSON text in ``raw`` (uint8 array), brackets inside strings not
    counted: linear and vectorised, no parsing, so a depth limit can be applied BEFORE
    ``json.loads`` (which recurses once per level)."""
    b = np.asarray(raw, dtype=np.uint8)
    if b.size == 0:
        return 0
    index = np.arange(b.size, dtype=np.int32)
    # a quote is escaped when an odd run of backslashes precedes it
    last_other = np.maximum.accumulate(np.where(b == 92, np.int32(-1), index))
    run = index - 1 - np.concatenate(([np.int32(-1)], last_other[:-1]))
    outside = np.cumsum((b == 34) & (run % 2 == 0), dtype=np.int32) % 2 == 0
    step = (np.isin(b, (91, 123)).astype(np.int8) - np.isin(b, (93, 125))) * outside
    return int(max(0, np.cumsum(step, dtype=np.int32).max()))
