"""Experiment 5: every tuned candidate recipe run unchanged on Fashion-MNIST, for its full
epochs (same architecture, optimiser, schedule, augmentation, preprocessing and MNIST
standardisation constants), seed 0.

    python -m experiments.fashion [--candidates NAME ...]
    python -m experiments.fashion --summarise-only

The summary marks, for each model, the recipe chosen on MNIST validation accuracy
(tuned/<model>_choice.json); the others are listed beside it.

Writes experiments/results/fashion/<candidate>/ (history, curves, result.json, eval/ PNGs),
fashion/summary.csv and fashion/fashion_vs_mnist.png (each recipe's test error on both datasets).
"""
import argparse
import json
import os

from experiments.common import RESULTS, finished_result
from experiments.jobs import StepJob, TrainJob, shrink
from experiments.tuned import CANDIDATES
from nnlite.files import write_csv
from nnlite.plots import plot_bars


def _all_candidates():
    return {name: (model, cfg.replace(dataset="fashion-mnist"))
            for model, c in CANDIDATES.items() for name, cfg in c.items()}


def _mnist_test_acc(model, name):
    """The same recipe's MNIST test accuracy (experiments/results/tuned/<name>), else None."""
    r = finished_result("tuned", name, shrink(CANDIDATES[model][name]))
    return r["test_acc"] if r else None


def jobs(names=None):
    return [TrainJob("fashion", name, cfg, plots=True)
            for name, (_, cfg) in _all_candidates().items() if not names or name in names]


def _inputs():
    return sorted([name, r["test_acc"], _mnist_test_acc(model, name)]
                  for name, (model, cfg) in _all_candidates().items()
                  if (r := finished_result("fashion", name, shrink(cfg))) is not None)


def summary_job():
    return StepJob("fashion/summary", _inputs, lambda _: summarise(), "fashion/summary.csv")


def _chosen():
    out = {}
    for model in CANDIDATES:
        path = f"{RESULTS}/tuned/{model}_choice.json"
        if os.path.isfile(path):
            with open(path) as fh:
                out[model] = json.load(fh)["chosen"]
    return out


def summarise():
    chosen = _chosen()
    rows = []
    for name, (model, cfg) in _all_candidates().items():
        r = finished_result("fashion", name, shrink(cfg))
        if r is None:
            continue
        timing = r.get("timing", {})
        rows.append({"model": model, "recipe": name,
                     "chosen_on_mnist": chosen.get(model) == name,
                     "epochs": r["epochs_run"], "val_acc": round(100 * r["val_acc"], 2),
                     "test_acc": round(100 * r["test_acc"], 2),
                     "mnist_test_acc": (round(100 * mnist, 2)
                                        if (mnist := _mnist_test_acc(model, name)) is not None
                                        else None),
                     "wall_s_per_epoch": round(r["seconds_per_epoch"], 1),
                     "cpu_s_per_epoch": (round(timing["cpu_s_per_epoch"], 1)
                                         if "cpu_s_per_epoch" in timing else None)})
    if rows:
        write_csv(f"{RESULTS}/fashion/summary.csv", rows)
        _chart(rows)
    return rows


def _chart(rows):
    """Test error of each recipe on MNIST and on Fashion-MNIST, log scale (they differ ~20x)."""
    rows = [r for r in rows if r["mnist_test_acc"] is not None]
    if not rows:
        return
    errors = [[100 - r["mnist_test_acc"], 100 - r["test_acc"]] for r in rows]
    plot_bars([r["recipe"].replace("-", "\n") for r in rows],
              ["MNIST", "Fashion-MNIST"], errors, [[0, 0]] * len(rows),
              f"{RESULTS}/fashion/fashion_vs_mnist.png", ylabel="test error (%), log scale",
              title="The same recipes on MNIST and Fashion-MNIST (seed 0)", log=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--candidates", nargs="+", help="recipe names from experiments.tuned")
    ap.add_argument("--summarise-only", action="store_true")
    args = ap.parse_args()
    if not args.summarise_only:
        for job in jobs(args.candidates):
            job.run()
            summarise()
    for row in summarise():
        print(row)


if __name__ == "__main__":
    main()
