"""The two engines behind one small interface, so the harness times them the same way.

Each engine builds one zoo model (``ann``, ``cnn``, ``vgg16``) compiled with Adam(1e-3) and
sparse cross-entropy on logits, and offers:
    train(x, y, batch)          -> seconds for one ``fit`` epoch over (x, y) (verbose=0, shuffled)
    predict(x, batch)           -> seconds for ``predict(x, batch_size=batch)``
    latency(x1)                 -> seconds for one call on a single image (what the drawing app does)
Both are timed through the engines' public ``fit``/``predict``, which is what users run: the
per-call setup (Keras builds a data iterator; nnlite checks the arrays) is inside the timing.
"""
import os
import time


def _build_kwargs(model, width):
    return {"width": width} if model == "vgg16" else {}


class NnliteEngine:
    name = "nnlite"

    def __init__(self, model, width=0.25, seed=0):
        import nnlite.models
        import nnlite.optimizers
        self.model = nnlite.models.build(model, seed=seed, **_build_kwargs(model, width))
        self.model.compile(nnlite.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")

    def train(self, x, y, batch):
        t = time.perf_counter()
        self.model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=True)
        return time.perf_counter() - t

    def predict(self, x, batch):
        t = time.perf_counter()
        self.model.predict(x, batch_size=batch)
        return time.perf_counter() - t

    def latency(self, x1):
        t = time.perf_counter()
        self.model.predict(x1)
        return time.perf_counter() - t

    @staticmethod
    def versions():
        import numba
        import numpy
        import nnlite
        return {"nnlite": nnlite.__version__, "numpy": numpy.__version__,
                "numba": numba.__version__}


class KerasEngine:
    name = "keras"

    def __init__(self, model, width=0.25, seed=0):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        from baselines.models import build, compile_model
        self.model = compile_model(build(model, seed=seed, **_build_kwargs(model, width)), 1e-3)

    def train(self, x, y, batch):
        t = time.perf_counter()
        self.model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=True)
        return time.perf_counter() - t

    def predict(self, x, batch):
        t = time.perf_counter()
        self.model.predict(x, batch_size=batch, verbose=0)
        return time.perf_counter() - t

    def latency(self, x1):
        # model(x) is Keras' low-latency path for one sample (predict() builds a data
        # pipeline per call); the drawing app would use this one.
        t = time.perf_counter()
        self.model(x1, training=False)
        return time.perf_counter() - t

    @staticmethod
    def versions():
        import keras
        import tensorflow as tf
        return {"keras": keras.__version__, "tensorflow": tf.__version__}


ENGINES = {"nnlite": NnliteEngine, "keras": KerasEngine}


def keras_available():
    """(True, '') or (False, reason) — without importing TensorFlow."""
    import importlib.util
    for mod in ("tensorflow", "keras"):
        if importlib.util.find_spec(mod) is None:
            return False, f"{mod} is not installed (pip install 'nnlite[keras]')"
    return True, ""
