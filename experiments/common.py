"""Shared plumbing for the experiment scripts: one training run = one recipe (a config dict
for ``nnlite.commands.train.run``) trained, then scored ONCE on the test set.

Layout:
    experiments/results/<experiment>/<run>/   history.csv/json, curves.png, run.json,
                                              result.json (+ eval/ PNGs when asked)
    $NNLITE_RUNS (default /tmp/nnlite-runs)/<experiment>/<run>/   model.npz, checkpoint.npz
A finished run (result.json present) is skipped when a script is re-run; an interrupted one
resumes from its checkpoint, so scripts can be killed and restarted freely.

Threads: set OMP_NUM_THREADS=1 (done below before NumPy loads). On a shared, oversubscribed
2-core machine a 2-thread BLAS spins and costs ~10x the CPU per step (measured: ANN 98 vs 3.8
ms CPU per step).
"""
import json
import os
import time

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
RUNS = os.environ.get("NNLITE_RUNS", "/tmp/nnlite-runs")

STUDY = {"ann": {"train": 96.5, "val": 95.8, "test": 95.4},
         "cnn": {"train": 99.25, "val": 98.78, "test": 98.78},
         "vgg16": {"train": 98.93, "val": 98.89, "test": 99.07}}

BASE = {"model": "cnn", "epochs": 5, "batch_size": 32, "lr": 1e-4, "schedule": "constant",
        "augment": "none", "preprocess": "scale", "seed": 0, "dataset": "mnist",
        "validation_split": 0.2, "limit": None, "width": 0.25, "dropout": None}

_DATA = {}


def recipe(**changes):
    cfg = dict(BASE)
    unknown = set(changes) - set(cfg)
    if unknown:
        raise KeyError(f"unknown recipe keys {sorted(unknown)}")
    cfg.update(changes)
    return cfg


def data_for(config):
    """Prepared (train, test) arrays, cached per (dataset, preprocess, limit)."""
    from nnlite.commands.train import load_data
    key = (config["dataset"], config["preprocess"], config.get("limit"))
    if key not in _DATA:
        _DATA[key] = load_data(config)
    return _DATA[key]


def train_and_test(experiment, name, config, plots=False, verbose=0, keep_predictions=False):
    """Train ``config`` (or resume / skip it) and score it on the test set once.

    keep_predictions: store the predicted test labels as a string of digits ("7210...") in
    result["test_pred"], for paired per-example tests (McNemar) and ensembles.
    Returns the result dict saved as results/<experiment>/<name>/result.json."""
    from nnlite.commands.evaluate import evaluate_arrays, _class_names
    from nnlite.commands.train import run
    from nnlite.saving import load_model
    out = os.path.join(RESULTS, experiment, name)
    weights = os.path.join(RUNS, experiment, name)
    done = os.path.join(out, "result.json")
    if os.path.isfile(done):
        with open(done) as fh:
            return json.load(fh)
    data = data_for(config)
    resume = os.path.isfile(os.path.join(weights, "checkpoint.npz"))
    t0 = time.time()
    res = run(config, out, resume=resume, verbose=verbose, data=data, weights_dir=weights)
    model = load_model(os.path.join(weights, "model.npz"))
    model.compile()
    (_, _), (xte, yte) = data
    metrics = evaluate_arrays(model, xte, yte, os.path.join(out, "eval") if plots else None,
                              _class_names(config["dataset"]))
    h = res["history"]
    result = {"experiment": experiment, "name": name, "config": config,
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


def write_json(path, obj):
    from nnlite.saving import atomic_write
    os.makedirs(os.path.dirname(path), exist_ok=True)
    atomic_write(path, lambda fh: fh.write(json.dumps(obj, indent=1).encode()))


def write_csv(path, rows):
    import csv
    os.makedirs(os.path.dirname(path), exist_ok=True)
    keys = list(rows[0]) if rows else []
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys)
        w.writeheader()
        w.writerows(rows)


def machine():
    import platform
    return {"cpu": _cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "threads": os.environ.get("OMP_NUM_THREADS"),
            "note": "2 cores shared with ~5 other agents' jobs; wall times are inflated"}


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"
