"""Guarantee 2: Ctrl+C during ``fit`` saves a resumable checkpoint, and ``fit(..., resume=)``
continues so that the final weights are BIT-identical to an uninterrupted run.

The model is tiny but holds every kind of training state a checkpoint must carry: Adam moments
and step (with a cosine schedule of the step), BatchNorm moving statistics, a Dropout mask
generator, the shuffle generator, the L2 term, and the per-epoch history.
"""
import os
import signal

import numpy as np
import pytest

import nnlite
from nnlite.callbacks import Callback
from nnlite.checkpoint import load_checkpoint
from nnlite.errors import ModelFileError
from nnlite.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU
from nnlite.regularizers import l2
from nnlite.modelfile import read_npz
from nnlite.schedules import CosineDecay

EPOCHS, BATCH, N = 3, 16, 88   # with validation_split=0.25: 66 train samples, 5 batches (last: 2)


def small_model(seed=7):
    model = nnlite.Sequential([
        Conv2D(4, 3, padding="same", kernel_regularizer=l2(1e-3)), BatchNormalization(), ReLU(),
        MaxPool2D(2), Flatten(), Dropout(0.3), Dense(10)], input_shape=(8, 8, 1), seed=seed)
    model.compile(nnlite.optimizers.Adam(CosineDecay(3e-3, decay_steps=20)))
    return model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.random((N, 8, 8, 1), dtype=np.float32)
    y = rng.integers(0, 10, N)
    return x, y


@pytest.fixture(scope="module")
def reference(data):
    """The uninterrupted run: final weights and history."""
    model = small_model()
    history = model.fit(*data, batch_size=BATCH, epochs=EPOCHS, validation_split=0.25, verbose=0)
    return model.get_weights(), history.history


class InterruptAt(Callback):
    """Raise KeyboardInterrupt after batch ``batch`` of epoch ``epoch`` (as Ctrl+C would)."""

    def __init__(self, epoch, batch, use_signal=False):
        self.epoch, self.batch, self.use_signal, self.current = epoch, batch, use_signal, None

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch

    def on_batch_end(self, batch, logs=None):
        if (self.current, batch) == (self.epoch, self.batch):
            if self.use_signal:
                os.kill(os.getpid(), signal.SIGINT)     # the real Ctrl+C path
            else:
                raise KeyboardInterrupt


def assert_same_weights(a, b):
    assert len(a) == len(b)
    for wa, wb in zip(a, b):
        assert wa.dtype == wb.dtype and np.array_equal(wa, wb)


def train_with_interrupts(data, tmp_path, points, use_signal=False):
    """Interrupt at each (epoch, batch) in ``points``, resume in a FRESH model each time."""
    ckpt = tmp_path / "run.ckpt.npz"
    resume = None
    for epoch, batch in points:
        model = small_model()
        with pytest.raises(KeyboardInterrupt):
            model.fit(*data, batch_size=BATCH, epochs=EPOCHS, validation_split=0.25, verbose=0,
                      checkpoint_path=ckpt, resume=resume,
                      callbacks=[InterruptAt(epoch, batch, use_signal)])
        position = read_npz(ckpt)[0]["checkpoint"]["position"]
        assert (position["epoch"], position["batch"]) == (epoch, batch + 1)
        resume = ckpt
    model = small_model()
    history = model.fit(*data, batch_size=BATCH, epochs=EPOCHS, validation_split=0.25, verbose=0,
                        checkpoint_path=ckpt, resume=resume)
    return model, history


@pytest.mark.parametrize("points", [
    [(0, 1)],                      # mid first epoch
    [(0, 4), (1, 0), (2, 3)],      # the last batch of an epoch, the first batch, mid epoch
])
def test_interrupted_and_resumed_run_is_bit_identical(data, reference, tmp_path, points):
    ref_weights, ref_history = reference
    model, history = train_with_interrupts(data, tmp_path, points)
    assert_same_weights(model.get_weights(), ref_weights)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert history.history[key] == ref_history[key], key


