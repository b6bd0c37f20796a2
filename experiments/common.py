"""Shared plumbing for the experiment scripts: one training run = one ``nnlite.recipe.Recipe``
trained by ``nnlite.commands.train.run``, then scored ONCE on the test set.

Layout:
    $NNLITE_RESULTS (default experiments/results)/<experiment>/<run>/   history.csv/json,
                                              curves.png, run.json, result.json (+ eval/ PNGs)
    $NNLITE_RUNS (default runs/study)/<experiment>/<run>/           model.npz,
                                              checkpoint.npz
A run is finished when its result.json holds the same recipe and a timing record; re-running
a script skips it. An interrupted run resumes from its checkpoint, so scripts can be killed
and restarted freely. A result.json of another recipe, or one written before runs recorded
their timing, is replaced: the run starts again in a clean folder.

Every result.json records the machine (CPU model, cores, threads), the load average at the
start and the end, and the wall and CPU seconds of the run (``timing``).

Threads: OMP/OpenBLAS/MKL/Numba default to 1 (``experiments/__init__.py``, before NumPy
loads); nnlite runs its convolutions on its own worker threads (``NNLITE_NUM_THREADS``,
default all cores) and keeps BLAS single-threaded inside fit/predict anyway.
"""
import json
import os
import platform
import shutil
import time

import numpy as np

from experiments import THREAD_VARS
from nnlite import load_model
from nnlite.callbacks import Callback
from nnlite.commands.evaluate import evaluate_arrays
from nnlite.commands.train import run
from nnlite.datasets import CLASS_NAMES
from nnlite.errors import ConfigError
from nnlite.files import write_json
from nnlite.recipe import Recipe, load_data

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.environ.get("NNLITE_RESULTS") or os.path.join(HERE, "results")
# Model files and checkpoints outlive a restart of the machine (a study spans days): runs/study
# in the checkout (ignored by git), not the temp folder.
RUNS = os.environ.get("NNLITE_RUNS") or os.path.join(ROOT, "runs", "study")
# where a better model of record is installed: models/ of the checkout, unless the results go
# elsewhere (tests, smoke runs), then beside them
MODELS_DIR = os.environ.get("NNLITE_STUDY_MODELS") or (
    os.path.join(RESULTS, "models") if os.environ.get("NNLITE_RESULTS")
    else os.path.join(ROOT, "models"))
# how the reports name the study's models (the tuned recipes use width 0.25)
LABEL = {"ann": "ANN", "cnn": "CNN", "vgg16": "VGG16 (width 0.25)",
         "vgg16_bn": "VGG16-BN (width 0.25, BatchNorm variant)"}

# the accuracies (%) the study reports for its protocol (nnlite.recipe.STUDY)
STUDY_ACCURACY = {"ann": {"train": 96.5, "val": 95.8, "test": 95.4},
                  "cnn": {"train": 99.25, "val": 98.78, "test": 98.78},
                  "vgg16": {"train": 98.93, "val": 98.89, "test": 99.07}}

_DATA = {}


def data_for(recipe):
    """Prepared (train, test) arrays for ``recipe``, cached per (dataset, preprocess, limit)."""
    key = (recipe.dataset, recipe.preprocess, recipe.limit)
    if key not in _DATA:
        _DATA[key] = load_data(recipe)
    return _DATA[key]


def _read(path):
    try:
        with open(path) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _same_recipe(config, recipe):
    try:
        return Recipe.from_dict(config) == recipe
    except (ConfigError, TypeError):
        return False


def run_state(experiment, name, recipe, accept_untimed=False):
    """(state, detail) of a run: "done", "partial" (a checkpoint of this recipe, detail "k/N
    epochs"), "redo" (a result of another recipe or without timing; detail says which) or
    "to do". accept_untimed: a result of the same recipe without a timing record is done."""
    out = os.path.join(RESULTS, experiment, name)
    result = _read(os.path.join(out, "result.json"))
    if result is not None:
        if not _same_recipe(result.get("config"), recipe):
            return "redo", "its result.json is of another recipe"
        if "timing" not in result and not accept_untimed:
            return "redo", "its result.json has no timing record"
        return "done", ""
    run_json = _read(os.path.join(out, "run.json"))
    if (os.path.isfile(os.path.join(RUNS, experiment, name, "checkpoint.npz"))
            and run_json and _same_recipe(run_json.get("config"), recipe)):
        history = _read(os.path.join(out, "history.json")) or {}
        return "partial", f"{len(history.get('loss', []))}/{recipe.epochs} epochs"
    return "to do", ""


def finished_result(experiment, name, recipe):
    """The result.json of a run of exactly ``recipe`` (timed or not), else None."""
    result = _read(os.path.join(RESULTS, experiment, name, "result.json"))
    return result if result and _same_recipe(result.get("config"), recipe) else None


def model_path(result):
    """The model file of a result ("$NNLITE_RUNS/..." resolved on this machine)."""
    return result["model_file"].replace("$NNLITE_RUNS", RUNS)


class Stopwatch:
    """Wall and CPU seconds (this process, all its threads) and the load average, between
    ``start()`` and ``stop()``; ``record()`` -> the dict stored as result["timing"]."""

    def start(self):
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        self.load0, self.utc0 = list(os.getloadavg()), _utc()
        return self

    def stop(self):
        self.wall, self.cpu = time.perf_counter() - self.t0, time.process_time() - self.c0
        self.load1, self.utc1 = list(os.getloadavg()), _utc()
        return self

    def record(self):
        return {"wall_s": self.wall, "cpu_s": self.cpu, "started_utc": self.utc0,
                "finished_utc": self.utc1, "load_average_1_5_15min_start": self.load0,
                "load_average_1_5_15min_end": self.load1}


