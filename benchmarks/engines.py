"""The two engines behind one small interface, so the harness times them the same way.

Each engine builds one zoo model (``ann``, ``cnn``, ``vgg16``) compiled with Adam(1e-3) and
sparse cross-entropy on logits, and offers:
    train(x, y, batch)  -> {"fit_s", "steady_s", "steady_samples"} for one ``fit`` epoch over
                           (x, y) (verbose=0, shuffled)
    predict(x, batch)   -> seconds for ``predict(x, batch_size=batch)``
    latency(x1)         -> seconds for one call on a single image (what the drawing app does)

Training is timed through the engines' public ``fit``. ``steady_s`` runs from the end of the
first batch to the end of the last (a per-batch callback in each engine), so it excludes the
once-per-``fit`` setup (Keras builds a tf.data iterator, ~0.1-0.3 s; nnlite checks the arrays),
which a real epoch of 1,500 steps amortises but a short timed run would not. ``fit_s`` is the
whole call.
"""
import os
import time


class _StepClock:
    """Times of every batch end; mixed into each engine's callback class."""

    def reset(self):
        self.ends = []

    def stamp(self):
        self.ends.append(time.perf_counter())

    def result(self, fit_s, batch, n):
        steps = len(self.ends)
        if steps < 2:
            return {"fit_s": fit_s, "steady_s": fit_s, "steady_samples": n}
        last = n - (steps - 1) * batch        # size of the last (possibly partial) batch
        return {"fit_s": fit_s, "steady_s": self.ends[-1] - self.ends[0],
                "steady_samples": (steps - 2) * batch + last}


class _Engine:
    """What both engines do alike: one timed ``fit`` epoch (their ``fit`` signatures match)."""

    def train(self, x, y, batch):
        self.clock.reset()
        t = time.perf_counter()
        self.model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=True,
                       callbacks=[self.clock])
        return self.clock.result(time.perf_counter() - t, batch, len(x))


def _build_kwargs(model, width):
    return {"width": width} if model == "vgg16" else {}


class NnliteEngine(_Engine):
    name = "nnlite"

    def __init__(self, model, width=0.25, seed=0):
        import nnlite.zoo
        import nnlite.optimizers
        self.model = nnlite.zoo.build(model, seed=seed, **_build_kwargs(model, width))
        self.model.compile(nnlite.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
        from nnlite.callbacks import Callback

        class Clock(Callback, _StepClock):
            def on_batch_end(self, batch, logs=None):
                self.stamp()
        self.clock = Clock()

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
        from nnlite.ops.threads import num_threads
        return {"nnlite": nnlite.__version__, "numpy": numpy.__version__,
                "numba": numba.__version__, "nnlite_threads": num_threads(),
                "blas_threads_inside_nnlite": 1}


class KerasEngine(_Engine):
    name = "keras"

    def __init__(self, model, width=0.25, seed=0):
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        threads = int(os.environ.get("NNLITE_BENCH_TF_THREADS", "0"))
        if threads:           # must happen before TensorFlow runs its first op
            import tensorflow as tf
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        from baselines.models import build, compile_model
        self.model = compile_model(build(model, seed=seed, **_build_kwargs(model, width)), 1e-3)
        import keras

        class Clock(keras.callbacks.Callback, _StepClock):
            def on_train_batch_end(self, batch, logs=None):
                self.stamp()
        self.clock = Clock()

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
        return {"keras": keras.__version__, "tensorflow": tf.__version__,
                "tf_intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
                "tf_inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads()}


ENGINES = {"nnlite": NnliteEngine, "keras": KerasEngine}


def keras_available():
    """(True, '') or (False, reason) — without importing TensorFlow."""
    import importlib.util
    for mod in ("tensorflow", "keras"):
        if importlib.util.find_spec(mod) is None:
            return False, f"{mod} is not installed (pip install 'nnlite[keras]')"
    return True, ""
