"""Rescaling: y = x * scale + offset (no weights). Puts input normalisation (e.g. MNIST
standardisation, scale = 1/std, offset = -mean/std) inside the model, so every model file
takes the same [0, 1] images.  dx = dy * scale."""
from ..validation import real
from .base import Layer


class Rescaling(Layer):
    def __init__(self, scale=1.0, offset=0.0, **kw):
        super().__init__(**kw)
        self.scale = real(scale, "Rescaling scale")
        self.offset = real(offset, "Rescaling offset")

    def forward(self, x, training=False):
        return x * self.dtype.type(self.scale) + self.dtype.type(self.offset)

    def backward(self, grad_out, need_input_grad=True):
        return grad_out * self.dtype.type(self.scale)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}
