"""The Layer contract every nnlite layer follows.

The two passes (shapes without the batch axis are ``input_shape`` / ``output_shape``):

- ``build(input_shape)`` creates ``params`` lazily from the first input.
- ``forward(x, training=False)``: x (N, *input_shape) -> y (N, *output_shape); keeps what
  backward needs.
- ``backward(grad_out, need_input_grad=True)``: dL/dy (N, *output_shape) -> dL/dx
  (N, *input_shape). It OVERWRITES ``grads`` (same keys as ``params``). With
  ``need_input_grad=False`` a layer may skip dL/dx and return None; its weight gradients are
  computed all the same. Training passes False to the lowest layer with weights, since nothing
  below it learns (Dense, Conv2D and BatchNormalization then skip dx; layers without weights
  return dx anyway, it costs them little).
- ``state`` holds non-trained arrays saved with the model (BatchNorm's moving statistics).

What a model asks of its layers (defaults here; layers that need more override them):

- ``seed_from_model(seed, index)``: the model's seed (or None) and the layer's position, given
  when the layer is added; Dropout derives its mask generator from them.
- ``get_rng_state()`` / ``set_rng_state(state)``: the layer's own random generator for
  checkpoints, as a JSON-able dict (None for layers without one).
- ``weight_shapes_for(input_shape)``: the shape of each array ``build`` would create, from
  shapes alone, so a model file's architecture and members can be checked before anything is
  allocated; ``count_params_for(input_shape)`` is their total size.
"""
import math

import numpy as np

from .. import activations, initializers, regularizers
from ..errors import ConfigError, InputError
from ..validation import MAX_ARRAY_VALUES, as_float_array, check_float_dtype


class Layer:
    def __init__(self, name=None, dtype="float32"):
        if name is not None and not isinstance(name, str):
            raise ConfigError(f"layer name must be a string or None, got {name!r}")
        self.name = name
        self.dtype = check_float_dtype(dtype)
        self.params = {}
        self.grads = {}
        self.state = {}
        self.built = False
        self.input_shape = None   # without the batch axis
        self.rng = None           # numpy Generator for initial weights; set by Sequential

    # -- building -----------------------------------------------------------------------------
    def build(self, input_shape):
        """Create weights for inputs of shape ``(batch, *input_shape)``."""

    def ensure_built(self, input_shape):
        input_shape = tuple(int(s) for s in input_shape)
        if not self.built:
            if self.count_params_for(input_shape) > MAX_ARRAY_VALUES:
                raise ConfigError(f"layer '{self.name}' ({type(self).__name__}) would create "
                                  f"{self.count_params_for(input_shape):,} weights for inputs "
                                  f"{input_shape}, more than the {MAX_ARRAY_VALUES:,} allowed")
            if self.rng is None:
                self.rng = np.random.default_rng()
            self.build(input_shape)
            self.input_shape = input_shape
            self.built = True
        elif input_shape != self.input_shape:
            raise InputError(f"layer '{self.name or type(self).__name__}': built for inputs of "
                             f"shape (batch, {', '.join(map(str, self.input_shape))}), "
                             f"got (batch, {', '.join(map(str, input_shape))})")

    def compute_output_shape(self, input_shape):
        """Output shape (without batch) for an input shape (without batch)."""
        return tuple(input_shape)

    def __call__(self, x, training=False):
        """Check ``x`` (numeric, finite, non-empty, a batch), build if needed, run forward."""
        if isinstance(x, (int, float, np.number)) or getattr(x, "ndim", 1) == 0:
            raise InputError(f"layer '{self.name}': expected a batch of inputs, got a scalar")
        x = as_float_array(x, f"layer '{self.name or type(self).__name__}' input", self.dtype)
        self.ensure_built(x.shape[1:])
        return self.forward(x, training=training)

    # -- the two passes ------------------------------------------------------------------------
    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, grad_out, need_input_grad=True):
        """dL/dy (N, *output_shape) -> dL/dx (N, *input_shape), or None if ``need_input_grad``
        is False and the layer skips it. Overwrites ``grads``."""
        raise NotImplementedError

    # -- what a model asks of its layers -------------------------------------------------------
    def seed_from_model(self, seed, index):
        """Called when the layer joins a model, with the model's seed (None: unseeded) and the
        layer's index in it. Layers with their own random stream derive it from these."""

    def get_rng_state(self):
        """The layer's own random generator state as a JSON-able dict, or None (no generator)."""
        return None

    def set_rng_state(self, state):
        """Restore what ``get_rng_state`` returned; a layer without a generator takes only None."""
        if state is not None:
            raise ConfigError(f"layer '{self.name}' ({type(self).__name__}) has no random "
                              f"generator, got a generator state")

    def weight_shapes_for(self, input_shape):
        """{name: shape} of every array (params, then state) ``build`` would create for inputs
        of shape ``(batch, *input_shape)``, from shapes alone (a model file's members are
        checked against it before any is read). Refuses what ``build`` refuses."""
        return {}

    def count_params_for(self, input_shape):
        """Number of values (params + state) ``build`` would create for inputs of shape
        ``(batch, *input_shape)``, from shapes alone. Equals ``count_params() +
        count_state()`` once built."""
        return sum(math.prod(shape) for shape in self.weight_shapes_for(input_shape).values())

    # False: backward gives no dL/dx (Deskew); a model asks such a first layer for none
    has_input_grad = True

    # -- regularisation (Keras: adds to the loss; its gradient adds to grads) ------------------
    kernel_regularizer = None

    def regularization_loss(self):
        reg = self.kernel_regularizer
        return reg.loss(self.params["kernel"]) if reg is not None else 0.0

    def add_regularization_grads(self):
        """Add the regulariser's gradient into ``grads`` (after ``backward``)."""
        if self.kernel_regularizer is not None:
            self.grads["kernel"] += self.kernel_regularizer.grad(self.params["kernel"])

    # -- serialisation -------------------------------------------------------------------------
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype.name}

    @classmethod
    def from_config(cls, cfg):
        cfg = dict(cfg)
        try:
            if "kernel_regularizer" in cfg:
                cfg["kernel_regularizer"] = regularizers.from_config(cfg["kernel_regularizer"])
            return cls(**cfg)
        except (TypeError, ValueError) as exc:   # unknown keys or wild values (hostile files)
            if isinstance(exc, ConfigError):
                raise
            raise ConfigError(f"bad config for {cls.__name__}: {exc}") from None

    def count_params(self):
        return int(sum(p.size for p in self.params.values()))

    def count_state(self):
        return int(sum(s.size for s in self.state.values()))

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"

    @classmethod
    def default_name(cls):
        """Keras' name for an unnamed layer of this class (Sequential adds _1, _2, ...)."""
        out = "".join("_" + c.lower() if c.isupper() else c for c in cls.__name__).lstrip("_")
        return {"max_pool2_d": "max_pooling2d", "conv2_d": "conv2d", "re_l_u": "re_lu"}.get(out, out)


