"""The performance kernels added for speed (batch-norm passes, bias sums, float32 Adam, the
BLAS thread setting) against plain NumPy formulas."""
import numpy as np
import pytest

import nnlite.sequential
import nnlite.zoo
from nnlite.errors import ConfigError
from nnlite.layers import Conv2D
from nnlite.ops import (adam_update, bn_input_grad, bn_normalize, bn_param_grads, bn_stats,
                        parallel, sum_rows, used_taps, window_geometry)
from nnlite.ops.threads import available_cores, blas_threads, num_threads
from tests.reference import conv2d_reference


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bn_kernels_match_numpy_formulas(rng, dtype):
    x = (rng.standard_normal((300, 7)) * 3 + 5).astype(dtype)
    mean, var = bn_stats(x)
    assert mean.dtype == dtype and var.dtype == dtype
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(mean, x.astype(np.float64).mean(0), rtol=tol)
    np.testing.assert_allclose(var, x.astype(np.float64).var(0), rtol=tol)
    inv = (1 / np.sqrt(var + 1e-3)).astype(dtype)
    gamma, beta = rng.standard_normal(7).astype(dtype), rng.standard_normal(7).astype(dtype)
    xhat, y = bn_normalize(x, mean, inv, gamma, beta)
    np.testing.assert_allclose(xhat, (x - mean) * inv, rtol=tol, atol=tol)
    np.testing.assert_allclose(y, xhat * gamma + beta, rtol=tol, atol=tol)
    dy = rng.standard_normal(x.shape).astype(dtype)
    dg, db = bn_param_grads(dy, xhat)
    np.testing.assert_allclose(dg, (dy * xhat).sum(0), rtol=10 * tol, atol=10 * tol)
    np.testing.assert_allclose(db, dy.sum(0), rtol=10 * tol, atol=10 * tol)
    scale = gamma * inv
    dx = bn_input_grad(dy, xhat, scale, dg, db)
    m = len(x)
    np.testing.assert_allclose(dx, scale * (dy - db / m - xhat * dg / m), rtol=10 * tol,
                               atol=10 * tol)


