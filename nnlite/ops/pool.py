"""Max pooling kernels for NHWC, storing the argmax so backward is a scatter.

Tie rule (documented, tested): the FIRST maximum in row-major window order wins
(a later equal value does not replace it, because the comparison is strict ``>``).
Serial loops with the channel axis innermost, so each step reads contiguous memory.
"""
import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def maxpool_forward(x, ph, pw, stride_h, stride_w, pad_top, pad_left, oh, ow):
    """x (N, H, W, C) -> (out (N, OH, OW, C), argmax (N, OH, OW, C) as flat y*W+x index).

    Taps outside the image (padding='same') are ignored, i.e. act as -inf.
    """
    n_img, h, w, c = x.shape
    out = np.empty((n_img, oh, ow, c), dtype=x.dtype)
    arg = np.empty((n_img, oh, ow, c), dtype=np.int32)
    for n in range(n_img):
        for i in range(oh):
            for j in range(ow):
                first = True
                for a in range(ph):
                    y = i * stride_h - pad_top + a
                    if y < 0 or y >= h:
                        continue
                    for b in range(pw):
                        xx = j * stride_w - pad_left + b
                        if xx < 0 or xx >= w:
                            continue
                        at = y * w + xx
                        if first:                       # the first tap always counts
                            for ch in range(c):
                                out[n, i, j, ch] = x[n, y, xx, ch]
                                arg[n, i, j, ch] = at
                            first = False
                        else:
                            for ch in range(c):
                                v = x[n, y, xx, ch]
                                if v > out[n, i, j, ch]:
                                    out[n, i, j, ch] = v
                                    arg[n, i, j, ch] = at
    return out, arg


@numba.njit(cache=True, nogil=True)
def maxpool_backward(grad_out, arg, h, w):
    """Route each window's gradient to its argmax: (N, OH, OW, C) -> (N, H, W, C)."""
    n_img, oh, ow, c = grad_out.shape
    dx = np.zeros((n_img, h, w, c), dtype=grad_out.dtype)
    for n in range(n_img):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    k = arg[n, i, j, ch]
                    dx[n, k // w, k % w, ch] += grad_out[n, i, j, ch]
    return dx
