"""The training loop behind ``Sequential.fit``: batches, progress bar, validation, callbacks,
checkpoints, resume and Ctrl+C.

Resumability: a checkpoint records the weights, the optimizer's moments and step, the shuffle
generator's state AT THE START of the current epoch (so the epoch's permutation can be drawn
again), every Dropout generator's state, the augmentation generator's state (for
``batch_transform``), the batch position, the running sums of the epoch's metrics and the
history. Resuming from it replays nothing and skips nothing, so the final weights are
bit-identical to an uninterrupted run with the same seed.
"""
import contextlib
import math
import numbers
import os
import signal
import sys
import threading
import time

import numpy as np

from .callbacks import History
from .checkpoint import load_checkpoint, save_checkpoint
from .ops.threads import blas_threads
from .errors import ConfigError, DivergenceError, InputError, NonFiniteError
from .validation import as_labels, non_negative_int, positive_int

INTERRUPT_FILE = "nnlite-interrupted.ckpt.npz"
# A step whose loss exceeds this many times the first step's loss (at least ln(classes), the
# loss of a uniform guess) is a divergence: with a stable fused softmax-CE an absurd learning
# rate gives a huge but finite loss, which would otherwise train on, uselessly, forever.
DIVERGENCE_FACTOR = 100.0


class _SigintGuard:
    """First Ctrl+C: finish the current step, then checkpoint and stop. Second: stop now."""

    def __init__(self):
        self.requested = False

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True
        print("\nCtrl+C: finishing this step, then saving a checkpoint "
              "(press again to stop at once)", file=sys.stderr)

    @contextlib.contextmanager
    def installed(self):
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.signal(signal.SIGINT, self._handler)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)


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


