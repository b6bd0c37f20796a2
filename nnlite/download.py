"""``nnlite data download``: fetch a dataset's four files into the cache, safely.

Each file is streamed to a temporary file with a progress bar, its decompressed SHA-256 is
checked, and only then is it renamed into place (atomic): an interrupted or corrupt download
never leaves a half file where the loader would find it.
"""
import os
import tempfile
import urllib.error
import urllib.request

from .datasets import FILES, MIRRORS, SHA256, cache_dir, read_idx
from .errors import ChecksumError, DataError


def download(name, dest=None, mirrors=None, timeout=30, verbose=True):
    """Download dataset ``name`` into ``dest`` (default ~/.cache/nnlite/<name>); return it."""
    if name not in SHA256:
        raise DataError(f"unknown dataset {name!r}; choose from {sorted(SHA256)}")
    dest = os.fspath(dest or os.path.join(cache_dir(), name))
    os.makedirs(dest, exist_ok=True)
    mirrors = list(mirrors or MIRRORS[name])
    for stem in FILES.values():
        target = os.path.join(dest, stem + ".gz")
        if os.path.isfile(target):
            try:
                read_idx(target, SHA256[name][stem])
                continue                                # already there and valid
            except DataError:
                pass                                    # replace a bad copy
        errors = []
        for base in mirrors:
            url = base.rstrip("/") + "/" + stem + ".gz"
            try:
                _fetch_verified(url, target, SHA256[name][stem], timeout, verbose)
                break
            except (DataError, OSError, urllib.error.URLError) as exc:
                errors.append(f"  {url}: {exc}")
        else:
            raise DataError(f"could not download {stem}.gz from any mirror:\n" + "\n".join(errors))
    return dest


def _fetch_verified(url, target, sha256, timeout, verbose):
    fd, tmp = tempfile.mkstemp(prefix=".download-", suffix=".gz", dir=os.path.dirname(target))
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            total = int(resp.headers.get("Content-Length") or 0) or None
            from tqdm.auto import tqdm
            with tqdm(total=total, unit="B", unit_scale=True, desc=os.path.basename(target),
                      disable=not verbose) as bar:
                while True:
                    chunk = resp.read(1 << 16)
                    if not chunk:
                        break
                    out.write(chunk)
                    bar.update(len(chunk))
        try:
            read_idx(tmp, sha256)
        except ChecksumError:
            raise
        except DataError as exc:
            raise DataError(f"downloaded file is not a valid IDX .gz: {exc}") from None
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


__all__ = ["download"]
