"""Weight initialisers with Keras' fan rules, drawing from a seeded numpy Generator.

Fans (keras/src/initializers/random_initializers.py): for a kernel of shape
(..., fan_in_last, fan_out_last), receptive field = prod(shape[:-2]);
fan_in = field * shape[-2], fan_out = field * shape[-1]. A Dense kernel (in, units) has
field 1; a Conv2D kernel (kh, kw, in, filters) has field kh*kw.
"""
import numpy as np

from .errors import ConfigError


def compute_fans(shape):
    shape = tuple(shape)
    if len(shape) < 2:
        return shape[0] if shape else 1, shape[0] if shape else 1
    field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return field * shape[-2], field * shape[-1]


def glorot_uniform(shape, rng, dtype="float32"):
    """U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)). Keras' Dense/Conv2D default."""
    fan_in, fan_out = compute_fans(shape)
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


def he_normal(shape, rng, dtype="float32"):
    """Truncated normal (|z| <= 2 std, redrawn), std = sqrt(2 / fan_in), as Keras' he_normal."""
    fan_in, _ = compute_fans(shape)
    std = np.sqrt(2.0 / fan_in) / 0.87962566103423978   # std of N(0,1) truncated at +-2
    z = rng.standard_normal(size=shape)
    bad = np.abs(z) > 2
    while bad.any():
        z[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = np.abs(z) > 2
    return (z * std).astype(dtype)


def zeros(shape, rng=None, dtype="float32"):
    return np.zeros(shape, dtype=dtype)


def ones(shape, rng=None, dtype="float32"):
    return np.ones(shape, dtype=dtype)


INITIALIZERS = {"glorot_uniform": glorot_uniform, "he_normal": he_normal,
                "zeros": zeros, "ones": ones}


def get(name):
    if callable(name):
        return name
    if name not in INITIALIZERS:
        raise ConfigError(f"unknown initializer {name!r}; choose one of {sorted(INITIALIZERS)}")
    return INITIALIZERS[name]
