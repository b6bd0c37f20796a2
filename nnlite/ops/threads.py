"""How many threads the BLAS behind NumPy's matmul may use while nnlite computes.

Default 1, set with the environment variable ``NNLITE_NUM_THREADS``. Why (measured on the
2-core shared machine, see benchmarks/results/REPORT.md): when other processes compete for the
cores, OpenBLAS's worker threads spin and wait for each other and a training step becomes 5-50x
slower (CNN batch 32: 560 ms/step with 2 BLAS threads vs 108 ms with 1). nnlite's own Numba
kernels are serial for the same reason. On an idle machine, ``NNLITE_NUM_THREADS=2`` lets large
matrix products use both cores.

The limit is applied only inside ``fit``/``predict``/``evaluate`` (about 20 us per call) and
restored afterwards, so the caller's own NumPy code keeps its setting.
"""
import contextlib
import os

_controller = None


def num_threads():
    """The BLAS thread count nnlite uses (``NNLITE_NUM_THREADS``, default 1)."""
    value = os.environ.get("NNLITE_NUM_THREADS", "1")
    try:
        n = int(value)
    except ValueError:
        from ..errors import ConfigError
        raise ConfigError(f"NNLITE_NUM_THREADS must be a positive integer, got {value!r}") \
            from None
    return max(1, n)


@contextlib.contextmanager
def blas_threads(n=None):
    """Run the block with BLAS limited to ``n`` threads (default: ``num_threads()``)."""
    global _controller
    try:
        if _controller is None:
            import threadpoolctl
            _controller = threadpoolctl.ThreadpoolController()
    except ImportError:              # threadpoolctl missing: leave BLAS as it is
        yield
        return
    with _controller.limit(limits=n or num_threads(), user_api="blas"):
        yield
