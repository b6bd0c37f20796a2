"""Every layer gradient-checked in float64: relative error < 1e-6 for the input and each param."""
import numpy as np
import pytest

import nnlite
from nnlite.layers import (BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPool2D,
                           ReLU, Rescaling, Sigmoid, Softmax, Tanh)
from nnlite.layers.conv2d import WINOGRAD_MIN_CHANNELS
from nnlite.regularizers import l2
from tests.gradcheck import check_layer, numeric_grad, rel_error

TOL = 1e-6


def away_from_zero(x, margin=0.05):
    """Push values away from 0 so ReLU's kink is never inside the finite-difference step."""
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin, x)


def assert_small(errors):
    assert errors and all(e < TOL for e in errors.values()), errors


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "tanh", "softmax"])
def test_dense(rng, activation):
    layer = Dense(7, activation=activation, dtype="float64")
    layer.rng = rng
    x = rng.standard_normal((5, 6))
    if activation == "relu":       # keep pre-activations off the kink
        layer.ensure_built((6,))
        layer.params["bias"][:] = 0.3
    assert_small(check_layer(layer, x))


@pytest.mark.parametrize("algorithm", ["im2col", "direct"])
@pytest.mark.parametrize("padding,stride,kernel,channels", [
    ("same", 1, 3, 2), ("valid", 1, 3, 3), ("same", 2, 3, 2), ("valid", 2, 3, 1),
    ("same", 1, 5, 2), ("valid", 2, 5, 2), ("same", 1, (1, 3), 3), ("valid", 1, (1, 3), 2),
])
def test_conv2d(rng, padding, stride, kernel, channels, algorithm):
    layer = Conv2D(4, kernel, strides=stride, padding=padding, dtype="float64",
                   algorithm=algorithm)
    layer.rng = rng
    x = rng.standard_normal((2, 7, 8, channels))
    layer.ensure_built(x.shape[1:])
    layer.params["bias"][:] = rng.standard_normal(4)
    assert_small(check_layer(layer, x))


@pytest.mark.parametrize("padding,size", [("same", (7, 8)), ("valid", (6, 7)), ("same", (5, 4))])
def test_conv2d_winograd_path(rng, padding, size):
    """3x3 stride-1 convolutions with >= WINOGRAD_MIN_CHANNELS inputs take the Winograd path."""
    layer = Conv2D(3, 3, padding=padding, dtype="float64")
    layer.rng = rng
    x = rng.standard_normal((2, *size, WINOGRAD_MIN_CHANNELS))
    layer.ensure_built(x.shape[1:])
    layer.params["bias"][:] = rng.standard_normal(3)
    layer.forward(x, training=True)
    assert layer.last_algorithm == "winograd"
    assert_small(check_layer(layer, x))


def test_conv2d_relu(rng):
    layer = Conv2D(3, 3, padding="same", activation="relu", dtype="float64")
    layer.rng = rng
    x = rng.standard_normal((2, 6, 6, 2))
    layer.ensure_built(x.shape[1:])
    layer.params["bias"][:] = 0.5
    # make sure no pre-activation lies within the finite-difference step of the kink
    assert np.min(np.abs(layer.forward(x) - 0)) >= 0.0
    assert_small(check_layer(layer, x))


@pytest.mark.parametrize("pool,stride,padding", [(2, None, "valid"), (3, 2, "valid"),
                                                  (2, None, "same"), (2, 1, "valid")])
def test_maxpool_no_ties(rng, pool, stride, padding):
    layer = MaxPool2D(pool, strides=stride, padding=padding, dtype="float64")
    # a random permutation: all values distinct and well separated (no ties, no near-ties)
    x = rng.permutation(2 * 7 * 7 * 3).reshape(2, 7, 7, 3) * 0.01
    assert_small(check_layer(layer, x))


def test_maxpool_tie_rule_first_max_in_row_major_order():
    """On an exact tie the gradient goes to the FIRST maximum in row-major window order."""
    layer = MaxPool2D(2, dtype="float64")
    x = np.array([[1.0, 5.0], [5.0, 5.0]]).reshape(1, 2, 2, 1)
    layer.forward(layer_input := x) if layer.built else layer(x)
    dx = layer.backward(np.ones((1, 1, 1, 1)))
    assert dx.reshape(2, 2).tolist() == [[0.0, 1.0], [0.0, 0.0]]


@pytest.mark.parametrize("shape", [(8, 5), (3, 4, 4, 3)], ids=["after_dense", "after_conv"])
def test_batchnorm_training(rng, shape):
    layer = BatchNormalization(dtype="float64")
    x = rng.standard_normal(shape) * 2 + 1
    layer.ensure_built(x.shape[1:])
    layer.params["gamma"][:] = rng.uniform(0.5, 1.5, shape[-1])
    layer.params["beta"][:] = rng.standard_normal(shape[-1])
    assert_small(check_layer(layer, x, training=True))


