"""Pure numerical kernels (no layer state): im2col/col2im, max pooling, fused updates.

Each is a Numba ``njit`` function compiled once and cached on disk (``cache=True``).
Their slow, obviously-correct loop references live in ``tests/reference.py``.
"""
from .im2col import conv_output_size, same_padding, im2col, col2im
from .pool import maxpool_forward, maxpool_backward
from .batchnorm import bn_input_grad, bn_normalize, bn_param_grads, bn_stats
from .update import adam_update, sgd_momentum_update

__all__ = ["conv_output_size", "same_padding", "im2col", "col2im",
           "maxpool_forward", "maxpool_backward", "adam_update", "sgd_momentum_update",
           "bn_stats", "bn_normalize", "bn_param_grads", "bn_input_grad"]
