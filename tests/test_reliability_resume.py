"""Guarantee 2: Ctrl+C during ``fit`` saves a resumable checkpoint, and ``fit(..., resume=)``
continues so that the final weights are BIT-identical to an uninterrupted run.

The model is tiny but holds every kind of training state a checkpoint must carry: Adam moments
and step (with a cosine schedule of the step), BatchNorm moving statistics, a Dropout mask
generator, the shuffle generator, the L2 term, and the per-epoch history.
"""
import json
import os
import re
import signal

import numpy as np
import pytest

import nnlite
from nnlite.callbacks import Callback
from nnlite.checkpoint import load_checkpoint
from nnlite.errors import ModelFileError, ResumeError
from nnlite.inspect import GradientStats
from nnlite.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU
from nnlite.modelfile import read_npz, write_npz
from nnlite.preprocess import Augment
from nnlite.regularizers import l2
from nnlite.schedules import CosineDecay

EPOCHS, BATCH, N = 3, 16, 88   # with validation_split=0.25: 66 train samples, 5 batches (last: 2)


def small_model(seed=7, optimizer=None, filters=4):
    model = nnlite.Sequential([
        Conv2D(filters, 3, padding="same", kernel_regularizer=l2(1e-3)), BatchNormalization(),
        ReLU(), MaxPool2D(2), Flatten(), Dropout(0.3), Dense(10)], input_shape=(8, 8, 1), seed=seed)
    model.compile(optimizer or nnlite.optimizers.Adam(CosineDecay(3e-3, decay_steps=20)))
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


def assert_same_history(a, b):
    """Every metric bit-identical (the wall-clock 'seconds' aside)."""
    assert a.keys() == b.keys()
    assert {k: v for k, v in a.items() if k != "seconds"} == \
        {k: v for k, v in b.items() if k != "seconds"}


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
    """The error names the first difference of the two configs."""
    ckpt = tmp_path / "c.ckpt.npz"
    small_model().fit(*data, batch_size=BATCH, epochs=1, verbose=0, checkpoint_path=ckpt)
    other = nnlite.Sequential([Flatten(), Dense(10)], input_shape=(8, 8, 1), seed=0).compile()
    with pytest.raises(ResumeError, match=r"architecture differs from this model's at "
                                          r"config.layers \(length\): 7 there, 2 here"):
        other.fit(*data, batch_size=BATCH, epochs=2, verbose=0, resume=ckpt)
    wider = small_model(filters=8)
    with pytest.raises(ResumeError, match=r"at config.layers\[0\].config.filters: 4 there, 8 here"):
        wider.fit(*data, batch_size=BATCH, epochs=2, verbose=0, resume=ckpt)
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


DELETE = object()
TAMPERED = [   # (section of the checkpoint, key, new value, what the refusal says)
    ("position", "epoch", "1", "position epoch='1'"),
    ("position", "batch", -3, "position batch=-3"),
    ("position", "loss_sum", [1], r"position loss_sum=\[1\]"),
    ("position", "epoch_rng", {"bit_generator": "MT19937"}, "epoch_rng is not a PCG64 state"),
    ("position", "seen", 0, "batch=2, seen=0 is not a point of an epoch"),  # was ZeroDivisionError
    ("position", "batch", 10 ** 6, "batch=1000000, seen=32 is not a point of an epoch"),
    ("position", "correct", 10 ** 6, "correct=1000000 > seen=32"),
    ("position", "elapsed", -1.0, "elapsed=-1.0"),
    ("position", "loss_sum", None, "loss_sum=None"),          # NaN is written as null
    ("optimizer", "iterations", -1, r"iterations=-1, expected an integer in \[0,"),
    ("layer_rngs", "5", None, "layer 5's generator is not a PCG64 state"),
    ("layer_rngs", "5", DELETE, r"generator states for layers \[\], the model's generators are "
                                r"in layers \['5'\]"),
    ("history", "epoch", "x", "history is not"),
]
TAMPERED_ARRAYS = [   # (member, change, what the refusal says)
    ("layers/6/kernel", lambda a: a.fill(np.nan), "array 'layers/6/kernel' contains NaN/Inf"),
    ("layers/1/moving_variance", lambda a: a.fill(-1.0), "'layers/1/moving_variance' has negative"),
    ("optimizer/0/m", lambda a: a.fill(np.inf), "optimizer state 'optimizer/0/m' contains NaN"),
    ("optimizer/0/v", lambda a: a.fill(-1e-3), "optimizer state 'optimizer/0/v' has negative"),
]


