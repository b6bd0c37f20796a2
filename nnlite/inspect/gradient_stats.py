"""GradientStats: a callback that watches activations, gradients and updates while fit runs.

Every ``every`` optimizer steps it records one row (a dict) with, per layer L:
    L/act_mean, L/act_std        mean and std of L's output on the batch (training mode)
    L/dead_relu                  ReLU layers only: fraction of units 0 for the whole batch
    L/grad_in_norm               |dLoss/d input of L|, what L's backward passes down
    L/P/grad_norm                |gradient of parameter P| as the optimizer receives it (with L2)
    L/P/weight_norm              |P| before the step
    L/P/update_norm              |P after - P before|, the step the optimizer actually took
    L/P/update_ratio             update_norm / weight_norm (a healthy rule of thumb: ~1e-3)
plus step, epoch, batch and the batch loss. Norms are Euclidean over all elements.

It needs no engine hook beyond the public callback API: the parameters are snapshotted when
the recorded step's first forward runs (a tap on layer 0), the activations are summarised by
per-layer taps, and at ``on_batch_end`` the gradients are read from ``layer.grads`` and the
updates from comparing the parameters with the snapshot. Taps are removed at train end; if
fit raises (e.g. NonFiniteError) call ``close()`` or use ``with GradientStats(...) as gs:``.
"""
import csv
import json
import math

import numpy as np

from ..callbacks import Callback
from ..errors import ConfigError
from .stats import dead_fraction, is_relu, l2_norm, tensor_stats
from .taps import LayerTaps


class GradientStats(Callback):
    def __init__(self, every=10, csv_path=None, json_path=None):
        if isinstance(every, bool) or not isinstance(every, int) or every <= 0:
            raise ConfigError(f"GradientStats every must be a positive integer, got {every!r}")
        self.every, self.csv_path, self.json_path = every, csv_path, json_path
        self.rows = []
        self.layers = []          # [{"name", "type", "params": [...], "relu": bool}]
        self._taps = None
        self._armed = False
        self._snapshot = None
        self._pending = {}
        self._epoch = 0

    # -- context manager: guarantees the taps go even if fit raises ----------------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self._taps is not None:
            self._taps.remove()
            self._taps = None
        self._armed = False

    # -- callback hooks ------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.close()            # taps left by an earlier fit that raised
        model = self.model
        self.layers = [{"name": l.name, "type": type(l).__name__, "params": list(l.params),
                        "relu": is_relu(l)} for l in model.layers]
        self._taps = LayerTaps(model.layers, self._on_forward, self._on_backward).install()
        self._arm_for(model.optimizer.iterations)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        model = self.model
        if self._armed and self._snapshot is not None:
            row = {"step": model.optimizer.iterations - 1, "epoch": self._epoch, "batch": batch,
                   "loss": float((logs or {}).get("loss", math.nan))}
            row.update(self._pending)
            for layer, before in zip(model.layers, self._snapshot):
                for key, w0 in before.items():
                    prefix = f"{layer.name}/{key}"
                    weight = l2_norm(w0)
                    update = l2_norm(layer.params[key].astype(np.float64) - w0)
                    row[f"{prefix}/grad_norm"] = l2_norm(layer.grads[key])
                    row[f"{prefix}/weight_norm"] = weight
                    row[f"{prefix}/update_norm"] = update
                    row[f"{prefix}/update_ratio"] = update / weight if weight > 0 else math.nan
            self.rows.append(row)
        self._arm_for(model.optimizer.iterations)

    def on_epoch_end(self, epoch, logs=None):
        self.write()

    def on_train_end(self, logs=None):
        self.close()
        self.write()

    # -- taps ----------------------------------------------------------------------------------
    def _arm_for(self, next_step):
        self._armed = next_step % self.every == 0
        self._snapshot, self._pending = None, {}

    def _on_forward(self, i, layer, x, y, training):
        if not (self._armed and training):
            return
        if i == 0 and self._snapshot is None:   # the recorded step starts: weights before it
            self._snapshot = [{k: p.astype(np.float64) for k, p in l.params.items()}
                              for l in self.model.layers]
        stats = tensor_stats(y)
        self._pending[f"{layer.name}/act_mean"] = stats["mean"]
        self._pending[f"{layer.name}/act_std"] = stats["std"]
        if is_relu(layer):
            self._pending[f"{layer.name}/dead_relu"] = dead_fraction(y)

    def _on_backward(self, i, layer, grad_out, grad_in):
        if self._armed and self._snapshot is not None:
            self._pending[f"{layer.name}/grad_in_norm"] = l2_norm(grad_in)

    # -- reading the results -------------------------------------------------------------------
    def series(self, column):
        """(steps, values) of one column, e.g. ``series('dense/kernel/grad_norm')``."""
        steps = np.array([r["step"] for r in self.rows if column in r])
        values = np.array([r[column] for r in self.rows if column in r], dtype=np.float64)
        return steps, values

    def columns(self):
        seen = {}
        for r in self.rows:
            for k in r:
                seen.setdefault(k)
        return list(seen)

    def to_dict(self):
        return {"every": self.every, "layers": self.layers, "rows": self.rows}

    def write(self, csv_path=None, json_path=None):
        """Write the rows to CSV (one row per recorded step) and/or JSON (NaN -> null)."""
        csv_path, json_path = csv_path or self.csv_path, json_path or self.json_path
        if csv_path:
            with open(csv_path, "w", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=self.columns(), restval="")
                writer.writeheader()
                writer.writerows(self.rows)
        if json_path:
            with open(json_path, "w") as fh:
                json.dump(_json_safe(self.to_dict()), fh, indent=1)


def _json_safe(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_json_safe(v) for v in obj]
    return obj
