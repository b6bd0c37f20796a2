"""Winograd F(2x2, 3x3) kernels (nnlite/ops/winograd.py) against the direct loop convolution,
and each transform against its adjoint (<T a, b> == <a, T* b>), in float64."""
import numpy as np
import pytest

import nnlite
from nnlite.errors import ConfigError
from nnlite.layers import Conv2D
from nnlite.layers.conv2d import WINOGRAD_MIN_CHANNELS
from nnlite.modelfile import load_arrays_into, model_arrays
from nnlite.ops import winograd as W
from tests.reference import conv2d_reference


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


def _run(layer, x, g, algorithm):
    layer.algorithm = algorithm
    y = layer.forward(x, training=True)
    dx = layer.backward(g)
    return ([y, dx, layer.grads["kernel"].copy(), layer.grads["bias"].copy()],
            layer.last_algorithm == "winograd")


@pytest.mark.parametrize("padding, size", [("same", (9, 8)), ("valid", (10, 7))])
def test_conv2d_im2col_and_winograd_agree_in_float32(rng, padding, size):
    """Where "auto" picks Winograd, forcing either algorithm gives the same output, dx, dkernel
    and dbias up to float32 rounding (the two sum the products in different orders)."""
    layer = Conv2D(8, 3, padding=padding)
    layer.rng = rng
    x = rng.standard_normal((5, *size, WINOGRAD_MIN_CHANNELS)).astype(np.float32)
    g = rng.standard_normal(layer(x).shape).astype(np.float32)
    assert layer.last_algorithm == "winograd"       # "auto" chose Winograd here
    im2col, used_winograd = _run(layer, x, g, "im2col")
    assert not used_winograd
    winograd, used_winograd = _run(layer, x, g, "winograd")
    assert used_winograd
    for a, b in zip(im2col, winograd):
        scale = float(np.abs(a).max())
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5 * scale)


def test_conv2d_algorithm_setting(rng):
    """"winograd" also runs below the size "auto" wants, falls back to im2col where Winograd
    does not apply (5x5, stride 2), and is an execution detail: not in get_config; "auto" runs
    1-channel inputs through the direct loops."""
    x = rng.standard_normal((2, 6, 6, 1)).astype(np.float32)
    small = Conv2D(2, 3, padding="same", algorithm="winograd")
    small.rng = rng
    small(x)
    assert small.last_algorithm == "winograd"
    small.algorithm = "auto"
    small(x)
    assert small.last_algorithm == "direct"         # 1 channel: "auto" runs the direct loops
    for layer in (Conv2D(2, 5, padding="same", algorithm="winograd"),
                  Conv2D(2, 3, strides=2, padding="same", algorithm="winograd")):
        layer.rng = rng
        np.testing.assert_allclose(layer(x), conv2d_reference(
            x, layer.params["kernel"], layer.params["bias"], layer.strides[0], "same"),
            rtol=1e-5, atol=1e-5)
        assert layer.last_algorithm == "im2col"
        assert "algorithm" not in layer.get_config()
    with pytest.raises(ConfigError, match="algorithm"):
        Conv2D(2, 3, algorithm="fft")
    with pytest.raises(ConfigError, match="algorithm"):
        small.algorithm = None


def _cnn_with_a_winograd_layer():
    model = nnlite.zoo.build("cnn", seed=4).compile("adam")
    layer = model.layers[8]
    assert isinstance(layer, Conv2D) and layer.reuse_transforms
    return model, layer


def _fresh_logits(model, x):
    """Logits with every transform recomputed (no cache)."""
    for layer in model.layers:
        if isinstance(layer, Conv2D):
            layer.reuse_transforms = False
    try:
        return model.predict(x)
    finally:
        for layer in model.layers:
            if isinstance(layer, Conv2D):
                layer.reuse_transforms = True


def test_inference_reuses_the_winograd_transform_only_while_the_kernel_is_unchanged(rng):
    """predict keeps the transformed kernel between calls; a training step, set_weights, a
    model file loaded into the model and a direct assignment all change the kernel, and the
    next predict must use the new one (compared with a recomputed transform)."""
    model, layer = _cnn_with_a_winograd_layer()
    x, y = rng.random((3, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 3)
    first = model.predict(x)
    assert layer.last_algorithm == "winograd"
    u = layer._transform_cache[1]
    np.testing.assert_array_equal(model.predict(x), first)
    assert layer._transform_cache[1] is u                     # reused, not recomputed

    def changed(action):
        before = model.predict(x)
        action()
        after = model.predict(x)
        assert not np.array_equal(after, before)
        np.testing.assert_array_equal(after, _fresh_logits(model, x))

    changed(lambda: model.train_step(x, y))
    other = nnlite.zoo.build("cnn", seed=5)
    changed(lambda: model.set_weights(other.get_weights()))
    third = nnlite.zoo.build("cnn", seed=6)
    changed(lambda: load_arrays_into(model, model_arrays(third).items(), "test"))
    changed(lambda: layer.params["kernel"].__setitem__((0, 1, 2, 3), 5.0))
    model.train_step(x, y)
    assert layer._transform_cache is None                     # training drops it


def test_kernel_transform_cache_compares_bits():
    k = np.arange(2 * 3 * 3 * 4, dtype=np.float32).reshape(3, 3, 2, 4) / 7
    u, cache = W.kernel_transform_cached(k)
    assert W.kernel_transform_cached(k, cache)[0] is u
    k2 = k.copy()
    k2[1, 1, 1, 1] = np.nextafter(k2[1, 1, 1, 1], np.float32(10))   # one ulp
    u2, cache2 = W.kernel_transform_cached(k2, cache)
    assert u2 is not u and cache2 is not cache
    np.testing.assert_array_equal(u2, W.kernel_transform(k2))
    k2[0, 0, 0, 0] = np.nan                                     # NaN equals itself bitwise
    _, cache3 = W.kernel_transform_cached(k2, cache2)
    assert W.kernel_transform_cached(k2, cache3)[1] is cache3
