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

It is a Callback that attaches itself as an Observer of the model for the run (removed at
train end): on a recorded step it summarises each layer's output (``on_forward``) and input
gradient (``on_backward``), snapshots the weights before the update (``before_update``) and
compares after it (``after_update``). If fit raises (e.g. NonFiniteError) the observer is
detached by ``close()`` or by ``with GradientStats(...) as gs:``.
"""
import math

import numpy as np

from ..callbacks import Callback, Observer
from ..errors import ConfigError, ResumeError
from ..files import write_csv, write_json
from .stats import dead_fraction, is_relu, l2_norm, tensor_stats


ROW_INDEX = ("step", "epoch", "batch")


class GradientStats(Callback, Observer):
    def __init__(self, every=10, csv_path=None, json_path=None):
        if isinstance(every, bool) or not isinstance(every, int) or every <= 0:
            raise ConfigError(f"GradientStats every must be a positive integer, got {every!r}")
        self.every, self.csv_path, self.json_path = every, csv_path, json_path
        self.rows = []
        self.layers = []          # [{"name", "type", "params": [...], "relu": bool}]
        self._armed = False       # this step is recorded
        self._pending = {}        # the recorded step's numbers so far
        self._before = None       # the recorded step's weights before the update (float64)
        self._epoch = 0

    @property
    def wants_input_grads(self):
        """On a recorded step, every layer's dL/dx (the weights' numbers do not change)."""
        return self._armed

    # -- context manager: guarantees the observer goes even if fit raises ----------------------
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        if self.model is not None:
            self.model.remove_observer(self)
        self._armed = False

    # -- callback hooks ------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        model = self.model
        self.layers = [{"name": l.name, "type": type(l).__name__, "params": list(l.params),
                        "relu": is_relu(l)} for l in model.layers]
        model.add_observer(self)
        self._arm_for(model.optimizer.iterations)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_batch_end(self, batch, logs=None):
        if self._armed and self._pending:
            row = {"step": self.model.optimizer.iterations - 1, "epoch": self._epoch,
                   "batch": batch, "loss": float((logs or {}).get("loss", math.nan))}
            row.update(self._pending)
            self.rows.append(row)
        self._arm_for(self.model.optimizer.iterations)

    def on_epoch_end(self, epoch, logs=None):
        self.write()

    def on_train_end(self, logs=None):
        self.close()
        self.write()

    def _arm_for(self, next_step):
        self._armed, self._pending = next_step % self.every == 0, {}

    # -- observer hooks ------------------------------------------------------------------------
    def on_forward(self, i, layer, x, y, training):
        if self._armed and training:
            stats = tensor_stats(y)
            self._pending[f"{layer.name}/act_mean"] = stats["mean"]
            self._pending[f"{layer.name}/act_std"] = stats["std"]
            if is_relu(layer):
                self._pending[f"{layer.name}/dead_relu"] = dead_fraction(y)

    def on_backward(self, i, layer, grad_out, grad_in):
        if self._armed and grad_in is not None:
            self._pending[f"{layer.name}/grad_in_norm"] = l2_norm(grad_in)

    def before_update(self, pairs, grads):
        if self._armed:
            self._before = [layer.params[key].astype(np.float64) for layer, key in pairs]

    def after_update(self, pairs, grads):
        if not self._armed:
            return
        for (layer, key), w0, g in zip(pairs, self._before, grads):
            prefix, weight = f"{layer.name}/{key}", l2_norm(w0)
            update = l2_norm(layer.params[key].astype(np.float64) - w0)
            self._pending[f"{prefix}/grad_norm"] = l2_norm(g)
            self._pending[f"{prefix}/weight_norm"] = weight
            self._pending[f"{prefix}/update_norm"] = update
            self._pending[f"{prefix}/update_ratio"] = update / weight if weight > 0 else math.nan
        self._before = None

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

    # -- checkpoints (nnlite.checkpoint): a resumed run keeps the rows recorded before ----------
    def get_state(self):
        """The rows so far as arrays: ``index`` (rows, 3) int64 step/epoch/batch, ``values``
        (rows, columns) float64, ``present`` marking the columns each row has."""
        names = [c for c in self.columns() if c not in ROW_INDEX]
        values = np.full((len(self.rows), len(names)), np.nan)
        present = np.zeros(values.shape, bool)
        for i, row in enumerate(self.rows):
            for j, name in enumerate(names):
                if name in row:
                    values[i, j], present[i, j] = row[name], True
        index = np.array([[row[k] for k in ROW_INDEX] for row in self.rows], np.int64)
        return {"every": self.every, "columns": names, "index": index.reshape(-1, 3),
                "values": values, "present": present}

    def set_state(self, state):
        """Restore what ``get_state`` returned (another ``every``: ResumeError)."""
        if state.get("every") != self.every:
            raise ResumeError(f"GradientStats: the checkpoint recorded every {state.get('every')!r}"
                              f" steps, this callback records every {self.every}")
        names, index, values, present = (state.get(k) for k in ("columns", "index", "values",
                                                                 "present"))
        if (not isinstance(names, list) or not all(isinstance(n, str) for n in names)
                or any(not isinstance(a, np.ndarray) for a in (index, values, present))
                or index.shape != (len(values), 3) or values.shape != (len(values), len(names))
                or present.shape != values.shape):
            raise ConfigError("GradientStats: not a state written by get_state")
        self.rows = [{**dict(zip(ROW_INDEX, map(int, idx))),
                      **{n: float(v) for n, v, p in zip(names, vals, has) if p}}
                     for idx, vals, has in zip(index, values, present)]

    def to_dict(self):
        return {"every": self.every, "layers": self.layers, "rows": self.rows}

    def write(self, csv_path=None, json_path=None):
        """Write the rows to CSV (one row per recorded step) and/or JSON (NaN -> null)."""
        csv_path, json_path = csv_path or self.csv_path, json_path or self.json_path
        if csv_path:
            write_csv(csv_path, self.rows, fieldnames=self.columns())
        if json_path:
            write_json(json_path, self.to_dict())