@pytest.mark.parametrize("section,key,value,message", TAMPERED,
                         ids=[f"{t[0]}.{t[1]}={t[2]!r}"[:40] for t in TAMPERED])
def test_a_tampered_checkpoint_is_refused_by_name(data, tmp_path, section, key, value, message):
    """Every field is checked at load, before anything is restored: a ModelFileError naming
    the field, not a TypeError, ZeroDivisionError or NaN weights inside the training loop."""
    ckpt = tmp_path / "t.ckpt.npz"
    with pytest.raises(KeyboardInterrupt):
        small_model().fit(*data, batch_size=BATCH, epochs=1, verbose=0, checkpoint_path=ckpt,
                          callbacks=[InterruptAt(0, 1)])
    meta, arrays = read_npz(ckpt)
    if value is DELETE:
        del meta["checkpoint"][section][key]
    else:
        meta["checkpoint"][section][key] = value
    write_npz(ckpt, meta, arrays)
    model = small_model()
    before = model.get_weights()
    with pytest.raises(ModelFileError, match="checkpoint is incomplete or corrupt") as info:
        model.fit(*data, batch_size=BATCH, epochs=1, verbose=0, resume=ckpt)
    assert re.search(message, str(info.value)), info.value
    assert_same_weights(model.get_weights(), before)          # refused before restoring


@pytest.mark.parametrize("member,change,message", TAMPERED_ARRAYS,
                         ids=[t[0] for t in TAMPERED_ARRAYS])
def test_tampered_weights_or_optimizer_state_are_refused_before_anything_changes(
        data, tmp_path, member, change, message):
    """NaN weights or moments, a negative variance (sqrt of it is NaN): refused at load; the
    model keeps its weights and its optimizer its (empty) state."""
    ckpt = tmp_path / "w.ckpt.npz"
    with pytest.raises(KeyboardInterrupt):
        small_model().fit(*data, batch_size=BATCH, epochs=1, verbose=0, checkpoint_path=ckpt,
                          callbacks=[InterruptAt(0, 1)])
    meta, arrays = read_npz(ckpt)
    change(arrays[member])
    write_npz(ckpt, meta, arrays)
    model = small_model()
    before = model.get_weights()
    with pytest.raises(ModelFileError, match=message):
        model.fit(*data, batch_size=BATCH, epochs=1, verbose=0, resume=ckpt)
    assert_same_weights(model.get_weights(), before)
    assert model.optimizer.iterations == 0 and model.optimizer.slots is None


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


# -- resume is exact or refused ---------------------------------------------------------------
def interrupted_checkpoint(data, tmp_path, model=None, **fit_kwargs):
    """A checkpoint written by a Ctrl+C after batch 1 of epoch 0."""
    ckpt = tmp_path / "x.ckpt.npz"
    with pytest.raises(KeyboardInterrupt):
        (model or small_model()).fit(*data, batch_size=BATCH, epochs=2, verbose=0,
                                     checkpoint_path=ckpt,
                                     callbacks=[InterruptAt(0, 1)] + fit_kwargs.pop("callbacks", []),
                                     **fit_kwargs)
    return ckpt


