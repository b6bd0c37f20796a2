"""Fused execution (nnlite/layers/fusion.py, nnlite/ops/fused.py) against the layer-by-layer
path it replaces: outputs, every gradient, BatchNorm's moving statistics and the input gradient
are the same bit for bit (the same formulas, every sum in the same order), over the chains the
zoo models use, one or several chunks of images, odd sizes the pool drops a row of, each conv
algorithm, training and inference; and the fused gradients pass central differences in
float64."""
import numpy as np
import pytest

import nnlite
from nnlite.errors import ConfigError, NonFiniteError
from nnlite.layers import BatchNormalization, Conv2D, Dense, Flatten, MaxPool2D, ReLU
from nnlite.layers.fusion import Block, Plan
from nnlite.ops import parallel
from tests.gradcheck import numeric_grad, rel_error

CHAINS = {
    "conv-bn-relu-pool": lambda d: [Conv2D(5, 3, padding="same", dtype=d),
                                    BatchNormalization(dtype=d), ReLU(dtype=d),
                                    MaxPool2D(2, dtype=d)],
    "conv-bn-relu": lambda d: [Conv2D(5, 3, padding="same", dtype=d),
                               BatchNormalization(dtype=d), ReLU(dtype=d)],
    "conv-relu-pool": lambda d: [Conv2D(5, 5, padding="same", dtype=d), ReLU(dtype=d),
                                 MaxPool2D(2, dtype=d)],
    "conv(relu)-pool": lambda d: [Conv2D(5, 3, padding="same", activation="relu", dtype=d),
                                  MaxPool2D(2, dtype=d)],
}


def _model(chain, dtype, channels, size, algorithm, seed=3):
    layers = CHAINS[chain](dtype)
    layers[0].algorithm = algorithm
    # a second chain after the first (the first layer's input gradient is then needed), a head
    layers += [Conv2D(4, 3, padding="same", dtype=dtype), BatchNormalization(dtype=dtype),
               ReLU(dtype=dtype), MaxPool2D(2, dtype=dtype), Flatten(dtype=dtype),
               Dense(3, dtype=dtype)]
    model = nnlite.Sequential(layers, input_shape=(size, size, channels), seed=seed)
    for layer in model.layers:               # BN with non-trivial scale and shift (some < 0)
        if "gamma" in layer.params:
            layer.params["gamma"][:] = np.linspace(-1.2, 1.5, layer.params["gamma"].size)
            layer.params["beta"][:] = np.linspace(-0.3, 0.4, layer.params["beta"].size)
            layer.state["moving_mean"][:] = 0.1
            layer.state["moving_variance"][:] = 1.3
    return model.compile(nnlite.optimizers.SGD(0.1))


def _step(model, x, y, fuse, training=True):
    """forward + loss + full backward (every input gradient) -> (logits, grads, state, dx)."""
    model.fuse = fuse
    logits = model.forward(x, training=training)
    assert (model._fused is not None) == fuse
    model.loss.forward(logits, y)
    dx = model.backward(model.loss.backward())
    grads = {(l.name, k): g.copy() for l in model.layers for k, g in l.grads.items()}
    state = {(l.name, k): s.copy() for l in model.layers for k, s in l.state.items()}
    return logits, grads, state, dx


@pytest.fixture(params=["one chunk", "four chunks"])
def chunking(request, monkeypatch):
    if request.param == "four chunks":
        monkeypatch.setattr(parallel, "MIN_SPLIT", 1)
        monkeypatch.setattr(parallel, "CONV_CHUNK", 1)
    else:
        monkeypatch.setattr(parallel, "MIN_SPLIT", 10 ** 9)


@pytest.mark.parametrize("chain", sorted(CHAINS))
@pytest.mark.parametrize("algorithm, channels", [("im2col", 3), ("direct", 1),
                                                 ("winograd", 4)])
