"""Batch-normalisation kernels over the last axis of a (M, C) array, in few passes over memory.

NumPy's ``mean`` + ``var`` + normalise + scale read the (M, C) array five or more times and
allocate as many temporaries; these loops read it twice forward and twice backward.
Sums are accumulated in float64 (stable for M up to millions), results come back in x's dtype.
"""
import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def bn_stats(x):
    """x (M, C) -> (mean (C,), biased variance (C,)), two passes (mean, then squared deviations)."""
    m, c = x.shape
    s = np.zeros(c)
    for r in range(m):
        for ch in range(c):
            s[ch] += x[r, ch]
    mean = s / m
    q = np.zeros(c)
    for r in range(m):
        for ch in range(c):
            d = x[r, ch] - mean[ch]
            q[ch] += d * d
    return mean.astype(x.dtype), (q / m).astype(x.dtype)


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


@numba.njit(cache=True, nogil=True)
def bn_param_grads(dy, xhat):
    """-> (dgamma = sum_r dy*xhat, dbeta = sum_r dy), both (C,), float64 accumulation."""
    m, c = dy.shape
    dg = np.zeros(c)
    db = np.zeros(c)
    for r in range(m):
        for ch in range(c):
            dg[ch] += dy[r, ch] * xhat[r, ch]
            db[ch] += dy[r, ch]
    return dg.astype(dy.dtype), db.astype(dy.dtype)


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
