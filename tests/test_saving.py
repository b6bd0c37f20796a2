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
    """A .npy header claiming 10^12 floats inside a tiny file: refused, no MemoryError."""
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
    with pytest.raises(ModelFileError, match="claims shape"):
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
