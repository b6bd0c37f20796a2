"""Dropout (inverted, as Keras): in training keep each value with probability 1 - rate and
scale kept values by 1 / (1 - rate); identity at inference.  dx = dy * mask / (1 - rate).

The masks come from the layer's own generator (``mask_rng``): seeded by ``seed``, or, when that
is None, from the model's seed and the layer's index; checkpoints save and restore its state.
"""
import numpy as np

from ..errors import ConfigError
from ..validation import non_negative_int, real
from .base import Layer


class Dropout(Layer):
    def __init__(self, rate, seed=None, **kw):
        super().__init__(**kw)
        self.rate = real(rate, "Dropout rate", lambda r: 0 <= r < 1, "a number in [0, 1)")
        self.seed = None if seed is None else non_negative_int(seed, "Dropout seed")
        # its own stream, so masks do not depend on how many weights other layers drew
        self.mask_rng = np.random.default_rng(seed)

    def seed_from_model(self, seed, index):
        """Without a seed of its own, a seeded model's Dropout draws from [seed, 1000 + index]."""
        if self.seed is None and seed is not None:
            self.mask_rng = np.random.default_rng([seed, 1000 + index])

    def get_rng_state(self):
        """The mask generator's ``bit_generator.state`` (a dict of ints and strings)."""
        return self.mask_rng.bit_generator.state

    def set_rng_state(self, state):
        """Restore a state ``get_rng_state`` returned (anything else: ConfigError)."""
        try:
            self.mask_rng.bit_generator.state = state
        except (TypeError, ValueError, KeyError, OverflowError) as exc:   # None, garbage
            raise ConfigError(f"layer '{self.name}' (Dropout): not a state of its mask "
                              f"generator ({type(exc).__name__}: {exc})") from None

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self._scale = None
            return x
        keep = self.mask_rng.random(x.shape, dtype=self.dtype) >= self.rate
        self._scale = keep.astype(self.dtype) / self.dtype.type(1.0 - self.rate)
        return x * self._scale

    def backward(self, grad_out, need_input_grad=True):
        return grad_out if self._scale is None else grad_out * self._scale

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
