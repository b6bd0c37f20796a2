"""Stand-alone activation layers: y = f(x), dx = f'(x) dy with f' written from y."""
import numpy as np

from .. import activations
from .base import Layer


class _Activation(Layer):
    function = None   # name in nnlite.activations

    def __init__(self, **kw):
        super().__init__(**kw)
        self._f, self._f_backward = activations.get(self.function)

    def forward(self, x, training=False):
        self._y = self._f(x.copy())   # copy: relu/tanh work in place
        return self._y

    def backward(self, grad_out, need_input_grad=True):
        return self._f_backward(self._y, grad_out)


class ReLU(_Activation):
    """y = max(x, 0);  dx = dy * [y > 0] (the derivative at exactly 0 is taken as 0)."""
    function = "relu"

    def forward(self, x, training=False):
        self._y = np.maximum(x, 0)    # writes a new array: no defensive copy of x needed
        return self._y


class Sigmoid(_Activation):
    """y = 1 / (1 + e^-x);  dx = dy * y (1 - y) — at most 0.25, hence vanishing gradients."""
    function = "sigmoid"


class Tanh(_Activation):
    """y = tanh x;  dx = dy * (1 - y^2)."""
    function = "tanh"


class Softmax(_Activation):
    """y_i = e^{x_i} / sum_j e^{x_j} over the last axis;  dx_i = y_i (dy_i - sum_j dy_j y_j).

    For training, nnlite models output logits and the loss fuses softmax with cross-entropy;
    use this layer (or ``predict_proba``) to get probabilities.
    """
    function = "softmax"
