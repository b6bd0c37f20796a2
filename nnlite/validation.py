"""Input checks shared by every public entry point.

They turn "NumPy traceback from deep inside" into an ``InputError`` that says what was expected
and what was given.
"""
import math
import numbers
import os

import numpy as np

from .errors import ConfigError, InputError

# The most values one array may hold: a layer's weights, or one image's activations in a layer.
# A bound far above any model here (VGG16's largest kernel: 2.4 M), so absurd sizes
# (Dense(10**12)) fail with a ConfigError when the model is built, before allocating.
MAX_ARRAY_VALUES = 2 ** 31


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
    try:
        dt = np.dtype(dtype)
    except (TypeError, ValueError):
        raise ConfigError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise ConfigError(f"dtype must be 'float32' or 'float64', got {dt}")
    return dt


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def positive_int(value, name):
    """An int > 0 (NumPy ints too; not bool, not 2.0, not "2")."""
    if not _is_int(value) or value <= 0:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(value, name):
    if not _is_int(value) or value < 0:
        raise ConfigError(f"{name} must be an integer >= 0, got {value!r}")
    return int(value)


def real(value, name, ok=None, rule="a finite number"):
    """A finite real number (Python or NumPy scalar; not bool, not a string) for which
    ``ok(value)`` holds -> float; else ConfigError "``name`` must be ``rule``, got ..."."""
    if (isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or (ok is not None and not ok(value))):
        raise ConfigError(f"{name} must be {rule}, got {value!r}")
    return float(value)


def shape_tuple(value, name):
    """A shape without the batch axis: a non-empty tuple or list of positive ints -> tuple."""
    if (not isinstance(value, (tuple, list)) or not value
            or not all(_is_int(v) and v > 0 for v in value)):
        raise ConfigError(f"{name} must be a tuple of positive integers (sizes without the "
                          f"batch axis, e.g. (28, 28, 1)), got {value!r}")
    return tuple(int(v) for v in value)


def file_to_write(path, name):
    """A path a file can be written to: not a folder, in an existing, writable folder."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ConfigError(f"{name} must be a file path (str or os.PathLike), got {path!r}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise ConfigError(f"{name}: {path} is a folder; give a file path inside it, e.g. "
                          f"{os.path.join(path, 'checkpoint.npz')}")
    if not os.path.isdir(folder):
        raise ConfigError(f"{name}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"{name}: the folder {folder} is not writable")
    return path


def fit_options(shuffle, verbose, callbacks, checkpoint_path, batch_transform):
    """Check ``fit``'s keyword options before any work -> (callbacks as a list,
    checkpoint_path); a bad checkpoint_path fails here, not after the first epoch."""
    for name, value in (("shuffle", shuffle), ("verbose", verbose)):
        if not isinstance(value, (bool, np.bool_, int, np.integer)):
            raise ConfigError(f"{name} must be True/False (or 0/1), got {value!r}")
    if callbacks is None:
        callbacks = []
    if not isinstance(callbacks, (list, tuple)) or not all(
            callable(getattr(cb, "on_epoch_end", None)) for cb in callbacks):
        raise ConfigError(f"callbacks must be a list of nnlite.callbacks.Callback objects, got "
                          f"{callbacks!r}")
    if batch_transform is not None and not callable(batch_transform):
        raise ConfigError(f"batch_transform must be None or a function f(xb, rng) -> xb, got "
                          f"{batch_transform!r}")
    if checkpoint_path is not None:
        checkpoint_path = file_to_write(checkpoint_path, "checkpoint_path")
    return list(callbacks), checkpoint_path


def class_name_list(names, n_outputs=None):
    """None, or a list of 1-100 character strings, one per model output -> list or None."""
    if names is None:
        return None
    if (not isinstance(names, (list, tuple)) or not names
            or not all(isinstance(n, str) and 0 < len(n) <= 100 for n in names)):
        raise ConfigError(f"class_names must be None or a list of names (strings of 1 to 100 "
                          f"characters), got {names!r}")
    if n_outputs is not None and len(names) != n_outputs:
        raise ConfigError(f"class_names has {len(names)} names but the model has {n_outputs} "
                          f"outputs")
    return list(names)