@pytest.mark.parametrize("written_with,resumed_with,message", [
    (lambda: nnlite.optimizers.Adam(0.001), lambda: nnlite.optimizers.Adam(1.0),
     r"the checkpoint was written with Adam\(learning_rate=0.001\), this model is compiled "
     r"with Adam\(learning_rate=1.0\)"),
    (lambda: nnlite.optimizers.Adam(CosineDecay(3e-3, decay_steps=20)),
     lambda: nnlite.optimizers.Adam(CosineDecay(3e-3, decay_steps=40)),
     r"written with Adam\(learning_rate=\{'kind': 'cosine', 'initial': 0.003, 'decay_steps': "
     r"20, 'alpha': 0.0\}\), this model is compiled with Adam\(learning_rate=\{.*'decay_steps': 40"),
    (lambda: nnlite.optimizers.Adam(0.001), lambda: nnlite.optimizers.SGD(0.001, momentum=0.9),
     r"written with Adam\(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-07\), this "
     r"model is compiled with SGD\(learning_rate=0.001, momentum=0.9, nesterov=False\)"),
    (lambda: nnlite.optimizers.Adam(0.001), lambda: nnlite.optimizers.Adam(0.001, beta_2=0.99),
     r"written with Adam\(beta_2=0.999\), this model is compiled with Adam\(beta_2=0.99\)"),
])
def test_resume_refuses_another_optimizer_or_learning_rate(data, tmp_path, written_with,
                                                           resumed_with, message):
    ckpt = interrupted_checkpoint(data, tmp_path, small_model(optimizer=written_with()))
    with pytest.raises(ResumeError, match=message):
        small_model(optimizer=resumed_with()).fit(*data, batch_size=BATCH, epochs=2, verbose=0,
                                                  resume=ckpt)


def test_resume_refuses_other_shuffling_augmentation_or_loss(data, tmp_path):
    def shift(xb, rng):
        return np.roll(xb, int(rng.integers(-1, 2)), axis=1)
    ckpt = interrupted_checkpoint(data, tmp_path, batch_transform=shift)
    with pytest.raises(ResumeError, match="written with shuffle=True, this call has shuffle=False"):
        small_model().fit(*data, batch_size=BATCH, epochs=2, verbose=0, resume=ckpt,
                          shuffle=False, batch_transform=shift)
    with pytest.raises(ResumeError, match=r"written with batch_transform=\{'name': '.*shift', "
                                          r"'settings': \{\}\}, this call has batch_transform=None"):
        small_model().fit(*data, batch_size=BATCH, epochs=2, verbose=0, resume=ckpt)
    augment = Augment(shift=1.0)
    ckpt = interrupted_checkpoint(data, tmp_path, batch_transform=augment)
    with pytest.raises(ResumeError, match=r"'settings': \{.*'shift': 1.0.*'shift': 2.0"):
        small_model().fit(*data, batch_size=BATCH, epochs=2, verbose=0, resume=ckpt,
                          batch_transform=Augment(shift=2.0))
    meta, arrays = read_npz(ckpt)
    meta["checkpoint"]["loss"] = "mean_squared_error"
    write_npz(ckpt, meta, arrays)
    with pytest.raises(ResumeError, match="written with loss 'mean_squared_error', this model is "
                                          "compiled with 'sparse_categorical_crossentropy'"):
        small_model().fit(*data, batch_size=BATCH, epochs=2, verbose=0, resume=ckpt,
                          batch_transform=augment)


def test_a_stateful_callback_resumes_exactly_or_is_refused(data, tmp_path):
    """GradientStats keeps its rows in the checkpoint (get_state/set_state): interrupted twice
    and resumed, its rows equal an uninterrupted run's, key order and NaNs included. Resuming
    without it, or with another cadence, is refused."""
    fit = dict(batch_size=BATCH, epochs=EPOCHS, validation_split=0.25, verbose=0)
    reference = GradientStats(every=2)
    small_model().fit(*data, callbacks=[reference], **fit)
    ckpt = tmp_path / "g.ckpt.npz"
    for point in [(0, 3), (2, 0)]:
        stats = GradientStats(every=2)
        with pytest.raises(KeyboardInterrupt):
            small_model().fit(*data, checkpoint_path=ckpt, resume=ckpt if point[0] else None,
                              callbacks=[stats, InterruptAt(*point)], **fit)
    stats = GradientStats(every=2)
    small_model().fit(*data, checkpoint_path=ckpt, resume=ckpt, callbacks=[stats], **fit)
    assert json.dumps(stats.rows) == json.dumps(reference.rows) and len(stats.rows) == 8
    with pytest.raises(ResumeError, match=r"holds the state of callbacks \['GradientStats'\], "
                                          r"this call has the stateful callbacks \[\]"):
        small_model().fit(*data, resume=ckpt, **fit)
    with pytest.raises(ResumeError, match="recorded every 2 steps, this callback records every 5"):
        small_model().fit(*data, resume=ckpt, callbacks=[GradientStats(every=5)], **fit)


