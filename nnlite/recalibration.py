"""BatchNormalization's moving statistics re-estimated after a short run ("precise BN").

Why: the moving mean and variance start at 0 and 1 and move towards each batch's statistics by
(1 - momentum) per step, so after ``steps`` steps the initial values still weigh
``momentum ** steps`` (0.99 ** 150 = 22 %). When the true variance is small (inputs in [0, 1],
small conv activations) that stale 1 dominates the moving variance, inference divides by the
wrong scale, and a model that fits its training batches scores at chance on validation.

``stale_share`` measures, per BatchNormalization layer, the share of its moving variance that
is still the initial 1: ``momentum ** steps / moving_variance`` (the largest over channels).
``recalibrate`` replaces the moving statistics by the exact mean and (biased, as in training)
variance of each layer's input over up to ``MAX_IMAGES`` training images, layer by layer in
inference mode: each layer sees its input as inference will compute it, with the layers below
already re-estimated. Weights do not change. ``fit(recalibrate_bn="auto")`` calls
``after_fit`` before its last validation (so the logged validation scores the model it
returns), which does this when some layer's stale share exceeds ``STALE_SHARE``.
"""
import numpy as np

from .errors import ConfigError
from .layers import BatchNormalization
from .ops.threads import blas_threads

STALE_SHARE = 0.05      # "auto" re-estimates when the initial 1 is > 5 % of a moving variance
MAX_IMAGES = 2048       # training images the statistics are computed from (evenly spread)
PASS_SIZE = 128         # images per forward pass


def check_option(value):
    """``recalibrate_bn`` of ``fit``: "auto", True or False."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str) and value == "auto":
        return "auto"
    raise ConfigError(f"recalibrate_bn must be 'auto', True or False, got {value!r}")


def stale_share(model, steps):
    """The largest share, over BatchNormalization layers and channels, of a moving variance
    that is still its initial value 1 after ``steps`` updates (0.0 without such layers)."""
    shares = [0.0]
    for layer in model.layers:
        if isinstance(layer, BatchNormalization):
            var = layer.state["moving_variance"].astype(np.float64)
            stale = np.divide(layer.momentum ** steps, var, out=np.zeros_like(var), where=var > 0)
            shares.append(float(stale.max()))
    return max(shares)


def recalibrate(model, x, max_images=MAX_IMAGES):
    """Set every BatchNormalization layer's moving mean / variance to the exact statistics of
    its input over up to ``max_images`` of ``x`` (N, *input_shape), evenly spread over x.
    Returns the number of images used."""
    picks = x[np.unique(np.linspace(0, len(x) - 1, min(len(x), max_images)).astype(np.int64))]
    with blas_threads():
        for k, layer in enumerate(model.layers):
            if isinstance(layer, BatchNormalization):
                mean, var = _input_statistics(model.layers[:k], picks)
                layer.state["moving_mean"][...] = mean
                layer.state["moving_variance"][...] = var
    return len(picks)


def _input_statistics(below, x):
    """Per-channel mean and biased variance of the output of the layers ``below`` (inference
    mode) over x, merged pass by pass (Chan et al.) in float64."""
    count, mean, m2 = 0, 0.0, 0.0
    for start in range(0, len(x), PASS_SIZE):
        h = x[start:start + PASS_SIZE]
        for layer in below:
            h = layer.forward(h, training=False)
        h = h.reshape(-1, h.shape[-1]).astype(np.float64)
        n, h_mean = len(h), h.mean(axis=0)
        delta, total = h_mean - mean, count + n
        m2 = m2 + ((h - h_mean) ** 2).sum(axis=0) + delta ** 2 * count * n / total
        mean, count = mean + delta * n / total, total
    return mean, m2 / count


def after_fit(model, x, option):
    """What ``fit`` does before its last validation: re-estimate if ``option`` is True, or
    "auto" and the statistics are stale. Returns a record (``History.bn_recalibration``) or
    None."""
    steps = model.optimizer.iterations
    share = stale_share(model, steps)
    has_bn = any(isinstance(layer, BatchNormalization) for layer in model.layers)
    if not has_bn or option is False or (option == "auto" and share <= STALE_SHARE):
        return None
    return {"images": recalibrate(model, x), "steps": steps, "stale_share": share,
            "option": option}


def describe(record):
    """The line ``fit`` prints (verbose) after a re-estimation."""
    return (f"BatchNormalization: moving statistics re-estimated from {record['images']} "
            f"training images (after {record['steps']} steps their initial values still made "
            f"up {record['stale_share']:.0%} of a moving variance)")
