"""Direct convolution loops for inputs with few channels (a network's first layer), forward.

With C = 1 input channel, im2col turns a 3x3 convolution into a matrix product with an inner
dimension of 9: BLAS runs such thin products far below its peak (each output value is 9
multiply-adds, then a store). Here, for NHWC xp (N, Hp, Wp, C) already zero-padded, kernel
(KH, KW, C, F) and y (N, OH, OW, F):

    y[n, i, j, :] = sum over c, a, b of xp[n, i*S + a, j*S + b, c] * kernel[a, b, c, :]

The innermost loop runs over the F filters (contiguous: vectorised), and for 3x3 and 5x5
kernels the whole window is one written-out expression, so each output value is stored once per
channel after all its multiply-adds in registers (a loop over the taps would load and store it
after each; measured 2.5x slower). Other sizes take that plain loop. The backward products have
large inner dimensions (N*OH*OW for the kernel gradient), where BLAS is efficient: Conv2D runs
them as the im2col formulas. Serial, ``nogil``: Conv2D runs it per chunk of images on its
worker threads. Loop reference: tests/reference.py.
"""
import numba


@numba.njit(cache=True, nogil=True)
def conv_forward(xp, kernel, stride, y):
    """y (N, OH, OW, F) = the convolution of the zero-padded xp by kernel, no bias."""
    kh, kw, c, _ = kernel.shape
    for n in range(xp.shape[0]):
        for ch in range(c):                     # channel 0 writes y, the others add to it
            if kh == 3 and kw == 3:
                _window3(xp, kernel, stride, y, n, ch)
            elif kh == 5 and kw == 5:
                _window5(xp, kernel, stride, y, n, ch)
            else:
                _window_loop(xp, kernel, stride, y, n, ch)


@numba.njit(cache=True, nogil=True)
def _window3(x, w, stride, y, n, ch):
    _, oh, ow, f = y.shape
    for i in range(oh):
        r = i * stride
        for j in range(ow):
            s = j * stride
            x00, x01, x02 = x[n, r, s, ch], x[n, r, s + 1, ch], x[n, r, s + 2, ch]
            x10, x11, x12 = x[n, r + 1, s, ch], x[n, r + 1, s + 1, ch], x[n, r + 1, s + 2, ch]
            x20, x21, x22 = x[n, r + 2, s, ch], x[n, r + 2, s + 1, ch], x[n, r + 2, s + 2, ch]
            for k in range(f):
                v = (x00 * w[0, 0, ch, k] + x01 * w[0, 1, ch, k] + x02 * w[0, 2, ch, k]
                     + x10 * w[1, 0, ch, k] + x11 * w[1, 1, ch, k] + x12 * w[1, 2, ch, k]
                     + x20 * w[2, 0, ch, k] + x21 * w[2, 1, ch, k] + x22 * w[2, 2, ch, k])
                y[n, i, j, k] = v if ch == 0 else y[n, i, j, k] + v


@numba.njit(cache=True, nogil=True)
def _window5(x, w, stride, y, n, ch):
    _, oh, ow, f = y.shape
    for i in range(oh):
        r = i * stride
        for j in range(ow):
            s = j * stride
            x00, x01, x02, x03, x04 = (x[n, r, s, ch], x[n, r, s + 1, ch], x[n, r, s + 2, ch],
                                       x[n, r, s + 3, ch], x[n, r, s + 4, ch])
            x10, x11, x12, x13, x14 = (x[n, r + 1, s, ch], x[n, r + 1, s + 1, ch],
                                       x[n, r + 1, s + 2, ch], x[n, r + 1, s + 3, ch],
                                       x[n, r + 1, s + 4, ch])
            x20, x21, x22, x23, x24 = (x[n, r + 2, s, ch], x[n, r + 2, s + 1, ch],
                                       x[n, r + 2, s + 2, ch], x[n, r + 2, s + 3, ch],
                                       x[n, r + 2, s + 4, ch])
            x30, x31, x32, x33, x34 = (x[n, r + 3, s, ch], x[n, r + 3, s + 1, ch],
                                       x[n, r + 3, s + 2, ch], x[n, r + 3, s + 3, ch],
                                       x[n, r + 3, s + 4, ch])
            x40, x41, x42, x43, x44 = (x[n, r + 4, s, ch], x[n, r + 4, s + 1, ch],
                                       x[n, r + 4, s + 2, ch], x[n, r + 4, s + 3, ch],
                                       x[n, r + 4, s + 4, ch])
            for k in range(f):
                v = (x00 * w[0, 0, ch, k] + x01 * w[0, 1, ch, k] + x02 * w[0, 2, ch, k]
                     + x03 * w[0, 3, ch, k] + x04 * w[0, 4, ch, k]
                     + x10 * w[1, 0, ch, k] + x11 * w[1, 1, ch, k] + x12 * w[1, 2, ch, k]
                     + x13 * w[1, 3, ch, k] + x14 * w[1, 4, ch, k]
                     + x20 * w[2, 0, ch, k] + x21 * w[2, 1, ch, k] + x22 * w[2, 2, ch, k]
                     + x23 * w[2, 3, ch, k] + x24 * w[2, 4, ch, k]
                     + x30 * w[3, 0, ch, k] + x31 * w[3, 1, ch, k] + x32 * w[3, 2, ch, k]
                     + x33 * w[3, 3, ch, k] + x34 * w[3, 4, ch, k]
                     + x40 * w[4, 0, ch, k] + x41 * w[4, 1, ch, k] + x42 * w[4, 2, ch, k]
                     + x43 * w[4, 3, ch, k] + x44 * w[4, 4, ch, k])
                y[n, i, j, k] = v if ch == 0 else y[n, i, j, k] + v


@numba.njit(cache=True, nogil=True)
def _window_loop(x, w, stride, y, n, ch):
    kh, kw, _, f = w.shape
    _, oh, ow, _ = y.shape
    for i in range(oh):
        for j in range(ow):
            if ch == 0:
                y[n, i, j] = 0
            for a in range(kh):
                for b in range(kw):
                    v = x[n, i * stride + a, j * stride + b, ch]
                    for k in range(f):
                        y[n, i, j, k] += v * w[a, b, ch, k]