def test_a_real_sigint_finishes_the_step_then_checkpoints(data, reference, tmp_path):
    """SIGINT (what Ctrl+C sends) is caught, the current step completes, the checkpoint says
    where, KeyboardInterrupt still reaches the caller; resuming gives the same weights."""
    before = signal.getsignal(signal.SIGINT)
    if before is signal.SIG_IGN:      # a background process: the shell ignores SIGINT for it
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        model, _ = train_with_interrupts(data, tmp_path, [(1, 2)], use_signal=True)
        assert_same_weights(model.get_weights(), reference[0])
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler   # handler restored
    finally:
        signal.signal(signal.SIGINT, before)


def test_interrupt_without_checkpoint_path_writes_the_default_file(data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        small_model().fit(*data, batch_size=BATCH, epochs=1, verbose=0,
                          callbacks=[InterruptAt(0, 2)])
    assert (tmp_path / "nnlite-interrupted.ckpt.npz").is_file()
    meta, arrays = read_npz(tmp_path / "nnlite-interrupted.ckpt.npz")
    ck = meta["checkpoint"]
    assert ck["optimizer"]["iterations"] == 3
    assert {"optimizer/0/m", "optimizer/0/v"} <= set(arrays)      # Adam moments are saved
    assert "layers/1/moving_mean" in arrays                        # BatchNorm state too
    assert set(ck["layer_rngs"]) == {"5"}


def test_epoch_checkpoints_resume_from_an_epoch_boundary(data, reference, tmp_path):
    """A crash that loses the process (no Ctrl+C handler runs) still leaves the last epoch's
    checkpoint; resuming from it replays the rest exactly."""
    ckpt = tmp_path / "e.ckpt.npz"

    class Crash(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("simulated crash")
    with pytest.raises(RuntimeError):
        small_model().fit(*data, batch_size=BATCH, epochs=EPOCHS, validation_split=0.25,
                          verbose=0, checkpoint_path=ckpt, callbacks=[Crash()])
    model = small_model()
    history = model.fit(*data, batch_size=BATCH, epochs=EPOCHS, validation_split=0.25, verbose=0,
                        resume=ckpt)
    assert_same_weights(model.get_weights(), reference[0])
    assert history.epoch == [0, 1, 2]


def test_resume_refuses_a_checkpoint_of_another_architecture(data, tmp_path):
    ckpt = tmp_path / "c.ckpt.npz"
    small_model().fit(*data, batch_size=BATCH, epochs=1, verbose=0, checkpoint_path=ckpt)
    other = nnlite.Sequential([Flatten(), Dense(10)], input_shape=(8, 8, 1), seed=0).compile()
    with pytest.raises(ModelFileError, match="architecture differs"):
        other.fit(*data, batch_size=BATCH, epochs=2, verbose=0, resume=ckpt)
    model_file = tmp_path / "plain.npz"
    small_model().save(model_file)
    with pytest.raises(ModelFileError, match="not a training checkpoint"):
        load_checkpoint(model_file, small_model(), nnlite.callbacks.History())


def test_resume_refuses_different_data_or_batch_size(data, tmp_path):
    """Resuming mid-epoch with another batch size or dataset would silently train on a
    different sequence of batches; it is refused with a message naming both values."""
    ckpt = tmp_path / "r.ckpt.npz"
    with pytest.raises(KeyboardInterrupt):
        small_model().fit(*data, batch_size=BATCH, epochs=2, verbose=0, checkpoint_path=ckpt,
                          callbacks=[InterruptAt(0, 1)])
    with pytest.raises(nnlite.InputError, match="batch_size"):
        small_model().fit(*data, batch_size=BATCH * 2, epochs=2, verbose=0, resume=ckpt)
    x, y = data
    with pytest.raises(nnlite.InputError, match="training samples"):
        small_model().fit(x[:40], y[:40], batch_size=BATCH, epochs=2, verbose=0, resume=ckpt)


def test_ctrl_c_in_nnlite_train_then_resume_equals_an_uninterrupted_run(tmp_path, mnist):
    """The CLI path: SIGINT to `nnlite train` -> exit code 130 and a checkpoint; `--resume`
    finishes the run; model.npz is bit-identical to an uninterrupted run's."""
    import subprocess
    import sys
    import time
    common = ["ann", "--limit", "1000", "--epochs", "4", "--batch-size", "32", "--quiet"]
    nnlite_cli = [sys.executable, "-m", "nnlite", "train"]
    ref = subprocess.Popen(nnlite_cli + common + ["--out", str(tmp_path / "ref")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    run = tmp_path / "run"
    proc = subprocess.Popen(nnlite_cli + common + ["--out", str(run)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (run / "checkpoint.npz").exists() and time.monotonic() < deadline:
        time.sleep(0.01)                            # the first epoch has ended
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err
    assert "interrupted: checkpoint saved to" in err and "Traceback" not in err
    position = read_npz(run / "checkpoint.npz")[0]["checkpoint"]["position"]
    assert position["epoch"] < 4 and not (run / "model.npz").exists()
    resumed = subprocess.run(nnlite_cli + ["ann", "--resume", "--quiet", "--out", str(run)],
                             capture_output=True, text=True, timeout=240)
    assert resumed.returncode == 0, resumed.stderr
    assert ref.wait(timeout=240) == 0
    assert_same_weights(nnlite.load_model(run / "model.npz").get_weights(),
                        nnlite.load_model(tmp_path / "ref" / "model.npz").get_weights())


@pytest.mark.parametrize("field,value", [("epoch", "1"), ("batch", -3), ("loss_sum", [1]),
                                         ("epoch_rng", {"bit_generator": "MT19937"})])
def test_a_tampered_checkpoint_is_refused_by_name(data, tmp_path, field, value):
    """A checkpoint whose position fields have the wrong type is a ModelFileError at load,
    not a TypeError deep inside the training loop."""
    ckpt = tmp_path / "t.ckpt.npz"
    with pytest.raises(KeyboardInterrupt):
        small_model().fit(*data, batch_size=BATCH, epochs=1, verbose=0, checkpoint_path=ckpt,
                          callbacks=[InterruptAt(0, 1)])
    meta, arrays = read_npz(ckpt)
    meta["checkpoint"]["position"][field] = value
    from nnlite.modelfile import write_npz
    write_npz(ckpt, meta, arrays)
    with pytest.raises(ModelFileError, match="checkpoint is incomplete or corrupt"):
        small_model().fit(*data, batch_size=BATCH, epochs=1, verbose=0, resume=ckpt)


def test_interrupt_inside_a_step_keeps_the_last_consistent_checkpoint(data, tmp_path, capsys):
    """A second Ctrl+C lands inside a step (here: raised from a layer's forward pass, after
    BatchNorm already moved its statistics). That state is half-updated, so it is NOT saved;
    the epoch checkpoint stays as it was and still resumes exactly."""
    ckpt = tmp_path / "s.ckpt.npz"
    model = small_model()
    dense = model.layers[-1]
    original_forward, calls = dense.forward, []

    def forward(x, training=False):
        calls.extend([1] if training else [])
        if training and len(calls) == 8:      # step 8 = epoch 2, batch 3
            raise KeyboardInterrupt
        return original_forward(x, training)
    dense.forward = forward
    with pytest.raises(KeyboardInterrupt):
        model.fit(*data, batch_size=BATCH, epochs=EPOCHS, validation_split=0.25, verbose=0,
                  checkpoint_path=ckpt)
    assert "stopped inside a step (epoch 2, batch 3)" in capsys.readouterr().err
    position = read_npz(ckpt)[0]["checkpoint"]["position"]
    assert (position["epoch"], position["batch"]) == (1, 0)     # the end-of-epoch-1 one
