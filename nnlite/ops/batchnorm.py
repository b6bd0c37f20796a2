"""Batch-normalisation kernels over the last axis of a (M, C) array, in few passes over memory.

NumPy's ``mean`` + ``var`` + normalise + scale read the (M, C) array five or more times and
allocate as many temporaries; these loops read it twice forward (statistics per sample while
the sample is in cache, then normalise) and twice backward.
Sums are accumulated in float64 (stable for M up to millions), results come back in x's dtype.
"""
import numba
import numpy as np

from .reduce import sum_rows


def bn_stats(x):
    """x (N, ..., C) -> (mean (C,), biased variance (C,)) in x's dtype: each sample's mean and
    squared deviations (``sample_stats``), combined over the samples in order
    (``combine_stats``). Fused execution computes the per-sample part inside a conv's chunks of
    images (nnlite/layers/fusion.py): the same numbers, bit for bit."""
    n, c = x.shape[0], x.shape[-1]
    x3 = x.reshape(n, -1, c)
    mean, m2 = np.empty((n, c)), np.empty((n, c))
    sample_stats(x3, x3[0, 0], False, mean, m2)
    mean, var = combine_stats(mean, m2, x3.shape[1])
    return mean.astype(x.dtype), var.astype(x.dtype)


@numba.njit(cache=True, nogil=True)
def sample_stats(x, bias, add_bias, mean, m2):
    """x (N, R, C) -> mean, m2 (N, C) float64: each sample's mean and sum of squared deviations
    over its R rows, two passes while it is in cache. ``add_bias``: first x += bias in place
    (a conv's bias, added by fused execution in the same pass)."""
    n_img, rows, c = x.shape
    for n in range(n_img):
        mean[n] = 0.0
        m2[n] = 0.0
        for r in range(rows):
            for ch in range(c):
                v = x[n, r, ch]
                if add_bias:
                    v = v + bias[ch]
                    x[n, r, ch] = v
                mean[n, ch] += v
        mean[n] /= rows
        for r in range(rows):
            for ch in range(c):
                d = x[n, r, ch] - mean[n, ch]
                m2[n, ch] += d * d


@numba.njit(cache=True, nogil=True)
def combine_stats(mean, m2, rows):
    """Per-sample (mean, m2) (N, C) of ``rows`` values each -> (mean, biased variance) (C,),
    float64, by Chan et al.'s pairwise update, sample after sample."""
    n_img, c = mean.shape
    total_mean, total_m2, count = mean[0].copy(), m2[0].copy(), rows
    for n in range(1, n_img):
        total = count + rows
        for ch in range(c):
            delta = mean[n, ch] - total_mean[ch]
            total_mean[ch] += delta * rows / total
            total_m2[ch] += m2[n, ch] + delta * delta * count * rows / total
        count = total
    return total_mean, total_m2 / count


@numba.njit(cache=True, nogil=True)
def bn_normalize(x, mean, inv_std, gamma, beta):
    """-> (xhat, y) with xhat = (x - mean) * inv_std and y = gamma * xhat + beta; all (M, C)."""
    m, c = x.shape
    xhat = np.empty_like(x)
    y = np.empty_like(x)
    for r in range(m):
        for ch in range(c):
            v = (x[r, ch] - mean[ch]) * inv_std[ch]
            xhat[r, ch] = v
            y[r, ch] = v * gamma[ch] + beta[ch]
    return xhat, y


def bn_param_grads(dy, xhat):
    """dy, xhat (N, ..., C) -> (dgamma = sum dy*xhat, dbeta = sum dy), both (C,) in dy's dtype:
    each sample's sums (``sample_param_grads``), then those added sample after sample, all in
    float64 (fused execution makes the per-sample sums in parallel: the same numbers)."""
    n, c = dy.shape[0], dy.shape[-1]
    dg, db = np.empty((n, c)), np.empty((n, c))
    sample_param_grads(dy.reshape(n, -1, c), xhat.reshape(n, -1, c), dg, db)
    return sum_rows(dg).astype(dy.dtype), sum_rows(db).astype(dy.dtype)


@numba.njit(cache=True, nogil=True)
def sample_param_grads(dy, xhat, dg, db):
    """dy, xhat (N, R, C) -> dg, db (N, C) float64: per sample, sum over rows of dy*xhat, dy."""
    n_img, rows, c = dy.shape
    for n in range(n_img):
        dg[n] = 0.0
        db[n] = 0.0
        for r in range(rows):
            for ch in range(c):
                dg[n, ch] += dy[n, r, ch] * xhat[n, r, ch]
                db[n, ch] += dy[n, r, ch]


@numba.njit(cache=True, nogil=True)
def bn_input_grad(dy, xhat, scale, dgamma, dbeta):
    """Training-mode dx = scale * (dy - dbeta/M - xhat * dgamma/M), (M, C)."""
    m, c = dy.shape
    dx = np.empty_like(dy)
    mean_db = dbeta / m
    mean_dg = dgamma / m
    for r in range(m):
        for ch in range(c):
            dx[r, ch] = scale[ch] * (dy[r, ch] - mean_db[ch] - xhat[r, ch] * mean_dg[ch])
    return dx
