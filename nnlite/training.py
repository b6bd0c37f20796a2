"""The training loop behind ``Sequential.fit``: batches, progress bar, validation, callbacks,
checkpoints, resume and Ctrl+C.

Resumability: a checkpoint records the weights, the optimizer's moments and step, the shuffle
generator's state AT THE START of the current epoch (so the epoch's permutation can be drawn
again), every Dropout generator's state, the batch position, the running sums of the epoch's
metrics and the history. Resuming from it replays nothing and skips nothing, so the final
weights are bit-identical to an uninterrupted run with the same seed.
"""
import contextlib
import math
import os
import signal
import sys
import threading
import time

import numpy as np

from .callbacks import History
from .checkpoint import load_checkpoint, save_checkpoint
from .errors import ConfigError, InputError, NonFiniteError
from .validation import as_labels, positive_int

INTERRUPT_FILE = "nnlite-interrupted.ckpt.npz"


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
    if not 0.0 <= validation_split < 1.0:
        raise ConfigError(f"validation_split must be in [0, 1), got {validation_split}")
    split_at = int(math.floor(len(x) * (1.0 - validation_split)))
    if split_at == 0 or split_at == len(x):
        raise InputError(f"validation_split={validation_split} leaves "
                         f"{split_at} training and {len(x) - split_at} validation samples")
    return (x[:split_at], y[:split_at]), (x[split_at:], y[split_at:])


def fit(model, x, y, batch_size=32, epochs=1, validation_split=0.0, validation_data=None,
        shuffle=True, callbacks=None, verbose=1, initial_epoch=0, checkpoint_path=None,
        resume=None):
    """Train ``model``; returns a ``History``.

    checkpoint_path: write a resumable checkpoint there after every epoch (atomically) and on
        Ctrl+C (default on Ctrl+C: ./nnlite-interrupted.ckpt.npz).
    resume: a checkpoint path to continue from, mid-epoch if it was written by Ctrl+C.
    """
    model._require_compiled()
    x = model._check_x(x)
    y = as_labels(y, "y", model.output_shape[-1], length=len(x))
    batch_size = positive_int(batch_size, "batch_size")
    epochs = int(epochs)
    if validation_data is not None:
        if len(validation_data) != 2:
            raise InputError("validation_data must be a pair (x_val, y_val)")
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

    pos = {"epoch": int(initial_epoch), "batch": 0, "loss_sum": 0.0, "correct": 0, "seen": 0,
           "epoch_rng": None, "elapsed": 0.0}
    if resume is not None:
        pos = load_checkpoint(resume, model, history)
        if verbose:
            print(f"resuming from {resume}: epoch {pos['epoch'] + 1}, batch {pos['batch']}",
                  file=sys.stderr)

    n = len(x)
    n_batches = -(-n // batch_size)
    guard = _SigintGuard()
    for cb in cbs:
        cb.on_train_begin()
    with guard.installed():
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
                        "elapsed": time.perf_counter() - t0}

            completed = start        # batches of this epoch fully applied
            try:
                for b in range(start, n_batches):
                    idx = order[b * batch_size:(b + 1) * batch_size]
                    xb, yb = x[idx], y[idx]
                    try:
                        loss, hits = model.train_step(xb, yb)
                    except NonFiniteError as exc:
                        raise NonFiniteError(_non_finite_message(exc, model, epoch, b,
                                                                 checkpoint_path)) from None
                    loss_sum += loss * len(idx)
                    correct += hits
                    seen += len(idx)
                    completed = b + 1
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
                path = checkpoint_path or INTERRUPT_FILE
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
                   "epoch_rng": None, "elapsed": 0.0}
            if checkpoint_path:
                save_checkpoint(checkpoint_path, model, history, pos)
            if model.stop_training:
                break
    for cb in cbs:
        cb.on_train_end()
    return history


def _progress(n_batches, start, epoch, epochs, verbose):
    if not verbose:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=n_batches, initial=start, desc=f"epoch {epoch + 1}/{epochs}",
                unit="batch", leave=True, dynamic_ncols=True, mininterval=0.5)


def _non_finite_message(exc, model, epoch, batch, checkpoint_path):
    ckpt = (f"the last good checkpoint is kept at {checkpoint_path}"
            if checkpoint_path and os.path.exists(checkpoint_path)
            else "no checkpoint was written (pass checkpoint_path= to keep one each epoch)")
    return (f"training stopped at step {model.optimizer.iterations + 1} (epoch {epoch + 1}, "
            f"batch {batch + 1}): {exc}. The weights in memory are those before this step; "
            f"{ckpt}. Try a smaller learning rate.")
