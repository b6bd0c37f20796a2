"""Kernel regularisers with Keras semantics."""
import numpy as np

from .errors import ConfigError
from .validation import real


class L2:
    """Adds ``c * sum(w**2)`` to the loss (no 1/2, as Keras); its gradient is ``2 c w``."""

    def __init__(self, c=0.01):
        self.c = real(c, "l2 factor", lambda v: v >= 0, "a finite number >= 0")

    def loss(self, w):
        return self.c * float(np.sum(np.square(w, dtype=w.dtype)))

    def grad(self, w):
        return (2.0 * self.c) * w

    def get_config(self):
        return {"l2": self.c}

    def __repr__(self):
        return f"l2({self.c})"


def l2(c=0.01):
    return L2(c)


def from_config(cfg):
    if cfg is None:
        return None
    if isinstance(cfg, dict) and set(cfg) == {"l2"}:
        return L2(cfg["l2"])
    raise ConfigError(f"unknown regularizer config {cfg!r}")
