"""Guarantee 1: a NaN/Inf in the loss or any gradient is caught at the step it appears; training
stops with a NonFiniteError naming the step, the layer and the last good checkpoint, which is
kept untouched. An absurd learning rate (10.0) ends the same way (DivergenceError), cleanly.
"""
import re
import warnings

import numpy as np
import pytest

import nnlite
from nnlite.callbacks import Callback
from nnlite.errors import DivergenceError, NonFiniteError
from nnlite.layers import Dense, Flatten, ReLU

BATCH = 8


class PoisonableDense(Dense):
    """A Dense layer whose bias gradient becomes NaN once ``poison`` is set."""
    poison = False

    def backward(self, grad_out, need_input_grad=True):
        dx = super().backward(grad_out, need_input_grad)
        if self.poison:
            self.grads["bias"] = self.grads["bias"].copy()
            self.grads["bias"][0] = np.nan
        return dx


class At(Callback):
    """Call ``action(model)`` after batch ``batch`` of epoch ``epoch``."""

    def __init__(self, epoch, batch, action):
        self.epoch, self.batch, self.action, self.current = epoch, batch, action, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_batch_end(self, batch, logs=None):
        if (self.current, batch) == (self.epoch, self.batch):
            self.action(self.model)


def make(lr=1e-2, optimizer="adam"):
    model = nnlite.Sequential([Flatten(), PoisonableDense(16, name="hidden"), ReLU(),
                               Dense(4, name="logits")], input_shape=(6, 6, 1), seed=3)
    opt = nnlite.optimizers.Adam(lr) if optimizer == "adam" else nnlite.optimizers.SGD(lr)
    return model.compile(opt)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    x = rng.random((48, 6, 6, 1), dtype=np.float32)
    return x, rng.integers(0, 4, 48)                  # 6 batches of 8 per epoch


def test_nan_gradient_stops_at_that_step_and_keeps_the_checkpoint(data, tmp_path):
    ckpt = tmp_path / "good.ckpt.npz"
    model = make()
    snapshots = {}

    def poison(m):
        snapshots["weights"] = m.get_weights()        # after batch 3 of epoch 2 = step 9
        snapshots["ckpt_bytes"] = ckpt.read_bytes()   # written at the end of epoch 1
        m.layers[1].poison = True
    with pytest.raises(NonFiniteError) as info:
        model.fit(*data, batch_size=BATCH, epochs=3, verbose=0, checkpoint_path=ckpt,
                  callbacks=[At(1, 2, poison)])
    msg = str(info.value)
    assert "step 10 (epoch 2, batch 4)" in msg                  # the step it appeared
    assert "'hidden/bias'" in msg                                # the layer and parameter
    assert f"last good checkpoint is kept at {ckpt}" in msg      # where to go back to
    assert "before this step" in msg
    assert type(info.value) is NonFiniteError
    assert ckpt.read_bytes() == snapshots["ckpt_bytes"]          # the checkpoint is untouched
    for before, now in zip(snapshots["weights"], model.get_weights()):
        assert np.array_equal(before, now)                       # the bad step was not applied
    # the kept checkpoint resumes (epoch 2 onward) and trains to the end
    fresh = make()
    history = fresh.fit(*data, batch_size=BATCH, epochs=3, verbose=0, resume=ckpt)
    assert history.epoch == [0, 1, 2] and np.isfinite(history.history["loss"]).all()


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")   # inf * 0
def test_inf_weight_is_named_by_the_layer_whose_output_breaks(data):
    model = make()

    def break_weights(m):
        m.layers[3].params["kernel"][0, 0] = np.inf
    with pytest.raises(NonFiniteError, match=r"step 3 .*forward output of layer 'logits'"):
        model.fit(*data, batch_size=BATCH, epochs=1, verbose=0,
                  callbacks=[At(0, 1, break_weights)])


def test_without_checkpoint_path_the_message_says_so(data):
    model = make()
    with pytest.raises(NonFiniteError, match="no checkpoint was written .*checkpoint_path="):
        model.fit(*data, batch_size=BATCH, epochs=1, verbose=0,
                  callbacks=[At(0, 0, lambda m: setattr(m.layers[1], "poison", True))])


def mnist_sized(kind, optimizer):
    """28x28x1 -> 10 classes, like the zoo's models, small enough to be quick."""
    from nnlite.layers import BatchNormalization, Conv2D, MaxPool2D
    if kind == "dense":
        layers = [Flatten(), Dense(32, activation="relu"), Dense(10)]
    else:
        layers = [Conv2D(4, 3, padding="same"), BatchNormalization(), ReLU(), MaxPool2D(2),
                  Flatten(), Dense(10)]
    model = nnlite.Sequential(layers, input_shape=(28, 28, 1), seed=3)
    opt = nnlite.optimizers.Adam(10.0) if optimizer == "adam" else nnlite.optimizers.SGD(10.0)
    return model.compile(opt)


@pytest.mark.parametrize("kind,optimizer", [("dense", "adam"), ("dense", "sgd"),
                                            ("conv", "adam"), ("conv", "sgd")])
def test_learning_rate_10_ends_cleanly_with_a_named_error(tmp_path, kind, optimizer):
    """lr = 10: stops within the first epoch with DivergenceError (a NonFiniteError), and no
    NumPy RuntimeWarning (overflow, invalid value) is printed on the way."""
    rng = np.random.default_rng(1)
    x, y = rng.random((96, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, 96)
    ckpt = tmp_path / "lr10.ckpt.npz"
    model = mnist_sized(kind, optimizer)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                 # any NumPy warning fails the test
        with pytest.raises(NonFiniteError) as info:
            model.fit(x, y, batch_size=16, epochs=5, verbose=0, checkpoint_path=ckpt)
    msg = str(info.value)
    step = int(re.search(r"training stopped at step (\d+)", msg).group(1))
    assert step <= 6, msg                              # within the first epoch
    assert re.search(r"in layer '\w+/(kernel|bias|gamma|beta)'", msg), msg
    assert "Try a smaller learning rate" in msg
    assert not ckpt.exists()                           # no epoch finished: nothing to keep
    assert "no checkpoint was written" in msg


def test_divergence_guard_does_not_fire_on_badly_scaled_but_healthy_training():
    """Raw 0..255 pixels give a first loss far above ln(10); training still proceeds, so the
    guard must compare with the first loss, not with a fixed number."""
    rng = np.random.default_rng(2)
    centres = rng.random((4, 36)) * 255
    y = rng.integers(0, 4, 256)
    x = (centres[y] + rng.normal(0, 20, (256, 36))).reshape(256, 6, 6, 1)
    model = nnlite.Sequential([Flatten(), Dense(64, activation="relu"), Dense(4)],
                              input_shape=(6, 6, 1), seed=0).compile(nnlite.optimizers.Adam(1e-3))
    first_loss = model.evaluate(x, y)[0]
    assert first_loss > 10 * np.log(4)                  # the scenario: a huge starting loss
    history = model.fit(x, y, batch_size=32, epochs=4, verbose=0)
    assert history.history["loss"][-1] < first_loss
