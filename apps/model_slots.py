"""The models the drawing app can switch between, each loaded on its own so one bad file
never takes the others down.

A ``ModelSlot`` holds a name, the file it comes from, and either a loaded model or the error
that stopped it loading (shown on screen instead of crashing). nnlite models are loaded at
start-up (they are small); Keras models only when first chosen, because importing TensorFlow
takes seconds.
"""
import importlib.util
import os

import numpy as np

from nnlite.activations import softmax
from nnlite.ops.threads import blas_threads

from .digit_reading import logits_of
from .recognize import Reader

NNLITE_MODELS = [("ann", "ANN"), ("cnn", "CNN"), ("vgg16", "VGG16"), ("vgg16_bn", "VGG16-BN")]


class ModelSlot:
    def __init__(self, key, label, path, kind="nnlite"):
        self.key = key          # "cnn", "keras-cnn", ...
        self.label = label      # text on the button
        self.path = path
        self.kind = kind        # "nnlite" or "keras"
        self.model = None
        self.error = None       # why the model is unusable, shown on screen
        self.version = 0        # counts changes to the model in memory (teaching)
        self._reader = self.reader_key = None  # the app's reading function for this model

    @property
    def ready(self):
        return self.model is not None

    def load(self):
        """Load the model file; on any failure keep the reason in ``self.error``."""
        if self.model is not None:
            return True
        try:
            if not os.path.exists(self.path):
                hint = ("" if self.kind == "keras" else
                        f" (train one with `nnlite train {self.key}`, copy its model.npz here)")
                raise FileNotFoundError(f"{self.path} not found{hint}")
            if self.kind == "keras":
                import keras
                self.model = keras.models.load_model(self.path)
            else:
                import nnlite
                self.model = nnlite.load_model(self.path)
                self.predict_proba(np.zeros((1, 28, 28), np.float32))  # compile kernels now
            self.error = None
            return True
        except Exception as exc:  # any bad file must become a message, not a crash
            self.model = None
            self.error = f"{self.label}: cannot load ({_short(exc)})"
            return False

    def predict_proba(self, x):
        """Probabilities (N, 10) for float32 inputs (N, 28, 28) in [0, 1]."""
        x = np.asarray(x, np.float32)[..., None]
        if self.kind == "keras":
            out = np.asarray(self.model(x, training=False))
        else:
            with blas_threads(1):
                out = self.model.predict_proba(x)
        if out.ndim != 2 or out.shape[1] != 10:
            raise ValueError(f"model outputs shape {out.shape}, expected (N, 10)")
        if not (np.all(out >= 0) and np.allclose(out.sum(axis=1), 1, atol=1e-3)):
            out = softmax(out)   # the model gives logits
        return out

    def reader(self, reader_model=None, calibration=None):
        """The reading function (``apps.recognize.Reader``) for this model, made again when
        the model changes (loaded, taught)."""
        key = (id(self.model), self.version)
        if self.reader_key != key:
            if self.kind == "nnlite":
                logits = logits_of(self.model)
            else:   # Keras models give probabilities: log-probabilities are logits up to a shift
                def logits(x):
                    return np.log(np.clip(self.predict_proba(x), 1e-12, 1.0))
            self._reader = Reader(logits, self.key, reader_model, calibration)
            self.reader_key = key
        return self._reader

    def block_outputs(self, x, n_blocks=2):
        """Feature maps at the end of the first ``n_blocks`` conv blocks (the outputs that enter
        each MaxPool2D), for ONE input x (28, 28) float32 -> [(layer name, (C, H, W) array)]."""
        if self.kind != "nnlite":
            return []
        out, maps = np.asarray(x, np.float32)[None, :, :, None], []
        layers = self.model.layers
        for i, layer in enumerate(layers):
            if type(layer).__name__ == "MaxPool2D":
                name = layers[i - 1].name if i else layer.name
                maps.append((name, np.transpose(out[0], (2, 0, 1))))
                if len(maps) == n_blocks:
                    break
            with blas_threads(1):
                out = layer.forward(out, training=False)
        return maps


def _short(exc):
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 160 else text[:157] + "..."


def keras_available():
    return importlib.util.find_spec("keras") is not None


def discover(models_dir):
    """Slots for models_dir/{ann,cnn,vgg16,vgg16_bn}.npz (always listed, even when missing: the
    button then says why) and models_dir/keras/<name>.keras when Keras is installed and the
    file exists."""
    slots = [ModelSlot(key, label, os.path.join(models_dir, f"{key}.npz"))
             for key, label in NNLITE_MODELS]
    keras_dir = os.path.join(models_dir, "keras")
    if keras_available() and os.path.isdir(keras_dir):
        for key, label in NNLITE_MODELS:
            path = os.path.join(keras_dir, f"{key}.keras")
            if os.path.exists(path):
                slots.append(ModelSlot(f"keras-{key}", f"Keras {label}", path, kind="keras"))
    return slots


def first_ready(slots, key):
    """The slot named ``key`` if it loaded, else the first that did (else the named one)."""
    keys = [s.key for s in slots]
    start = keys.index(key) if key in keys else 0
    if not slots[start].ready:
        start = next((i for i, s in enumerate(slots) if s.ready), start)
    return slots[start]
