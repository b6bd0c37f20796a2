"""Reductions: column sums for bias gradients (dbias = sum over rows of dz (M, F) -> (F,)),
and a bitwise comparison of two arrays (``same_bits``).

NumPy's ``dz.sum(axis=0)`` on a tall float32 array is 4-25x slower than this loop (it reduces
along the strided axis) and accumulates in float32; here the sums are float64, then cast back.
"""
import numba
import numpy as np


@numba.njit(cache=True, nogil=True)
def sum_rows(a):
    """a (M, F) -> (F,) column sums in a's dtype, accumulated in float64."""
    m, f = a.shape
    s = np.zeros(f)
    for r in range(m):
        for j in range(f):
            s[j] += a[r, j]
    return s.astype(a.dtype)


@numba.njit(cache=True, nogil=True)
def same_bits(a, b):
    """a, b: 1-D unsigned-integer views of two arrays -> whether every element is equal. A
    kernel cache compares its copy of the weights with this (bitwise: a NaN equals itself; any
    change is seen), in blocks without branches, which vectorise."""
    if a.size != b.size:
        return False
    for start in range(0, a.size, 4096):
        diff = a[start] ^ a[start]
        for i in range(start, min(start + 4096, a.size)):
            diff |= a[i] ^ b[i]
        if diff:
            return False
    return True
