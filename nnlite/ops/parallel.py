"""Data parallelism inside a layer: a batch is cut into chunks of images, and a small thread
pool runs one function per chunk.

Only Conv2D uses it: the memory-bound passes (BatchNorm, pooling, Adam) were measured chunked
over two threads as well and gained nothing (BN forward+backward on 25,088 x 32: 0.81 ms on one
thread, 0.77 ms on two; on 1,568 x 128 the thread hand-offs made it 0.20 -> 0.48 ms).

Why threads over chunks rather than a multi-threaded BLAS (measured, benchmarks/results/
REPORT.md): each worker calls a ONE-thread BLAS on a cache-sized chunk, so nothing spins
waiting for a busy core (OpenBLAS's own threads did, on a shared machine) and the per-chunk
matrices stay in cache (the CNN's 5x5 conv, forward + backward at batch 32: 26 ms as one
product, 21 ms as four chunks on one thread, 11 ms as four chunks on two threads). NumPy's
matmul/copies and nnlite's Numba kernels (``nogil=True``) release the GIL while they work.

How big a chunk is: ``chunks(n, item_size, target)`` cuts n items (images, or rows of an
(M, C) array) into a power-of-two number of equal parts of at least ``target`` values each, and
into at least two parts whenever there are ``MIN_SPLIT`` values or more, so two workers always
share a layer's work; a power of two keeps 2 or 4 workers evenly loaded.

Determinism: the chunks depend only on the array shapes, never on the thread count, and
per-chunk partial sums are added in chunk order, so results are bit-identical for every
``NNLITE_NUM_THREADS``.
"""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from .fpenv import flush_subnormals
from .threads import num_threads

CONV_CHUNK = 2 ** 20        # values of im2col per chunk (4 MB float32: the 5x5 conv's cols of
                            # 8 MNIST-sized images ran fastest, see the module docstring)
MIN_SPLIT = 2 ** 15          # below this many values a hand-off to a thread costs more than it saves

_pool = None
_pool_key = None          # (pid, workers): a forked child or a new setting gets a new pool
_lock = threading.Lock()


def chunks(n, item_size, target):
    """Slices cutting ``range(n)`` into a power-of-two number of near-equal parts (see above)."""
    total = n * item_size
    count = 2 if total >= MIN_SPLIT and n >= 2 else 1
    while count * 2 <= n and total >= count * 2 * target:
        count *= 2
    bounds = [n * i // count for i in range(count + 1)]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]


def map_chunks(fn, chunks):
    """[fn(c) for c in chunks], results in chunk order, the chunks shared out as contiguous
    groups over ``num_threads()`` threads: this thread runs the first group itself, so a call
    costs one hand-off per extra worker (~20-50 us each), not one per chunk. One chunk or one
    thread: plain calls on this thread (no pool at all)."""
    chunks = list(chunks)
    workers = min(num_threads(), len(chunks))
    if workers <= 1:
        return [fn(c) for c in chunks]
    bounds = [len(chunks) * i // workers for i in range(workers + 1)]
    groups = [chunks[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    pool = _executor()
    futures = [pool.submit(_run_group, fn, group) for group in groups[1:]]
    try:
        results = _run_group(fn, groups[0])
    finally:                 # never return (or raise) while a worker still writes our arrays
        for future in futures:
            future.exception()
    for future in futures:
        results += future.result()
    return results


def _run_group(fn, group):
    return [fn(c) for c in group]


def _executor():
    global _pool, _pool_key
    key = (os.getpid(), num_threads())
    with _lock:
        if _pool_key != key:
            _pool = ThreadPoolExecutor(max_workers=key[1], thread_name_prefix="nnlite",
                                       initializer=flush_subnormals)      # fpenv.py: why
            _pool_key = key
    return _pool


def sum_in_order(arrays):
    """a0 + a1 + ... added left to right into a copy of a0 (a fixed order: deterministic)."""
    total = arrays[0].copy()
    for a in arrays[1:]:
        total += a
    return total
