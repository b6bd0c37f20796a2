"""Conv2D (NHWC) as im2col + one matrix product per chunk of images.

Shapes: x (N, H, W, C) -> y (N, OH, OW, F); kernel (KH, KW, C, F), bias (F,).
Forward:  cols = im2col(x) (N*OH*OW, KH*KW*C);  y = act(cols @ K + b),  K = kernel as (KH*KW*C, F)
Backward, with dz = act'(y) * dy as (N*OH*OW, F):
    dK    = cols^T dz           -> reshaped to (KH, KW, C, F)
    dbias = sum over rows of dz
    dx    = col2im(dz K^T)      (the adjoint of im2col scatters-adds overlapping windows)
Every formula is row-separable over images, so the batch is cut into chunks of a few images
(``nnlite.ops.parallel``): each chunk's cols stay cache-sized and the chunks run on worker
threads; dK and dbias are the chunks' partial sums added in chunk order. Kernel taps that
only ever meet zero padding (``used_taps``) are left out of cols; their dK is 0.

Kernel choice, the ``algorithm`` attribute (an execution detail, not saved in model files):
"im2col" always uses the formulas above; "winograd" uses Winograd F(2x2, 3x3)
(``nnlite/ops/winograd.py``) wherever it applies (3x3 kernel, stride 1, every tap touching the
image) and falls back to im2col elsewhere; "direct" runs the forward as loops
(``nnlite/ops/direct.py``, for few input channels) and backward as im2col; "auto" (default)
uses the direct loops for 3x3 and 5x5 kernels on at most DIRECT_MAX_CHANNELS channels and
Winograd only where it also measured faster (see below). ``last_algorithm`` says which one ran.

Fused execution (``nnlite/layers/fusion.py``) calls ``forward_chunks`` / ``backward_chunks``,
the per-chunk halves of ``forward`` / ``backward``.
"""
import numpy as np

from .. import activations, initializers
from ..errors import ConfigError, InputError
from ..ops import (col2im_add, im2col, map_chunks, padded, sum_in_order, sum_rows, used_taps,
                   window_geometry)
from ..ops import direct, parallel, winograd
from ..validation import positive_int
from .base import Layer, check_padding, check_weight_options, expect_rank, to_pair


# "auto" (measured, benchmarks/results/REPORT.md): Winograd F(2x2, 3x3), 16 instead of 36
# multiplications per 2x2 tile, was 1.2-1.8x faster than im2col (forward + backward, batch 32)
# from 16 input channels and 7x7 outputs up; slower on 3x3 outputs (2x2 tiles cover 4x4) and on
# 1-channel inputs. 3x3 and 5x5 kernels on at most DIRECT_MAX_CHANNELS channels (a first layer)
# run the direct loops: im2col's product has an inner dimension of KH*KW*C there, 9 for a 3x3
# kernel on MNIST, where BLAS ran at 5-13 % of its peak.
WINOGRAD_MIN_CHANNELS = 16
WINOGRAD_MIN_SIZE = 4
DIRECT_MAX_CHANNELS = 3
ALGORITHMS = ("auto", "im2col", "winograd", "direct")


