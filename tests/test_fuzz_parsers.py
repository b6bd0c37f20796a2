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
import re
import resource
import struct
import subprocess
import sys
import textwrap
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nnlite
from nnlite.commands.train import read_run_recipe
from nnlite.datasets import read_idx
from nnlite.errors import NNLiteError
from nnlite.layers import REGISTRY
from nnlite.modelfile import META_KEY
from nnlite.recipe import STUDY

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


# -- run.json (what `nnlite train --resume` reads) ----------------------------------------------
JSON_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12))


def run_json_documents():
    """A real run.json with fields removed, retyped or set to wild values; or any JSON; or
    bytes that are not JSON at all; or a document nested far deeper than Python recurses."""
    real = {"config": STUDY.to_dict(), "input": "[0, 1] images", "params": 1}
    anything = st.recursive(JSON_LEAVES, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
        max_leaves=12)
    edited = st.builds(
        lambda key, value, drop: {"config": {k: (value if k == key else v)
                                             for k, v in real["config"].items() if k != drop}},
        st.sampled_from(sorted(real["config"])), JSON_LEAVES,
        st.sampled_from([None] + sorted(real["config"])))
    return st.one_of(edited.map(lambda d: json.dumps(d).encode()),
                     anything.map(lambda d: json.dumps(d).encode()),
                     st.binary(max_size=64),
                     st.integers(1, 200_000).map(lambda n: b"[" * n + b"]" * n))


@FUZZ
@given(document=run_json_documents())
def test_fuzz_run_json_reader_raises_only_nnlite_errors(workdir, document):
    (workdir / "checkpoint.npz").write_bytes(b"")
    (workdir / "run.json").write_bytes(document)
    with memory_cap():
        only_nnlite_errors(read_run_recipe, workdir)


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
    (200_000_000, "needs more than 1,000,000,000 parameters"),   # 20 TB of weights, 1 KB file
    (5_000_000, "missing array 'layers/0/bias'"),               # 20 MB of weights, 1 KB file
])
def test_config_claiming_more_weights_than_the_file_holds_allocates_nothing(workdir, units,
                                                                           message):
    """The config is checked, and the members it implies compared with the zip directory,
    before anything is allocated: a tiny file cannot make the loader build its weights."""
    import tracemalloc
    cfg = json.loads(json.dumps(VALID_CONFIG))
    cfg["input_shape"] = [100_000] if units > 10 ** 8 else [4]
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


# -- amplification: every hostile file is refused by name, in < 100 MB peak -------------------
# Each load runs in a fresh process: after importing nnlite and loading one valid file (every
# code path warm), it measures the current RSS, loads the hostile file, and reports the wall
# time and the process's PEAK RSS minus that RSS, so any transient allocation counts. The peak
# is the kernel's high-water mark of this process image (VmHWM, what ru_maxrss reports for a
# process that never forked or exec'd; ru_maxrss itself would carry over the parent's peak
# across fork + exec, hiding anything smaller). The wall time is printed for the record, not
# bounded: the subprocess timeout is only a hang guard.
MEASURE = textwrap.dedent("""
    import json, sys, time
    import nnlite
    from nnlite.callbacks import History
    from nnlite.checkpoint import load_checkpoint
    from nnlite.loading import model_from_config
    kind, path, warm, config = sys.argv[1:5]
    if kind == "model":
        load = nnlite.load_model
    else:
        model = model_from_config(json.load(open(config))).compile(nnlite.optimizers.Adam())
        load = lambda p: load_checkpoint(p, model, History())
    def status_kb(field):
        with open("/proc/self/status") as fh:
            return next(int(l.split()[1]) for l in fh if l.startswith(field + ":"))
    load(warm)
    before_kb = status_kb("VmRSS")
    t0 = time.perf_counter()
    try:
        load(path)
        outcome = "accepted"
    except nnlite.NNLiteError as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - t0
    extra_mb = (status_kb("VmHWM") - before_kb) / 1024
    print(json.dumps({"outcome": outcome, "seconds": seconds, "extra_mb": extra_mb}))
""")


