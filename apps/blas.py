"""One BLAS thread for the app's tiny matrix products."""
import contextlib

_CONTROLLER = []


def one_blas_thread():
    """A context limiting BLAS to one thread. The app multiplies tiny matrices (one to a few
    digits): waking a second BLAS thread costs more than the product itself, and on a busy
    machine it turned a 1 ms CNN reading into 60 ms."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")