class Conv2D(Layer):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", activation=None,
                 kernel_regularizer=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", algorithm="auto", **kw):
        super().__init__(**kw)
        self.algorithm = algorithm
        self.filters = positive_int(filters, "Conv2D filters")
        self.kernel_size = to_pair(kernel_size, "Conv2D kernel_size")
        self.strides = to_pair(strides, "Conv2D strides")
        self.padding = check_padding(padding)
        check_weight_options(activation, kernel_initializer, bias_initializer, kernel_regularizer)
        self.activation = activation
        self._act, self._act_backward = activations.get(activation)
        self.kernel_regularizer = kernel_regularizer
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer

    @property
    def algorithm(self):
        """"auto", "im2col", "winograd" or "direct" (see the module docstring). May be changed
        between calls; backward follows the latest forward."""
        return self._algorithm

    @algorithm.setter
    def algorithm(self, value):
        if value not in ALGORITHMS:
            raise ConfigError(f"Conv2D algorithm must be one of {ALGORITHMS}, got {value!r}")
        self._algorithm = value

    def _geometry(self, input_shape):
        return window_geometry(input_shape, self.kernel_size, self.strides, self.padding)

    def _check_input(self, input_shape):
        expect_rank(self, input_shape, 3, "NHWC images (batch, height, width, channels)")
        oh, ow, _, _ = self._geometry(input_shape)
        if oh <= 0 or ow <= 0:
            raise InputError(f"layer '{self.name}': a {self.kernel_size} kernel with padding "
                             f"'valid' does not fit inputs of shape {input_shape}")
        if self.strides[0] != self.strides[1]:
            raise ConfigError("Conv2D: unequal strides are not supported")

    def weight_shapes_for(self, input_shape):
        """kernel (KH, KW, C, F), bias (F,)."""
        self._check_input(input_shape)
        return {"kernel": (*self.kernel_size, int(input_shape[2]), self.filters),
                "bias": (self.filters,)}

    def build(self, input_shape):
        self._check_input(input_shape)
        kh, kw = self.kernel_size
        shape = (kh, kw, input_shape[2], self.filters)
        self.params["kernel"] = initializers.get(self.kernel_initializer)(shape, self.rng, self.dtype)
        self.params["bias"] = initializers.get(self.bias_initializer)((self.filters,), self.rng,
                                                                       self.dtype)

    def compute_output_shape(self, input_shape):
        oh, ow, _, _ = self._geometry(input_shape)
        return (oh, ow, self.filters)

    def _taps(self, input_shape):
        """-> (taps_h, taps_w, oh, ow, pad_top, pad_left): slices of the kernel's taps that can
        touch the image, and im2col's geometry for that smaller kernel."""
        oh, ow, pt, pl = self._geometry(input_shape)
        (kh, kw), s = self.kernel_size, self.strides[0]
        a0, a1 = used_taps(input_shape[0], kh, s, pt, oh)
        b0, b1 = used_taps(input_shape[1], kw, s, pl, ow)
        return slice(a0, a1), slice(b0, b1), oh, ow, pt - a0, pl - b0

    def _used_kernel(self, taps_h, taps_w):
        """The used taps of the kernel as a (taps*C, F) matrix (a view when all are used)."""
        kernel = self.params["kernel"][taps_h, taps_w]
        return np.ascontiguousarray(kernel).reshape(-1, self.filters)

    def _im2col(self, x, taps_h, taps_w, oh, ow, pt, pl, out=None):
        return im2col(x, taps_h.stop - taps_h.start, taps_w.stop - taps_w.start, self.strides[0],
                      pt, pl, oh, ow, out)

    def _cols_buffer(self, i, shape, dtype):
        """Training reuses chunk i's cols array from the previous step when the shape matches:
        a fresh multi-MB array is page-faulted in on every step (measured below)."""
        buf = self._buffers.get(i)
        if buf is None or buf.shape != shape or buf.dtype != dtype:
            buf = self._buffers[i] = np.empty(shape, dtype)   # distinct i: no race between threads
        return buf

    def _choose(self, channels, oh, ow, taps_h, taps_w):
        """The kernel forward runs (Winograd only where every tap of a 3x3 stride-1 kernel
        touches the image)."""
        winograd_applies = (self.kernel_size == (3, 3) and self.strides == (1, 1)
                            and taps_h == slice(0, 3) and taps_w == slice(0, 3))
        if self.algorithm == "auto":
            if channels <= DIRECT_MAX_CHANNELS and self.kernel_size in ((3, 3), (5, 5)):
                return "direct"
            large = channels >= WINOGRAD_MIN_CHANNELS and min(oh, ow) >= WINOGRAD_MIN_SIZE
            return "winograd" if winograd_applies and large else "im2col"
        if self.algorithm == "winograd" and not winograd_applies:
            return "im2col"
        return self.algorithm

    last_algorithm = None           # the kernel the latest forward ran: im2col, winograd, direct
    reuse_transforms = True         # inference keeps the Winograd kernel transform (below)
    _transform_cache = None

    def _winograd_kernel(self, training):
        """U (16, C, F). Inference reuses the last U while the kernel's bits are unchanged
        (``kernel_transform_cached``: any write is seen, by the optimizer, set_weights, a loaded
        file or a direct assignment); training recomputes it (the kernel changes every step)."""
        if training or not self.reuse_transforms:
            self._transform_cache = None
            return winograd.kernel_transform(self.params["kernel"])
        u, self._transform_cache = winograd.kernel_transform_cached(self.params["kernel"],
                                                                    self._transform_cache)
        return u

    def _bias_act(self, y):
        """y (rows, F) in place: y = act(y + bias)."""
        y += self.params["bias"]
        act = self._act(y)
        if act is not y:                        # relu/tanh/linear work in place, others not
            y[...] = act

    def forward(self, x, training=False):
        f = self.filters
        return self.forward_chunks(x, training,
                                   lambda part, y: self._bias_act(y.reshape(-1, f)))[0]

    def forward_chunks(self, x, training, epilogue):
        """y (N, OH, OW, F) = x convolved with the kernel, no bias, by chunks of images on the
        worker threads; ``epilogue(part, y[part])`` runs on each chunk right after its product,
        while it is in cache. -> (y, [epilogue results in chunk order])."""
        n, (h, w, c), f, s = x.shape[0], x.shape[1:], self.filters, self.strides[0]
        taps_h, taps_w, oh, ow, pt, pl = self._taps((h, w, c))
        self._x = x
        self._y = y = np.empty((n, oh, ow, f), x.dtype)
        self._buffers = getattr(self, "_buffers", {})
        self.last_algorithm = kind = self._choose(c, oh, ow, taps_h, taps_w)
        if kind == "winograd":      # backward reuses the transformed kernel (same weights)
            self._kernel_matrix = u = self._winograd_kernel(training)
            per_image = 16 * ((oh + 1) // 2) * ((ow + 1) // 2) * c      # values of V

            def product(i, part):               # -> V of the chunk (backward needs it)
                return winograd.conv_forward(x[part], u, pt, pl, y[part])
        elif kind == "direct":      # backward: the im2col formulas, cols made again there
            self._kernel_matrix = self._used_kernel(taps_h, taps_w)
            kernel, (kh, kw) = self.params["kernel"], self.kernel_size
            per_image = oh * ow * kernel[..., 0].size                   # multiply-adds / F

            def product(i, part):               # the whole kernel: padding as it was
                xp = padded(x[part], kh, kw, s, pt + taps_h.start, pl + taps_w.start, oh, ow)
                direct.conv_forward(xp, kernel, s, y[part])
        else:
            self._kernel_matrix = kernel = self._used_kernel(taps_h, taps_w)
            per_image = oh * ow * kernel.shape[0]                       # values of cols

            def product(i, part):               # -> cols of the chunk (backward needs them)
                buf = self._cols_buffer(i, ((part.stop - part.start) * oh * ow,
                                            kernel.shape[0]), x.dtype) if training else None
                cols = self._im2col(x[part], taps_h, taps_w, oh, ow, pt, pl, buf)
                np.matmul(cols, kernel, out=y[part].reshape(-1, f))   # a view: part cuts axis 0
                return cols
        self._chunks = parallel.chunks(n, per_image, parallel.CONV_CHUNK)

        def forward_chunk(i):                   # inference keeps nothing for backward (memory)
            part = self._chunks[i]
            saved = product(i, part)
            return saved if training else None, epilogue(part, y[part])
        results = map_chunks(forward_chunk, range(len(self._chunks)))
        self._saved = [r[0] for r in results]
        return y, [r[1] for r in results]

    def backward(self, grad_out, need_input_grad=True):
        """dy (N, OH, OW, F) -> dx (N, H, W, C) by the algorithm forward used; with
        ``need_input_grad=False`` only the weight gradients (returns None)."""
        def dz_of(part):                        # dL/d(conv + bias) of a chunk of images
            return self._act_backward(self._y[part], grad_out[part])
        return self.backward_chunks(dz_of, need_input_grad)

    def backward_chunks(self, dz_of, need_input_grad=True):
        """Backward from ``dz_of(part)`` = dL/d(conv + bias) (n, OH, OW, F) of the images
        ``part``, asked for chunk by chunk on the worker threads."""
        y, f, s = self._y, self.filters, self.strides[0]
        taps_h, taps_w, oh, ow, pt, pl = self._taps(self.input_shape)
        kh, kw = taps_h.stop - taps_h.start, taps_w.stop - taps_w.start
        dx = np.zeros((len(y), *self.input_shape), y.dtype) if need_input_grad else None
        kind, u = self.last_algorithm, self._kernel_matrix      # as forward used them

        def backward_chunk(i):                  # -> (partial dkernel or dU, partial dbias)
            part = self._chunks[i]
            dz, saved, x = dz_of(part), self._saved[i], self._x[part]
            dx_part, dbias = dx[part] if need_input_grad else None, sum_rows(dz.reshape(-1, f))
            if kind == "winograd":
                if saved is None:               # forward ran in inference mode
                    saved = winograd.conv_forward(x, u, pt, pl, np.empty_like(dz))
                return winograd.conv_backward(dz, saved, u, pt, pl, dx_part), dbias
            cols = saved if saved is not None else self._im2col(   # "direct", or inference
                x, taps_h, taps_w, oh, ow, pt, pl,
                self._cols_buffer(i, (len(x) * oh * ow, u.shape[0]), x.dtype))
            dz = dz.reshape(-1, f)
            if need_input_grad:
                col2im_add(dz @ u.T, dx_part, kh, kw, s, pt, pl, oh, ow)
            return cols.T @ dz, dbias
        partial = map_chunks(backward_chunk, range(len(self._chunks)))
        total = sum_in_order([p[0] for p in partial])
        if kind == "winograd":
            self.grads["kernel"] = winograd.kernel_transform_adjoint(total)
        else:
            self.grads["kernel"] = np.zeros_like(self.params["kernel"])
            self.grads["kernel"][taps_h, taps_w] = total.reshape(kh, kw, -1, f)
        self.grads["bias"] = sum_in_order([p[1] for p in partial])
        return dx

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "activation": self.activation,
                "kernel_regularizer": self.kernel_regularizer.get_config()
                if self.kernel_regularizer else None}
