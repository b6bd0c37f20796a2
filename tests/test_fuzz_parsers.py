"""Guarantee 5: hostile files. The IDX reader and the model loader are fuzzed with hypothesis
(2,000 examples each, per strategy family below): whatever the bytes, only an NNLiteError may
escape -- no IndexError, no MemoryError, no pickle. While fuzzing, the process's address space
is capped a few hundred MB above its current size, so allocating from an unchecked header
would surface as a MemoryError (a failure), not as a quiet success on a big machine.

Separately, explicit hostile headers (10^9 items claimed) are read in a subprocess under a
memory limit and must fail with a named error.
"""
import contextlib
import gzip
import io
import json
import os
import resource
import struct
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnlite
from nnlite.datasets import read_idx
from nnlite.errors import NNLiteError
from nnlite.layers import REGISTRY
from nnlite.modelfile import META_KEY

FUZZ = settings(max_examples=2000, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
HEADROOM = 400 * 2 ** 20


@contextlib.contextmanager
def memory_cap(headroom=HEADROOM):
    """Cap the address space at (current size + headroom) for the duration."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as fh:
        current = int(fh.read().split()[0]) * resource.getpagesize()
    cap = current + headroom
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def only_nnlite_errors(read, path):
    try:
        read(path)
    except NNLiteError:
        pass


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


# -- IDX ---------------------------------------------------------------------------------------
IDX_TYPES = [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]


@st.composite
def idx_files(draw):
    """Mostly-plausible IDX files: a real-looking magic and dims, then too few, exactly enough
    or too many data bytes; sometimes gzipped, sometimes with a broken gzip stream."""
    kind = draw(st.sampled_from(["random", "structured", "structured"]))
    if kind == "random":
        body = draw(st.binary(max_size=64))
    else:
        zero = draw(st.sampled_from([b"\0\0"] * 6 + [b"\0\1", b"\1\0"]))
        code = draw(st.sampled_from(IDX_TYPES * 2 + [0x00, 0x0A, 0xFF]))
        ndim = draw(st.sampled_from([1, 2, 3, 4] * 3 + [0, 5, 6]))
        dims = draw(st.lists(st.one_of(st.integers(0, 4), st.integers(0, 4),
                                       st.integers(0, 2 ** 32 - 1)),
                             min_size=ndim, max_size=ndim))
        header = zero + bytes([code, ndim]) + struct.pack(f">{ndim}I", *dims)
        if draw(st.integers(0, 9)) == 0:
            header = header[:draw(st.integers(0, len(header)))]
        itemsize = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}.get(code, 1)
        n_data = int(np.prod(dims, dtype=object)) * itemsize if dims else 0
        fill = draw(st.sampled_from(["exact", "exact", "short", "long", "random"]))
        if fill == "random" or n_data > 4096:
            data = draw(st.binary(max_size=96))
        else:
            data = draw(st.binary(min_size=n_data, max_size=n_data))
            data = data[:-1] if fill == "short" and data else data
            data = data + draw(st.binary(min_size=1, max_size=8)) if fill == "long" else data
        body = header + data
    packing = draw(st.sampled_from(["raw", "gz", "gz", "bad-gz"]))
    if packing == "gz":
        body = gzip.compress(body)
    elif packing == "bad-gz":
        packed = bytearray(gzip.compress(body))
        cut = draw(st.integers(0, len(packed)))
        packed[cut:cut + 1] = draw(st.binary(min_size=0, max_size=1))
        body = bytes(packed)
    return packing, body


@FUZZ
@given(file=idx_files())
def test_fuzz_idx_reader_raises_only_nnlite_errors(workdir, file):
    packing, body = file
    path = workdir / ("f.gz" if packing != "raw" else "f")
    path.write_bytes(body)
    with memory_cap():
        only_nnlite_errors(read_idx, path)


# -- model files -------------------------------------------------------------------------------
def _valid_model_file():
    model = nnlite.Sequential([nnlite.layers.Conv2D(2, 3, padding="same"),
                               nnlite.layers.BatchNormalization(), nnlite.layers.ReLU(),
                               nnlite.layers.MaxPool2D(2), nnlite.layers.Flatten(),
                               nnlite.layers.Dropout(0.5), nnlite.layers.Dense(3)],
                              input_shape=(6, 6, 1), seed=0)
    buf = io.BytesIO()
    from nnlite.modelfile import model_arrays, model_config
    payload = {META_KEY: np.frombuffer(json.dumps(model_config(model)).encode(), np.uint8)}
    payload.update(model_arrays(model))
    np.savez(buf, **payload)
    return buf.getvalue(), model_config(model), model_arrays(model)


VALID_BYTES, VALID_CONFIG, VALID_ARRAYS = _valid_model_file()

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                      st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
json_value = st.recursive(json_leaf, lambda c: st.one_of(
    st.lists(c, max_size=4), st.dictionaries(st.text(max_size=8), c, max_size=4)), max_leaves=8)
layer_keys = ["units", "filters", "kernel_size", "strides", "padding", "activation", "rate",
              "seed", "momentum", "epsilon", "scale", "offset", "pool_size", "name", "dtype",
              "kernel_regularizer", "kernel_initializer", "bias_initializer"]
plausible = st.one_of(json_value, st.integers(-3, 10 ** 7), st.lists(st.integers(-2, 10 ** 6),
                                                                       max_size=3),
                      st.sampled_from(["same", "valid", "relu", "float64", "zeros", "he_normal",
                                       "float16", "int32"]),
                      st.just({"l2": "x"}), st.just({"l2": -1}))


@st.composite
def hostile_configs(draw):
    """Configs that look like nnlite's: known and unknown classes, real keys with wild
    values, absurd sizes and shapes."""
    cfg = json.loads(json.dumps(VALID_CONFIG))
    what = draw(st.sampled_from(["layer", "layer", "shape", "top", "replace"]))
    if what == "layer" and cfg["layers"]:
        i = draw(st.integers(0, len(cfg["layers"]) - 1))
        entry = cfg["layers"][i]
        if draw(st.booleans()):
            entry["class"] = draw(st.one_of(st.sampled_from(sorted(REGISTRY) + ["Lambda",
                                                                               "__import__"]),
                                            json_value))
        entry["config"] = dict(entry.get("config") or {})
        for key in draw(st.lists(st.sampled_from(layer_keys), min_size=1, max_size=3)):
            entry["config"][key] = draw(plausible)
    elif what == "shape":
        cfg["input_shape"] = draw(st.one_of(json_value, st.lists(
            st.integers(-1, 10 ** 6), max_size=5)))
    elif what == "top":
        cfg[draw(st.sampled_from(["format", "version", "layers", "name"]))] = draw(plausible)
    else:
        cfg = draw(json_value)
    return cfg


def _npy_member(header_dict, data):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header_dict)
    return buf.getvalue() + data


@st.composite
def hostile_npz(draw):
    """A model file whose metadata or one array member is hostile."""
    members = {f"{k}.npy": None for k in VALID_ARRAYS}
    meta_cfg = VALID_CONFIG
    mode = draw(st.sampled_from(["config", "array", "array", "bytes"]))
    if mode == "bytes":                        # flip bytes / truncate a valid file
        data = bytearray(VALID_BYTES)
        for _ in range(draw(st.integers(1, 4))):
            pos = draw(st.integers(0, len(data) - 1))
            data[pos] = draw(st.integers(0, 255))
        return bytes(data[:draw(st.integers(0, len(data)))]) if draw(st.booleans()) else bytes(data)
    if mode == "config":
        meta_cfg = draw(hostile_configs())
    else:
        name = draw(st.sampled_from(sorted(members)))
        descr = draw(st.sampled_from(["<f4", "<f8", ">f4", "|u1", "|b1", "<i8", "|O", "<c8",
                                      "|V4", "|S3", "<U2", "<M8[s]", "<f2"]))
        shape = tuple(draw(st.lists(st.one_of(st.integers(-3, 5), st.integers(0, 2 ** 40)),
                                    max_size=4)))
        header = {"descr": descr, "fortran_order": draw(st.booleans()), "shape": shape}
        try:
            members[name] = _npy_member(header, draw(st.binary(max_size=64)))
        except Exception:                     # numpy refuses to even write it: use raw text
            members[name] = b"\x93NUMPY\x01\x00" + draw(st.binary(max_size=80))
    buf = io.BytesIO()
    try:
        meta = json.dumps(meta_cfg).encode()
    except (TypeError, ValueError):
        meta = b"{"
    with zipfile.ZipFile(buf, "w") as zf:
        meta_buf = io.BytesIO()
        np.save(meta_buf, np.frombuffer(meta, np.uint8))
        zf.writestr(f"{META_KEY}.npy", meta_buf.getvalue())
        for name, raw in members.items():
            if raw is None:
                arr_buf = io.BytesIO()
                np.save(arr_buf, VALID_ARRAYS[name[:-4]])
                raw = arr_buf.getvalue()
            zf.writestr(name, raw)
    return buf.getvalue()


@FUZZ
@given(data=hostile_npz())
def test_fuzz_model_loader_raises_only_nnlite_errors(workdir, data):
    path = workdir / "m.npz"
    path.write_bytes(data)
    with memory_cap():
        only_nnlite_errors(nnlite.load_model, path)


def test_the_valid_file_used_by_the_fuzzer_loads(workdir):
    """Sanity: the fuzzer mutates a file that is otherwise accepted."""
    path = workdir / "valid.npz"
    path.write_bytes(VALID_BYTES)
    model = nnlite.load_model(path)
    assert [type(l).__name__ for l in model.layers] == [e["class"] for e in VALID_CONFIG["layers"]]


# -- explicit huge claims, under a hard memory limit in a fresh process ------------------------
HOSTILE_SCRIPT = textwrap.dedent("""
    import io, resource, struct, sys, zipfile
    import numpy as np
    import nnlite
    from nnlite.datasets import read_idx
    from nnlite.errors import NNLiteError
    folder = sys.argv[1]
    with open("/proc/self/statm") as fh:
        current = int(fh.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (current + 200 * 2 ** 20, resource.RLIM_INFINITY))
    try:                                  # the cap really bites: a plain 1 GB allocation fails
        np.ones(10 ** 9, np.uint8)
        print("cap-not-effective")
    except MemoryError:
        pass
    cases = {}
    # IDX: 10^9 labels claimed (1 GB, under the 1 GiB ceiling) in a 72-byte file, raw and gz
    body = bytes([0, 0, 8, 1]) + struct.pack(">I", 10 ** 9) + bytes(64)
    open(folder + "/labels", "wb").write(body)
    import gzip
    open(folder + "/labels.gz", "wb").write(gzip.compress(body))
    # IDX: 10^9 images of 28x28 claimed
    open(folder + "/images", "wb").write(bytes([0, 0, 8, 3]) + struct.pack(">3I", 10 ** 9, 28, 28))
    for name in ("labels", "labels.gz", "images"):
        try:
            read_idx(folder + "/" + name)
            cases[name] = "accepted"
        except NNLiteError as exc:
            cases[name] = type(exc).__name__
    # model file: a member whose .npy header claims 10^9 float32 (4 GB) and whose zip entry
    # claims the matching size; the file itself is tiny
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False,
                                               "shape": (10 ** 9 // 4,)})
    with zipfile.ZipFile(folder + "/claims.npz", "w") as zf:
        meta = io.BytesIO(); np.save(meta, np.frombuffer(b"{}", np.uint8))
        zf.writestr("__nnlite__.npy", meta.getvalue())
        zf.writestr("layers/0/kernel.npy", buf.getvalue() + bytes(64))
    data = bytearray(open(folder + "/claims.npz", "rb").read())
    # patch the central directory's uncompressed/compressed sizes of the second member to 1 GB
    cd = data.rfind(b"PK\\x01\\x02")
    struct.pack_into("<II", data, cd + 20, 10 ** 9, 10 ** 9)
    open(folder + "/claims.npz", "wb").write(bytes(data))
    try:
        nnlite.load_model(folder + "/claims.npz")
        cases["claims.npz"] = "accepted"
    except NNLiteError as exc:
        cases["claims.npz"] = type(exc).__name__
    print(cases)
""")


def test_huge_header_claims_fail_cleanly_under_a_memory_limit(tmp_path):
    proc = subprocess.run([sys.executable, "-c", HOSTILE_SCRIPT, str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "cap-not-effective" not in proc.stdout
    assert proc.stdout.strip() == str({"labels": "DataError", "labels.gz": "DataError",
                                       "images": "DataError", "claims.npz": "ModelFileError"})


@pytest.mark.parametrize("units,message", [
    (200_000_000, "needs more than 0 parameters"),       # 20 TB of weights, 1 KB file
    (5_000_000, "needs more than 0 parameters"),         # 200 MB of weights, 1 KB file
])
def test_config_claiming_more_weights_than_the_file_holds_allocates_nothing(workdir, units,
                                                                           message):
    """Counted from the config before building: a tiny file cannot make the loader allocate
    the weights its config describes."""
    import tracemalloc
    cfg = json.loads(json.dumps(VALID_CONFIG))
    cfg["input_shape"] = [100_000] if units > 10 ** 8 else [10]
    cfg["layers"] = [{"class": "Dense", "config": {"units": units}}]
    path = workdir / "absurd.npz"
    with zipfile.ZipFile(path, "w") as zf:
        meta = io.BytesIO()
        np.save(meta, np.frombuffer(json.dumps(cfg).encode(), np.uint8))
        zf.writestr(f"{META_KEY}.npy", meta.getvalue())
    tracemalloc.start()
    try:
        with pytest.raises(nnlite.ModelFileError, match=message):
            nnlite.load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2 ** 20


def test_absurd_architecture_is_refused_even_without_a_file():
    from nnlite.loading import model_from_config
    cfg = json.loads(json.dumps(VALID_CONFIG))
    cfg["input_shape"] = [100_000]
    cfg["layers"] = [{"class": "Dense", "config": {"units": 200_000}}]
    with pytest.raises(nnlite.ModelFileError, match="needs more than 1,000,000,000 parameters"):
        model_from_config(cfg)
