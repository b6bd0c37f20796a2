"""Winograd F(2x2, 3x3): a 3x3, stride-1 convolution with 16 multiplications per 2x2 output
tile and channel pair instead of 36 (Lavin & Gray, 2015).

The output is cut into 2x2 tiles; tile t reads the 4x4 input patch d_t at (2i, 2j) of the
zero-padded input. With the constant matrices below, for every input channel c and filter f:

    y_tile = A^T [ (G g G^T) * (B^T d B) ] A          (* : elementwise, 4x4)

so one 3x3 convolution becomes 16 independent matrix products over channels:

    V[k] (T, C) = (B^T d B)[k]   for all tiles  -> ``input_transform``
    U[k] (C, F) = (G g G^T)[k]   for the kernel -> ``kernel_transform``
    M[k] (T, F) = V[k] @ U[k]                     (16 GEMMs, k = 0..15)
    y           = A^T M A        per tile         -> ``output_transform``

Every step is linear, so the backward pass is the same steps transposed, in reverse order:
``output_transform_adjoint`` (dy -> dM), dU[k] = V[k]^T dM[k], dV[k] = dM[k] U[k]^T,
``kernel_transform_adjoint`` (dU -> dg) and ``input_transform_adjoint`` (dV -> dx, overlapping
patches summed). The slow loop reference for all of it is tests/reference.py's direct
convolution; tests/test_winograd.py checks these kernels against it and gradients against
central differences.

Transforms (rows of B^T, G, A^T; points 0, 1, -1, infinity): additions only, except G's halves.
"""
import numba
import numpy as np

from .reduce import same_bits

BT = np.array([[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]], dtype=np.float64)
G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], dtype=np.float64)
AT = np.array([[1, 1, 1, 0], [0, 1, -1, -1]], dtype=np.float64)


def tiles(oh, ow):
    """Number of 2x2 output tiles down and across."""
    return (oh + 1) // 2, (ow + 1) // 2


def _apply_g(k, axis):
    """G (4x3) applied along ``axis`` of k: rows g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2."""
    g0, g1, g2 = (np.take(k, i, axis) for i in range(3))
    half = k.dtype.type(0.5)
    return np.stack([g0, (g0 + g1 + g2) * half, (g0 - g1 + g2) * half, g2], axis)


def _apply_gt(d, axis):
    """G^T (3x4) applied along ``axis`` of d: the adjoint of ``_apply_g``."""
    d0, d1, d2, d3 = (np.take(d, i, axis) for i in range(4))
    half = d.dtype.type(0.5)
    return np.stack([d0 + (d1 + d2) * half, (d1 - d2) * half, (d1 + d2) * half + d3], axis)


def kernel_transform(kernel):
    """(3, 3, C, F) -> U (16, C, F): G g G^T for every (c, f), flattened 4x4 row-major."""
    return _apply_g(_apply_g(kernel, 0), 1).reshape(16, *kernel.shape[2:])


def kernel_transform_cached(kernel, cache=None):
    """-> (U, cache): ``kernel_transform(kernel)``, reusing the U of ``cache`` (what an earlier
    call returned) while the kernel's bits equal the copy kept in it. The check reads the kernel
    once, cheaper than transforming it, and no write to the kernel can go unseen."""
    if cache is not None and same_bits(_bits(cache[0]), _bits(kernel)):
        return cache[1], cache
    u = kernel_transform(kernel)
    return u, (kernel.copy(), u)


def _bits(a):
    """An array's values as unsigned integers of the same width (flat; bitwise comparable)."""
    return np.ascontiguousarray(a).reshape(-1).view(f"u{a.itemsize}")


def kernel_transform_adjoint(du):
    """(16, C, F) -> (3, 3, C, F): G^T dU G, the gradient of ``kernel_transform``."""
    return _apply_gt(_apply_gt(du.reshape(4, 4, *du.shape[1:]), 0), 1)


