"""Adam and SGD against hand-computed updates; schedules; validation_split semantics."""
import math

import numpy as np
import pytest

import nnlite
from nnlite.errors import ConfigError, InputError
from nnlite.layers import Dense
from nnlite.optimizers import SGD, Adam
from nnlite.schedules import CosineDecay, StepDecay
from nnlite.training import split_validation


def test_adam_two_steps_by_hand():
    """Keras 3 Adam: eps is added to sqrt of the UNcorrected v. Worked by hand with betas that
    float32 represents exactly (Keras' TF backend rounds the betas through float32, so 0.9 /
    0.999 would not be the numbers written here): b1 = 0.875, b2 = 1 - 2**-9, w0 = 1, lr = 0.1,
    g1 = 0.5, g2 = -1.0.
    t=1: m = 0.0625, v = 0.00048828125, alpha = 0.1*sqrt(1 - b2)/(1 - b1) = 0.0353553391
         w1 = 1 - alpha * m / (sqrt(v) + 1e-7) = 0.90000045254...
    t=2: m = 0.875*0.0625 + 0.125*(-1) = -0.0703125, v = b2*v + (1 - b2)*1 = 0.00244045257...
         alpha = 0.1*sqrt(1 - b2**2)/(1 - b1**2);  w2 = w1 - alpha*m/(sqrt(v) + 1e-7) = 0.93793658..."""
    b1, b2 = 0.875, 1 - 2 ** -9
    w = np.array([1.0])
    opt = Adam(learning_rate=0.1, beta_1=b1, beta_2=b2)
    opt.apply([w], [np.array([0.5])])
    alpha1 = 0.1 * math.sqrt(1 - b2) / (1 - b1)
    w1 = 1 - alpha1 * 0.0625 / (math.sqrt(0.00048828125) + 1e-7)
    assert w[0] == pytest.approx(w1, rel=1e-12)
    assert w1 == pytest.approx(0.90000045254, rel=1e-10)   # the number written above
    opt.apply([w], [np.array([-1.0])])
    v2 = b2 * 0.00048828125 + (1 - b2)
    alpha2 = 0.1 * math.sqrt(1 - b2 ** 2) / (1 - b1 ** 2)
    w2 = w1 - alpha2 * (-0.0703125) / (math.sqrt(v2) + 1e-7)
    assert w[0] == pytest.approx(w2, rel=1e-12)
    assert w2 == pytest.approx(0.93793658432, rel=1e-10)
    assert opt.iterations == 2


def test_adam_epsilon_placement_differs_from_textbook():
    """With a tiny gradient the two epsilon placements give visibly different first steps."""
    b1, b2 = 0.875, 1 - 2 ** -9          # exact in float32, see above
    w = np.array([0.0])
    Adam(learning_rate=1.0, beta_1=b1, beta_2=b2, epsilon=1e-3).apply([w], [np.array([1e-4])])
    m, v = (1 - b1) * 1e-4, (1 - b2) * 1e-8
    keras_form = -math.sqrt(1 - b2) / (1 - b1) * m / (math.sqrt(v) + 1e-3)
    textbook = -(m / (1 - b1)) / (math.sqrt(v / (1 - b2)) + 1e-3)
    assert w[0] == pytest.approx(keras_form, rel=1e-9)
    assert abs(w[0] - textbook) > 1e-3


def test_sgd_plain_momentum_and_nesterov():
    w = np.array([1.0])
    SGD(0.1).apply([w], [np.array([2.0])])
    assert w[0] == pytest.approx(0.8)
    w, opt = np.array([1.0]), SGD(0.1, momentum=0.9)
    opt.apply([w], [np.array([1.0])])       # v = -0.1, w = 0.9
    opt.apply([w], [np.array([1.0])])       # v = -0.09 - 0.1 = -0.19, w = 0.71
    assert w[0] == pytest.approx(0.71)
    w, opt = np.array([1.0]), SGD(0.1, momentum=0.9, nesterov=True)
    opt.apply([w], [np.array([1.0])])       # v = -0.1; w += 0.9*(-0.1) - 0.1 = -0.19
    assert w[0] == pytest.approx(0.81)


