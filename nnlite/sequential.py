"""Sequential: a list of layers, trained by one loop that a reader can follow top to bottom.

One training step (``train_step``):
    logits = layer_n(...layer_1(x))                       forward, training=True
    loss   = cross_entropy(logits, y) + sum of L2 terms
    g      = dloss/dlogits = (softmax - onehot) / N       fused loss backward
    g      = layer.backward(g) for each layer, last to first
    grads += L2 gradients; check every gradient is finite
    optimizer.apply(params, grads)                        in place

Observers (``nnlite.callbacks.Observer``) attached with ``add_observer`` / ``observing`` are
called after each layer's forward and backward, after the loss and around the update; they only
look, so they change no number.
"""

import math

import numpy as np

from . import losses, optimizers, training
from .activations import softmax
from .callbacks import Observable
from .errors import ConfigError, InputError, NonFiniteError
from .layers import Layer, fusion
from .modelfile import save_model
from .ops.fpenv import flushed_subnormals
from .ops.threads import blas_threads
from .summary import summary_table
from .safeguards import non_finite_report
from .validation import (MAX_ARRAY_VALUES, as_float_array, as_labels, class_name_list,
                         non_negative_int, positive_int, shape_tuple)

INFERENCE_PASS_VALUES = 2 ** 21    # values in a pass's largest activation (8 MB in float32)


