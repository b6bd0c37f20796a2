"""Model files: bit-identical round trip; corrupt / truncated / foreign / object files refused."""
import json
import zipfile

import numpy as np
import pytest

import nnlite
from nnlite.errors import ModelFileError, NNLiteError
from nnlite.zoo import cnn


@pytest.fixture(scope="module")
def saved_cnn(tmp_path_factory):
    model = cnn(seed=3)
    rng = np.random.default_rng(0)
    for layer in model.layers:       # non-trivial BN state, so a lost array would show
        for k, a in layer.state.items():
            a[...] = rng.uniform(0.5, 1.5, a.shape)
    path = tmp_path_factory.mktemp("m") / "cnn.npz"
    model.save(path)
    return model, path


def test_round_trip_is_bit_identical(saved_cnn):
    model, path = saved_cnn
    x = np.random.default_rng(1).random((16, 28, 28, 1), dtype=np.float32)
    loaded = nnlite.load_model(path)
    np.testing.assert_array_equal(model.predict(x), loaded.predict(x))
    assert [type(l) for l in loaded.layers] == [type(l) for l in model.layers]
    assert loaded.layers[0].kernel_regularizer.c == 0.01


def test_model_file_is_a_plain_npz_without_pickle(saved_cnn):
    _, path = saved_cnn
    with np.load(path, allow_pickle=False) as data:   # numpy itself agrees: nothing pickled
        meta = json.loads(data["__nnlite__"].tobytes())
    assert meta["format"] == "nnlite.Sequential" and meta["version"] == 1


