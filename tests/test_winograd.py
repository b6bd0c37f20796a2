"""Winograd F(2x2, 3x3) kernels (nnlite/ops/winograd.py) against the direct loop convolution,
and each transform against its adjoint (<T a, b> == <a, T* b>), in float64."""
import numpy as np
import pytest

from nnlite.ops import winograd as W
from reference import conv2d_reference


@pytest.mark.parametrize("h, w, padding", [(6, 6, "same"), (7, 5, "same"), (1, 1, "same"),
                                           (8, 9, "valid"), (3, 3, "valid"), (4, 7, "valid")])
def test_winograd_convolution_equals_the_direct_loops(rng, h, w, padding):
    x = rng.standard_normal((3, h, w, 4))
    kernel = rng.standard_normal((3, 3, 4, 5))
    expected = conv2d_reference(x, kernel, np.zeros(5), 1, padding)
    pad = 1 if padding == "same" else 0
    y = np.empty(expected.shape)
    W.conv_forward(x, W.kernel_transform(kernel), pad, pad, y)
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("oh, ow", [(4, 4), (5, 3), (1, 2)])
def test_each_transform_is_the_adjoint_of_its_backward(rng, oh, ow):
    th, tw = W.tiles(oh, ow)
    n, c, f = 2, 3, 4
    xp = rng.standard_normal((n, 2 * th + 2, 2 * tw + 2, c))
    dv = rng.standard_normal((16, n * th * tw, c))
    v = np.empty_like(dv)
    W.input_transform(xp, th, tw, v)
    back = np.zeros_like(xp)
    W.input_transform_adjoint(dv, th, tw, back)
    assert np.isclose(np.sum(v * dv), np.sum(xp * back), rtol=1e-12)

    m = rng.standard_normal((16, n * th * tw, f))
    dy = rng.standard_normal((n, oh, ow, f))
    y = np.empty_like(dy)
    W.output_transform(m, th, tw, y)
    dm = np.empty_like(m)
    W.output_transform_adjoint(dy, th, tw, dm)
    assert np.isclose(np.sum(y * dy), np.sum(m * dm), rtol=1e-12)

    g = rng.standard_normal((3, 3, c, f))
    du = rng.standard_normal((16, c, f))
    assert np.isclose(np.sum(W.kernel_transform(g) * du),
                      np.sum(g * W.kernel_transform_adjoint(du)), rtol=1e-12)


def test_winograd_gradients_equal_the_direct_convolutions_gradients(rng):
    """dx and dkernel from conv_backward equal those of the im2col path's formulas computed
    by the loop reference (central differences of the direct convolution)."""
    x = rng.standard_normal((2, 5, 4, 3))
    kernel = rng.standard_normal((3, 3, 3, 2))
    dy = rng.standard_normal((2, 5, 4, 2))
    u = W.kernel_transform(kernel)
    y = np.empty(dy.shape)
    v = W.conv_forward(x, u, 1, 1, y)
    dx = np.empty_like(x)
    dkernel = W.kernel_transform_adjoint(W.conv_backward(dy, v, u, 1, 1, dx))

    def loss(xx, kk):
        return np.sum(conv2d_reference(xx, kk, np.zeros(2), 1, "same") * dy)
    eps = 1e-6
    for idx in [(0, 0, 0, 0), (1, 4, 3, 2), (0, 2, 1, 1)]:
        e = np.zeros_like(x)
        e[idx] = eps
        assert abs((loss(x + e, kernel) - loss(x - e, kernel)) / (2 * eps) - dx[idx]) < 1e-7
    for idx in [(0, 0, 0, 0), (2, 2, 2, 1), (1, 0, 1, 0)]:
        e = np.zeros_like(kernel)
        e[idx] = eps
        assert abs((loss(x, kernel + e) - loss(x, kernel - e)) / (2 * eps)
                   - dkernel[idx]) < 1e-7
