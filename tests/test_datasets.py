"""The IDX reader, checksums, the search path and the downloader (against a local server)."""
import gzip
import hashlib
import http.server
import os
import struct
import threading
import tracemalloc

import numpy as np
import pytest

from nnlite import datasets
from nnlite.datasets import FILES, read_idx
from nnlite.download import download
from nnlite.errors import ChecksumError, DataError


def idx_bytes(arr):
    arr = np.asarray(arr, np.uint8)
    return bytes([0, 0, 0x08, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_set(folder, n=5, gz=True, labels=None):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    content = {"x_train": rng.integers(0, 256, (n, 28, 28)), "y_train": labels if labels is not None else rng.integers(0, 10, n),
               "x_test": rng.integers(0, 256, (n, 28, 28)), "y_test": rng.integers(0, 10, n)}
    for key, stem in FILES.items():
        raw = idx_bytes(content[key])
        if gz:
            (folder / (stem + ".gz")).write_bytes(gzip.compress(raw))
        else:
            (folder / stem).write_bytes(raw)
    return content


def test_real_mnist_matches_its_sanity_figures(mnist):
    (x, y), (xt, yt) = mnist
    assert x.shape == (60000, 28, 28) and x.dtype == np.uint8 and xt.shape == (10000, 28, 28)
    assert y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert yt[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert (x / 255).mean() == pytest.approx(0.1307, abs=1e-4)


def test_raw_and_gz_read_alike(tmp_path):
    content = write_set(tmp_path / "gz", gz=True)
    write_set(tmp_path / "raw", gz=False)
    a = datasets.load("mnist", tmp_path / "gz", verify=False)
    b = datasets.load("mnist", tmp_path / "raw", verify=False)
    np.testing.assert_array_equal(a[0][0], b[0][0])
    np.testing.assert_array_equal(a[0][0], content["x_train"])


def test_wrong_checksum_is_named(tmp_path, monkeypatch):
    canonical_sizes_of(tmp_path / "mnist", write_set(tmp_path / "mnist"), monkeypatch)
    with pytest.raises(ChecksumError, match="SHA-256"):
        datasets.load_mnist(tmp_path / "mnist")


def test_truncated_file(tmp_path):
    raw = idx_bytes(np.zeros((10, 28, 28)))
    (tmp_path / "t").write_bytes(raw[:-100])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "t")
    (tmp_path / "t.gz").write_bytes(gzip.compress(raw)[:-20])
    with pytest.raises(DataError):
        read_idx(tmp_path / "t.gz")


def test_bad_magic_and_not_gzip(tmp_path):
    (tmp_path / "m").write_bytes(b"\x12\x34\x08\x03" + b"\0" * 100)
    with pytest.raises(DataError, match="magic"):
        read_idx(tmp_path / "m")
    (tmp_path / "m.gz").write_bytes(b"this is not gzip at all")
    with pytest.raises(DataError, match="corrupt or not gzip"):
        read_idx(tmp_path / "m.gz")


def test_header_claiming_a_billion_items_does_not_allocate(tmp_path):
    (tmp_path / "big").write_bytes(bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 10 ** 9, 28, 28) + b"\0" * 64)
    (tmp_path / "labels").write_bytes(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 10 ** 9) + b"\0" * 64)
    tracemalloc.start()
    with pytest.raises(DataError, match="refusing to allocate"):
        read_idx(tmp_path / "big")
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "labels")       # 1 GB claimed is allowed, but checked against the file
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 2 ** 20


