"""The Numba kernels against slow loop references (tests/reference.py)."""
import numpy as np
import pytest

from nnlite.layers import Conv2D
from nnlite.ops import (col2im_add, conv_output_size, im2col, maxpool_backward, maxpool_forward,
                        same_padding)
from tests.reference import (col2im_reference, conv2d_reference, im2col_reference,
                             maxpool_reference)

GEOMETRIES = [(3, 3, 1, "same"), (3, 3, 2, "same"), (5, 5, 1, "same"), (3, 3, 1, "valid"),
              (5, 5, 2, "valid"), (1, 3, 1, "same"), (2, 2, 2, "valid")]


def col2im(cols, n, h, w, c, kh, kw, s, top, left, oh, ow):
    """col2im_add into zeros: the adjoint of im2col as a function, dx (N, H, W, C)."""
    dx = np.zeros((n, h, w, c), cols.dtype)
    col2im_add(cols, dx, kh, kw, s, top, left, oh, ow)
    return dx


def _geometry(h, w, kh, kw, s, padding):
    oh, ow = conv_output_size(h, kh, s, padding), conv_output_size(w, kw, s, padding)
    top = same_padding(h, kh, s)[0] if padding == "same" else 0
    left = same_padding(w, kw, s)[0] if padding == "same" else 0
    return oh, ow, top, left


@pytest.mark.parametrize("kh,kw,s,padding", GEOMETRIES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_im2col_and_col2im_add_match_reference(rng, kh, kw, s, padding, dtype):
    x = rng.standard_normal((3, 9, 8, 2)).astype(dtype)
    oh, ow, top, left = _geometry(9, 8, kh, kw, s, padding)
    cols = im2col(x, kh, kw, s, top, left, oh, ow)
    assert cols.dtype == dtype
    np.testing.assert_array_equal(cols, im2col_reference(x, kh, kw, s, top, left, oh, ow))
    g = rng.standard_normal(cols.shape).astype(dtype)
    np.testing.assert_allclose(col2im(g, 3, 9, 8, 2, kh, kw, s, top, left, oh, ow),
                               col2im_reference(g, 3, 9, 8, 2, kh, kw, s, top, left, oh, ow),
                               rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-5)


def test_col2im_is_the_adjoint_of_im2col(rng):
    """<im2col(x), g> == <x, col2im(g)> for every x, g: the definition of the adjoint."""
    x = rng.standard_normal((2, 7, 7, 3))
    oh, ow, top, left = _geometry(7, 7, 3, 3, 2, "same")
    g = rng.standard_normal((2 * oh * ow, 27))
    lhs = np.sum(im2col(x, 3, 3, 2, top, left, oh, ow) * g)
    rhs = np.sum(x * col2im(g, 2, 7, 7, 3, 3, 3, 2, top, left, oh, ow))
    assert lhs == pytest.approx(rhs, rel=1e-12)


@pytest.mark.parametrize("padding,stride,kernel", [("same", 1, 3), ("valid", 2, 5),
                                                   ("same", 2, (1, 3))])
def test_conv2d_forward_matches_direct_convolution(rng, padding, stride, kernel):
    layer = Conv2D(5, kernel, strides=stride, padding=padding, dtype="float64")
    layer.rng = rng
    x = rng.standard_normal((2, 9, 10, 3))
    out = layer(x)
    layer.params["bias"][:] = rng.standard_normal(5)
    out = layer.forward(x)
    ref = conv2d_reference(x, layer.params["kernel"], layer.params["bias"], stride, padding)
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)


def test_same_padding_follows_tensorflow():
    # TF puts the odd extra pad after: 28 with k=2, s=2 needs none; 7 with k=3, s=2 needs 2
    assert same_padding(28, 3, 1) == (1, 1)
    assert same_padding(7, 2, 2) == (0, 1)
    assert same_padding(6, 5, 2) == (1, 2)
    assert conv_output_size(7, 2, 2, "valid") == 3 and conv_output_size(7, 2, 2, "same") == 4


@pytest.mark.parametrize("p,s", [(2, 2), (3, 2), (2, 1)])
def test_maxpool_kernels_match_reference(rng, p, s):
    x = rng.standard_normal((3, 8, 9, 4)).astype(np.float32)
    oh, ow = (8 - p) // s + 1, (9 - p) // s + 1
    out, arg = maxpool_forward(x, p, p, s, s, 0, 0, oh, ow)
    ref_out, first = maxpool_reference(x, p, s)
    np.testing.assert_array_equal(out, ref_out)
    g = rng.standard_normal(out.shape).astype(np.float32)
    dx = maxpool_backward(g, arg, 8, 9)
    ref_dx = np.zeros_like(x)
    for idx in np.ndindex(out.shape):
        b, i, j, ch = idx
        yy, xx = first[idx]
        ref_dx[b, yy, xx, ch] += g[idx]
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-6)


def test_maxpool_tie_goes_to_first_max(rng):
    x = np.zeros((1, 2, 2, 1), np.float32)     # all equal: the top-left one wins
    out, arg = maxpool_forward(x, 2, 2, 2, 2, 0, 0, 1, 1)
    assert arg[0, 0, 0, 0] == 0
