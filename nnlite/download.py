"""``nnlite data download``: fetch a dataset's four files into the cache, safely.

Each file is streamed to a temporary file with a progress bar, its decompressed SHA-256 is
checked, and only then is it renamed into place (atomic): an interrupted or corrupt download
never leaves a half file where the loader would find it.

Bounded: a file may be at most ``max_download_bytes`` long (the canonical size plus an eighth,
enough for the same bytes gzipped at any level: level 1 makes MNIST's training images 11 %
larger), so a mirror that never stops sending, or claims a huge Content-Length, is cut off;
and its IDX header must claim the canonical decompressed size before any data is
decompressed (``read_idx(expected_bytes=...)``).
"""
import os
import tempfile
import urllib.error
import urllib.request

from .datasets import FILES, GZ_BYTES, IDX_BYTES, MIRRORS, SHA256, cache_dir, read_idx
from .errors import ChecksumError, DataError

CHUNK = 1 << 16


def max_download_bytes(name, stem):
    """The most bytes accepted for ``stem``.gz of dataset ``name``."""
    return GZ_BYTES[name][stem] * 9 // 8 + CHUNK


def download(name, dest=None, mirrors=None, timeout=30, verbose=True):
    """Download dataset ``name`` into ``dest`` (default ~/.cache/nnlite/<name>); return it."""
    if name not in SHA256:
        raise DataError(f"unknown dataset {name!r}; choose from {sorted(SHA256)}")
    dest = os.fspath(dest or os.path.join(cache_dir(), name))
    os.makedirs(dest, exist_ok=True)
    mirrors = list(mirrors or MIRRORS[name])
    for stem in FILES.values():
        target = os.path.join(dest, stem + ".gz")
        expected = {"sha256": SHA256[name][stem], "idx_bytes": IDX_BYTES[name][stem],
                    "max_bytes": max_download_bytes(name, stem)}
        if os.path.isfile(target):
            try:
                read_idx(target, expected["sha256"], expected_bytes=expected["idx_bytes"])
                continue                                # already there and valid
            except DataError:
                pass                                    # replace a bad copy
        errors = []
        for base in mirrors:
            url = base.rstrip("/") + "/" + stem + ".gz"
            try:
                _fetch_verified(url, target, expected, timeout, verbose)
                break
            except (DataError, OSError, urllib.error.URLError) as exc:
                errors.append(f"  {url}: {exc}")
        else:
            raise DataError(f"could not download {stem}.gz from any mirror:\n" + "\n".join(errors))
    return dest


def _fetch_verified(url, target, expected, timeout, verbose):
    fd, tmp = tempfile.mkstemp(prefix=".download-", suffix=".gz", dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            _copy_bounded(resp, out, expected["max_bytes"], os.path.basename(target), verbose)
        try:
            read_idx(tmp, expected["sha256"], expected_bytes=expected["idx_bytes"])
        except ChecksumError:
            raise
        except DataError as exc:
            raise DataError(f"downloaded file is not a valid IDX .gz: {exc}") from None
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _copy_bounded(resp, out, max_bytes, label, verbose):
    """Copy the response body into ``out``; more than ``max_bytes`` (announced or sent) is a
    DataError, raised as soon as it shows."""
    total = int(resp.headers.get("Content-Length") or 0) or None
    if total is not None and total > max_bytes:
        raise DataError(f"the server announces {total:,} bytes; the canonical file is smaller "
                        f"(at most {max_bytes:,} accepted)")
    from tqdm.auto import tqdm
    written = 0
    with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=not verbose) as bar:
        while True:
            chunk = resp.read(CHUNK)
            if not chunk:
                break
            written += len(chunk)
            if written > max_bytes:
                raise DataError(f"the server sent more than {max_bytes:,} bytes, more than the "
                                f"canonical file; stopped")
            out.write(chunk)
            bar.update(len(chunk))


__all__ = ["download", "max_download_bytes"]