def _utc():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class EpochCPU(Callback):
    """CPU seconds of this process (all threads) in each epoch, training and validation as
    the history's wall seconds, kept in ``path`` (a JSON list) so that a resumed run keeps its
    earlier epochs. The first epoch after a resume is marked: it may have started before."""

    def __init__(self, path, resumed):
        super().__init__()
        self.path, self.resumed = path, resumed
        self.epochs = _read(path) or []

    def on_epoch_begin(self, epoch, logs=None):
        self.c0 = time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        self.epochs = [e for e in self.epochs if e["epoch"] < epoch] + [
            {"epoch": epoch, "cpu_s": time.process_time() - self.c0, "resumed": self.resumed}]
        self.resumed = False
        write_json(self.path, self.epochs)

    def per_epoch(self):
        """Mean CPU seconds per epoch over the epochs timed whole (all if none was)."""
        whole = [e["cpu_s"] for e in self.epochs if not e["resumed"]] or [
            e["cpu_s"] for e in self.epochs]
        return float(np.mean(whole)) if whole else None


def _clean(experiment, name):
    """Remove a run's folders (results and weights) so it starts again from nothing."""
    for root in (RESULTS, RUNS):
        shutil.rmtree(os.path.join(root, experiment, name), ignore_errors=True)


def train_and_test(experiment, name, recipe, plots=False, verbose=0, keep_predictions=False,
                   accept_untimed=False):
    """Train ``recipe`` (or resume / skip it) and score it on the test set once.

    keep_predictions: store the predicted test labels as a string of digits ("7210...") in
    result["test_pred"], for paired per-example tests (McNemar) and ensembles.
    Returns the result dict saved as results/<experiment>/<name>/result.json; its "timing"
    holds this launch's wall and CPU seconds for training and for the test, the load average
    at start and end, and per epoch the wall seconds (history) and CPU seconds (``EpochCPU``),
    both covering training and validation."""
    out = os.path.join(RESULTS, experiment, name)
    weights = os.path.join(RUNS, experiment, name)
    state, _ = run_state(experiment, name, recipe, accept_untimed)
    if state == "done":
        return _read(os.path.join(out, "result.json"))
    if state != "partial":
        _clean(experiment, name)
    data = data_for(recipe)
    resumed_at = len((_read(os.path.join(out, "history.json")) or {}).get("loss", []))
    whole, train = Stopwatch().start(), Stopwatch().start()
    cpu = EpochCPU(os.path.join(out, "epoch_cpu.json"), resumed=state == "partial")
    res = run(recipe, out, resume=state == "partial", verbose=verbose, data=data,
              weights_dir=weights, callbacks=[cpu])
    train.stop()
    if len(res["history"]["loss"]) < recipe.epochs:     # stopped early: not a finished run
        raise RuntimeError(f"{experiment}/{name}: training stopped after "
                           f"{len(res['history']['loss'])} of {recipe.epochs} epochs")
    test = Stopwatch().start()
    model = load_model(os.path.join(weights, "model.npz"))
    model.compile()
    (_, _), (xte, yte) = data
    metrics = evaluate_arrays(model, xte, yte, os.path.join(out, "eval") if plots else None,
                              CLASS_NAMES[recipe.dataset])
    test.stop()
    whole.stop()
    h = res["history"]
    timing = {**whole.record(), "train_wall_s": train.wall, "train_cpu_s": train.cpu,
              "test_wall_s": test.wall, "test_cpu_s": test.cpu,
              "epochs_this_launch": len(h["loss"]) - resumed_at, "resumed_at_epoch": resumed_at,
              "wall_s_per_epoch": float(np.mean(h["seconds"])),
              "cpu_s_per_epoch": cpu.per_epoch(),
              "cpu_s_per_epoch_list": [e["cpu_s"] for e in cpu.epochs],
              "train_images": int(len(data[0][0]) * (1 - recipe.validation_split))}
    result = {"experiment": experiment, "name": name, "config": recipe.to_dict(),
              "train_acc": h["acc"][-1], "val_acc": h.get("val_acc", [None])[-1],
              "val_loss": h.get("val_loss", [None])[-1],
              "test_acc": metrics["accuracy"], "test_loss": metrics["loss"],
              "test_errors": metrics["errors"], "epochs_run": len(h["loss"]),
              "seconds_per_epoch": float(np.mean(h["seconds"])),
              "wall_seconds": whole.wall, "params": res["model"].count_params(),
              "model_file": f"$NNLITE_RUNS/{experiment}/{name}/model.npz",
              "timing": timing, "machine": machine()}
    if keep_predictions:
        result["test_pred"] = "".join(map(str, metrics["predictions"]))
    write_json(os.path.join(out, "result.json"), result)
    print(f"[{experiment}] {name}: val {result['val_acc']}, test {result['test_acc']:.4f}, "
          f"{timing['wall_s_per_epoch']:.1f} s/epoch wall, {timing['cpu_s_per_epoch']:.1f} "
          "s/epoch CPU", flush=True)
    return result


def machine():
    """The machine a result was measured on: CPU model, cores, versions, thread settings and
    the load average when the result was written (other work on the CPU inflates wall time)."""
    return {"cpu": cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__,
            "threads": {var: os.environ.get(var) for var in THREAD_VARS + ("NNLITE_NUM_THREADS",)},
            "load_average_1_5_15min": list(os.getloadavg())}


def cpu_name():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