@pytest.mark.parametrize("training", [True, False])
def test_fused_equals_layer_by_layer_bit_for_bit(rng, chunking, chain, algorithm, channels,
                                                 training):
    x = rng.standard_normal((7, 9, 9, channels)).astype(np.float32)   # 9x9: the pool drops a row
    y = rng.integers(0, 3, 7)
    plain = _step(_model(chain, "float32", channels, 9, algorithm), x, y, False, training)
    fused = _step(_model(chain, "float32", channels, 9, algorithm), x, y, True, training)
    np.testing.assert_array_equal(fused[0], plain[0])
    for key, g in plain[1].items():
        np.testing.assert_array_equal(fused[1][key], g, err_msg=key)
    for key, s in plain[2].items():
        np.testing.assert_array_equal(fused[2][key], s, err_msg=key)
    np.testing.assert_array_equal(fused[3], plain[3])


@pytest.mark.parametrize("chain", sorted(CHAINS))
def test_fused_gradients_pass_central_differences_in_float64(rng, chunking, chain):
    """The whole model's loss (fused forward, training mode) against its fused backward."""
    model = _model(chain, "float64", 2, 6, "auto", seed=5)
    x, y = rng.standard_normal((4, 6, 6, 2)), rng.integers(0, 3, 4)
    logits, grads, _, _ = _step(model, x, y, True)

    def loss():
        return model.loss.forward(model.forward(x, training=True), y)
    for (name, key), g in grads.items():
        layer = next(l for l in model.layers if l.name == name)
        err = rel_error(g, numeric_grad(loss, layer.params[key]))
        assert err < 1e-6, (name, key, err)


def test_fused_training_step_matches_and_stays_fused(rng):
    """The zoo CNN and VGG16: train_step fused vs not gives the same weights, bit for bit (with
    Adam, which turns the conv biases' rounding-noise gradients before BatchNorm into steps)."""
    x, y = rng.random((6, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 6)
    models = [nnlite.zoo.build(name, seed=2).compile("adam")
              for name in ("cnn", "cnn", "vgg16", "vgg16")]
    models[0].fuse = models[2].fuse = False
    for model in models:
        for _ in range(2):
            model.train_step(x, y)
    assert models[1]._fused is not None and models[0]._fused is None
    for plain, fused in (models[:2], models[2:]):
        for a, b in zip(plain.get_weights(), fused.get_weights()):
            np.testing.assert_array_equal(a, b)


def test_plan_fuses_the_zoo_chains_and_nothing_else():
    cnn = Plan(nnlite.zoo.build("cnn").layers)
    blocks = [u for _, u in cnn.units if isinstance(u, Block)]
    assert [len(b.layers) for b in blocks] == [4, 4, 4]
    vgg = Plan(nnlite.zoo.build("vgg16").layers)
    assert [len(u.layers) for _, u in vgg.units if isinstance(u, Block)] == [2, 2, 2, 2]
    ann = Plan(nnlite.zoo.build("ann").layers)
    assert not ann.fused
    odd = [Conv2D(2, 3, activation="tanh"), MaxPool2D(2), Conv2D(2, 3), MaxPool2D(3, strides=2),
           Conv2D(2, 3), BatchNormalization(), MaxPool2D(2)]
    assert not Plan(odd).fused          # tanh; overlapping pool; BN without ReLU


def test_observers_and_requested_outputs_run_layer_by_layer(rng):
    model = _model("conv-bn-relu-pool", "float32", 1, 8, "auto")
    x = rng.random((2, 8, 8, 1), dtype=np.float32)
    outputs = []
    model.forward(x, outputs=outputs)
    assert model._fused is None and len(outputs) == len(model.layers)
    with model.observing(nnlite.callbacks.Observer()):
        model.forward(x)
        assert model._fused is None
    model.forward(x)
    assert model._fused is not None


def test_backward_cannot_stop_inside_a_fused_chain(rng):
    model = _model("conv-bn-relu-pool", "float32", 1, 8, "auto")
    logits = model.forward(rng.random((2, 8, 8, 1), dtype=np.float32), training=True)
    with pytest.raises(ConfigError, match="fuse"):
        model.backward(np.ones_like(logits), stop_at=1)


def test_a_nan_in_a_fused_chain_still_stops_training(rng):
    model = _model("conv-bn-relu-pool", "float32", 1, 8, "auto")
    x = rng.random((2, 8, 8, 1), dtype=np.float32)
    model.layers[0].params["kernel"][0, 0, 0, 0] = np.nan
    with pytest.raises(NonFiniteError, match="forward output of layer 'conv2d'"):
        model.train_step(x, np.array([0, 1]))