def test_schedules():
    assert [StepDecay(1.0, every=10, factor=0.5)(s) for s in (0, 9, 10, 25)] == [1, 1, 0.5, 0.25]
    cos = CosineDecay(1.0, decay_steps=100, alpha=0.1)
    assert cos(0) == pytest.approx(1.0) and cos(100) == pytest.approx(0.1)
    assert cos(50) == pytest.approx(0.55) and cos(1000) == pytest.approx(0.1)
    w, opt = np.array([0.0]), SGD(StepDecay(1.0, every=1, factor=0.5))
    for _ in range(3):
        opt.apply([w], [np.array([-1.0])])  # lr 1, 0.5, 0.25
    assert w[0] == pytest.approx(1.75)


def test_bad_optimizer_settings_are_named():
    with pytest.raises(ConfigError, match="learning_rate"):
        Adam(learning_rate=-1)
    with pytest.raises(ConfigError, match="momentum"):
        SGD(0.1, momentum=1.5)


def test_validation_split_takes_the_last_fraction_before_shuffling():
    x = np.arange(10, dtype=np.float32)[:, None]
    y = np.arange(10)
    (xt, yt), (xv, yv) = split_validation(x, y, 0.2)
    assert yt.tolist() == list(range(8)) and yv.tolist() == [8, 9]
    # MNIST: 60,000 with 0.2 -> 48,000 / 12,000
    (xt, _), (xv, _) = split_validation(np.zeros((60000, 1)), np.zeros(60000, int), 0.2)
    assert len(xt) == 48000 and len(xv) == 12000
    with pytest.raises(InputError):
        split_validation(x, y, 0.99)


def test_fit_validates_on_the_last_samples_only():
    """fit(validation_split) must never train on the held-out tail: labels only there are
    out of the training set, so the model's val accuracy is measured on exactly them."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3)).astype(np.float32)
    y = rng.integers(0, 2, 50)
    model = nnlite.Sequential([Dense(2)], input_shape=(3,), seed=0)
    model.compile(Adam(0.01))
    seen = []
    original = model.train_step
    model.train_step = lambda xb, yb: (seen.append(xb.copy()), original(xb, yb))[1]
    model.fit(x, y, batch_size=8, epochs=2, validation_split=0.2, verbose=0)
    trained_rows = np.concatenate(seen)
    assert len(trained_rows) == 2 * 40
    assert {tuple(r) for r in trained_rows} == {tuple(r) for r in x[:40]}


def test_adam_moments_flush_to_zero_below_the_smallest_normal_float():
    """A weight whose gradient stays 0 has moments that decay geometrically; they are set to 0
    once below float32's smallest normal number instead of lingering as slow subnormals."""
    from nnlite.ops.update import adam_update
    tiny = np.finfo(np.float32).tiny
    w = np.ones(4, np.float32)
    g = np.array([0.0, 0.0, 1e-3, 0.0], np.float32)
    m = np.array([tiny * 1.01, tiny * 0.5, 0.1, -tiny * 0.5], np.float32)
    v = np.array([tiny * 0.5, tiny * 2.0, 0.2, 0.0], np.float32)
    adam_update(w, g, m, v, np.float32(1e-3), 0.9, 0.999, np.float32(1e-7))
    assert m[0] == 0 and m[1] == 0 and m[3] == 0       # 0.9 * 1.01 * tiny < tiny
    assert v[0] == 0 and v[1] > 0                      # 0.999 * 2 * tiny stays normal
    assert m[2] == np.float32(np.float32(0.1) + (np.float32(1e-3) - np.float32(0.1)) * np.float32(1 - 0.9))
    assert not np.any((m != 0) & (np.abs(m) < tiny)) and not np.any((v != 0) & (v < tiny))
