"""The Layer contract (nnlite/layers/base.py), checked for every class a model file may name:
backward(grad_out, need_input_grad), count_params_for, seed_from_model, get/set_rng_state."""
import inspect
import json

import numpy as np
import pytest

from nnlite.errors import ConfigError, InputError
from nnlite.layers import (REGISTRY, BatchNormalization, Conv2D, Dense, Deskew, Dropout, Flatten,
                           MaxPool2D, ReLU, Rescaling, Sigmoid, Softmax, Tanh)
from nnlite.layers.conv2d import WINOGRAD_MIN_CHANNELS

# (name, make layer, input shape without the batch axis); every REGISTRY class at least once
CASES = [
    ("Dense", lambda: Dense(5, activation="tanh"), (7,)),
    ("Conv2D im2col", lambda: Conv2D(4, 5, strides=2, padding="same"), (9, 8, 3)),
    ("Conv2D winograd", lambda: Conv2D(4, 3, padding="same"), (6, 5, WINOGRAD_MIN_CHANNELS)),
    ("MaxPool2D", lambda: MaxPool2D(2), (6, 6, 3)),
    ("ReLU", ReLU, (4, 3)),
    ("Sigmoid", Sigmoid, (4, 3)),
    ("Tanh", Tanh, (4, 3)),
    ("Softmax", Softmax, (6,)),
    ("Flatten", Flatten, (3, 4, 2)),
    ("BatchNormalization dense", BatchNormalization, (6,)),
    ("BatchNormalization conv", BatchNormalization, (4, 5, 3)),
    ("Dropout", lambda: Dropout(0.3, seed=1), (10,)),
    ("Rescaling", lambda: Rescaling(0.5, 0.1), (4, 4, 1)),
    ("Deskew", Deskew, (8, 8, 1)),
]
IDS = [c[0] for c in CASES]
WEIGHTED = (Dense, Conv2D, BatchNormalization)


def test_cases_cover_every_layer_class():
    assert {type(make()).__name__ for _, make, _ in CASES} == set(REGISTRY)


@pytest.mark.parametrize("cls", sorted(REGISTRY.values(), key=lambda c: c.__name__),
                         ids=sorted(REGISTRY))
def test_every_backward_takes_need_input_grad(cls):
    param = inspect.signature(cls.backward).parameters.get("need_input_grad")
    assert param is not None and param.default is True


@pytest.mark.parametrize("name, make, shape", CASES, ids=IDS)
def test_count_params_for_equals_what_build_creates(name, make, shape):
    layer = make()
    expected = layer.count_params_for(shape)            # from shapes alone, before build
    assert not layer.built and not layer.params and not layer.state
    layer.ensure_built(shape)
    assert expected == layer.count_params() + layer.count_state()
    assert (expected > 0) == isinstance(layer, WEIGHTED)


def test_count_params_for_refuses_what_build_refuses():
    with pytest.raises(InputError):
        Dense(3).count_params_for((4, 4, 1))
    with pytest.raises(InputError):
        Conv2D(3, 3).count_params_for((8, 8))
    with pytest.raises(InputError):
        Conv2D(3, 5).count_params_for((4, 4, 1))          # 'valid' 5x5 does not fit 4x4
    assert Dense(10).count_params_for((10 ** 6,)) == (10 ** 6 + 1) * 10   # no allocation


@pytest.mark.parametrize("name, make, shape", CASES, ids=IDS)
def test_need_input_grad_false_keeps_the_weight_gradients(rng, name, make, shape):
    """With need_input_grad=False the weight gradients are exactly those of the full pass;
    layers with weights skip dx (None), the others may still return it."""
    layer = make()
    layer.rng = rng
    x = rng.standard_normal((4, *shape)).astype(np.float32)
    layer.ensure_built(shape)
    state = layer.get_rng_state()
    y = layer.forward(x, training=True)
    g = rng.standard_normal(y.shape).astype(np.float32)
    if isinstance(layer, Deskew):      # no input gradient: refused when asked for, else None
        with pytest.raises(ConfigError, match="no input gradient"):
            layer.backward(g)
        assert layer.backward(g, need_input_grad=False) is None
        return
    dx = layer.backward(g)
    assert dx.shape == x.shape
    full = {k: v.copy() for k, v in layer.grads.items()}
    layer.set_rng_state(state)                            # Dropout: the same mask again
    layer.forward(x, training=True)
    skipped = layer.backward(g, need_input_grad=False)
    if isinstance(layer, WEIGHTED):
        assert skipped is None
    else:
        assert skipped is None or np.array_equal(skipped, dx)
    assert full.keys() == layer.grads.keys() == layer.params.keys()
    for k in full:
        np.testing.assert_array_equal(layer.grads[k], full[k])


def test_dropout_rng_state_round_trips_through_json(rng):
    layer = Dropout(0.5, seed=3)
    x = np.ones((8, 20), np.float32)
    layer.forward(x, training=True)
    saved = json.loads(json.dumps(layer.get_rng_state()))
    first = layer.forward(x, training=True)
    layer.forward(x, training=True)
    layer.set_rng_state(saved)
    np.testing.assert_array_equal(layer.forward(x, training=True), first)
    for bad in (None, {}, {"bit_generator": "MT19937"}, "state"):
        with pytest.raises(ConfigError, match="Dropout"):
            layer.set_rng_state(bad)


@pytest.mark.parametrize("name, make, shape", [c for c in CASES if c[0] != "Dropout"],
                         ids=[i for i in IDS if i != "Dropout"])
def test_layers_without_a_generator_have_no_rng_state(name, make, shape):
    layer = make()
    assert layer.get_rng_state() is None
    layer.set_rng_state(None)
    with pytest.raises(ConfigError, match="no random generator"):
        layer.set_rng_state({"bit_generator": "PCG64"})
    layer.seed_from_model(5, 2)                           # a no-op
    assert layer.rng is None and not layer.built


def test_dropout_seed_from_model():
    """An unseeded Dropout in a seeded model draws from [seed, 1000 + index]; its own seed, or
    an unseeded model, leaves the generator alone."""
    x = np.ones((4, 50), np.float32)
    layer = Dropout(0.5)
    layer.seed_from_model(7, 3)
    twin = Dropout(0.5)
    twin.mask_rng = np.random.default_rng([7, 1003])
    np.testing.assert_array_equal(layer.forward(x, training=True), twin.forward(x, training=True))
    own = Dropout(0.5, seed=11)
    own.seed_from_model(7, 3)
    np.testing.assert_array_equal(own.forward(x, training=True),
                                  Dropout(0.5, seed=11).forward(x, training=True))
    unseeded = Dropout(0.5)
    before = unseeded.get_rng_state()
    unseeded.seed_from_model(None, 3)
    assert unseeded.get_rng_state() == before