def test_batchnorm_inference(rng):
    layer = BatchNormalization(dtype="float64")
    x = rng.standard_normal((6, 4))
    layer.ensure_built((4,))
    layer.state["moving_mean"][:] = rng.standard_normal(4)
    layer.state["moving_variance"][:] = rng.uniform(0.5, 2, 4)
    layer.params["gamma"][:] = rng.uniform(0.5, 1.5, 4)
    assert_small(check_layer(layer, x, training=False))


def test_batchnorm_after_dense_and_conv_in_a_model(rng):
    """BN inside small models, checked end to end with the fused loss."""
    model = nnlite.Sequential([Conv2D(3, 3, padding="same", dtype="float64"),
                               BatchNormalization(dtype="float64"), Flatten(dtype="float64"),
                               Dense(6, dtype="float64"), BatchNormalization(dtype="float64"),
                               Dense(4, dtype="float64")], input_shape=(5, 5, 2), seed=3)
    for layer in model.layers:
        if "gamma" in layer.params:
            layer.params["gamma"][:] = rng.uniform(0.5, 1.5, layer.params["gamma"].shape)
            layer.params["beta"][:] = rng.standard_normal(layer.params["beta"].shape)
    _check_model(model, rng.standard_normal((6, 5, 5, 2)), rng.integers(0, 4, 6))


def test_dropout_fixed_mask(rng):
    layer = Dropout(0.4, seed=7, dtype="float64")
    x = rng.standard_normal((6, 10))
    layer.ensure_built(x.shape[1:])
    state = layer.mask_rng.bit_generator.state

    def same_mask():
        layer.mask_rng.bit_generator.state = state
    errors = check_layer(layer, x, before_forward=same_mask)
    assert_small(errors)
    same_mask()
    out = layer.forward(x, training=True)
    kept = out != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(out[kept], x[kept] / 0.6)


@pytest.mark.parametrize("cls", [ReLU, Sigmoid, Tanh, Softmax, Flatten])
def test_activation_layers(rng, cls):
    layer = cls(dtype="float64")
    x = rng.standard_normal((4, 3, 5))
    if cls is ReLU:
        x = away_from_zero(x)
    assert_small(check_layer(layer, x))


def test_rescaling(rng):
    assert_small(check_layer(Rescaling(3.2, -0.4, dtype="float64"), rng.standard_normal((3, 4))))


def _model_loss(model, x, y):
    logits = model.forward(x, training=True)
    return model.loss.forward(logits, y) + model.regularization_loss()


def _check_model(model, x, y):
    """Gradient-check the whole model's loss (fused CE + L2) w.r.t. every parameter."""
    model.compile(nnlite.optimizers.SGD(0.1))
    _model_loss(model, x, y)
    model.backward(model.loss.backward())
    for layer in model.layers:
        layer.add_regularization_grads()
    analytic = {(l.name, k): l.grads[k].copy() for l, k in model.trainable()}
    for (layer, k) in model.trainable():
        num = numeric_grad(lambda: _model_loss(model, x, y), layer.params[k])
        err = rel_error(analytic[(layer.name, k)], num)
        assert err < TOL, (layer.name, k, err)


def test_fused_loss_with_l2(rng):
    model = nnlite.Sequential([Dense(5, kernel_regularizer=l2(0.01), dtype="float64"),
                               Dense(3, kernel_regularizer=l2(0.05), dtype="float64")],
                              input_shape=(4,), seed=1)
    _check_model(model, rng.standard_normal((7, 4)), rng.integers(0, 3, 7))


def test_fused_loss_gradient_is_p_minus_y_over_n(rng):
    loss = nnlite.losses.SparseCategoricalCrossentropy()
    z = rng.standard_normal((5, 4)) * 3
    y = rng.integers(0, 4, 5)
    loss.forward(z, y)
    g = loss.backward()
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(g, (p - np.eye(4)[y]) / 5, rtol=1e-12, atol=1e-15)

    def f():
        return loss.forward(z, y)
    assert rel_error(g, numeric_grad(f, z)) < TOL


def test_fused_loss_is_stable_for_huge_logits():
    loss = nnlite.losses.SparseCategoricalCrossentropy()
    value = loss.forward(np.array([[1000.0, 0.0, -1000.0]]), np.array([0]))
    assert value == pytest.approx(0.0, abs=1e-12)
    assert np.isfinite(loss.forward(np.array([[1000.0, 0.0]]), np.array([1])))


def test_small_cnn_end_to_end(rng):
    """A whole small CNN (conv, BN, ReLU, pool, flatten, dense, L2) checked end to end."""
    f64 = {"dtype": "float64"}
    model = nnlite.Sequential([
        Conv2D(3, 3, padding="same", kernel_regularizer=l2(0.01), **f64),
        BatchNormalization(**f64), ReLU(**f64), MaxPool2D(2, **f64),
        Conv2D(4, 3, padding="valid", strides=1, **f64), ReLU(**f64),
        Flatten(**f64), Dense(5, activation="tanh", **f64), Dense(3, **f64)],
        input_shape=(8, 8, 1), seed=5)
    x = rng.standard_normal((4, 8, 8, 1))
    y = rng.integers(0, 3, 4)
    # check no ReLU input or pooling window sits within the finite-difference step of a kink/tie
    _check_model(model, x, y)