class Sequential(Observable):
    """layers: a list of ``nnlite.layers`` objects; input_shape: sizes without the batch axis
    (or build on the first batch); seed: int >= 0 for reproducible weights, shuffling and
    dropout (None: fresh randomness); class_names: one name per output, saved in the model
    file (e.g. ["T-shirt", "Trouser", ...]), None for plain indices."""
    fuse, _fused = True, None     # run conv->BN->ReLU->pool fused (layers/fusion.py) or not

    def __init__(self, layers=None, input_shape=None, seed=None, name="sequential",
                 class_names=None):
        if not isinstance(name, str):
            raise ConfigError(f"model name must be a string, got {name!r}")
        if isinstance(layers, Layer) or not isinstance(layers, (list, tuple, type(None))):
            raise ConfigError(f"layers must be a list of nnlite layers, got {layers!r}")
        self.layers, self.input_shape = [], None
        self.seed = None if seed is None else non_negative_int(seed, "seed")
        self.name, self.class_names = name, class_names
        self.init_rng = np.random.default_rng(seed)
        self.shuffle_rng = np.random.default_rng(None if seed is None else [seed, 1])
        # feeds fit(batch_transform=...) (e.g. augmentation); saved in checkpoints
        self.augment_rng = np.random.default_rng(None if seed is None else [seed, 2])
        self.optimizer = self.loss = None
        self.metrics, self.stop_training = [], False
        Observable.__init__(self)
        for layer in layers or []:
            self.add(layer)
        if input_shape is not None:
            self.build(input_shape)

    # -- assembling ----------------------------------------------------------------------------
    def add(self, layer):
        if not isinstance(layer, Layer):
            raise ConfigError(f"Sequential.add expects an nnlite Layer, got {type(layer).__name__}")
        if self.input_shape is not None:
            raise ConfigError("cannot add layers to a built model")
        if any(layer is other for other in self.layers):
            raise ConfigError(f"layer '{layer.name}' is already in this model; a layer owns its "
                              "weights, so use a new instance for each position")
        index = len(self.layers)
        if layer.name is None:
            base = layer.default_name()
            taken = {l.name for l in self.layers}
            layer.name = base if base not in taken else next(
                f"{base}_{i}" for i in range(1, 10 ** 6) if f"{base}_{i}" not in taken)
        layer.rng = self.init_rng
        layer.seed_from_model(self.seed, index)
        self.layers.append(layer)

    def build(self, input_shape):
        """Create every layer's weights for inputs of shape (batch, *input_shape). Sizes are
        checked from shapes before anything is allocated: no layer's weights and no layer's
        output per image may exceed ``MAX_ARRAY_VALUES`` (a ConfigError, not a MemoryError)."""
        shape = in_shape = shape_tuple(input_shape, "input_shape")
        for layer in self.layers:
            layer.ensure_built(shape)
            shape = tuple(layer.compute_output_shape(shape))
            if math.prod(shape) > MAX_ARRAY_VALUES:
                raise ConfigError(f"layer '{layer.name}' would output {math.prod(shape):,} "
                                  f"values per image {shape}, more than the "
                                  f"{MAX_ARRAY_VALUES:,} allowed")
        class_name_list(self.class_names, shape[-1])
        self.input_shape, self.output_shape = in_shape, shape
        return self

    @property
    def class_names(self):
        """One name per output (saved in the model file), or None."""
        return self._class_names

    @class_names.setter
    def class_names(self, names):
        outputs = self.output_shape[-1] if self.built else None
        self._class_names = class_name_list(names, outputs)

    @property
    def built(self):
        return self.input_shape is not None

    def compile(self, optimizer="adam", loss="sparse_categorical_crossentropy",
                metrics=("accuracy",)):
        """optimizer: an ``nnlite.optimizers`` object or "adam" / "sgd"; loss: the only one,
        "sparse_categorical_crossentropy" (on logits); metrics: "accuracy" or a list of it."""
        self.optimizer = optimizers.get(optimizer)
        self.loss = losses.get(loss)
        if isinstance(metrics, str):
            metrics = [metrics]                  # Keras accepts one name as well as a list
        if not isinstance(metrics, (list, tuple, type(None))) or any(
                not isinstance(m, str) or m not in ("accuracy", "acc") for m in metrics or ()):
            raise ConfigError(f"unknown metrics {metrics!r}; nnlite reports 'accuracy'")
        self.metrics = ["accuracy"] if metrics else []
        return self

    # -- parameters ----------------------------------------------------------------------------
    def trainable(self):
        """[(layer, key)] for every trained array, in a fixed order (the optimizer's order)."""
        return [(layer, k) for layer in self.layers for k in layer.params]

    def get_weights(self):
        """Copies of every param then state array, layer by layer (Keras' order within a layer)."""
        return [a.copy() for layer in self.layers
                for a in list(layer.params.values()) + list(layer.state.values())]

    def set_weights(self, weights):
        arrays = [a for layer in self.layers
                  for a in list(layer.params.values()) + list(layer.state.values())]
        if not isinstance(weights, (list, tuple)) or len(weights) != len(arrays):
            raise InputError(f"set_weights: expected a list of {len(arrays)} arrays, got "
                             f"{len(weights) if isinstance(weights, (list, tuple)) else weights!r}")
        checked = []                             # all checked before any is written
        for i, (dst, src) in enumerate(zip(arrays, weights)):
            src = as_float_array(src, f"set_weights: array {i}", dst.dtype, allow_empty=True)
            if src.shape != dst.shape:
                raise InputError(f"set_weights: array {i} must have shape {dst.shape}, "
                                 f"got {src.shape}")
            checked.append(src)
        for dst, src in zip(arrays, checked):
            dst[...] = src

    def count_params(self):
        return sum(layer.count_params() + layer.count_state() for layer in self.layers)

    def _check_x(self, x, name="x"):
        dtype = self.layers[0].dtype if self.layers else np.float32
        if not self.built:            # check dtype/values before building from x's shape
            x = as_float_array(x, name, dtype)
            if x.ndim < 2:
                raise InputError(f"{name}: expected a batch (N, ...), got shape {x.shape}")
            self.build(x.shape[1:])
        return as_float_array(x, name, dtype, ndim=len(self.input_shape) + 1,
                              shape_tail=self.input_shape)

    # -- the passes ----------------------------------------------------------------------------
    def forward(self, x, training=False, outputs=None):
        """Logits of a checked batch. ``outputs``: a list receiving every layer's output."""
        self._fused = None if outputs is not None else fusion.plan_for(self)
        if self._fused is not None:
            return self._fused.forward(x, training)
        for i, layer in enumerate(self.layers):
            y = layer.forward(x, training=training)
            if self.observers:
                self.notify("on_forward", i, layer, x, y, training)
            if outputs is not None:
                outputs.append(y)
            x = y
        return x

    def backward(self, grad, stop_at=0, need_input_grad=True):
        """Backpropagate dL/dlogits from the last layer down to layer ``stop_at``; returns
        dL/d(input of layer stop_at), or None if ``need_input_grad`` is False (that layer then
        computes only its weight gradients). Fused if the latest forward was."""
        if self._fused is not None:
            return self._fused.backward(grad, stop_at, need_input_grad)
        for i in range(len(self.layers) - 1, stop_at - 1, -1):
            layer = self.layers[i]
            grad_in = layer.backward(grad, need_input_grad=need_input_grad or i > stop_at)
            if self.observers:
                self.notify("on_backward", i, layer, grad, grad_in)
            grad = grad_in
        return grad

    def regularization_loss(self):
        return sum(layer.regularization_loss() for layer in self.layers)

    def _backward_for_training(self, grad):
        """Nothing below the lowest layer with weights learns, so the backward pass stops there
        and skips that layer's dL/dx (a third of the ANN's first Dense) unless an observer asks."""
        if any(o.wants_input_grads for o in self.observers):     # Deskew first: no dL/dx
            self.backward(grad, need_input_grad=self.layers[0].has_input_grad)
        else:
            lowest = next((i for i, layer in enumerate(self.layers) if layer.params), 0)
            self.backward(grad, stop_at=lowest, need_input_grad=False)

    def train_step(self, x, y):
        """One optimizer step on a checked batch. Returns (loss, number correct). Subnormals
        count as zero meanwhile, as in ``fit``: called alone it would otherwise crawl (fpenv)."""
        with flushed_subnormals():
            return self._train_step(x, y)

    def _train_step(self, x, y):
        outs = None if fusion.plan_for(self) else []     # every layer's output, for a NaN report
        out = self.forward(x, training=True, outputs=outs)
        data_loss = self.loss.forward(out, y)
        loss = data_loss + self.regularization_loss()
        grad = self.loss.backward()
        if self.observers:
            self.notify("on_loss", data_loss, grad)
        self._backward_for_training(grad)
        for layer in self.layers:
            layer.add_regularization_grads()
        pairs = self.trainable()
        grads = [layer.grads[k] for layer, k in pairs]
        total = loss + sum(float(g.sum()) for g in grads)   # NaN/Inf anywhere shows up here
        if not np.isfinite(total):
            raise NonFiniteError(non_finite_report(self.layers, loss, outs or self._fused.outputs))
        if self.observers:
            self.notify("before_update", pairs, grads)
        self.optimizer.apply([layer.params[k] for layer, k in pairs], grads)
        if self.observers:
            self.notify("after_update", pairs, grads)
        return loss, int(np.count_nonzero(out.argmax(axis=1) == y))

    # -- the Keras-like API --------------------------------------------------------------------
    # training.fit(model, x, y, ...) is the loop; as a method it is model.fit(x, y, ...)
    fit = training.fit

    def _inference_pass(self, batch_size):
        """Images per forward pass in predict/evaluate: ``batch_size``, at most what keeps the
        largest activation within ``INFERENCE_PASS_VALUES`` (CNN predict(batch_size=1000),
        measured: 2,100 samples/s in passes of 1000, 4,000-4,200 in passes of 64-128)."""
        largest, shape = 1, self.input_shape
        for layer in self.layers:
            shape = layer.compute_output_shape(shape)
            largest = max(largest, math.prod(shape))
        return max(1, min(batch_size, INFERENCE_PASS_VALUES // largest))

    def predict(self, x, batch_size=256, verbose=0):
        """Logits (N, classes), in passes of at most ``batch_size`` images (inference mode).
        The pass size moves the last bits: BLAS blocks a matrix product by its row count, so
        sums round differently. Measured (models/*.npz, 300 test images, passes of 1 vs 300):
        logits within 1.2e-5 (4e-7 of the largest |logit|), same classes; tests/test_models.py."""
        x = self._check_x(x)
        step = self._inference_pass(positive_int(batch_size, "batch_size"))
        if len(x) <= step:                   # one batch (the drawing app): no concatenate copy
            with blas_threads():
                return self.forward(x)
        with blas_threads():
            return np.concatenate([self.forward(x[i:i + step])
                                   for i in range(0, len(x), step)])

    def predict_proba(self, x, batch_size=256):
        """Class probabilities: softmax of the logits."""
        return softmax(self.predict(x, batch_size))

    def evaluate(self, x, y, batch_size=256, verbose=0, return_dict=False):
        """[loss, accuracy] on (x, y); the loss includes the L2 terms, as Keras."""
        self._require_compiled()
        x = self._check_x(x)
        y = as_labels(y, "y", self.output_shape[-1], length=len(x))
        step = self._inference_pass(positive_int(batch_size, "batch_size"))
        total, correct = 0.0, 0
        with blas_threads():
            for i in range(0, len(x), step):
                logits = self.forward(x[i:i + step])
                total += self.loss.forward(logits, y[i:i + step]) * len(logits)
                correct += int(np.count_nonzero(logits.argmax(1) == y[i:i + step]))
        result = {"loss": total / len(x) + self.regularization_loss(),
                  "accuracy": correct / len(x)}
        return result if return_dict else [result["loss"], result["accuracy"]]

    def _require_compiled(self):
        if self.optimizer is None or self.loss is None:
            raise ConfigError("call model.compile(optimizer, loss) before fit/evaluate")

    def summary(self, print_fn=print):
        """A Keras-like table: layer (type), output shape, params; then the totals."""
        if not self.built:
            raise ConfigError("summary() needs a built model: pass input_shape or call build()")
        text = summary_table(self.name, self.layers, self.input_shape)
        if print_fn:
            print_fn(text)
        return text

    def save(self, path):
        """Write one pickle-free .npz (architecture JSON + arrays), atomically."""
        save_model(self, path)
