"""Conv2D (NHWC) as im2col + one matrix product.

Shapes: x (N, H, W, C) -> y (N, OH, OW, F); kernel (KH, KW, C, F), bias (F,).
Forward:  cols = im2col(x) (N*OH*OW, KH*KW*C);  y = act(cols @ K + b),  K = kernel as (KH*KW*C, F)
Backward, with dz = act'(y) * dy as (N*OH*OW, F):
    dK    = cols^T dz           -> reshaped to (KH, KW, C, F)
    dbias = sum over rows of dz
    dx    = col2im(dz K^T)      (the adjoint of im2col scatters-adds overlapping windows)
Inference on a large batch does the same per chunk of images (see INFERENCE_COLS_BYTES).
"""
import numpy as np

from .. import activations, initializers
from ..ops import col2im, im2col, sum_rows, window_geometry
from ..validation import positive_int
from .base import Layer, check_padding, expect_rank, to_pair


# Inference on big batches runs im2col on chunks of images whose cols fit in this many bytes:
# a (1000, 28, 28, 32) batch through a 5x5 conv would otherwise build a 627 MB cols matrix
# (page faults and memory traffic: CNN predict at batch 1000 ran about 2x slower unchunked).
INFERENCE_COLS_BYTES = 8 * 2 ** 20


class Conv2D(Layer):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None,
                 kernel_regularizer=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kw):
        super().__init__(**kw)
        self.filters = positive_int(filters, "Conv2D filters")
        self.kernel_size = to_pair(kernel_size, "Conv2D kernel_size")
        self.strides = to_pair(strides, "Conv2D strides")
        self.padding = check_padding(padding)
        self.activation = activation
        self._act, self._act_backward = activations.get(activation)
        self.kernel_regularizer = kernel_regularizer
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    def _geometry(self, input_shape):
        return window_geometry(input_shape, self.kernel_size, self.strides, self.padding)

    def build(self, input_shape):
        expect_rank(self, input_shape, 3, "NHWC images (batch, height, width, channels)")
        oh, ow, _, _ = self._geometry(input_shape)
        if oh <= 0 or ow <= 0:
            from ..errors import InputError
            raise InputError(f"layer '{self.name}': a {self.kernel_size} kernel with padding "
                             f"'valid' does not fit inputs of shape {input_shape}")
        if self.strides[0] != self.strides[1]:
            from ..errors import ConfigError
            raise ConfigError("Conv2D: unequal strides are not supported")
        kh, kw = self.kernel_size
        shape = (kh, kw, input_shape[2], self.filters)
        self.params["kernel"] = initializers.get(self.kernel_initializer)(shape, self.rng, self.dtype)
        self.params["bias"] = initializers.get(self.bias_initializer)((self.filters,), self.rng,
                                                                       self.dtype)

    def compute_output_shape(self, input_shape):
        oh, ow, _, _ = self._geometry(input_shape)
        return (oh, ow, self.filters)

    def forward(self, x, training=False):
        n = x.shape[0]
        oh, ow, _, _ = self._geometry(x.shape[1:])
        self._x = x
        per_image = oh * ow * self.params["kernel"].size // self.filters * x.itemsize
        step = max(1, INFERENCE_COLS_BYTES // per_image)
        if training or n <= step:
            self._cols = self._im2col(x)
            self._y = self._matmul_bias_act(self._cols).reshape(n, oh, ow, self.filters)
        else:   # inference on a big batch: im2col a few images at a time (bounded memory)
            self._cols = None                   # backward re-creates it from self._x
            self._y = np.empty((n, oh, ow, self.filters), x.dtype)
            for i in range(0, n, step):
                chunk = self._matmul_bias_act(self._im2col(x[i:i + step]))
                self._y[i:i + step] = chunk.reshape(-1, oh, ow, self.filters)
        return self._y

    def _im2col(self, x):
        oh, ow, pt, pl = self._geometry(x.shape[1:])
        kh, kw = self.kernel_size
        return im2col(x, kh, kw, self.strides[0], pt, pl, oh, ow)

    def _matmul_bias_act(self, cols):
        z = cols @ self.params["kernel"].reshape(-1, self.filters)
        z += self.params["bias"]
        return self._act(z)

    def backward(self, grad_out, input_grad=True):
        """-> dx; with ``input_grad=False`` only the weight gradients (returns None): training
        skips dx for the lowest layer with weights, since nothing below it learns."""
        n, oh, ow, f = grad_out.shape
        h, w, c = self.input_shape
        kh, kw = self.kernel_size
        _, _, pt, pl = self._geometry(self.input_shape)
        cols = self._cols if self._cols is not None else self._im2col(self._x)
        dz = self._act_backward(self._y, grad_out).reshape(-1, f)
        self.grads["kernel"] = (cols.T @ dz).reshape(self.params["kernel"].shape)
        self.grads["bias"] = sum_rows(dz)
        if not input_grad:
            return None
        dcols = dz @ self.params["kernel"].reshape(-1, f).T
        return col2im(dcols, n, h, w, c, kh, kw, self.strides[0], pt, pl, oh, ow)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "activation": self.activation,
                "kernel_regularizer": self.kernel_regularizer.get_config()
                if self.kernel_regularizer else None}
