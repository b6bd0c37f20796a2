"""The model-file format: one .npz (a zip of .npy arrays) holding the architecture as JSON plus
every weight and state array. Never pickle. Checkpoints use the same container.

Reading costs only what the file's own metadata justifies (``ModelFile``), in this order:

1. the zip's end record is read by hand: more members than a model can have, or a larger
   central directory than theirs, is refused before ``zipfile`` parses a single entry;
2. from the directory: duplicate names, names other than ``*.npy``, compression other than
   stored/deflate, sizes the file cannot hold;
3. the metadata member is read FIRST (at most 1 MiB), its JSON nesting depth measured without
   parsing (at most 32), then parsed;
4. the caller turns the metadata into the exact arrays it implies, {name: (shape, dtype)}
   (``nnlite.bounds.expected_arrays``), and ``read_arrays`` refuses any member that is
   unexpected, missing, or whose directory size is not the .npy header + shape x dtype, and
   arrays inflating beyond 64 MiB + 64x the file's size, before inflating any;
5. then each member is inflated: its .npy header parsed by hand (never ``np.load``, which would
   allocate from a hostile header), checked against the expected shape and dtype, and its
   bytes read in chunks (``nnlite.npz`` reads the bytes; this module says what must be there).
"""
import json
import os
import zipfile

import numpy as np

from .errors import ConfigError, ModelFileError
from .files import atomic_write
from .npz import check_end_record, json_depth, npy_sizes, read_npy

FORMAT = "nnlite.Sequential"
VERSION = 1
META_KEY = "__nnlite__"
MAX_LAYERS = 1000
# a layer's params and state (BatchNorm: 4) plus two optimizer slots per trained array (Adam)
MAX_ARRAYS_PER_LAYER = 8
MAX_CALLBACK_ARRAYS = 64
MAX_MEMBERS = 1 + MAX_ARRAYS_PER_LAYER * MAX_LAYERS + MAX_CALLBACK_ARRAYS
MAX_DIRECTORY_BYTES = MAX_MEMBERS * 128     # an entry: 46 bytes, a short name, small extras
MAX_META_BYTES = 1 << 20
MAX_JSON_DEPTH = 32
MAX_TOTAL_BYTES = 4 << 30        # 4 GiB: far above VGG16 (60 MB), far below "absurd"
FREE_BYTES, MAX_EXPANSION = 64 << 20, 64   # arrays may inflate to 64 MiB + 64x the file
NON_NEGATIVE_ARRAYS = ("moving_variance",)  # BatchNorm: sqrt(var + eps) of a negative is NaN


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
class ModelFile:
    """A model file or checkpoint open for reading: directory checked, ``meta`` read and
    parsed. Use as ``with ModelFile(path) as mf: ... mf.read_arrays(expected) ...``."""

    def __init__(self, path):
        self.source = os.fspath(path)
        if not os.path.isfile(self.source):
            raise ModelFileError(f"model file not found: {self.source}")
        self.size = os.path.getsize(self.source)
        self._fh = open(self.source, "rb")
        try:
            check_end_record(self._fh, self.size, MAX_MEMBERS, MAX_DIRECTORY_BYTES, self.source)
            try:
                self._zip = zipfile.ZipFile(self._fh)
            except Exception as exc:    # BadZipFile, NotImplementedError, struct.error, ...
                raise self._error(f"not an nnlite model file (not a valid .npz/zip: {exc})") \
                    from None
            self.members = self._directory()
            self.meta = self._read_meta()
        except BaseException:
            self.close()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._fh.close()

    def _error(self, message):
        return ModelFileError(f"{self.source}: {message}")

    def _directory(self):
        """-> {array name: ZipInfo}, refusing what no nnlite writer produces."""
        infos = self._zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise self._error(f"{len(infos):,} members, more than a model can have ({MAX_MEMBERS:,})")
        members = {}
        for info in infos:
            name = info.filename
            if not name.endswith(".npy"):
                raise self._error(f"unexpected member '{name}'")
            if name[:-4] in members:
                raise self._error(f"member '{name}' appears twice")
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise self._error(f"member '{name}' uses compression {info.compress_type}; "
                                  "only stored and deflate are read")
            stored = info.compress_type == zipfile.ZIP_STORED
            if info.compress_size > self.size or (stored and info.file_size != info.compress_size):
                raise self._error(f"member '{name}' claims {info.file_size:,} bytes from "
                                  f"{info.compress_size:,} stored in a {self.size:,}-byte file")
            members[name[:-4]] = info
        return members

    def _check_total(self):
        """However consistent, the arrays may not inflate beyond 64 MiB + 64x the file."""
        total = sum(i.file_size for i in self.members.values())
        limit = min(MAX_TOTAL_BYTES, FREE_BYTES + MAX_EXPANSION * self.size)
        if total > limit:
            raise self._error(f"its members inflate to {total:,} bytes, more than the {limit:,} "
                              f"allowed for a {self.size:,}-byte file")

    def _read_meta(self):
        info = self.members.get(META_KEY)
        if info is None:
            raise self._error("no nnlite metadata inside (a foreign .npz?)")
        if info.file_size > MAX_META_BYTES + 4096:
            raise self._error(f"metadata of {info.file_size:,} bytes, more than {MAX_META_BYTES:,}")
        raw = self._read_member(META_KEY)
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise self._error("no nnlite metadata inside (a foreign .npz?)")
        depth = json_depth(raw)
        if depth > MAX_JSON_DEPTH:
            raise self._error(f"metadata JSON nested {depth} deep, more than {MAX_JSON_DEPTH}")
        try:
            meta = json.loads(raw.tobytes().decode())
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise self._error(f"metadata is not valid JSON ({exc})") from None
        if not isinstance(meta, dict):
            raise self._error("metadata must be a JSON object")
        return meta

    def read_arrays(self, expected):
        """``expected``: {name: (shape, dtype)}, every array the file must hold, nothing else.
        Checks the directory against it, then -> an iterator of (name, array), one member
        inflated at a time, each exactly of its expected shape and dtype."""
        names = set(self.members) - {META_KEY}
        for what, extra in (("unexpected member", names - set(expected)),
                            ("missing array", set(expected) - names)):
            if extra:
                more = f" (and {len(extra) - 1:,} more)" if len(extra) > 1 else ""
                raise self._error(f"{what} '{sorted(extra)[0]}'{more}")
        for name, (shape, dtype) in expected.items():
            sizes = npy_sizes(shape, dtype)
            if self.members[name].file_size not in sizes:
                raise self._error(f"member '{name}' holds {self.members[name].file_size:,} bytes;"
                                  f" a {np.dtype(dtype)} array of shape {tuple(shape)} takes "
                                  f"{sizes[0]:,}")
        self._check_total()
        return ((name, self._read_member(name, shape, dtype))
                for name, (shape, dtype) in expected.items())

    def _read_member(self, name, shape=None, dtype=None):
        return read_npy(self._zip, self.members[name], f"{self.source}: member '{name}'",
                        shape, dtype)


