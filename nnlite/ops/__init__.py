"""Pure numerical kernels (no layer state): im2col and its adjoint ``col2im_add``, Winograd
F(2x2, 3x3) (``winograd.py``), direct convolution loops for few input channels
(``direct.py``), max pooling, batch-norm passes, the fused conv -> BN -> ReLU -> pool passes
(``fused.py``), bias sums, fused optimiser updates, the thread and malloc settings
(``threads.py``, ``malloc.py``) and the chunk-parallel map the layers use (``parallel.py``).

The loops are serial Numba ``njit`` functions (``nogil``: worker threads run them side by
side) compiled once and cached on disk (``cache=True``); im2col is a NumPy strided view + one
copy. Their slow, obviously-correct loop references live in
``tests/reference.py``; why each is written the way it is: benchmarks/results/REPORT.md.
"""
from .im2col import (conv_output_size, same_padding, window_geometry, im2col, col2im_add,
                     padded, used_taps)
from .parallel import chunks, map_chunks, sum_in_order
from .pool import maxpool_forward, maxpool_backward
from .batchnorm import bn_input_grad, bn_normalize, bn_param_grads, bn_stats
from .reduce import sum_rows
from .update import adam_update, sgd_momentum_update

__all__ = ["conv_output_size", "same_padding", "window_geometry", "im2col", "col2im_add",
           "padded", "used_taps", "chunks", "map_chunks", "sum_in_order",
           "maxpool_forward", "maxpool_backward", "adam_update", "sgd_momentum_update",
           "bn_stats", "bn_normalize", "bn_param_grads", "bn_input_grad", "sum_rows"]
