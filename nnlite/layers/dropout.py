"""Dropout (inverted, as Keras): in training keep each value with probability 1 - rate and
scale kept values by 1 / (1 - rate); identity at inference.  dx = dy * mask / (1 - rate)."""
import numbers

import numpy as np

from ..errors import ConfigError
from .base import Layer


class Dropout(Layer):
    def __init__(self, rate, seed=None, **kw):
        super().__init__(**kw)
        if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not 0.0 <= rate < 1.0:
            raise ConfigError(f"Dropout rate must be a number in [0, 1), got {rate!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ConfigError(f"Dropout seed must be None or an integer >= 0, got {seed!r}")
        self.rate, self.seed = float(rate), seed
        # its own stream, so masks do not depend on how many weights other layers drew
        self.mask_rng = np.random.default_rng(seed)

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self._scale = None
            return x
        keep = self.mask_rng.random(x.shape, dtype=self.dtype) >= self.rate
        self._scale = keep.astype(self.dtype) / self.dtype.type(1.0 - self.rate)
        return x * self._scale

    def backward(self, grad_out):
        return grad_out if self._scale is None else grad_out * self._scale

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}