def read_npz(path):
    """-> (meta, {name: array}): a whole file as its own headers describe it, for inspecting
    files (tests, experiments). Same directory and metadata checks as ``ModelFile``;
    ``load_model`` and ``load_checkpoint`` also require the exact members the metadata implies."""
    with ModelFile(path) as mf:
        mf._check_total()
        return mf.meta, {name: mf._read_member(name) for name in mf.members if name != META_KEY}


# -- models ----------------------------------------------------------------------------------
def check_format(meta, source):
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{source}: format is {meta.get('format')!r}, expected {FORMAT!r}")
    if meta.get("version") != VERSION:
        raise ModelFileError(f"{source}: format version {meta.get('version')!r} is not "
                             f"supported (this nnlite reads version {VERSION})")


def model_config(model):
    return {"format": FORMAT, "version": VERSION, "name": model.name,
            "input_shape": list(model.input_shape), "class_names": model.class_names,
            "layers": [{"class": type(l).__name__, "config": l.get_config()} for l in model.layers]}


def model_arrays(model):
    """{'layers/<i>/<key>': array} for every param and state array, in the model's order."""
    return {f"layers/{i}/{k}": a for i, layer in enumerate(model.layers)
            for k, a in list(layer.params.items()) + list(layer.state.items())}


def save_model(model, path):
    """Write ``model`` (built) to ``path``: its config as JSON plus every array, atomically."""
    if not model.built:
        raise ConfigError("save(): the model is not built yet (no input shape)")
    write_npz(path, model_config(model), model_arrays(model))


def check_array_values(key, arr, source):
    """Weights must be finite; a variance non-negative (its square root feeds inference)."""
    if not np.isfinite(arr).all():
        raise ModelFileError(f"{source}: array '{key}' contains NaN/Inf")
    if key.rsplit("/", 1)[-1] in NON_NEGATIVE_ARRAYS and (arr < 0).any():
        raise ModelFileError(f"{source}: array '{key}' has negative values")


def load_arrays_into(model, arrays, source):
    """Copy (name, array) pairs into ``model``'s arrays; every one must be there, finite."""
    targets, filled = model_arrays(model), set()
    for key, src in arrays:
        dst = targets.get(key)
        if dst is None or src.shape != dst.shape:
            raise ModelFileError(f"{source}: array '{key}' {src.shape} is not one of the "
                                 "architecture's")
        check_array_values(key, src, source)
        dst[...] = src
        filled.add(key)
    if filled != set(targets):
        raise ModelFileError(f"{source}: missing array '{sorted(set(targets) - filled)[0]}'")
