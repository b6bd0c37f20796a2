"""Element-wise activations, each with its derivative written from its OUTPUT y.

Writing the derivative from y lets a layer keep only its output for backward:
relu' = [y > 0], sigmoid' = y (1 - y), tanh' = 1 - y^2.
"""
import numpy as np

from .errors import ConfigError


def relu(z):
    return np.maximum(z, 0, out=z)          # in place: z is the layer's own fresh buffer


def relu_backward(y, grad):
    return grad * (y > 0)


def sigmoid(z):
    # exp of a negative number never overflows: split on the sign
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def sigmoid_backward(y, grad):
    return grad * y * (1.0 - y)


def tanh(z):
    return np.tanh(z, out=z)


def tanh_backward(y, grad):
    return grad * (1.0 - y * y)


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)   # shift: exp never overflows
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(y, grad):
    # Jacobian-vector product: dz_i = y_i (g_i - sum_j g_j y_j)
    return y * (grad - (grad * y).sum(axis=-1, keepdims=True))


def linear(z):
    return z


def linear_backward(y, grad):
    return grad


ACTIVATIONS = {
    None: (linear, linear_backward),
    "linear": (linear, linear_backward),
    "relu": (relu, relu_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
    "softmax": (softmax, softmax_backward),
}


def get(name):
    if name not in ACTIVATIONS:
        raise ConfigError(f"unknown activation {name!r}; choose one of "
                          f"{sorted(k for k in ACTIVATIONS if k)}")
    return ACTIVATIONS[name]
