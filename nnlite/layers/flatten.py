"""Flatten: (N, d1, d2, ...) -> (N, d1*d2*...), in C order (for NHWC: H, W, then C fastest —
the order Keras uses, so a Dense kernel after it moves between the engines untouched)."""
import numpy as np

from .base import Layer


class Flatten(Layer):
    def compute_output_shape(self, input_shape):
        return (int(np.prod(input_shape)),)

    def forward(self, x, training=False):
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out, need_input_grad=True):
        return grad_out.reshape((grad_out.shape[0],) + self.input_shape)
