"""Dense: y = act(x @ kernel + bias).

Shapes: x (N, IN) -> y (N, UNITS); kernel (IN, UNITS), bias (UNITS,).
Backward, with dz = act'(y) * dy:
    dkernel = x^T dz      (IN, UNITS)
    dbias   = sum_n dz    (UNITS,)
    dx      = dz kernel^T (N, IN)
"""
import numpy as np

from .. import activations, initializers
from ..ops import sum_rows
from ..validation import positive_int
from .base import Layer, check_weight_options, expect_rank


class Dense(Layer):
    def __init__(self, units, activation=None, kernel_regularizer=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kw):
        super().__init__(**kw)
        self.units = positive_int(units, "Dense units")
        check_weight_options(activation, kernel_initializer, bias_initializer, kernel_regularizer)
        self.activation = activation
        self._act, self._act_backward = activations.get(activation)
        self.kernel_regularizer = kernel_regularizer
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    def build(self, input_shape):
        expect_rank(self, input_shape, 1, "2-D inputs (batch, features); add Flatten() first")
        shape = (input_shape[0], self.units)
        self.params["kernel"] = initializers.get(self.kernel_initializer)(shape, self.rng, self.dtype)
        self.params["bias"] = initializers.get(self.bias_initializer)((self.units,), self.rng,
                                                                       self.dtype)

    def compute_output_shape(self, input_shape):
        return (self.units,)

    def weight_shapes_for(self, input_shape):
        """kernel (IN, UNITS), bias (UNITS,)."""
        expect_rank(self, input_shape, 1, "2-D inputs (batch, features); add Flatten() first")
        return {"kernel": (int(input_shape[0]), self.units), "bias": (self.units,)}

    def forward(self, x, training=False):
        self._x = x
        z = x @ self.params["kernel"]
        z += self.params["bias"]                 # in place: no second (N, UNITS) temporary
        self._y = self._act(z)
        return self._y

    def backward(self, grad_out, need_input_grad=True):
        """dy (N, UNITS) -> dx (N, IN); with ``need_input_grad=False`` only the weight
        gradients (returns None)."""
        dz = self._act_backward(self._y, grad_out)
        self.grads["kernel"] = self._x.T @ dz
        self.grads["bias"] = sum_rows(dz)
        return dz @ self.params["kernel"].T if need_input_grad else None

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation,
                "kernel_regularizer": self.kernel_regularizer.get_config()
                if self.kernel_regularizer else None}
