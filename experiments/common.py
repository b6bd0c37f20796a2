"""Shared plumbing for the experiment scripts: one training run = one ``nnlite.recipe.Recipe``
trained by ``nnlite.commands.train.run``, then scored ONCE on the test set.

Layout:
    experiments/results/<experiment>/<run>/   history.csv/json, curves.png, run.json,
                                              result.json (+ eval/ PNGs when asked)
    $NNLITE_RUNS (default: nnlite-runs in the temp folder)/<experiment>/<run>/   model.npz,
                                              checkpoint.npz
A finished run (result.json present) is skipped when a script is re-run; an interrupted one
resumes from its checkpoint, so scripts can be killed and restarted freely.

Threads: set OMP_NUM_THREADS=1 (done below before NumPy loads). On an oversubscribed 2-core
machine a 2-thread BLAS spins and costs ~10x the CPU per step (measured: ANN 98 vs 3.8 ms CPU
per step).
"""
import json
import os
import platform
import tempfile
import time

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
               "NUMBA_NUM_THREADS")
for _var in THREAD_VARS:
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from nnlite import load_model  # noqa: E402
from nnlite.commands.evaluate import evaluate_arrays  # noqa: E402
from nnlite.commands.train import run  # noqa: E402
from nnlite.datasets import CLASS_NAMES  # noqa: E402
from nnlite.files import write_json  # noqa: E402
from nnlite.recipe import load_data  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
RUNS = os.environ.get("NNLITE_RUNS", os.path.join(tempfile.gettempdir(), "nnlite-runs"))

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


def train_and_test(experiment, name, recipe, plots=False, verbose=0, keep_predictions=False):
    """Train ``recipe`` (or resume / skip it) and score it on the test set once.

    keep_predictions: store the predicted test labels as a string of digits ("7210...") in
    result["test_pred"], for paired per-example tests (McNemar) and ensembles.
    Returns the result dict saved as results/<experiment>/<name>/result.json."""
    out = os.path.join(RESULTS, experiment, name)
    weights = os.path.join(RUNS, experiment, name)
    done = os.path.join(out, "result.json")
    if os.path.isfile(done):
        with open(done) as fh:
            return json.load(fh)
    data = data_for(recipe)
    resume = os.path.isfile(os.path.join(weights, "checkpoint.npz"))
    t0 = time.time()
    res = run(recipe, out, resume=resume, verbose=verbose, data=data, weights_dir=weights)
    model = load_model(os.path.join(weights, "model.npz"))
    model.compile()
    (_, _), (xte, yte) = data
    metrics = evaluate_arrays(model, xte, yte, os.path.join(out, "eval") if plots else None,
                              CLASS_NAMES[recipe.dataset])
    h = res["history"]
    result = {"experiment": experiment, "name": name, "config": recipe.to_dict(),
              "train_acc": h["acc"][-1], "val_acc": h.get("val_acc", [None])[-1],
              "val_loss": h.get("val_loss", [None])[-1],
              "test_acc": metrics["accuracy"], "test_loss": metrics["loss"],
              "test_errors": metrics["errors"], "epochs_run": len(h["loss"]),
              "seconds_per_epoch": float(np.mean(h["seconds"])),
              "wall_seconds": time.time() - t0, "params": res["model"].count_params(),
              "model_file": os.path.join(weights, "model.npz")}
    if keep_predictions:
        result["test_pred"] = "".join(map(str, metrics["predictions"]))
    write_json(done, result)
    print(f"[{experiment}] {name}: val {result['val_acc']}, test {result['test_acc']:.4f}, "
          f"{result['seconds_per_epoch']:.0f} s/epoch", flush=True)
    return result


def machine():
    """The machine a result was measured on: CPU model, cores, versions, thread settings and
    the load average when the result was written (other work on the CPU inflates wall time)."""
    return {"cpu": _cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__,
            "threads": {var: os.environ.get(var) for var in THREAD_VARS},
            "load_average_1_5_15min": list(os.getloadavg())}


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