def _zip(path, members):
    """Write a zip by hand (zipfile cannot store pre-deflated data): ``members`` are (name,
    method, crc, stored bytes, inflated size); a zip64 end record when there are > 65535."""
    out, central = bytearray(), bytearray()
    for name, method, crc, data, size in members:
        n, offset = name.encode(), len(out)
        out += struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(data),
                           size, len(n), 0) + n + data
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 0x21, crc,
                               len(data), size, len(n), 0, 0, 0, 0, 0, offset) + n
    count, cd_offset = len(members), len(out)
    out += central
    if count > 0xFFFF:
        at = len(out)
        out += struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, count, count,
                           len(central), cd_offset)
        out += struct.pack("<4sLQL", b"PK\x06\x07", 0, at, 1)
        count = 0xFFFF
    out += struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, len(central), cd_offset, 0)
    path.write_bytes(bytes(out))


def _npy(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def _stored(name, raw):
    return name, 0, zlib.crc32(raw), raw, len(raw)


def _deflated_zeros(name, header_array, n_bytes):
    """A member whose .npy header is ``header_array``'s and whose data is ``n_bytes`` zeros,
    deflated (about 1000:1) without ever holding the zeros: after a full flush deflate
    restarts, so every 1 MiB block of zeros compresses to the same bytes."""
    header, chunk = _npy(header_array)[:128], bytes(1 << 20)
    assert n_bytes % len(chunk) == 0
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = c.compress(header) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(header)
    for _ in range(n_bytes // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    return name, 8, crc, head + block * (n_bytes // len(chunk)) + c.flush(), 128 + n_bytes


def _model_members(model):
    from nnlite.modelfile import model_arrays, model_config
    meta = np.frombuffer(json.dumps(model_config(model)).encode(), np.uint8)
    return [_stored(f"{META_KEY}.npy", _npy(meta))] + [
        _stored(f"{k}.npy", _npy(a)) for k, a in model_arrays(model).items()]


def _meta_member(cfg_text):
    return _stored(f"{META_KEY}.npy", _npy(np.frombuffer(cfg_text.encode(), np.uint8)))


GIB = 1 << 30


def _hostile_model_files(folder):
    """name -> (path, what the refusal must say)."""
    from nnlite.layers import Dense, Flatten, MaxPool2D
    from nnlite.modelfile import model_config
    valid = nnlite.Sequential([Flatten(), Dense(10)], input_shape=(28, 28, 1), seed=0)
    members, files = _model_members(valid), {}

    def case(name, members, match):
        _zip(folder / f"{name}.npz", members)
        files[name] = (folder / f"{name}.npz", match)

    kernel = np.zeros((784, 10), np.float32)
    case("bomb_extra_member", members + [_deflated_zeros("payload.npy", kernel, GIB)],
         "unexpected member 'payload'")
    case("bomb_as_a_weight", [m if m[0] != "layers/1/kernel.npy" else
                              _deflated_zeros(m[0], kernel, GIB) for m in members],
         "member 'layers/1/kernel' holds 1,073,741,952 bytes; a float32 array of shape "
         r"\(784, 10\) takes 31,488")
    big = json.loads(json.dumps(model_config(valid)))       # Dense(16384): a 1 GiB kernel
    big["input_shape"], big["layers"] = [16384], [{"class": "Dense", "config": {"units": 16384}}]
    case("bomb_matching_its_architecture",
         [_meta_member(json.dumps(big)), _deflated_zeros("layers/0/kernel.npy", np.zeros((16384, 16384),
                                                                          np.float32), GIB),
          _stored("layers/0/bias.npy", _npy(np.zeros(16384, np.float32)))],
         r"members inflate to 1,07\d,\d{3},\d{3} bytes, more than the 139,\d{3},\d{3} allowed")
    case("200k_empty_members", [_stored(f"m{i}.npy", b"") for i in range(200_000)],
         "lists 200,000 members")
    case("duplicate_member", members + [members[-1]], "member 'layers/1/bias.npy' appears twice")
    case("10000_deep_json", [_meta_member("[" * 10_000 + "]" * 10_000)],
         "nested 10000 deep, more than 32")
    pool = nnlite.Sequential([MaxPool2D(10 ** 6, padding="same"), Flatten(), Dense(10)],
                             input_shape=(28, 28, 1), seed=0)
    case("pool_window_10^6", _model_members(pool),
         r"layer 0 \(MaxPool2D\) does not fit .* pool window \(1000000, 1000000\) is larger")
    conv_cfg = json.loads(json.dumps(model_config(valid)))
    conv_cfg["layers"] = [{"class": "Conv2D", "config": {"filters": 10 ** 7, "kernel_size": 1}}]
    case("10^7_filters", [_meta_member(json.dumps(conv_cfg)),
                          _deflated_zeros("layers/0/kernel.npy",
                                          np.zeros((1, 1, 1, 10 ** 7), np.float32), 40 << 20),
                          _deflated_zeros("layers/0/bias.npy",
                                          np.zeros(10 ** 7, np.float32), 40 << 20)],
         r"layer 0 \(Conv2D\) holds 7,840,000,000 values per image")
    valid.save(folder / "valid.npz")
    return files


HOSTILE_MODELS = ["bomb_extra_member", "bomb_as_a_weight", "bomb_matching_its_architecture",
                  "200k_empty_members", "duplicate_member", "10000_deep_json", "pool_window_10^6",
                  "10^7_filters"]


@pytest.fixture(scope="module")
def hostile_models(tmp_path_factory):
    return _hostile_model_files(tmp_path_factory.mktemp("hostile"))


def _measure(kind, path, warm, config=""):
    proc = subprocess.run([sys.executable, "-c", MEASURE, kind, str(path), str(warm), str(config)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _assert_refused_cheaply(name, path, result, match):
    print(f"{name} ({path.stat().st_size:,} bytes): {result['seconds'] * 1000:.1f} ms, "
          f"+{result['extra_mb']:.1f} MB peak RSS: {result['outcome'].split(': ', 2)[-1][:150]}")
    assert result["outcome"].startswith("ModelFileError: "), result
    assert re.search(match, result["outcome"]), result
    assert result["extra_mb"] < 100, result            # the bounded resource: peak memory
    assert np.isfinite(result["seconds"]) and result["seconds"] > 0, result     # recorded


@pytest.mark.parametrize("name", HOSTILE_MODELS)
def test_hostile_model_file_is_refused_by_name_fast_and_in_little_memory(hostile_models, name):
    path, match = hostile_models[name]
    assert path.stat().st_size < 25 * 2 ** 20          # the largest (200k members) is 19 MB
    result = _measure("model", path, path.parent / "valid.npz")
    _assert_refused_cheaply(name, path, result, match)


def test_the_hand_written_zips_are_real_zips(hostile_models):
    """Sanity: zipfile reads the hostile files as the zips they claim to be (the 1 GiB bomb
    really inflates to 1 GiB of a .npy), so the refusals above are not about broken zips."""
    with zipfile.ZipFile(hostile_models["bomb_as_a_weight"][0]) as zf:
        info = zf.getinfo("layers/1/kernel.npy")
        with zf.open(info) as fh:
            assert np.lib.format.read_magic(fh) == (1, 0)
            assert np.lib.format.read_array_header_1_0(fh)[0] == (784, 10)
            assert fh.read(1 << 20) == bytes(1 << 20)
        assert info.file_size == GIB + 128 and info.compress_size < 1.1 * 2 ** 20
    with zipfile.ZipFile(hostile_models["duplicate_member"][0]) as zf:
        names = zf.namelist()
        assert names.count("layers/1/bias.npy") == 2


def test_the_measurement_sees_what_a_load_allocates(tmp_path):
    """Control: a valid model with 16 MB of weights measures as at least that much, so the
    near-zero figures above are real and not a blind measurement."""
    from nnlite.layers import Dense
    nnlite.Sequential([Dense(2000)], input_shape=(2000,), seed=0).save(tmp_path / "big.npz")
    nnlite.Sequential([Dense(2)], input_shape=(2,), seed=0).save(tmp_path / "small.npz")
    result = _measure("model", tmp_path / "big.npz", tmp_path / "small.npz")
    print(f"valid 16 MB model: {result['seconds'] * 1000:.0f} ms, +{result['extra_mb']:.1f} MB")
    assert result["outcome"] == "accepted" and result["extra_mb"] > 15


# -- hostile checkpoints: the same promise for optimizer state, counters and generators --------
@pytest.fixture(scope="module")
def hostile_checkpoints(tmp_path_factory):
    """name -> (path, what the refusal must say); a checkpoint written mid-epoch (after 3 of 5
    batches) by a Ctrl+C, then tampered with."""
    from nnlite.callbacks import Callback
    from nnlite.layers import Dense, Dropout, Flatten
    from nnlite.modelfile import model_config, read_npz, write_npz
    folder = tmp_path_factory.mktemp("hostile_ckpt")
    model = nnlite.Sequential([Flatten(), Dense(8), Dropout(0.5), Dense(3)],
                              input_shape=(4, 4, 1), seed=0).compile(nnlite.optimizers.Adam())
    (folder / "config.json").write_text(json.dumps(model_config(model)))

    class Stop(Callback):
        def on_batch_end(self, batch, logs=None):
            if batch == 2:
                raise KeyboardInterrupt
    x = np.random.default_rng(0).random((40, 4, 4, 1), dtype=np.float32)
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, np.arange(40) % 3, batch_size=8, epochs=1, verbose=0,
                  checkpoint_path=folder / "valid.npz", callbacks=[Stop()])
    meta, arrays = read_npz(folder / "valid.npz")
    files = {}

    def case(name, edit, match):
        m, a = json.loads(json.dumps(meta)), {k: v.copy() for k, v in arrays.items()}
        edit(m["checkpoint"], a)
        write_npz(folder / f"{name}.npz", m, a)
        files[name] = (folder / f"{name}.npz", match)

    case("slot_of_the_wrong_shape", lambda ck, a: a.update({"optimizer/0/m": np.zeros(5, np.float32)}),
         r"member 'optimizer/0/m' holds 148 bytes; a float32 array of shape \(128,\) takes 640")
    case("slot_with_nan", lambda ck, a: a["optimizer/0/m"].__setitem__(3, np.nan),
         "optimizer state 'optimizer/0/m' contains NaN/Inf")
    case("negative_second_moment", lambda ck, a: a["optimizer/1/v"].__setitem__(0, -1.0),
         "optimizer state 'optimizer/1/v' has negative values")
    case("iterations_10^30", lambda ck, a: ck["optimizer"].update(iterations=10 ** 30),
         r"optimizer iterations=10{30}, expected an integer in \[0, 1,000,000,000,000\]")
    case("seen_0_mid_epoch", lambda ck, a: ck["position"].update(seen=0),
         "position batch=3, seen=0 is not a point of an epoch of 40 samples in batches of 8")
    case("generator_state_garbage",
         lambda ck, a: ck["shuffle_rng"]["state"].update(state=2 ** 200),
         "shuffle_rng is not a PCG64 state")
    return files


HOSTILE_CHECKPOINTS = ["slot_of_the_wrong_shape", "slot_with_nan", "negative_second_moment",
                       "iterations_10^30", "seen_0_mid_epoch", "generator_state_garbage"]


@pytest.mark.parametrize("name", HOSTILE_CHECKPOINTS)
def test_hostile_checkpoint_is_refused_by_name_fast_and_in_little_memory(hostile_checkpoints,
                                                                        name):
    path, match = hostile_checkpoints[name]
    result = _measure("checkpoint", path, path.parent / "valid.npz", path.parent / "config.json")
    _assert_refused_cheaply(name, path, result, match)