def test_a_checkpoint_without_the_run_record_is_accepted_with_what_it_has(data, reference,
                                                                          tmp_path):
    """Checkpoints written before the record (no version, run, loss, callbacks, optimizer
    class) still resume, checked on what they hold, and the result is exact."""
    ckpt = tmp_path / "old.ckpt.npz"
    with pytest.raises(KeyboardInterrupt):
        small_model().fit(*data, batch_size=BATCH, epochs=EPOCHS, validation_split=0.25,
                          verbose=0, checkpoint_path=ckpt, callbacks=[InterruptAt(1, 2)])
    meta, arrays = read_npz(ckpt)
    for key in ("version", "run", "loss", "callbacks"):
        del meta["checkpoint"][key]
    del meta["checkpoint"]["optimizer"]["class"]
    write_npz(ckpt, meta, arrays)
    model = small_model()
    history = model.fit(*data, batch_size=BATCH, epochs=EPOCHS, validation_split=0.25, verbose=0,
                        resume=ckpt)
    assert_same_weights(model.get_weights(), reference[0])
    assert_same_history(history.history, reference[1])
    with pytest.raises(ResumeError, match=r"learning_rate=1.0"):   # what it holds is checked
        small_model(optimizer=nnlite.optimizers.Adam(1.0)).fit(
            *data, batch_size=BATCH, epochs=EPOCHS, validation_split=0.25, verbose=0, resume=ckpt)


# -- Ctrl+C anywhere in fit: a checkpoint and a KeyboardInterrupt ------------------------------
def ctrl_c_inside(model, method, on_call, real_signal=False):
    """Make the ``on_call``-th call of ``model.<method>`` (or of a callback hook) Ctrl+C."""
    owner, name = (model, method) if isinstance(method, str) else method
    original, calls = getattr(owner, name), []

    def wrapped(*args, **kwargs):
        calls.append(1)
        if len(calls) == on_call:
            if real_signal:
                os.kill(os.getpid(), signal.SIGINT)      # handled: this call completes
            else:
                raise KeyboardInterrupt                  # a second Ctrl+C: stops here
        return original(*args, **kwargs)
    setattr(owner, name, wrapped)


class Hooks(Callback):
    """A callback with every hook, for Ctrl+C to land in."""


@pytest.mark.parametrize("where,on_call,real_signal,position", [
    ("evaluate", EPOCHS, True, (EPOCHS, 0)),        # SIGINT in the LAST epoch's validation
    ("evaluate", EPOCHS, False, (EPOCHS - 1, 5)),   # raised there: validation is redone
    ("evaluate", 1, False, (0, 5)),
    ("on_epoch_end", EPOCHS, False, (EPOCHS, 0)),   # in a callback after History: epoch is over
    ("on_epoch_end", 2, True, (2, 0)),
    ("on_epoch_begin", 2, False, (1, 0)),
    ("on_train_begin", 1, False, (0, 0)),
    ("on_train_end", 1, False, (EPOCHS, 0)),
    ("on_train_end", 1, True, (EPOCHS, 0)),
])
def test_ctrl_c_anywhere_in_fit_saves_then_resumes_exactly(data, reference, tmp_path, where,
                                                          on_call, real_signal, position):
    before = signal.getsignal(signal.SIGINT)
    if before is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        ckpt, model, hooks = tmp_path / "c.ckpt.npz", small_model(), Hooks()
        ctrl_c_inside(model, where if where == "evaluate" else (hooks, where), on_call,
                      real_signal)
        with pytest.raises(KeyboardInterrupt):
            model.fit(*data, batch_size=BATCH, epochs=EPOCHS, validation_split=0.25, verbose=0,
                      checkpoint_path=ckpt, callbacks=[hooks])
    finally:
        signal.signal(signal.SIGINT, before)
    saved = read_npz(ckpt)[0]["checkpoint"]["position"]
    assert (saved["epoch"], saved["batch"]) == position
    model = small_model()
    history = model.fit(*data, batch_size=BATCH, epochs=EPOCHS, validation_split=0.25, verbose=0,
                        checkpoint_path=ckpt, resume=ckpt, callbacks=[Hooks()])
    assert_same_weights(model.get_weights(), reference[0])
    assert_same_history(history.history, reference[1])
