"""The model-file format: one .npz (a zip of .npy arrays) holding the architecture as JSON plus
every weight and state array. Never pickle. Checkpoints use the same container.

Reading does NOT call ``np.load``: numpy would allocate an array from the .npy header before
reading it, so a hostile header claiming 10^12 items could exhaust memory. Instead each member's
header is parsed, its dtype must be a plain number type, and its size must equal the bytes the
zip actually holds, before anything is allocated.
"""
import json
import math
import os
import zipfile

import numpy as np

from .errors import ConfigError, ModelFileError, NNLiteError
from .files import atomic_write, read_at_most
from .layers import REGISTRY

FORMAT = "nnlite.Sequential"
VERSION = 1
META_KEY = "__nnlite__"
MAX_TOTAL_BYTES = 4 << 30        # 4 GiB: far above VGG16 (60 MB), far below "absurd"
MAX_META_BYTES = 1 << 20
MAX_LAYERS = 1000
MAX_DEFLATE_RATIO = 1100
MAX_PARAMS = 1_000_000_000


# -- writing ---------------------------------------------------------------------------------
def write_npz(path, meta, arrays):
    """Atomically write ``arrays`` (name -> numeric ndarray) and ``meta`` (JSON-able dict)."""
    payload = {META_KEY: np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
    for name, arr in arrays.items():
        arr = np.asarray(arr)
        if arr.dtype.kind not in "biuf":
            raise ModelFileError(f"refusing to save array '{name}' of dtype {arr.dtype}")
        payload[name] = arr
    atomic_write(path, lambda fh: np.savez(fh, **payload))


# -- reading ---------------------------------------------------------------------------------
def read_npz(path, max_total_bytes=MAX_TOTAL_BYTES):
    """Safely read a file written by ``write_npz`` -> (meta dict, {name: array})."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ModelFileError(f"model file not found: {path}")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
        raise ModelFileError(f"{path}: not an nnlite model file (not a valid .npz/zip: {exc})") from None
    arrays = {}
    with zf:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > max_total_bytes:
            raise ModelFileError(f"{path}: claims {sum(i.file_size for i in infos):,} bytes of "
                                 f"arrays, more than the {max_total_bytes:,} allowed")
        archive_size = os.path.getsize(path)
        for info in infos:
            if not info.filename.endswith(".npy"):
                raise ModelFileError(f"{path}: unexpected member '{info.filename}'")
            _check_member_sizes(info, archive_size, path)
            arrays[info.filename[:-4]] = _read_member(zf, info, path)
    raw = arrays.pop(META_KEY, None)
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1 or raw.size > MAX_META_BYTES:
        raise ModelFileError(f"{path}: no nnlite metadata inside (a foreign .npz?)")
    try:
        meta = json.loads(raw.tobytes().decode())
    except (UnicodeDecodeError, ValueError) as exc:
        raise ModelFileError(f"{path}: metadata is not valid JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: metadata must be a JSON object")
    return meta, arrays


def _check_member_sizes(info, archive_size, path):
    """The zip directory's size claims must be physically possible for this file."""
    if info.compress_size > archive_size:
        raise ModelFileError(f"{path}: member '{info.filename}' claims {info.compress_size:,} "
                             f"stored bytes, more than the whole file ({archive_size:,})")
    stored = info.compress_type == zipfile.ZIP_STORED
    # deflate cannot compress by more than ~1032x, so a larger claimed ratio is a lie
    if (stored and info.file_size != info.compress_size) or (
            info.file_size > MAX_DEFLATE_RATIO * info.compress_size + 1024):
        raise ModelFileError(f"{path}: member '{info.filename}' claims {info.file_size:,} bytes "
                             f"from {info.compress_size:,} stored; impossible, refusing")


def _read_member(zf, info, path):
    name = info.filename
    try:
        with zf.open(info) as fh:
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            else:
                raise ModelFileError(f"{path}: member '{name}' has .npy version {version}")
            if dtype.hasobject or dtype.kind not in "biuf" or dtype.fields is not None:
                raise ModelFileError(f"{path}: member '{name}' has dtype {dtype}; only plain "
                                     "numeric arrays are allowed (object arrays would need pickle)")
            if any(d < 0 for d in shape):
                raise ModelFileError(f"{path}: member '{name}' claims negative shape {shape}")
            count = int(np.prod(shape, dtype=object)) if shape else 1
            header_len = fh.tell()
            expected = count * dtype.itemsize
            if expected != info.file_size - header_len:
                raise ModelFileError(f"{path}: member '{name}' claims shape {shape} "
                                     f"({expected:,} bytes) but holds {info.file_size - header_len:,}")
            data = read_at_most(fh, expected)
            if len(data) != expected:
                raise ModelFileError(f"{path}: member '{name}' is truncated")
            arr = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    except NNLiteError:
        raise
    except Exception as exc:   # truncated zip, bad CRC, malformed header, ...
        raise ModelFileError(f"{path}: member '{name}' is corrupt ({type(exc).__name__}: {exc})") from None
    return np.array(arr)    # own, writable copy


# -- models ----------------------------------------------------------------------------------
def model_config(model):
    return {"format": FORMAT, "version": VERSION, "name": model.name,
            "input_shape": list(model.input_shape),
            "layers": [{"class": type(l).__name__, "config": l.get_config()} for l in model.layers]}


def model_arrays(model):
    arrays = {}
    for i, layer in enumerate(model.layers):
        for k, a in list(layer.params.items()) + list(layer.state.items()):
            arrays[f"layers/{i}/{k}"] = a
    return arrays


def save_model(model, path):
    """Write ``model`` (built) to ``path``: its config as JSON plus every array, atomically."""
    if not model.built:
        raise ConfigError("save(): the model is not built yet (no input shape)")
    write_npz(path, model_config(model), model_arrays(model))


def layers_from_config(meta, source="config", max_params=MAX_PARAMS):
    """Check a model config and create its (unbuilt) layers, refusing anything unknown.

    -> (layers, input_shape, name). ``max_params``: refuse architectures with more values than
    this, counted from the config alone before anything is allocated (``load_model`` passes the
    number of values the file really holds, so a config cannot make us allocate more than the
    file's own size)."""
    if not isinstance(meta, dict):
        raise ModelFileError(f"{source}: the model config must be a JSON object")
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{source}: format is {meta.get('format')!r}, expected {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise ModelFileError(f"{source}: format version {meta.get('version')!r} is not "
                             f"supported (this nnlite reads version {VERSION})")
    layers_cfg, shape = meta.get("layers"), meta.get("input_shape")
    if not isinstance(layers_cfg, list) or not 0 < len(layers_cfg) <= MAX_LAYERS:
        raise ModelFileError(f"{source}: 'layers' must be a list of 1..{MAX_LAYERS} layers")
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 4
            or not all(isinstance(s, int) and not isinstance(s, bool) and 0 < s <= 100_000
                       for s in shape)
            or math.prod(shape) > 50_000_000):
        raise ModelFileError(f"{source}: absurd input_shape {shape!r}")
    layers = []
    for i, entry in enumerate(layers_cfg):
        if not isinstance(entry, dict) or not isinstance(entry.get("class"), str) \
                or entry["class"] not in REGISTRY:
            cls = entry.get("class") if isinstance(entry, dict) else entry
            raise ModelFileError(f"{source}: layer {i} names unknown class {cls!r}; "
                                 f"known: {sorted(REGISTRY)}")
        cfg = entry.get("config")
        if not isinstance(cfg, dict):
            raise ModelFileError(f"{source}: layer {i} has no config object")
        try:
            layers.append(REGISTRY[entry["class"]].from_config(cfg))
        except (NNLiteError, TypeError, ValueError) as exc:
            raise ModelFileError(f"{source}: layer {i} ({entry['class']}): {exc}") from None
    _check_size(layers, shape, source, max_params)
    return layers, tuple(shape), str(meta.get("name", "sequential"))[:100]


def _check_size(layers, shape, source, limit):
    """Count the values every layer would create, from shapes alone, before allocating."""
    total, cur = 0, tuple(shape)
    try:
        for layer in layers:
            total += layer.count_params_for(cur)
            if total > limit:
                raise ModelFileError(f"{source}: the architecture needs more than {limit:,} "
                                     "parameters, the most allowed (at most 10^9, and never "
                                     "more values than the file holds); refusing")
            cur = tuple(layer.compute_output_shape(cur))
    except (NNLiteError, TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"{source}: layers do not fit the input shape {shape}: {exc}") from None


def load_arrays_into(model, arrays, source):
    for i, layer in enumerate(model.layers):
        for store in (layer.params, layer.state):
            for k, dst in store.items():
                key = f"layers/{i}/{k}"
                if key not in arrays:
                    raise ModelFileError(f"{source}: missing array '{key}'")
                src = arrays[key]
                if src.shape != dst.shape:
                    raise ModelFileError(f"{source}: array '{key}' has shape {src.shape}, the "
                                         f"architecture needs {dst.shape}")
                if not np.isfinite(src).all():
                    raise ModelFileError(f"{source}: array '{key}' contains NaN/Inf")
                dst[...] = src
