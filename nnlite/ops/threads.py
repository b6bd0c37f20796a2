"""How many threads nnlite computes with, and keeping BLAS itself single-threaded meanwhile.

``NNLITE_NUM_THREADS`` (default: the cores this process may run on) is the number of worker
threads that share a batch's chunks of images (``nnlite/ops/parallel.py``). Each worker calls
a ONE-thread BLAS: inside ``fit``/``predict``/``evaluate`` nnlite limits the BLAS behind NumPy
to one thread (about 20 us per call, restored afterwards, so the caller's own NumPy code keeps
its setting). Why (measured on the 2-core shared machine, see benchmarks/results/REPORT.md):
OpenBLAS's own worker threads spin and wait for each other when other processes compete for
the cores (CNN batch 32: 560 ms/step with 2 BLAS threads vs 108 ms with 1), while nnlite's
chunk workers simply block.
"""
import contextlib
import os

try:
    import threadpoolctl
except ImportError:                  # a declared dependency; without it BLAS is left as it is
    threadpoolctl = None

from ..errors import ConfigError
from .fpenv import flushed_subnormals
from .malloc import keep_freed_memory

_controller = None


def available_cores():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):     # not Linux
        return os.cpu_count() or 1


def num_threads():
    """nnlite's worker-thread count (``NNLITE_NUM_THREADS``, default ``available_cores()``)."""
    value = os.environ.get("NNLITE_NUM_THREADS")
    if value is None or value.strip() == "":
        return available_cores()
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ConfigError(f"NNLITE_NUM_THREADS must be a positive integer, got {value!r}")
    return n


@contextlib.contextmanager
def blas_threads(n=1):
    """Run the block with the BLAS behind NumPy limited to ``n`` threads (default 1). nnlite
    enters it around all its work (fit/predict/evaluate), so it also applies the process's
    malloc settings once (``malloc.keep_freed_memory``) and reads subnormal floats as zero in
    this thread meanwhile (``fpenv.flushed_subnormals``)."""
    global _controller
    keep_freed_memory()
    with flushed_subnormals():
        if threadpoolctl is None:
            yield
            return
        if _controller is None:      # made on first use: it lists the BLAS libraries loaded then
            _controller = threadpoolctl.ThreadpoolController()
        with _controller.limit(limits=n, user_api="blas"):
            yield
