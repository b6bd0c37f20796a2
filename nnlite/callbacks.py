"""Callbacks, Keras-style: hooks the training loop calls at batch and epoch boundaries."""
import csv
import json
import math
import os

import numpy as np


class Callback:
    model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...


class History(Callback):
    """``history.history`` maps each metric to its per-epoch values; ``history.epoch`` lists
    the epoch indices."""

    def __init__(self):
        self.history, self.epoch = {}, []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def to_dict(self):
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}


def _better(mode, monitor):
    if mode == "auto":
        mode = "max" if "acc" in monitor else "min"
    return (lambda a, b: a > b) if mode == "max" else (lambda a, b: a < b)


class ModelCheckpoint(Callback):
    """Save the model (atomically) at each epoch end, or only when ``monitor`` improved."""

    def __init__(self, filepath, monitor="val_loss", mode="auto", save_best_only=True):
        self.filepath, self.monitor, self.save_best_only = filepath, monitor, save_best_only
        self._better = _better(mode, monitor)
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if self.save_best_only:
            if value is None or not math.isfinite(value):
                return
            if self.best is not None and not self._better(value, self.best):
                return
            self.best = value
        self.model.save(self.filepath.format(epoch=epoch + 1, **(logs or {})))


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 restore_best_weights=False):
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.mode = "max" if (mode == "auto" and "acc" in monitor) or mode == "max" else "min"
        self.restore_best_weights = restore_best_weights
        self.best, self.wait, self.best_weights, self.stopped_epoch = None, 0, None, None

    def _improved(self, value):
        if self.best is None:
            return True
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            return
        if self._improved(value):
            self.best, self.wait = value, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:
            self.model.stop_training = True
            self.stopped_epoch = epoch
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)


class LearningRateScheduler(Callback):
    """Per-epoch schedule: ``schedule(epoch, lr) -> new lr``, set before each epoch."""

    def __init__(self, schedule):
        self.schedule = schedule

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        opt.learning_rate = float(self.schedule(epoch, opt.current_lr()))


class CSVLogger(Callback):
    """Append one row of logs per epoch to a CSV file (and, if ``json_path``, a JSON list)."""

    def __init__(self, filename, json_path=None):
        self.filename, self.json_path = filename, json_path
        self.rows = []

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1, **{k: float(v) for k, v in (logs or {}).items()}}
        self.rows.append(row)
        new = not os.path.exists(self.filename) or len(self.rows) == 1
        with open(self.filename, "w" if new else "a", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(row))
            if new:
                writer.writeheader()
            writer.writerow(row)
        if self.json_path:
            with open(self.json_path, "w") as fh:
                json.dump(self.rows, fh, indent=1)


def lr_of(model):
    return float(model.optimizer.current_lr()) if model.optimizer else float("nan")


__all__ = ["Callback", "History", "ModelCheckpoint", "EarlyStopping", "LearningRateScheduler",
           "CSVLogger"]
from .internals.gradient_stats import GradientStats  # noqa: E402  (lives in nnlite/internals)