def test_truncated_file(saved_cnn, tmp_path):
    _, path = saved_cnn
    raw = path.read_bytes()
    for cut in (10, len(raw) // 2, len(raw) - 30):
        bad = tmp_path / f"cut{cut}.npz"
        bad.write_bytes(raw[:cut])
        with pytest.raises(ModelFileError):
            nnlite.load_model(bad)


def test_corrupted_bytes(saved_cnn, tmp_path):
    _, path = saved_cnn
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 3: len(raw) // 3 + 64] = b"\xff" * 64
    bad = tmp_path / "corrupt.npz"
    bad.write_bytes(bytes(raw))
    with pytest.raises(NNLiteError):
        nnlite.load_model(bad)


def test_foreign_npz_and_non_zip(tmp_path):
    np.savez(tmp_path / "foreign.npz", weights=np.zeros(3))
    with pytest.raises(ModelFileError, match="metadata"):
        nnlite.load_model(tmp_path / "foreign.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ModelFileError, match="not a valid"):
        nnlite.load_model(tmp_path / "text.npz")
    with pytest.raises(ModelFileError, match="not found"):
        nnlite.load_model(tmp_path / "missing.npz")


def test_object_array_is_refused_without_unpickling(tmp_path, saved_cnn):
    _, path = saved_cnn
    evil = tmp_path / "evil.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        import io
        buf = io.BytesIO()
        np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
        dst.writestr("payload.npy", buf.getvalue())
    with pytest.raises(ModelFileError, match="object|dtype"):
        nnlite.load_model(evil)


def test_unknown_layer_and_absurd_sizes_are_refused(tmp_path):
    from nnlite.modelfile import write_npz
    base = {"format": "nnlite.Sequential", "version": 1, "input_shape": [4]}
    write_npz(tmp_path / "unknown.npz", {**base, "layers": [{"class": "Lambda", "config": {}}]}, {})
    with pytest.raises(ModelFileError, match="unknown class"):
        nnlite.load_model(tmp_path / "unknown.npz")
    write_npz(tmp_path / "huge.npz", {**base, "layers": [
        {"class": "Dense", "config": {"units": 10 ** 9}}, {"class": "Dense", "config": {"units": 10 ** 9}}]}, {})
    with pytest.raises(ModelFileError, match="absurd"):
        nnlite.load_model(tmp_path / "huge.npz")


def test_header_claiming_huge_array_is_refused_before_allocating(tmp_path, saved_cnn):
    """A .npy header claiming 10^12 floats inside a tiny file: refused from the zip directory
    (the member's size is not the architecture's kernel), before the header is even read."""
    _, path = saved_cnn
    evil = tmp_path / "claims.npz"
    header = np.lib.format.header_data_from_array_1_0(np.zeros(1, np.float32))
    header["shape"] = (10 ** 12,)
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    buf.write(b"\0" * 64)
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(evil, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info.filename, buf.getvalue() if "layers/0/kernel" in info.filename else data)
    with pytest.raises(ModelFileError, match=r"member 'layers/0/kernel' holds 192 bytes; a "
                                             r"float32 array of shape \(3, 3, 1, 32\) takes 1,280"):
        nnlite.load_model(evil)


def test_save_is_atomic_when_the_write_fails(tmp_path, saved_cnn, monkeypatch):
    model, path = saved_cnn
    target = tmp_path / "model.npz"
    model.save(target)
    before = target.read_bytes()

    def broken_savez(fh, **arrays):
        fh.write(b"partial garbage")
        raise OSError("disk full (injected)")
    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="injected"):
        model.save(target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]   # no temp left behind
    nnlite.load_model(target)


# -- the members a file must hold: exactly those its config implies ----------------------------
def _copy_with(src, dst, replace=None, extra=None, drop=()):
    """Copy zip ``src`` to ``dst`` member by member: ``replace`` {name: bytes}, ``extra``
    {name: bytes}, ``drop`` names."""
    import io
    replace, extra = replace or {}, extra or {}
    with zipfile.ZipFile(src) as zs, zipfile.ZipFile(dst, "w") as zd:
        for info in zs.infolist():
            if info.filename not in drop:
                zd.writestr(info.filename, replace.get(info.filename, zs.read(info)))
        for name, raw in extra.items():
            zd.writestr(name, raw)


def _npy(arr):
    import io
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


@pytest.mark.parametrize("change,message", [
    (dict(extra={"layers/0/extra.npy": _npy(np.zeros(3, np.float32))}),
     "unexpected member 'layers/0/extra'"),
    (dict(drop={"layers/1/moving_variance.npy"}), "missing array 'layers/1/moving_variance'"),
    (dict(replace={"layers/0/bias.npy": _npy(np.zeros(32, np.float64))}),
     r"member 'layers/0/bias' holds 384 bytes; a float32 array of shape \(32,\) takes 256"),
    # the same number of bytes, another dtype and shape: refused by its header
    (dict(replace={"layers/0/bias.npy": _npy(np.zeros(128, np.uint8))}),
     r"member 'layers/0/bias' holds uint8 \(128,\), expected float32 \(32,\)"),
    (dict(replace={"layers/0/bias.npy": _npy(np.full(32, np.inf, np.float32))}),
     "array 'layers/0/bias' contains NaN/Inf"),
    (dict(replace={"layers/1/moving_variance.npy": _npy(np.full(32, -1.0, np.float32))}),
     "array 'layers/1/moving_variance' has negative values"),
    (dict(replace={"layers/1/moving_variance.npy": _npy(np.zeros(32, np.float32))[:-8]}),
     r"member 'layers/1/moving_variance' holds 248 bytes"),
])
def test_members_must_be_exactly_what_the_config_implies(saved_cnn, tmp_path, change, message):
    _, path = saved_cnn
    _copy_with(path, tmp_path / "m.npz", **change)
    with pytest.raises(ModelFileError, match=message):
        nnlite.load_model(tmp_path / "m.npz")


def test_a_fortran_ordered_member_is_read_as_such(saved_cnn, tmp_path):
    """np.save writes an F-contiguous array with fortran_order=True; the size check accepts
    both orders and the values land where they belong."""
    model, path = saved_cnn
    kernel = model.layers[0].params["kernel"]
    assert np.asfortranarray(kernel).flags.f_contiguous
    _copy_with(path, tmp_path / "f.npz",
               replace={"layers/0/kernel.npy": _npy(np.asfortranarray(kernel))})
    np.testing.assert_array_equal(nnlite.load_model(tmp_path / "f.npz").layers[0].params["kernel"],
                                  kernel)


def test_every_layer_says_the_shapes_it_will_build():
    """``Layer.weight_shapes_for`` (what a file is checked against) equals what ``build``
    creates, for every class a model file may name."""
    from nnlite.layers import REGISTRY, BatchNormalization, Conv2D, Dense, Dropout, MaxPool2D
    makers = {"Dense": (lambda: Dense(5), (7,)), "Conv2D": (lambda: Conv2D(4, (3, 2)), (6, 5, 3)),
              "BatchNormalization": (BatchNormalization, (4, 5, 3)),
              "MaxPool2D": (MaxPool2D, (6, 6, 2)), "Dropout": (lambda: Dropout(0.5), (6,))}
    for name, cls in REGISTRY.items():
        make, shape = makers.get(name, (cls, (6, 6, 1)))
        layer = make()
        expected = layer.weight_shapes_for(shape)
        layer.ensure_built(shape)
        built = {k: a.shape for k, a in list(layer.params.items()) + list(layer.state.items())}
        assert expected == built, name
        assert layer.count_params_for(shape) == layer.count_params() + layer.count_state(), name


@pytest.mark.parametrize("name", ["ann", "cnn", "vgg16"])
def test_the_shipped_models_meet_every_bound(name):
    """The model files in models/ load, with their members exactly as their configs imply."""
    import os
    path = os.path.join(os.path.dirname(os.path.dirname(__file__)), "models", f"{name}.npz")
    if not os.path.exists(path):
        pytest.skip(f"{path} not present")
    assert nnlite.load_model(path).count_params() > 0


# -- the costs an architecture may have, from its config alone ---------------------------------
def _config(input_shape, *layers):
    return {"format": "nnlite.Sequential", "version": 1, "input_shape": list(input_shape),
            "layers": [{"class": c, "config": cfg} for c, cfg in layers]}


@pytest.mark.parametrize("config,message", [
    (_config((28, 28, 1), ("MaxPool2D", {"pool_size": 29, "padding": "same"})),
     r"pool window \(29, 29\) is larger than its input"),
    (_config((28, 28, 1), ("MaxPool2D", {"pool_size": [2, 40]})),
     r"does not fit inputs of shape \(28, 28, 1\)"),
    (_config((28, 28, 1), ("Conv2D", {"filters": 30_000, "kernel_size": 1})),
     r"layer 0 \(Conv2D\) holds 23,520,000 values per image \(output \(28, 28, 30000\)\), more "
     r"than the 16,777,216 allowed"),
    (_config((64, 64, 64), ("Conv2D", {"filters": 8, "kernel_size": 9, "padding": "same"})),
     r"holds 21,233,664 values per image"),                 # im2col's unfolded patches
    (_config((64, 64, 256), *[("Conv2D", {"filters": 256, "kernel_size": 3, "padding": "same"})]
             * 8), r"layer 7 \(Conv2D\): the model needs over 17,179,869,184 multiply-adds"),
    (_config((4097, 4097, 1), ("Flatten", {})), r"absurd input_shape \[4097, 4097, 1\]"),
    (_config((28, 28, 1), ("Flatten", {}), ("Dense", {"units": 10}), ("MaxPool2D", {})),
     r"layer 2 \(MaxPool2D\) does not fit inputs of shape \(10,\)"),
])
def test_an_architecture_is_bounded_from_its_config(config, message):
    """Refused before anything is built: no layer output or unfolded patch matrix above 2^24
    values per image, no model above 2^34 multiply-adds per image, no window larger than its
    image."""
    from nnlite.loading import model_from_config
    with pytest.raises(ModelFileError, match=message):
        model_from_config(config)


def test_json_depth_counts_brackets_outside_strings_only():
    from nnlite.npz import json_depth

    def depth(text):
        return json_depth(np.frombuffer(text.encode(), np.uint8))
    assert depth("") == depth("1") == depth('"[[[["') == 0
    assert depth('{"a": [1, [2]]}') == 3
    assert depth(r'["\"[[[", [1]]') == 2              # an escaped quote does not end the string
    assert depth(r'["\\", [[1]]]') == 3               # an escaped backslash does not escape
    assert depth("[" * 10_000 + "]" * 10_000) == 10_000
