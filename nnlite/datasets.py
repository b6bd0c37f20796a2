"""MNIST and Fashion-MNIST from their IDX files (gzipped or raw), verified, never trusted.

IDX layout: 4-byte magic (0, 0, type code, number of dims), then each dim as a big-endian
uint32, then the data. The reader checks the magic, refuses headers that claim absurd sizes
before allocating, checks the data length against the header, and (for the canonical sets)
the size the header claims against the canonical file's, before decompressing any data, and
the SHA-256 of the decompressed bytes.
"""
import gzip
import hashlib
import math
import os
import struct
import zlib

import numpy as np

from .errors import ChecksumError, DataError
from .files import read_at_most

# MNIST's pixel mean and std on [0, 1] pixels (the training set's), for standardising
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
CLASS_NAMES = {"mnist": [str(i) for i in range(10)],
               "fashion-mnist": ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                 "Shirt", "Sneaker", "Bag", "Boot"]}

FILES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

# SHA-256 of the DECOMPRESSED files.
SHA256 = {
    "mnist": {
        "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

# Sizes in bytes of the canonical files: decompressed IDX (header + data; the same for both
# sets) and gzipped as the mirrors serve them (the downloader stops a little past these).
IDX_BYTES = {name: {"train-images-idx3-ubyte": 47_040_016, "train-labels-idx1-ubyte": 60_008,
                    "t10k-images-idx3-ubyte": 7_840_016, "t10k-labels-idx1-ubyte": 10_008}
             for name in ("mnist", "fashion-mnist")}
GZ_BYTES = {
    "mnist": {"train-images-idx3-ubyte": 9_912_422, "train-labels-idx1-ubyte": 28_881,
              "t10k-images-idx3-ubyte": 1_648_877, "t10k-labels-idx1-ubyte": 4_542},
    "fashion-mnist": {"train-images-idx3-ubyte": 26_421_880, "train-labels-idx1-ubyte": 29_515,
                      "t10k-images-idx3-ubyte": 4_422_102, "t10k-labels-idx1-ubyte": 5_148},
}

MIRRORS = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"],
    "fashion-mnist": ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/"],
}

SYSTEM_DIRS = {"fashion-mnist": ["/usr/share/datasets/fashion-mnist"]}
FETCH_HINT = {"mnist": "nnlite data download mnist",
              "fashion-mnist": "apt-get install dataset-fashion-mnist  (or: nnlite data download "
                               "fashion-mnist)"}

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
MAX_IDX_BYTES = 1 << 30   # 1 GiB: MNIST's largest file is 47 MB


def cache_dir():
    return os.path.join(os.path.expanduser("~"), ".cache", "nnlite")


def candidate_dirs(name, path=None):
    """Folders searched for dataset ``name``, in order."""
    if path is not None:
        return [os.fspath(path)]
    dirs = []
    if os.environ.get("NNLITE_DATA_DIR"):
        dirs.append(os.path.join(os.environ["NNLITE_DATA_DIR"], name))
    dirs.append(os.path.join(cache_dir(), name))
    dirs += SYSTEM_DIRS.get(name, [])
    return dirs


def _find_file(folder, stem):
    for candidate in (stem, stem + ".gz"):
        full = os.path.join(folder, candidate)
        if os.path.isfile(full):
            return full
    return None


def read_idx(path, expected_sha256=None, max_bytes=MAX_IDX_BYTES, expected_bytes=None):
    """Read one IDX file (raw or .gz) into an array, checking header, size and checksum.

    expected_bytes: the decompressed file's exact size (header + data), known for the
    canonical files (``IDX_BYTES``): a header claiming another size is refused before any data
    is decompressed."""
    path = os.fspath(path)
    opener = gzip.open if path.endswith(".gz") else open
    digest = hashlib.sha256()
    try:
        with opener(path, "rb") as fh:
            head = fh.read(4)
            if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES:
                raise DataError(f"{path}: bad magic number {head.hex() or '(empty)'}; expected "
                                "an IDX file (00 00 <type> <ndim>)")
            ndim = head[3]
            if not 1 <= ndim <= 4:
                raise DataError(f"{path}: IDX header claims {ndim} dimensions (expected 1 to 4)")
            dims_raw = fh.read(4 * ndim)
            if len(dims_raw) < 4 * ndim:
                raise DataError(f"{path}: truncated IDX header")
            dims = struct.unpack(f">{ndim}I", dims_raw)
            dtype = np.dtype(_IDX_TYPES[head[2]])
            n_bytes = math.prod(dims) * dtype.itemsize
            # zeros aside too: numpy refuses shapes like (0, 2**31, 2**31) as "too big"
            if math.prod(max(d, 1) for d in dims) * dtype.itemsize > max_bytes:
                raise DataError(f"{path}: IDX header claims shape {dims} ({n_bytes:,} bytes), "
                                f"more than the {max_bytes:,} allowed; refusing to allocate")
            claimed = len(head) + len(dims_raw) + n_bytes
            if expected_bytes is not None and claimed != expected_bytes:
                raise DataError(f"{path}: IDX header claims shape {dims} ({claimed:,} bytes "
                                f"decompressed); the canonical file has {expected_bytes:,}")
            data = read_at_most(fh, n_bytes)
            if len(data) < n_bytes:
                raise DataError(f"{path}: truncated: header claims shape {dims} ({n_bytes:,} "
                                f"bytes of data) but the file holds {len(data):,}")
            if fh.read(1):
                raise DataError(f"{path}: has trailing bytes after the {n_bytes:,} bytes its "
                                f"header {dims} describes")
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot be read ({type(exc).__name__}: {exc}); the file is "
                        "corrupt or not gzip") from None
    if expected_sha256 is not None:
        digest.update(head + dims_raw + data)
        if digest.hexdigest() != expected_sha256:
            raise ChecksumError(f"{path}: SHA-256 of the decompressed bytes is "
                                f"{digest.hexdigest()}, expected {expected_sha256}; the file is "
                                "corrupt or not the canonical one")
    return np.frombuffer(data, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def load(name, path=None, verify=True):
    """-> (x_train, y_train), (x_test, y_test) as uint8, like keras.datasets."""
    if name not in SHA256:
        raise DataError(f"unknown dataset {name!r}; choose from {sorted(SHA256)}")
    looked = []
    for folder in candidate_dirs(name, path):
        found = {key: _find_file(folder, stem) for key, stem in FILES.items()}
        if all(found.values()):
            out = {}
            for key, file in found.items():
                stem = FILES[key]
                out[key] = read_idx(file, SHA256[name][stem] if verify else None,
                                    expected_bytes=IDX_BYTES[name][stem] if verify else None)
            _check_pairs(out, folder)
            return (out["x_train"], out["y_train"]), (out["x_test"], out["y_test"])
        missing = [FILES[k] for k, v in found.items() if not v]
        looked.append(f"  {folder}  (missing: {', '.join(missing)})")
    raise DataError(f"{name} not found. Looked in:\n" + "\n".join(looked) +
                    f"\nSet NNLITE_DATA_DIR to a folder holding {name}/ with the four IDX files "
                    f"(.gz or raw), or fetch them: {FETCH_HINT[name]}")


def _check_pairs(out, folder):
    for split in ("train", "test"):
        x, y = out[f"x_{split}"], out[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataError(f"{folder}: {split} images {x.shape} and labels {y.shape} do not "
                            "pair up (expected (N, 28, 28) and (N,))")


def load_mnist(path=None):
    """MNIST: 60,000 train + 10,000 test 28x28 uint8 digits, checksums verified."""
    return load("mnist", path)


def load_fashion_mnist(path=None):
    """Fashion-MNIST: same format (Debian package dataset-fashion-mnist, or the cache)."""
    return load("fashion-mnist", path)
