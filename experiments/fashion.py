"""Experiment 5: the tuned recipes run unchanged on Fashion-MNIST (same architecture,
optimiser, schedule, augmentation, preprocessing and MNIST standardisation constants). The
epochs may be reduced for compute (``--epochs MODEL=N``); the reduction is recorded.

    python -m experiments.fashion [--candidates NAME ...] [--epochs ann=12]
    python -m experiments.fashion --summarise-only

By default the candidates are the recipes chosen on MNIST (tuned/<model>_choice.json). Because
compute was scarce, candidates can also be started BEFORE the MNIST choice is known (e.g. both
CNN candidates in parallel); the summary reports, for each model, the run of the recipe that
was chosen on MNIST validation accuracy, and lists any other candidates separately.

Writes experiments/results/fashion/<candidate>/ (history, curves, result.json, eval/ PNGs) and
fashion/summary.csv.
"""
import argparse
import json
import os

from experiments.common import RESULTS, train_and_test
from nnlite.files import write_csv
from experiments.tuned import CANDIDATES


def _all_candidates():
    return {name: (model, cfg) for model, c in CANDIDATES.items() for name, cfg in c.items()}


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
        path = f"{RESULTS}/fashion/{name}/result.json"
        if not os.path.isfile(path):
            continue
        with open(path) as fh:
            r = json.load(fh)
        rows.append({"model": model, "recipe": name,
                     "chosen_on_mnist": chosen.get(model) == name,
                     "epochs": r["epochs_run"], "tuned_recipe_epochs": cfg.epochs,
                     "val_acc": round(100 * r["val_acc"], 2),
                     "test_acc": round(100 * r["test_acc"], 2),
                     "seconds_per_epoch": round(r["seconds_per_epoch"], 1)})
    if rows:
        write_csv(f"{RESULTS}/fashion/summary.csv", rows)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--candidates", nargs="+", help="recipe names from experiments.tuned")
    ap.add_argument("--epochs", nargs="*", default=[], help="MODEL=N reductions")
    ap.add_argument("--summarise-only", action="store_true")
    args = ap.parse_args()
    if not args.summarise_only:
        reduce = {k: int(v) for k, v in (e.split("=") for e in args.epochs)}
        names = args.candidates or list(_chosen().values())
        every = _all_candidates()
        for name in names:
            model, cfg = every[name]
            cfg = cfg.replace(dataset="fashion-mnist", epochs=reduce.get(model, cfg.epochs))
            train_and_test("fashion", name, cfg, plots=True)
            summarise()
    for row in summarise():
        print(row)


if __name__ == "__main__":
    main()
