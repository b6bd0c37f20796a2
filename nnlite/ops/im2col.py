"""im2col / col2im for NHWC images: convolution as one matrix product.

For an input ``x`` of shape (N, H, W, C) and a (KH, KW) window with stride S, ``im2col``
returns ``cols`` of shape (N*OH*OW, KH*KW*C): row ``(n, i, j)`` holds the window whose top-left
corner is ``(i*S - pad_top, j*S - pad_left)``, flattened in (kh, kw, c) order — the order of a
Keras kernel (KH, KW, C, F) reshaped to (KH*KW*C, F). Padding is implicit (zeros are written,
not copied from a padded array). ``col2im`` is its adjoint: it scatters-adds the rows back.
"""
import numba
import numpy as np


def conv_output_size(size, kernel, stride, padding):
    """Output length along one axis, with Keras' 'valid' / 'same' rules."""
    if padding == "same":
        return -(-size // stride)
    return (size - kernel) // stride + 1


def same_padding(size, kernel, stride):
    """(before, after) zero padding that TensorFlow uses for 'same' (extra pad goes after)."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


@numba.njit(parallel=True, cache=True)
def im2col(x, kh, kw, stride, pad_top, pad_left, oh, ow):
    """x (N, H, W, C) -> cols (N*OH*OW, KH*KW*C); out-of-image taps are 0."""
    n_img, h, w, c = x.shape
    cols = np.empty((n_img * oh * ow, kh * kw * c), dtype=x.dtype)
    for n in numba.prange(n_img):
        for i in range(oh):
            for j in range(ow):
                row = (n * oh + i) * ow + j
                for a in range(kh):
                    y = i * stride - pad_top + a
                    for b in range(kw):
                        xx = j * stride - pad_left + b
                        base = (a * kw + b) * c
                        if 0 <= y < h and 0 <= xx < w:
                            for ch in range(c):
                                cols[row, base + ch] = x[n, y, xx, ch]
                        else:
                            for ch in range(c):
                                cols[row, base + ch] = 0.0
    return cols


@numba.njit(parallel=True, cache=True)
def col2im(cols, n_img, h, w, c, kh, kw, stride, pad_top, pad_left, oh, ow):
    """Adjoint of im2col: cols (N*OH*OW, KH*KW*C) -> dx (N, H, W, C), overlapping taps summed.

    Parallel over images only, so no two threads ever add into the same element and the sum
    order is fixed: the result is deterministic.
    """
    dx = np.zeros((n_img, h, w, c), dtype=cols.dtype)
    for n in numba.prange(n_img):
        for i in range(oh):
            for j in range(ow):
                row = (n * oh + i) * ow + j
                for a in range(kh):
                    y = i * stride - pad_top + a
                    if y < 0 or y >= h:
                        continue
                    for b in range(kw):
                        xx = j * stride - pad_left + b
                        if xx < 0 or xx >= w:
                            continue
                        base = (a * kw + b) * c
                        for ch in range(c):
                            dx[n, y, xx, ch] += cols[row, base + ch]
    return dx