@pytest.mark.parametrize("shape", [(1, 3), (257, 16), (5000, 4)])
def test_sum_rows_is_a_float64_accurate_column_sum(rng, shape):
    a = rng.standard_normal(shape).astype(np.float32)
    s = sum_rows(a)
    assert s.dtype == np.float32 and s.shape == (shape[1],)
    np.testing.assert_allclose(s, a.astype(np.float64).sum(0), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(sum_rows(a[:, ::2]), sum_rows(np.ascontiguousarray(a[:, ::2])))


def test_float32_adam_kernel_stays_float32_and_matches_float64_within_rounding(rng):
    w32 = rng.standard_normal(1000).astype(np.float32)
    w64 = w32.astype(np.float64)
    m32, v32 = np.zeros_like(w32), np.zeros_like(w32)
    m64, v64 = np.zeros_like(w64), np.zeros_like(w64)
    for _ in range(3):
        g = rng.standard_normal(1000)
        c = np.float32
        adam_update(w32, g.astype(np.float32), m32, v32, c(1e-3), c(0.9), c(0.999), c(1e-7))
        adam_update(w64, g, m64, v64, 1e-3, 0.9, 0.999, 1e-7)
    assert w32.dtype == np.float32
    np.testing.assert_allclose(w32, w64, rtol=1e-5, atol=1e-6)


def test_thread_setting(monkeypatch):
    monkeypatch.setenv("NNLITE_NUM_THREADS", "3")
    assert num_threads() == 3
    monkeypatch.delenv("NNLITE_NUM_THREADS")
    assert num_threads() == available_cores() >= 1
    for bad in ("many", "0", "-2"):
        monkeypatch.setenv("NNLITE_NUM_THREADS", bad)
        with pytest.raises(ConfigError, match="NNLITE_NUM_THREADS"):
            num_threads()
    monkeypatch.delenv("NNLITE_NUM_THREADS")
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def numpy_blas_threads():     # the BLAS numpy's matmul calls (scipy may load its own)
        return [d["num_threads"] for d in threadpoolctl.threadpool_info()
                if d["user_api"] == "blas" and "numpy" in d["filepath"]]

    before = numpy_blas_threads()
    with blas_threads(1):
        assert all(n == 1 for n in numpy_blas_threads())
    assert numpy_blas_threads() == before        # the caller's setting is restored


@pytest.mark.parametrize("training", [True, False])
def test_chunked_conv_equals_one_shot_for_any_thread_count(rng, monkeypatch, training):
    """Conv2D cuts the batch into chunks of images run on worker threads: the output, dx and
    the summed dK/dbias equal one im2col over the whole batch, for 1 or 3 threads; inference
    keeps no cols, so backward after it rebuilds them per chunk."""
    layer = Conv2D(4, 3, padding="same", activation="relu", dtype="float64")
    layer.rng = rng
    x = rng.standard_normal((7, 6, 5, 2))
    monkeypatch.setattr(parallel, "MIN_SPLIT", 10 ** 9)
    one_shot = layer(x, training=True)                    # builds; a single chunk
    assert len(layer._chunks) == 1
    g = rng.standard_normal(one_shot.shape)
    dx_one_shot = layer.backward(g)
    dk_one_shot, db_one_shot = layer.grads["kernel"].copy(), layer.grads["bias"].copy()
    monkeypatch.setattr(parallel, "MIN_SPLIT", 1)
    monkeypatch.setattr(parallel, "CONV_CHUNK", 1)             # 7 images -> 4 chunks
    for threads in ("1", "3"):
        monkeypatch.setenv("NNLITE_NUM_THREADS", threads)
        chunked = layer.forward(x, training=training)
        assert len(layer._chunks) == 4
        np.testing.assert_allclose(chunked, one_shot, rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(layer.backward(g), dx_one_shot, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer.grads["kernel"], dk_one_shot, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(layer.grads["bias"], db_one_shot, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["ann", "cnn"])
def test_training_step_skipping_the_first_input_gradient_gives_the_same_weights(rng, name):
    """train_step stops backward at the lowest layer with weights (no dL/dx there); the weight
    gradients must be exactly those of the full backward."""
    model = nnlite.zoo.build(name, seed=3)
    model.compile("adam")
    x = rng.random((6, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 6)
    out = x
    for layer in model.layers:
        out = layer.forward(out, training=True)
    model.loss.forward(out, y)
    model.backward(model.loss.backward())             # the full pass, input gradient included
    full = {(l.name, k): g.copy() for l in model.layers for k, g in l.grads.items()}
    model._backward_for_training(model.loss.backward())
    for l in model.layers:
        for k, g in l.grads.items():
            np.testing.assert_array_equal(g, full[(l.name, k)])


@pytest.mark.parametrize("size, kernel, stride", [(1, 3, 1), (2, 5, 1), (2, 5, 2), (1, 5, 2)])
def test_conv_leaves_out_taps_that_only_meet_padding(rng, size, kernel, stride):
    """On tiny 'same' inputs some kernel taps never touch the image; Conv2D leaves them out of
    im2col. Outputs and gradients must equal the full-kernel loop reference, and the left-out
    taps' kernel gradient must be exactly 0."""
    layer = Conv2D(3, kernel, strides=stride, padding="same", dtype="float64")
    layer.rng = rng
    x = rng.standard_normal((4, size, size, 2))
    y = layer(x, training=True)
    k, b = layer.params["kernel"], layer.params["bias"]
    oh, _, pt, _ = window_geometry((size, size), (kernel, kernel), (stride, stride), "same")
    first, stop = used_taps(size, kernel, stride, pt, oh)
    assert stop - first < kernel                                  # some taps were left out
    np.testing.assert_allclose(y, conv2d_reference(x, k, b, stride, "same"), atol=1e-12)
    g = rng.standard_normal(y.shape)
    dx = layer.backward(g)
    eps = 1e-6                              # the left-out taps: numerically zero gradient
    unused = np.ones(kernel, bool)
    unused[first:stop] = False
    assert np.all(layer.grads["kernel"][unused] == 0)
    assert np.all(layer.grads["kernel"][:, unused] == 0)
    dx_num = np.zeros_like(x)
    for idx in [(0, 0, 0, 0), (1, size - 1, size - 1, 1), (3, size // 2, 0, 0)]:
        xp, xm = x.copy(), x.copy()
        xp[idx] += eps
        xm[idx] -= eps
        f = lambda v: np.sum(conv2d_reference(v, k, b, stride, "same") * g)
        dx_num[idx] = (f(xp) - f(xm)) / (2 * eps)
        assert abs(dx[idx] - dx_num[idx]) < 1e-6


def test_predict_and_evaluate_cap_the_pass_size_without_changing_results(rng, monkeypatch):
    """predict/evaluate run at most INFERENCE_PASS_VALUES // (largest activation) images per
    forward pass; logits, loss and accuracy equal one forward pass over the whole batch."""
    model = nnlite.zoo.build("cnn", seed=1)
    model.compile("adam")
    x = rng.random((37, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 37)
    whole = model.forward(x)
    monkeypatch.setattr(nnlite.sequential, "INFERENCE_PASS_VALUES", 28 * 28 * 32 * 5)
    assert model._inference_pass(1000) == 5
    np.testing.assert_allclose(model.predict(x, batch_size=1000), whole, rtol=1e-6, atol=1e-6)
    loss, acc = model.evaluate(x, y, batch_size=1000)
    assert acc == np.mean(whole.argmax(1) == y)
    assert abs(loss - (model.loss.forward(whole, y) + model.regularization_loss())) < 1e-5


@pytest.mark.parametrize("channels, kernel, stride, padding", [
    (1, 3, 1, "same"), (1, 5, 1, "same"), (3, 3, 2, "same"), (2, 5, 2, "valid"),
    (1, 3, 1, "valid"), (3, 5, 1, "same"), (2, 5, 2, "same"), (2, (3, 2), 1, "same")])
def test_direct_convolution_equals_the_loop_reference_and_im2col(rng, channels, kernel, stride,
                                                                 padding):
    """algorithm="direct" (nnlite/ops/direct.py): output vs the loop reference; dx, dkernel and
    dbias vs the im2col path, in float64, for a first layer's few input channels."""
    layer = Conv2D(6, kernel, strides=stride, padding=padding, activation="relu",
                   dtype="float64", algorithm="direct")
    layer.rng = rng
    x = rng.standard_normal((5, 9, 8, channels))
    y = layer(x, training=True)
    assert layer.last_algorithm == "direct"
    k, b = layer.params["kernel"], layer.params["bias"]
    np.testing.assert_allclose(y, np.maximum(conv2d_reference(x, k, b, stride, padding), 0),
                               rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(y.shape)
    direct = [layer.backward(g), layer.grads["kernel"].copy(), layer.grads["bias"].copy()]
    assert layer.backward(g, need_input_grad=False) is None
    np.testing.assert_array_equal(layer.grads["kernel"], direct[1])
    layer.algorithm = "im2col"
    layer.forward(x, training=True)
    im2col = [layer.backward(g), layer.grads["kernel"], layer.grads["bias"]]
    for a, b in zip(direct, im2col):
        np.testing.assert_allclose(a, b, rtol=1e-11, atol=1e-11)


def test_auto_runs_few_input_channels_through_the_direct_loops(rng):
    from nnlite.layers.conv2d import DIRECT_MAX_CHANNELS
    for channels, kernel, expected in ((1, 3, "direct"), (DIRECT_MAX_CHANNELS, 5, "direct"),
                                       (DIRECT_MAX_CHANNELS + 1, 3, "im2col"),
                                       (1, (1, 3), "im2col")):
        layer = Conv2D(2, kernel, padding="same")
        layer.rng = rng
        layer(rng.random((1, 5, 5, channels), dtype=np.float32))
        assert layer.last_algorithm == expected
