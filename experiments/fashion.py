"""Experiment 5: every tuned candidate recipe run unchanged on Fashion-MNIST, for its full
epochs (same architecture, optimiser, schedule, augmentation, preprocessing and MNIST
standardisation constants), seed 0.

    python -m experiments.fashion [--candidates NAME ...]
    python -m experiments.fashion --summarise-only

The summary marks, for each model, the recipe chosen on MNIST validation accuracy
(tuned/<model>_choice.json); the others are listed beside it.

Writes experiments/results/fashion/<candidate>/ (history, curves, result.json, eval/ PNGs) and
fashion/summary.csv.
"""
import argparse
import json
import os

from experiments.common import RESULTS, finished_result
from experiments.jobs import StepJob, TrainJob, shrink
from experiments.tuned import CANDIDATES
from nnlite.files import write_csv


def _all_candidates():
    return {name: (model, cfg.replace(dataset="fashion-mnist"))
            for model, c in CANDIDATES.items() for name, cfg in c.items()}


def jobs(names=None):
    return [TrainJob("fashion", name, cfg, plots=True)
            for name, (_, cfg) in _all_candidates().items() if not names or name in names]


def _inputs():
    return sorted([name, r["test_acc"]] for name, (_, cfg) in _all_candidates().items()
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
                     "wall_s_per_epoch": round(r["seconds_per_epoch"], 1),
                     "cpu_s_per_epoch": (round(timing["cpu_s_per_epoch"], 1)
                                         if "cpu_s_per_epoch" in timing else None)})
    if rows:
        write_csv(f"{RESULTS}/fashion/summary.csv", rows)
    return rows


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
