"""Fused passes for the chain conv -> [BatchNorm ->] ReLU [-> MaxPool], the block the zoo's
CNN (and, without BatchNorm, VGG16) repeats. Layer by layer, that chain reads and writes each
activation about ten times per training step (bias, two statistics passes, normalise, ReLU,
pool forward; pool, ReLU and BatchNorm backward). Fused (nnlite/layers/fusion.py):

forward   ``batchnorm.sample_stats`` on each chunk of conv output while it is in cache: the
                              bias, and each image's mean and squared deviations
          ``norm_relu_pool``  ONE pass: normalise (BatchNorm's formula), ReLU and max-pool,
                              writing the pooled output and a 1-byte ``code`` per output: the
                              window position of the max (first in row-major order on a tie),
                              or -1 where the max is <= 0 (ReLU passes no gradient there)
backward  ``pool_param_grads`` dgamma, dbeta from the pooled gradient and the codes
          ``pool_input_grad``  ONE pass writing dL/d(conv output): the pooled gradient routed by
                              ``code`` (the ReLU mask folded in) and BatchNorm's input gradient

Windows do not overlap (pool size = stride, 'valid'); no pooling is a 1x1 window. With
``normalize=False`` (conv with ReLU -> pool, no BatchNorm) the normalisation is skipped. The
element formulas and every sum's order are those of the layer-by-layer kernels
(``batchnorm.py``, ``pool.py``): xhat = (y - mean) * inv_std, out = xhat * gamma + beta,
dz = scale * (dv - mean_dbeta - xhat * mean_dgamma), so the results are the same bit for bit.
"""
import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def norm_relu_pool(y, mean, inv_std, gamma, beta, ph, pw, normalize, out, code):
    """y (N, H, W, C) -> out (N, H // ph, W // pw, C) = max-pool(relu(bn(y))), code (same
    shape, int8): the max's window position a * pw + b, or -1 where it is <= 0."""
    n_img, oh, ow, c = out.shape
    for n in range(n_img):
        for i in range(oh):
            for j in range(ow):
                for a in range(ph):
                    for b in range(pw):
                        at = a * pw + b
                        for ch in range(c):
                            v = y[n, i * ph + a, j * pw + b, ch]
                            if normalize:
                                v = (v - mean[ch]) * inv_std[ch] * gamma[ch] + beta[ch]
                            if at == 0 or v > out[n, i, j, ch]:
                                out[n, i, j, ch] = v
                                code[n, i, j, ch] = at
                for ch in range(c):
                    if out[n, i, j, ch] <= 0:             # ReLU (a NaN stays a NaN)
                        out[n, i, j, ch] = 0
                        code[n, i, j, ch] = -1


@numba.njit(cache=True, nogil=True)
def pool_param_grads(dout, code, y, mean, inv_std, ph, pw, dgamma, dbeta):
    """-> dgamma, dbeta (N, C) float64: per image, sums of dv * xhat and dv over the winning
    positions, in the row order of ``batchnorm.sample_param_grads`` (where the other positions
    add zeros): the same sums."""
    n_img, h, w, c = y.shape
    _, oh, ow, _ = dout.shape
    for n in range(n_img):
        dgamma[n] = 0.0
        dbeta[n] = 0.0
        for r in range(min(h, oh * ph)):
            i = r // ph
            for s in range(min(w, ow * pw)):
                j = s // pw
                at = (r - i * ph) * pw + (s - j * pw)
                for ch in range(c):
                    if code[n, i, j, ch] == at:
                        g = dout[n, i, j, ch]
                        dgamma[n, ch] += g * ((y[n, r, s, ch] - mean[ch]) * inv_std[ch])
                        dbeta[n, ch] += g


@numba.njit(cache=True, nogil=True)
def pool_input_grad(dout, code, y, mean, inv_std, scale, mean_dbeta, mean_dgamma, ph, pw,
                    normalize, dz):
    """dz (N, H, W, C) = dL/dy: dv = dout routed to each window's max by ``code`` (0 elsewhere,
    and on rows/columns the pool drops); with ``normalize``, BatchNorm's input gradient of dv."""
    n_img, h, w, c = dz.shape
    _, oh, ow, _ = dout.shape
    zero = dz.dtype.type(0)
    for n in range(n_img):
        for r in range(h):
            i = r // ph
            for s in range(w):
                j = s // pw
                at = (r - i * ph) * pw + (s - j * pw)
                inside = i < oh and j < ow
                for ch in range(c):
                    dv = dout[n, i, j, ch] if inside and code[n, i, j, ch] == at else zero
                    if normalize:
                        xhat = (y[n, r, s, ch] - mean[ch]) * inv_std[ch]
                        dv = scale[ch] * (dv - mean_dbeta[ch] - xhat * mean_dgamma[ch])
                    dz[n, r, s, ch] = dv
