"""Summary numbers of one array, as the inspection tools report them."""
import numpy as np


def l2_norm(a):
    """Euclidean norm of all elements, accumulated in float64 (float32 sums drift)."""
    a = np.asarray(a, dtype=np.float64).ravel()
    with np.errstate(all="ignore"):
        return float(np.sqrt(np.dot(a, a)))


def tensor_stats(a):
    """-> {"mean", "std", "min", "max", "norm"} of all elements of ``a`` (float64 Python floats)."""
    a64 = np.asarray(a, dtype=np.float64)
    with np.errstate(all="ignore"):   # a diverging step may hold Inf; report it, don't warn
        return {"mean": float(a64.mean()), "std": float(a64.std()), "min": float(a64.min()),
                "max": float(a64.max()), "norm": l2_norm(a64)}


def is_relu(layer):
    """A layer whose output is a ReLU: a ``ReLU`` layer or Dense/Conv2D(activation='relu')."""
    return type(layer).__name__ == "ReLU" or getattr(layer, "activation", None) == "relu"


def dead_fraction(y):
    """Fraction of units that output 0 for EVERY sample (and position) of the batch.

    y: ReLU output (N, ..., U); a unit is an index of the last axis (a Dense neuron, a conv
    channel). A dead unit passes no gradient for this batch: relu'(y) = [y > 0] is 0 throughout.
    """
    y = np.asarray(y)
    alive = (y.reshape(-1, y.shape[-1]) > 0).any(axis=0)
    return float(1.0 - alive.mean())
