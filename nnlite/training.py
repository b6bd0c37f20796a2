"""The training loop behind ``Sequential.fit``: batches, progress bar, validation, callbacks,
checkpoints, resume and Ctrl+C.

    fit -> for each epoch: _Epoch.train (batches: model.train_step) -> _end_epoch (validation,
           callbacks, checkpoint)

Resumability: a checkpoint records the weights, the optimizer's moments and step, the shuffle
generator's state AT THE START of the current epoch (so the epoch's permutation can be drawn
again), every layer's generator (Dropout), the augmentation generator's state (for
``batch_transform``), the batch position, the running sums of the epoch's metrics and the
history, the callbacks' states and the run's settings. Resuming replays nothing and skips
nothing: the final weights are bit-identical to an uninterrupted run, or the checkpoint of
another run is refused (ResumeError). Ctrl+C anywhere in fit saves ``run["pos"]``, the
position the model is at, and re-raises; a second one inside a step keeps the last checkpoint.
"""
import math
import numbers
import os
import sys
import time

import numpy as np

from . import recalibration
from .callbacks import History
from .checkpoint import load_checkpoint, run_record, save_checkpoint
from .errors import ConfigError, DivergenceError, InputError, NonFiniteError
from .safeguards import DIVERGENCE_FACTOR, SigintGuard, divergence_report, non_finite_message
from .ops.threads import blas_threads
from .validation import as_labels, fit_options, non_negative_int, positive_int

INTERRUPT_FILE = "nnlite-interrupted.ckpt.npz"


def fit(model, x, y, batch_size=32, epochs=1, validation_split=0.0, validation_data=None,
        shuffle=True, callbacks=None, verbose=1, initial_epoch=0, checkpoint_path=None,
        resume=None, batch_transform=None, recalibrate_bn="auto"):
    """Train ``model``; returns a ``History``.

    checkpoint_path: write a resumable checkpoint there after every epoch (atomically) and on
        Ctrl+C (default on Ctrl+C: ./nnlite-interrupted.ckpt.npz).
    resume: a checkpoint path to continue from, mid-epoch if it was written by Ctrl+C.
    batch_transform: optional ``f(xb, rng) -> xb'`` applied to every TRAINING batch (not to
        validation), e.g. ``nnlite.preprocess.Augment``; ``rng`` is ``model.augment_rng``, whose
        state is checkpointed, so augmented runs resume bit-identically. Must keep xb's shape.
    recalibrate_bn: at the end, re-estimate BatchNormalization's moving statistics from the
        training images: "auto" when the run was too short for them (nnlite/recalibration.py),
        True always, False never; recorded in ``history.bn_recalibration``.
    """
    model._require_compiled()
    callbacks, checkpoint_path = fit_options(shuffle, verbose, callbacks, checkpoint_path,
                                             batch_transform)
    recalibrate_bn = recalibration.check_option(recalibrate_bn)
    x, y, val = _checked_data(model, x, y, validation_split, validation_data)
    batch_size = positive_int(batch_size, "batch_size")
    epochs = non_negative_int(epochs, "epochs")
    pos = _epoch_start(non_negative_int(initial_epoch, "initial_epoch"), len(x), batch_size)
    history = History()
    cbs = [history] + list(callbacks or [])
    for cb in cbs:
        cb.set_model(model)
    model.history, model.stop_training = history, False
    record = run_record(len(x), batch_size, shuffle, batch_transform)
    if resume is not None:
        pos = load_checkpoint(resume, model, history, record, cbs[1:])
        if verbose:
            print(f"resuming from {resume}: epoch {pos['epoch'] + 1}, batch {pos['batch']}",
                  file=sys.stderr)
    run = {"model": model, "x": x, "y": y, "batch_size": batch_size, "epochs": epochs,
           "shuffle": shuffle, "callbacks": cbs, "verbose": verbose, "history": history,
           "checkpoint_path": checkpoint_path, "batch_transform": batch_transform,
           "loss_limit": None, "recalibrate_bn": recalibrate_bn, "record": record,
           "pos": pos}     # the position the model is at while a Ctrl+C would lose nothing
    guard = SigintGuard()
    with guard.installed(), blas_threads():      # see nnlite/ops/threads.py
        try:
            for cb in cbs:
                cb.on_train_begin()
            for epoch in range(pos["epoch"], epochs):
                if pos["epoch_rng"] is None:     # so a Ctrl+C before its first batch is exact
                    pos = {**pos, "epoch_rng": model.shuffle_rng.bit_generator.state}
                run["pos"] = pos
                this = _Epoch(run, epoch, pos)
                pos = _end_epoch(run, this, this.train(guard), val, guard)
                if model.stop_training:
                    break
            history.bn_recalibration = _recalibrate(run)
            if verbose and history.bn_recalibration:
                print(recalibration.describe(history.bn_recalibration), file=sys.stderr)
            for cb in cbs:
                cb.on_train_end()
            if guard.requested:                  # a Ctrl+C after the last epoch's checkpoint
                raise KeyboardInterrupt
        except KeyboardInterrupt:                # anywhere not handled below: save, re-raise
            if run["pos"] is not None:
                _save_on_interrupt(run, run["pos"])
            raise
    return history


