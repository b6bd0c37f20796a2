"""MaxPool2D (NHWC): each output is the max of its window; backward routes the gradient to
that one position (the first maximum in row-major window order on an exact tie).

Shapes: x (N, H, W, C) -> y (N, OH, OW, C).
"""
from ..errors import InputError
from ..ops import maxpool_backward, maxpool_forward, window_geometry
from .base import Layer, check_padding, expect_rank, to_pair


class MaxPool2D(Layer):
    def __init__(self, pool_size=2, strides=None, padding="valid", **kw):
        super().__init__(**kw)
        self.pool_size = to_pair(pool_size, "MaxPool2D pool_size")
        self.strides = to_pair(strides if strides is not None else self.pool_size,
                               "MaxPool2D strides")
        self.padding = check_padding(padding)

    def _geometry(self, input_shape):
        return window_geometry(input_shape, self.pool_size, self.strides, self.padding)

    def build(self, input_shape):
        expect_rank(self, input_shape, 3, "NHWC images (batch, height, width, channels)")
        oh, ow, _, _ = self._geometry(input_shape)
        if oh <= 0 or ow <= 0:
            raise InputError(f"layer '{self.name}': pool {self.pool_size} does not fit inputs "
                             f"of shape {input_shape}")

    def compute_output_shape(self, input_shape):
        oh, ow, _, _ = self._geometry(input_shape)
        return (oh, ow, input_shape[2])

    def forward(self, x, training=False):
        oh, ow, pt, pl = self._geometry(x.shape[1:])
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        y, self._argmax = maxpool_forward(x, ph, pw, sh, sw, pt, pl, oh, ow)
        return y

    def backward(self, grad_out, need_input_grad=True):
        h, w, _ = self.input_shape
        return maxpool_backward(grad_out, self._argmax, h, w)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding}
