"""The engines behind one small interface, so the harness times them the same way: nnlite and
its two peers, Keras (TensorFlow) and PyTorch.

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
whole call. PyTorch has no ``fit``: its engine runs the training loop a PyTorch user writes
(shuffle, batch, forward, loss + L2, backward, Adam step, the batch's loss and accuracy read
out as ``fit`` reports them), stamped at the end of every batch the same way.
"""
import importlib.util
import os
import time

import numpy as np


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


class TorchEngine:
    """PyTorch CPU (``benchmarks/torch_models.py``), ``torch.set_num_threads`` = the cores nnlite
    computes on (``NNLITE_BENCH_TORCH_THREADS``, default all available cores, as nnlite)."""
    name = "torch"

    def __init__(self, model, width=0.25, seed=0):
        import torch
        from nnlite.ops.threads import available_cores
        from .torch_models import build, regularization
        torch.set_num_threads(int(os.environ.get("NNLITE_BENCH_TORCH_THREADS", "0"))
                              or available_cores())
        self.torch = torch
        self.model, l2_terms = build(model, width=width, seed=seed)
        self.l2_loss = lambda: regularization(l2_terms)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3, eps=1e-7)
        self.shuffle = torch.Generator().manual_seed(seed)
        self.clock = _StepClock()

    def _mode(self, training):
        if self.model.training != training:      # train()/eval() walk every module: only on change
            self.model.train(training)

    def train(self, x, y, batch):
        torch, model = self.torch, self.model
        self._mode(True)
        self.clock.reset()
        t = time.perf_counter()
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        order = torch.randperm(len(x), generator=self.shuffle)
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            xb, yb = xt[idx].permute(0, 3, 1, 2), yt[idx]      # NHWC -> NCHW view (channels_last)
            self.optimizer.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = torch.nn.functional.cross_entropy(logits, yb) + self.l2_loss()
            loss.backward()
            self.optimizer.step()
            self.last = (loss.item(), int((logits.argmax(1) == yb).sum()))
            self.clock.stamp()
        return self.clock.result(time.perf_counter() - t, batch, len(x))

    def predict(self, x, batch):
        torch = self.torch
        t = time.perf_counter()
        self._mode(False)
        with torch.inference_mode():
            xt = torch.from_numpy(x)
            np.concatenate([self.model(xt[i:i + batch].permute(0, 3, 1, 2)).numpy()
                            for i in range(0, len(x), batch)])
        return time.perf_counter() - t

    def latency(self, x1):
        t = time.perf_counter()
        self._mode(False)
        with self.torch.inference_mode():
            self.model(self.torch.from_numpy(x1).permute(0, 3, 1, 2)).numpy()
        return time.perf_counter() - t

    @staticmethod
    def versions():
        import torch
        return {"torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                "torch_interop_threads": torch.get_num_interop_threads(),
                "mkldnn": torch.backends.mkldnn.is_available(),
                "memory_format": "channels_last"}


ENGINES = {"nnlite": NnliteEngine, "keras": KerasEngine, "torch": TorchEngine}
PEERS = ("keras", "torch")
_NEEDS = {"keras": (("tensorflow", "keras"), "pip install 'nnlite[keras]'"),
          "torch": (("torch",), "pip install 'nnlite[torch]'")}


def peer_available(peer):
    """(True, '') or (False, reason) for a peer engine — without importing it."""
    modules, how = _NEEDS[peer]
    for mod in modules:
        if importlib.util.find_spec(mod) is None:
            return False, f"{mod} is not installed ({how})"
    return True, ""


def keras_available():
    return peer_available("keras")


def torch_available():
    return peer_available("torch")
