"""Slow, obviously-correct loop implementations to check the fast kernels against."""
import numpy as np


def conv2d_reference(x, kernel, bias, stride, padding):
    """Direct convolution with explicit loops (NHWC, kernel (KH, KW, C, F), TF 'same' rule)."""
    n, h, w, c = x.shape
    kh, kw, _, f = kernel.shape
    if padding == "same":
        oh, ow = -(-h // stride), -(-w // stride)
        ph = max((oh - 1) * stride + kh - h, 0)
        pw = max((ow - 1) * stride + kw - w, 0)
        top, left = ph // 2, pw // 2
    else:
        oh, ow = (h - kh) // stride + 1, (w - kw) // stride + 1
        top = left = 0
    out = np.zeros((n, oh, ow, f))
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for a in range(kh):
                    for e in range(kw):
                        y, xx = i * stride - top + a, j * stride - left + e
                        if 0 <= y < h and 0 <= xx < w:
                            out[b, i, j] += x[b, y, xx] @ kernel[a, e]
    return out + bias


def im2col_reference(x, kh, kw, stride, top, left, oh, ow):
    n, h, w, c = x.shape
    cols = np.zeros((n * oh * ow, kh * kw * c), x.dtype)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for a in range(kh):
                    for e in range(kw):
                        y, xx = i * stride - top + a, j * stride - left + e
                        if 0 <= y < h and 0 <= xx < w:
                            cols[(b * oh + i) * ow + j, (a * kw + e) * c:(a * kw + e + 1) * c] = x[b, y, xx]
    return cols


def col2im_reference(cols, n, h, w, c, kh, kw, stride, top, left, oh, ow):
    dx = np.zeros((n, h, w, c), cols.dtype)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for a in range(kh):
                    for e in range(kw):
                        y, xx = i * stride - top + a, j * stride - left + e
                        if 0 <= y < h and 0 <= xx < w:
                            dx[b, y, xx] += cols[(b * oh + i) * ow + j, (a * kw + e) * c:(a * kw + e + 1) * c]
    return dx


def maxpool_reference(x, p, stride):
    """Valid max pooling with loops; returns (out, grad routing mask of the first max)."""
    n, h, w, c = x.shape
    oh, ow = (h - p) // stride + 1, (w - p) // stride + 1
    out = np.zeros((n, oh, ow, c), x.dtype)
    first = np.zeros((n, oh, ow, c, 2), int)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    best, at = -np.inf, None
                    for a in range(p):
                        for e in range(p):
                            v = x[b, i * stride + a, j * stride + e, ch]
                            if at is None or v > best:
                                best, at = v, (i * stride + a, j * stride + e)
                    out[b, i, j, ch] = best
                    first[b, i, j, ch] = at
    return out, first
