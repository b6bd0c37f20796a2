"""Central-difference gradient checks in float64.

The scalar checked is L = sum(layer(x) * R) with a fixed random R, so dL/dout = R exactly and
every output element contributes. Relative error = |analytic - numeric| / (|analytic| + |numeric|)
over the whole array (norms), which must be < 1e-6.
"""
import numpy as np


def rel_error(a, b):
    """||a - b|| / (||a|| + ||b||); for a gradient that is exactly zero in theory (e.g. a conv
    bias feeding BatchNorm) both sides are ~1e-10 noise, so the absolute difference is used."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    if denom < 1e-7:
        return float(np.linalg.norm(a - b))
    return float(np.linalg.norm(a - b) / denom)


def numeric_grad(f, arr, eps=1e-6):
    """dF/darr by central differences, perturbing ``arr`` in place."""
    grad = np.zeros_like(arr)
    flat, gflat = arr.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        plus = f()
        flat[i] = old - eps
        minus = f()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def check_layer(layer, x, training=True, seed=0, before_forward=None):
    """Gradient-check ``layer`` at input ``x`` (float64) for the input and every param.

    ``before_forward`` is called before each forward (e.g. to reset a Dropout generator so the
    mask stays fixed). Returns {name: relative error}.
    """
    x = np.array(x, dtype=np.float64)
    layer.ensure_built(x.shape[1:])
    out = _forward(layer, x, training, before_forward)
    r = np.random.default_rng(seed).standard_normal(out.shape)

    def loss():
        return float(np.sum(_forward(layer, x, training, before_forward) * r))

    _forward(layer, x, training, before_forward)
    dx = layer.backward(r.copy())
    errors = {"input": rel_error(dx, numeric_grad(loss, x))}
    analytic = {k: g.copy() for k, g in layer.grads.items()}
    for k, p in layer.params.items():
        errors[k] = rel_error(analytic[k], numeric_grad(loss, p))
    return errors


def _forward(layer, x, training, before_forward):
    if before_forward is not None:
        before_forward()
    return layer.forward(x, training=training)