@numba.njit(cache=True, nogil=True)
def input_transform(xp, th, tw, v):
    """xp (N, 2*th+2, 2*tw+2, C) zero-padded input -> v (16, N*th*tw, C): B^T d B per 4x4
    patch (rows of B^T: d0-d2, d1+d2, d2-d1, d1-d3; applied to rows, then to columns)."""
    n_img, c = xp.shape[0], xp.shape[3]
    d = np.empty((4, 4, c), xp.dtype)
    e = np.empty((4, 4, c), xp.dtype)
    for n in range(n_img):
        for i in range(th):
            for j in range(tw):
                t = (n * th + i) * tw + j
                for r in range(4):
                    for s in range(4):
                        for ch in range(c):
                            d[r, s, ch] = xp[n, 2 * i + r, 2 * j + s, ch]
                for s in range(4):                       # B^T d: combine rows
                    for ch in range(c):
                        e[0, s, ch] = d[0, s, ch] - d[2, s, ch]
                        e[1, s, ch] = d[1, s, ch] + d[2, s, ch]
                        e[2, s, ch] = d[2, s, ch] - d[1, s, ch]
                        e[3, s, ch] = d[1, s, ch] - d[3, s, ch]
                for r in range(4):                       # (B^T d) B: combine columns
                    for ch in range(c):
                        v[4 * r + 0, t, ch] = e[r, 0, ch] - e[r, 2, ch]
                        v[4 * r + 1, t, ch] = e[r, 1, ch] + e[r, 2, ch]
                        v[4 * r + 2, t, ch] = e[r, 2, ch] - e[r, 1, ch]
                        v[4 * r + 3, t, ch] = e[r, 1, ch] - e[r, 3, ch]


@numba.njit(cache=True, nogil=True)
def input_transform_adjoint(dv, th, tw, dxp):
    """dv (16, N*th*tw, C) -> dxp (N, 2*th+2, 2*tw+2, C) += B dV B^T per patch (overlapping
    patches summed): the gradient of ``input_transform``."""
    n_img, c = dxp.shape[0], dxp.shape[3]
    e = np.empty((4, 4, c), dv.dtype)
    for n in range(n_img):
        for i in range(th):
            for j in range(tw):
                t = (n * th + i) * tw + j
                for r in range(4):                       # columns: transpose of the forward
                    for ch in range(c):
                        a0 = dv[4 * r + 0, t, ch]
                        a1 = dv[4 * r + 1, t, ch]
                        a2 = dv[4 * r + 2, t, ch]
                        a3 = dv[4 * r + 3, t, ch]
                        e[r, 0, ch] = a0
                        e[r, 1, ch] = a1 - a2 + a3
                        e[r, 2, ch] = a1 + a2 - a0
                        e[r, 3, ch] = -a3
                for s in range(4):                       # rows
                    for ch in range(c):
                        b0, b1, b2, b3 = e[0, s, ch], e[1, s, ch], e[2, s, ch], e[3, s, ch]
                        dxp[n, 2 * i + 0, 2 * j + s, ch] += b0
                        dxp[n, 2 * i + 1, 2 * j + s, ch] += b1 - b2 + b3
                        dxp[n, 2 * i + 2, 2 * j + s, ch] += b1 + b2 - b0
                        dxp[n, 2 * i + 3, 2 * j + s, ch] += -b3


