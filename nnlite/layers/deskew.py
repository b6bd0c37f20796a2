"""Deskew: each digit sheared upright by its second moments, inside the model, so a model
trained on deskewed digits still takes plain [0, 1] images (N, H, W, 1). Same numbers as
``nnlite.preprocess.deskew`` (one kernel: ``nnlite/ops/warp.py``).

The warp's source positions depend on the image itself, and nnlite differentiates no such
map: backward gives no input gradient. Deskew has no weights and sits first in a model, so
training never asks for one (the backward pass stops at the lowest layer with weights).
"""
from ..errors import ConfigError, InputError
from ..ops.warp import deskew_images
from .base import Layer


class Deskew(Layer):
    has_input_grad = False

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[2] != 1:
            raise InputError(f"layer '{self.name}' (Deskew) expects single-channel images "
                             f"(batch, height, width, 1), got inputs of shape "
                             f"(batch, {', '.join(map(str, input_shape))})")

    def forward(self, x, training=False):
        return deskew_images(x[..., 0])[..., None].astype(self.dtype, copy=False)

    def backward(self, grad_out, need_input_grad=True):
        """No input gradient: with ``need_input_grad=False`` returns None, else ConfigError."""
        if need_input_grad:
            raise ConfigError(f"layer '{self.name}' (Deskew): the deskew warp has no input "
                              "gradient in nnlite; keep Deskew as the first layer (nothing below "
                              "it learns) and ask for no gradient with respect to the images")
        return None