def to_pair(value, what):
    """A positive int or a pair of them (not "33", not 2.5) -> a pair (kernel sizes, strides)."""
    pair = (value, value) if not isinstance(value, (tuple, list)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) and not isinstance(
            v, (bool, np.bool_)) and 0 < v <= MAX_ARRAY_VALUES for v in pair):
        raise ConfigError(f"{what} must be a positive int or a pair of positive ints, got "
                          f"{value!r}")
    return int(pair[0]), int(pair[1])


def check_padding(padding):
    if not isinstance(padding, str) or padding not in ("valid", "same"):
        raise ConfigError(f"padding must be 'valid' or 'same', got {padding!r}")
    return padding


def check_weight_options(activation, kernel_initializer, bias_initializer, kernel_regularizer):
    """Dense / Conv2D options, refused at construction rather than at build: an activation
    name or None, initializer names (or functions), an ``nnlite.regularizers.l2`` or None."""
    if activation is not None and not isinstance(activation, str):
        raise ConfigError(f"activation must be a name such as 'relu' or None, got "
                          f"{activation!r}")
    activations.get(activation)
    for what, init in (("kernel_initializer", kernel_initializer),
                       ("bias_initializer", bias_initializer)):
        if not (isinstance(init, str) or callable(init)):
            raise ConfigError(f"{what} must be an initializer name or function, got {init!r}")
        initializers.get(init)
    if kernel_regularizer is not None and not isinstance(kernel_regularizer, regularizers.L2):
        raise ConfigError(f"kernel_regularizer must be None or nnlite.regularizers.l2(...), "
                          f"got {kernel_regularizer!r}")


def expect_rank(layer, input_shape, rank, what):
    if len(input_shape) != rank:
        raise InputError(f"layer '{layer.name}' ({type(layer).__name__}) expects {what}, got "
                         f"inputs of shape (batch, {', '.join(map(str, input_shape))})")