@numba.njit(cache=True, nogil=True)
def output_transform(m, th, tw, y):
    """m (16, N*th*tw, F) -> y (N, OH, OW, F) = A^T m A per tile (rows of A^T: m0+m1+m2,
    m1-m2-m3); outputs past OH/OW (odd sizes) are dropped."""
    n_img, oh, ow, f = y.shape
    e = np.empty((2, 4, f), m.dtype)
    for n in range(n_img):
        for i in range(th):
            for j in range(tw):
                t = (n * th + i) * tw + j
                for s in range(4):
                    for k in range(f):
                        e[0, s, k] = m[s, t, k] + m[4 + s, t, k] + m[8 + s, t, k]
                        e[1, s, k] = m[4 + s, t, k] - m[8 + s, t, k] - m[12 + s, t, k]
                for r in range(2):
                    if 2 * i + r >= oh:
                        continue
                    for k in range(f):
                        y[n, 2 * i + r, 2 * j, k] = e[r, 0, k] + e[r, 1, k] + e[r, 2, k]
                    if 2 * j + 1 < ow:
                        for k in range(f):
                            y[n, 2 * i + r, 2 * j + 1, k] = e[r, 1, k] - e[r, 2, k] - e[r, 3, k]


@numba.njit(cache=True, nogil=True)
def output_transform_adjoint(dy, th, tw, dm):
    """dy (N, OH, OW, F) -> dm (16, N*th*tw, F) = A dY A^T per tile (dropped outputs count
    as 0): the gradient of ``output_transform``."""
    n_img, oh, ow, f = dy.shape
    g = np.zeros((2, 2, f), dy.dtype)
    e = np.empty((2, 4, f), dy.dtype)
    for n in range(n_img):
        for i in range(th):
            for j in range(tw):
                t = (n * th + i) * tw + j
                for r in range(2):
                    for s in range(2):
                        inside = 2 * i + r < oh and 2 * j + s < ow
                        for k in range(f):
                            g[r, s, k] = dy[n, 2 * i + r, 2 * j + s, k] if inside else 0.0
                for r in range(2):                       # columns: A^T's transpose
                    for k in range(f):
                        e[r, 0, k] = g[r, 0, k]
                        e[r, 1, k] = g[r, 0, k] + g[r, 1, k]
                        e[r, 2, k] = g[r, 0, k] - g[r, 1, k]
                        e[r, 3, k] = -g[r, 1, k]
                for s in range(4):                       # rows
                    for k in range(f):
                        dm[s, t, k] = e[0, s, k]
                        dm[4 + s, t, k] = e[0, s, k] + e[1, s, k]
                        dm[8 + s, t, k] = e[0, s, k] - e[1, s, k]
                        dm[12 + s, t, k] = -e[1, s, k]


def conv_forward(x, u, pad_top, pad_left, y):
    """y (N, OH, OW, F) = 3x3 stride-1 convolution of x (N, H, W, C) by the kernel whose
    transform is u (16, C, F), no bias. Returns V (16, T, C), which backward needs."""
    n, h, w, c = x.shape
    th, tw = tiles(y.shape[1], y.shape[2])
    xp = np.zeros((n, 2 * th + 2, 2 * tw + 2, c), x.dtype)
    xp[:, pad_top:pad_top + h, pad_left:pad_left + w] = x
    v = np.empty((16, n * th * tw, c), x.dtype)
    input_transform(xp, th, tw, v)
    output_transform(np.matmul(v, u), th, tw, y)
    return v


def conv_backward(dy, v, u, pad_top, pad_left, dx=None):
    """Gradients of ``conv_forward`` for dy (N, OH, OW, F): returns dU (16, C, F) (turn it into
    the kernel gradient with ``kernel_transform_adjoint``) and, if ``dx`` (N, H, W, C) is
    given, writes the input gradient into it."""
    n, oh, ow, f = dy.shape
    th, tw = tiles(oh, ow)
    dm = np.empty((16, n * th * tw, f), dy.dtype)
    output_transform_adjoint(np.ascontiguousarray(dy), th, tw, dm)
    du = np.matmul(v.transpose(0, 2, 1), dm)
    if dx is not None:
        h, w, c = dx.shape[1:]
        dxp = np.zeros((n, 2 * th + 2, 2 * tw + 2, c), dy.dtype)
        input_transform_adjoint(np.matmul(dm, u.transpose(0, 2, 1)), th, tw, dxp)
        dx[...] = dxp[:, pad_top:pad_top + h, pad_left:pad_left + w]
    return du