def _checked_data(model, x, y, validation_split, validation_data):
    """-> x, y, (x_val, y_val) or None; all checked against the model."""
    x = model._check_x(x)
    y = as_labels(y, "y", model.output_shape[-1], length=len(x))
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise InputError("validation_data must be a pair (x_val, y_val), got "
                             f"{type(validation_data).__name__}")
        x_val = model._check_x(validation_data[0], "validation_data x")
        return x, y, (x_val, as_labels(validation_data[1], "validation_data y",
                                       model.output_shape[-1], length=len(x_val)))
    if validation_split:
        (x, y), val = split_validation(x, y, validation_split)
        return x, y, val
    return x, y, None


def split_validation(x, y, validation_split):
    """Keras semantics: validation is the LAST fraction, taken before any shuffling."""
    if (isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real)
            or not 0.0 <= validation_split < 1.0):
        raise ConfigError(f"validation_split must be in [0, 1), got {validation_split!r}")
    split_at = int(math.floor(len(x) * (1.0 - validation_split)))
    if split_at == 0 or split_at == len(x):
        raise InputError(f"validation_split={validation_split} leaves "
                         f"{split_at} training and {len(x) - split_at} validation samples")
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def _epoch_start(epoch, n_train, batch_size):
    """The training position at the start of ``epoch`` (what an epoch checkpoint holds)."""
    return {"epoch": epoch, "batch": 0, "loss_sum": 0.0, "correct": 0, "seen": 0,
            "epoch_rng": None, "elapsed": 0.0, "n_train": n_train, "batch_size": batch_size}