def test_search_order_and_the_error_lists_every_place(tmp_path, monkeypatch):
    monkeypatch.setenv("NNLITE_DATA_DIR", str(tmp_path / "env"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(DataError) as err:
        datasets.load_mnist()
    msg = str(err.value)
    assert str(tmp_path / "env" / "mnist") in msg and ".cache/nnlite/mnist" in msg
    assert "nnlite data download mnist" in msg
    write_set(tmp_path / "home" / ".cache" / "nnlite" / "mnist")
    (xtr, _), _ = datasets.load("mnist", verify=False)          # found in the cache
    assert xtr.shape == (5, 28, 28)


def test_fashion_mnist_from_the_debian_package():
    if not os.path.isdir("/usr/share/datasets/fashion-mnist"):
        pytest.skip("Debian package dataset-fashion-mnist not installed")
    (x, y), (xt, yt) = datasets.load_fashion_mnist()
    assert x.shape == (60000, 28, 28) and sorted(set(y.tolist())) == list(range(10))


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def local_mirror(tmp_path):
    """Serve a folder on 127.0.0.1 (this machine has no internet)."""
    root = tmp_path / "served"
    root.mkdir()
    handler = lambda *a, **k: _Quiet(*a, directory=str(root), **k)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


def canonical_sizes_of(root, content, monkeypatch):
    """Make the fake set in ``root`` the canonical MNIST sizes (and, with sums, checksums)."""
    monkeypatch.setitem(datasets.IDX_BYTES, "mnist", {
        stem: len(idx_bytes(content[key])) for key, stem in FILES.items()})
    monkeypatch.setitem(datasets.GZ_BYTES, "mnist", {
        stem: os.path.getsize(root / (stem + ".gz")) for stem in FILES.values()})


def test_download_verifies_and_renames_atomically(local_mirror, tmp_path, monkeypatch):
    root, url = local_mirror
    content = write_set(root)
    sums = {stem: hashlib.sha256(idx_bytes(content[key])).hexdigest() for key, stem in FILES.items()}
    monkeypatch.setitem(datasets.SHA256, "mnist", sums)
    canonical_sizes_of(root, content, monkeypatch)
    dest = download("mnist", dest=tmp_path / "cache", mirrors=[url], verbose=False)
    (x, y), _ = datasets.load_mnist(dest)
    np.testing.assert_array_equal(x, content["x_train"])
    assert sorted(os.listdir(dest)) == sorted(s + ".gz" for s in FILES.values())


def test_download_with_a_bad_checksum_leaves_nothing_behind(local_mirror, tmp_path,
                                                            monkeypatch):
    root, url = local_mirror
    canonical_sizes_of(root, write_set(root), monkeypatch)   # the sizes, not the bytes
    with pytest.raises(DataError, match="SHA-256"):
        download("mnist", dest=tmp_path / "cache", mirrors=[url], verbose=False)
    assert os.listdir(tmp_path / "cache") == []


def test_download_from_an_unreachable_mirror_names_the_url(tmp_path):
    with pytest.raises(DataError, match="127.0.0.1:9"):
        download("mnist", dest=tmp_path / "c", mirrors=["http://127.0.0.1:9/"], timeout=2,
                 verbose=False)


# -- bounded: canonical sizes -----------------------------------------------------------------
def test_the_local_copies_have_the_canonical_decompressed_sizes(mnist):
    for key, stem in FILES.items():
        n = {"x": 28 * 28, "y": 1}[key[0]] * (60000 if key.endswith("train") else 10000)
        assert datasets.IDX_BYTES["mnist"][stem] == n + (16 if key[0] == "x" else 8)


def test_a_header_claiming_more_than_the_canonical_size_is_refused_before_decompressing(
        tmp_path):
    """A small gzip whose header honestly claims 256 MB of images: refused at the header."""
    header = bytes([0, 0, 0x08, 3]) + struct.pack(">3I", 342_392, 28, 28)
    zeros = gzip.compress(header + bytes(32 * 2 ** 20))       # 32 MB of zeros: ~32 KB gzipped
    folder = tmp_path / "mnist"
    write_set(folder)
    (folder / "train-images-idx3-ubyte.gz").write_bytes(zeros)
    tracemalloc.start()
    with pytest.raises(DataError, match=r"claims shape \(342392, 28, 28\) \(268,435,344 bytes "
                                        r"decompressed\); the canonical file has 47,040,016"):
        datasets.load_mnist(folder)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 2 ** 20


class _Endless(http.server.BaseHTTPRequestHandler):
    """A mirror that never stops sending (and, for /liar/, announces a huge length)."""

    def do_GET(self):
        self.send_response(200)
        if self.path.startswith("/liar/"):
            self.send_header("Content-Length", str(10 ** 12))
        self.end_headers()
        try:
            while True:
                self.wfile.write(bytes(1 << 16))
        except OSError:        # the client hung up: what the test wants
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def endless_mirror():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Endless)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.mark.parametrize("path,pattern", [("", r"sent more than 89,872 bytes"),
                                          ("liar/", r"announces 1,000,000,000,000 bytes")])
def test_download_stops_at_the_canonical_size(endless_mirror, tmp_path, monkeypatch, path,
                                              pattern):
    monkeypatch.setitem(datasets.GZ_BYTES, "mnist", dict.fromkeys(FILES.values(), 21_632))
    from nnlite.download import max_download_bytes
    assert max_download_bytes("mnist", "train-labels-idx1-ubyte") == 89_872   # + 1/8 + 64 KiB
    with pytest.raises(DataError, match=pattern):
        download("mnist", dest=tmp_path / "cache", mirrors=[endless_mirror + path],
                 verbose=False)
    assert os.listdir(tmp_path / "cache") == []


def test_canonical_sizes_leave_room_for_any_gzip_level(mnist):
    """Level 1 makes MNIST's training images 11 % larger than the canonical file: accepted."""
    from nnlite.download import max_download_bytes
    stem = "train-labels-idx1-ubyte"
    raw = idx_bytes(mnist[0][1])
    for level in (1, 9):
        assert len(gzip.compress(raw, compresslevel=level)) <= max_download_bytes("mnist", stem)
    assert datasets.GZ_BYTES["mnist"]["train-images-idx3-ubyte"] * 9 // 8 > 10_979_562
