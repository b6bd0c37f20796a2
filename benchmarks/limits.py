"""The machine's two limits every figure in the report is read against.

- ``sgemm_peak``: the best float32 GFLOP/s of a square matrix product with NumPy's BLAS (the
  one nnlite's conv and dense layers call) on 1 or 2 threads: the arithmetic limit.
- ``copy_bandwidth``: the best GB/s of ``np.copyto`` between two arrays far larger than the
  caches (256 MB), counting the bytes read AND written (2 x size per copy), on 1 or 2 threads
  (two threads copy one half each): the memory limit of a pass that reads one array and writes
  another, which is what BatchNorm, ReLU and pooling are.

Both are best-of-N: the machine's capability, not its typical speed under load.
"""
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from nnlite.ops.threads import blas_threads, num_threads


def sgemm_peak(size=1024, repeats=20, threads=None):
    """Best float32 GFLOP/s of a square (size x size) @ (size x size) product, with BLAS using
    ``threads`` threads (default: as many as nnlite's worker threads, NNLITE_NUM_THREADS: the
    arithmetic peak of the cores nnlite computes on)."""
    with blas_threads(threads or num_threads()):
        rng = np.random.default_rng(0)
        a = rng.random((size, size), dtype=np.float32)
        b = rng.random((size, size), dtype=np.float32)
        out = np.empty_like(a)
        np.matmul(a, b, out=out)                               # warm-up (threads, pages)
        best = np.inf
        for _ in range(repeats):
            t = time.perf_counter()
            np.matmul(a, b, out=out)
            best = min(best, time.perf_counter() - t)
    return 2.0 * size ** 3 / best / 1e9


def copy_bandwidth(megabytes=256, repeats=10, threads=None):
    """Best GB/s (read + write bytes) of copying a ``megabytes`` float32 array into another,
    split over ``threads`` threads (default: nnlite's worker-thread count)."""
    threads = threads or num_threads()
    src = np.ones(megabytes * 2 ** 20 // 4, np.float32)
    dst = np.zeros_like(src)                                   # both paged in before timing
    bounds = [len(src) * i // threads for i in range(threads + 1)]
    parts = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]

    def copy(part):
        np.copyto(dst[part], src[part])                        # releases the GIL
    best = np.inf
    with ThreadPoolExecutor(threads) as pool:
        for _ in range(repeats + 1):                           # the first is a warm-up
            t = time.perf_counter()
            list(pool.map(copy, parts))
            best = min(best, time.perf_counter() - t)
    return 2.0 * src.nbytes / best / 1e9