class _Epoch:
    """One epoch's batches, from ``pos`` (an epoch start, or a mid-epoch checkpoint)."""

    def __init__(self, run, epoch, pos):
        self.run, self.epoch, self.model = run, epoch, run["model"]
        rng = self.model.shuffle_rng
        if pos["epoch_rng"] is not None:          # resuming inside this epoch
            rng.bit_generator.state = pos["epoch_rng"]
        self.epoch_rng = rng.bit_generator.state
        n = len(run["x"])
        self.order = rng.permutation(n) if run["shuffle"] else np.arange(n)
        self.n_batches = -(-n // run["batch_size"])
        self.start, self.t0 = pos["batch"], time.perf_counter() - pos["elapsed"]
        self.loss_sum, self.correct, self.seen = pos["loss_sum"], pos["correct"], pos["seen"]
        self.completed = self.start     # batches of this epoch fully applied
        self.aug_pending = None         # augment_rng state before a batch not yet applied
        self.in_step = False            # True while weights / BN state may be half-updated

    def position(self):
        return {"epoch": self.epoch, "batch": self.completed, "loss_sum": self.loss_sum,
                "correct": self.correct, "seen": self.seen, "epoch_rng": self.epoch_rng,
                "elapsed": time.perf_counter() - self.t0, "n_train": len(self.run["x"]),
                "batch_size": self.run["batch_size"]}

    def train(self, guard):
        """Train the remaining batches -> the epoch's logs {loss, accuracy}."""
        self.bar = None
        try:
            for cb in self.run["callbacks"]:
                cb.on_epoch_begin(self.epoch)
            self.bar = _progress(self.n_batches, self.start, self.epoch, self.run["epochs"],
                                 self.run["verbose"])
            for b in range(self.start, self.n_batches):
                self._batch(b)
                if guard.requested:
                    raise KeyboardInterrupt
            self.run["pos"] = self.position()
        except KeyboardInterrupt:
            self._interrupted()
            raise
        return {"loss": self.loss_sum / self.seen, "accuracy": self.correct / self.seen}

    def _batch(self, b):
        run, model = self.run, self.model
        for cb in run["callbacks"]:
            cb.on_batch_begin(b)
        idx = self.order[b * run["batch_size"]:(b + 1) * run["batch_size"]]
        xb, yb = run["x"][idx], run["y"][idx]
        if run["batch_transform"] is not None:
            self.aug_pending = model.augment_rng.bit_generator.state
            xb = _transformed(run["batch_transform"], xb, model.augment_rng)
        self.in_step = True
        loss, hits = _step(run, xb, yb, self.epoch, b)
        self.loss_sum += loss * len(idx)
        self.correct += hits
        self.seen += len(idx)
        self.completed, self.aug_pending, self.in_step = b + 1, None, False
        if self.bar is not None:
            self.bar.update(1)
            if b % 20 == 0 or b == self.n_batches - 1:
                self.bar.set_postfix(loss=f"{self.loss_sum / self.seen:.4f}",
                                     acc=f"{self.correct / self.seen:.4f}", refresh=False)
        for cb in run["callbacks"]:
            cb.on_batch_end(b, {"loss": loss})

    def _interrupted(self):
        """Ctrl+C between steps: checkpoint the exact position. Inside a step (a second
        Ctrl+C): the state is half-updated and could not resume exactly; keep the last one."""
        if self.bar is not None:
            self.bar.close()
        path = self.run["checkpoint_path"]
        if self.in_step:
            self.run["pos"] = None
            kept = (f"the last epoch checkpoint {path} is kept"
                    if path and os.path.exists(path) else "no checkpoint was written")
            print(f"\nstopped inside a step (epoch {self.epoch + 1}, batch {self.completed + 1}); "
                  f"{kept}", file=sys.stderr)
            return
        if self.aug_pending is not None:      # that batch's step never happened
            self.model.augment_rng.bit_generator.state = self.aug_pending
        _save_on_interrupt(self.run, self.position())


def _step(run, xb, yb, epoch, b):
    """model.train_step with the divergence guard; errors name the step and the checkpoint."""
    model = run["model"]
    try:
        loss, hits = model.train_step(xb, yb)
        if run["loss_limit"] is None:
            run["loss_limit"] = DIVERGENCE_FACTOR * max(loss, math.log(model.output_shape[-1]))
        elif loss > run["loss_limit"]:
            raise DivergenceError(divergence_report(model, loss, run["loss_limit"]))
    except NonFiniteError as exc:
        raise type(exc)(non_finite_message(exc, model, epoch, b,
                                            run["checkpoint_path"])) from None
    return loss, hits


def _end_epoch(run, this, logs, val, guard):
    """Validation, callbacks, the epoch checkpoint -> the next epoch's start position. A
    Ctrl+C during any of it still ends in a checkpoint and a KeyboardInterrupt."""
    model, path, epoch = run["model"], run["checkpoint_path"], this.epoch
    pos = _epoch_start(epoch + 1, len(run["x"]), run["batch_size"])
    try:
        if epoch + 1 == run["epochs"]:      # before the last validation, which then scores it
            _recalibrate(run)
        if val is not None:
            val_loss, val_acc = model.evaluate(*val)
            logs.update(val_loss=val_loss, val_accuracy=val_acc)
        logs.update(lr=model.optimizer.current_lr(), seconds=time.perf_counter() - this.t0)
        if this.bar is not None:
            this.bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if k != "seconds"})
            this.bar.close()
        for cb in run["callbacks"]:
            cb.on_epoch_end(epoch, logs)
    except KeyboardInterrupt:
        guard.requested = True
    if guard.requested:         # before History recorded the epoch: redo its validation
        _save_on_interrupt(run, pos if run["history"].epoch[-1:] == [epoch] else this.position())
        raise KeyboardInterrupt
    run["pos"] = pos
    if path:
        save_checkpoint(path, model, run["history"], pos, run["record"], run["callbacks"][1:])
    return pos


def _recalibrate(run):
    """Once per fit, the BatchNorm re-estimation of nnlite/recalibration.py -> record or None."""
    if "bn_recalibration" not in run:
        run["bn_recalibration"] = recalibration.after_fit(run["model"], run["x"],
                                                          run["recalibrate_bn"])
    return run["bn_recalibration"]


def _save_on_interrupt(run, pos):
    path = run["checkpoint_path"] or INTERRUPT_FILE
    save_checkpoint(path, run["model"], run["history"], pos, run["record"], run["callbacks"][1:])
    run["pos"] = None                   # saved: nothing left to save on the way out
    print(f"\ninterrupted: checkpoint saved to {path} (epoch {pos['epoch'] + 1}, batch "
          f"{pos['batch']}); resume with fit(..., resume='{path}') or `nnlite train ... --resume`",
          file=sys.stderr)


def _transformed(batch_transform, xb, rng):
    out = np.ascontiguousarray(batch_transform(xb, rng), dtype=xb.dtype)
    if out.shape != xb.shape:
        raise ConfigError(f"batch_transform changed the batch shape from {xb.shape} to {out.shape}")
    return out


def _progress(n_batches, start, epoch, epochs, verbose):
    if not verbose:
        return None
    from tqdm.auto import tqdm        # optional heavy import, only for a visible bar
    return tqdm(total=n_batches, initial=start, desc=f"epoch {epoch + 1}/{epochs}",
                unit="batch", leave=True, dynamic_ncols=True, mininterval=0.5)
