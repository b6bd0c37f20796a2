"""Input checks shared by every public entry point.

They turn "NumPy traceback from deep inside" into an ``InputError`` that says what was expected
and what was given.
"""
import numpy as np

from .errors import ConfigError, InputError


def as_float_array(x, name, dtype, ndim=None, shape_tail=None, allow_empty=False):
    """Return ``x`` as a C-contiguous array of ``dtype``, after checking it.

    ``shape_tail`` is the expected shape without the batch axis (e.g. ``(28, 28, 1)``).
    Integer and float inputs are cast (as Keras does); bool, complex, object and string
    arrays are refused, as are NaN/Inf values.
    """
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise InputError(f"{name}: could not be turned into an array ({exc})") from None
    if arr.dtype.kind not in "iuf":
        raise InputError(f"{name}: expected a real numeric array (int or float), "
                         f"got dtype {arr.dtype}")
    if ndim is not None and arr.ndim != ndim:
        raise InputError(f"{name}: expected {ndim} dimensions"
                         + (f" (batch, {', '.join(map(str, shape_tail))})" if shape_tail else "")
                         + f", got shape {arr.shape}")
    if shape_tail is not None and tuple(arr.shape[1:]) != tuple(shape_tail):
        raise InputError(f"{name}: expected shape (batch, {', '.join(map(str, shape_tail))}), "
                         f"got {arr.shape}")
    if not allow_empty and arr.size == 0:
        raise InputError(f"{name}: is empty (shape {arr.shape})")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise InputError(f"{name}: contains {bad} NaN/Inf value(s); inputs must be finite")
    return arr


def as_labels(y, name, n_classes, length=None):
    """Return integer class labels as int64 of shape (N,), checked against ``n_classes``."""
    arr = np.asarray(y)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 1:
        raise InputError(f"{name}: expected integer class labels of shape (N,), got shape "
                         f"{arr.shape} (one-hot labels are not accepted: pass argmax)")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all() or not np.all(arr == np.round(arr)):
            raise InputError(f"{name}: labels must be whole numbers, got non-integer values")
    elif arr.dtype.kind not in "iu":
        raise InputError(f"{name}: expected integer labels, got dtype {arr.dtype}")
    if length is not None and arr.shape[0] != length:
        raise InputError(f"{name}: has {arr.shape[0]} labels but x has {length} samples")
    if arr.size == 0:
        raise InputError(f"{name}: is empty")
    arr = arr.astype(np.int64)
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= n_classes:
        raise InputError(f"{name}: labels must lie in [0, {n_classes - 1}] for a model with "
                         f"{n_classes} outputs, got values from {lo} to {hi}")
    return arr


def check_float_dtype(dtype):
    """Layers compute in float32 (default) or float64 (gradient checks)."""
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ConfigError(f"dtype must be 'float32' or 'float64', got {dt}")
    return dt


def positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)