def fit(model, x, y, batch_size=32, epochs=1, validation_split=0.0, validation_data=None,
        shuffle=True, callbacks=None, verbose=1, initial_epoch=0, checkpoint_path=None,
        resume=None, batch_transform=None):
    """Train ``model``; returns a ``History``.

    checkpoint_path: write a resumable checkpoint there after every epoch (atomically) and on
        Ctrl+C (default on Ctrl+C: ./nnlite-interrupted.ckpt.npz).
    resume: a checkpoint path to continue from, mid-epoch if it was written by Ctrl+C.
    batch_transform: optional ``f(xb, rng) -> xb'`` applied to every TRAINING batch (not to
        validation), e.g. ``nnlite.preprocess.Augment``; ``rng`` is ``model.augment_rng``, whose
        state is checkpointed, so augmented runs resume bit-identically. Must keep xb's shape.
    """
    model._require_compiled()
    x = model._check_x(x)
    y = as_labels(y, "y", model.output_shape[-1], length=len(x))
    batch_size = positive_int(batch_size, "batch_size")
    epochs = non_negative_int(epochs, "epochs")
    initial_epoch = non_negative_int(initial_epoch, "initial_epoch")
    if validation_data is not None:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
            raise InputError("validation_data must be a pair (x_val, y_val), got "
                             f"{type(validation_data).__name__}")
        x_val = model._check_x(validation_data[0], "validation_data x")
        y_val = as_labels(validation_data[1], "validation_data y", model.output_shape[-1],
                          length=len(x_val))
    elif validation_split:
        (x, y), (x_val, y_val) = split_validation(x, y, validation_split)
    else:
        x_val = y_val = None

    history = History()
    cbs = [history] + list(callbacks or [])
    for cb in cbs:
        cb.set_model(model)
    model.history = history
    model.stop_training = False

    n = len(x)
    n_classes = model.output_shape[-1]
    loss_limit = None           # set from the first step's loss (see DIVERGENCE_FACTOR)
    pos = {"epoch": initial_epoch, "batch": 0, "loss_sum": 0.0, "correct": 0, "seen": 0,
           "epoch_rng": None, "elapsed": 0.0}
    if resume is not None:
        pos = load_checkpoint(resume, model, history)
        _check_same_run(pos, n, batch_size, resume)
        if verbose:
            print(f"resuming from {resume}: epoch {pos['epoch'] + 1}, batch {pos['batch']}",
                  file=sys.stderr)

    n_batches = -(-n // batch_size)
    guard = _SigintGuard()
    for cb in cbs:
        cb.on_train_begin()
    with guard.installed(), blas_threads():      # see nnlite/ops/threads.py
        for epoch in range(pos["epoch"], epochs):
            if pos["epoch_rng"] is not None:          # resuming inside this epoch
                model.shuffle_rng.bit_generator.state = pos["epoch_rng"]
            epoch_rng = model.shuffle_rng.bit_generator.state
            order = model.shuffle_rng.permutation(n) if shuffle else np.arange(n)
            start, t0 = pos["batch"], time.perf_counter() - pos["elapsed"]
            loss_sum, correct, seen = pos["loss_sum"], pos["correct"], pos["seen"]
            for cb in cbs:
                cb.on_epoch_begin(epoch)
            bar = _progress(n_batches, start, epoch, epochs, verbose)

            def snapshot(batch):
                return {"epoch": epoch, "batch": batch, "loss_sum": loss_sum, "correct": correct,
                        "seen": seen, "epoch_rng": epoch_rng,
                        "elapsed": time.perf_counter() - t0, "n_train": n,
                        "batch_size": batch_size}

            completed = start        # batches of this epoch fully applied
            aug_pending = None       # augment_rng state before a batch not yet applied
            in_step = False          # True while weights / BN state may be half-updated
            try:
                for b in range(start, n_batches):
                    for cb in cbs:
                        cb.on_batch_begin(b)
                    idx = order[b * batch_size:(b + 1) * batch_size]
                    xb, yb = x[idx], y[idx]
                    if batch_transform is not None:
                        aug_pending = model.augment_rng.bit_generator.state
                        xb = _transformed(batch_transform, xb, model.augment_rng)
                    in_step = True
                    try:
                        loss, hits = model.train_step(xb, yb)
                        if loss_limit is None:
                            loss_limit = DIVERGENCE_FACTOR * max(loss, math.log(n_classes))
                        elif loss > loss_limit:
                            raise DivergenceError(_divergence_report(model, loss, loss_limit))
                    except NonFiniteError as exc:
                        raise type(exc)(_non_finite_message(exc, model, epoch, b,
                                                            checkpoint_path)) from None
                    loss_sum += loss * len(idx)
                    correct += hits
                    seen += len(idx)
                    completed, aug_pending = b + 1, None
                    in_step = False
                    if bar is not None:
                        bar.update(1)
                        if b % 20 == 0 or b == n_batches - 1:
                            bar.set_postfix(loss=f"{loss_sum / seen:.4f}",
                                            acc=f"{correct / seen:.4f}", refresh=False)
                    for cb in cbs:
                        cb.on_batch_end(b, {"loss": loss})
                    if guard.requested:
                        raise KeyboardInterrupt
            except KeyboardInterrupt:
                if bar is not None:
                    bar.close()
                if in_step:
                    # a second Ctrl+C inside a step: the state is half-updated, and saving it
                    # would give a checkpoint that cannot resume exactly. Keep the last one.
                    kept = (f"the last epoch checkpoint {checkpoint_path} is kept"
                            if checkpoint_path and os.path.exists(checkpoint_path)
                            else "no checkpoint was written")
                    print(f"\nstopped inside a step (epoch {epoch + 1}, batch {completed + 1}); "
                          f"{kept}", file=sys.stderr)
                    raise
                path = checkpoint_path or INTERRUPT_FILE
                if aug_pending is not None:      # that batch's step never happened
                    model.augment_rng.bit_generator.state = aug_pending
                save_checkpoint(path, model, history, snapshot(completed))
                print(f"\ninterrupted: checkpoint saved to {path} "
                      f"(epoch {epoch + 1}, batch {completed}); resume with fit(..., resume='{path}') "
                      "or `nnlite train ... --resume`", file=sys.stderr)
                raise
            logs = {"loss": loss_sum / seen, "accuracy": correct / seen}
            if x_val is not None:
                val_loss, val_acc = model.evaluate(x_val, y_val)
                logs.update(val_loss=val_loss, val_accuracy=val_acc)
            logs.update(lr=model.optimizer.current_lr(), seconds=time.perf_counter() - t0)
            if bar is not None:
                bar.set_postfix({k: f"{v:.4f}" for k, v in logs.items() if k != "seconds"})
                bar.close()
            for cb in cbs:
                cb.on_epoch_end(epoch, logs)
            pos = {"epoch": epoch + 1, "batch": 0, "loss_sum": 0.0, "correct": 0, "seen": 0,
                   "epoch_rng": None, "elapsed": 0.0, "n_train": n, "batch_size": batch_size}
            if checkpoint_path:
                save_checkpoint(checkpoint_path, model, history, pos)
            if model.stop_training:
                break
    for cb in cbs:
        cb.on_train_end()
    return history


def _check_same_run(pos, n, batch_size, source):
    """A checkpoint resumes exactly only with the same training-set size and batch size."""
    for key, now, what in (("n_train", n, "training samples"),
                           ("batch_size", batch_size, "batch_size")):
        then = pos.get(key, now)          # checkpoints written before this check lack the keys
        if then != now:
            raise InputError(f"resume={source}: the checkpoint was written with {then} {what}, "
                             f"this call has {now}; resuming would not continue the same run")


def _transformed(batch_transform, xb, rng):
    out = np.ascontiguousarray(batch_transform(xb, rng), dtype=xb.dtype)
    if out.shape != xb.shape:
        raise ConfigError(f"batch_transform changed the batch shape from {xb.shape} to {out.shape}")
    return out


def _progress(n_batches, start, epoch, epochs, verbose):
    if not verbose:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=n_batches, initial=start, desc=f"epoch {epoch + 1}/{epochs}",
                unit="batch", leave=True, dynamic_ncols=True, mininterval=0.5)


def _divergence_report(model, loss, limit):
    """Name the parameter with the largest gradient (relative to its weights) of the step."""
    worst, ratio = None, -1.0
    for layer, key in model.trainable():
        g = np.linalg.norm(layer.grads[key]) / (np.linalg.norm(layer.params[key]) + 1e-12)
        if g > ratio:
            worst, ratio = f"{layer.name}/{key}", g
    return (f"the loss diverged to {loss:.4g}, over {DIVERGENCE_FACTOR:g}x its starting value "
            f"(limit {limit:.4g}); the largest gradient relative to its weights is in layer "
            f"'{worst}' (|grad|/|w| = {ratio:.3g})")


def _non_finite_message(exc, model, epoch, batch, checkpoint_path):
    ckpt = (f"the last good checkpoint is kept at {checkpoint_path}"
            if checkpoint_path and os.path.exists(checkpoint_path)
            else "no checkpoint was written (pass checkpoint_path= to keep one each epoch)")
    if isinstance(exc, DivergenceError):
        step = model.optimizer.iterations       # that step was applied; the loss came after it
        state = "the weights in memory are those of the diverged step"
    else:
        step = model.optimizer.iterations + 1   # refused before the update
        state = "the weights in memory are those before this step"
    return (f"training stopped at step {step} (epoch {epoch + 1}, batch {batch + 1}): {exc}. "
            f"{state.capitalize()}; {ckpt}. Try a smaller learning rate.")
