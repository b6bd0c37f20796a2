"""Experiment 5: the tuned recipes run unchanged on Fashion-MNIST (same architecture, optimiser,
schedule, augmentation, MNIST standardisation constants), except that the number of epochs may
be reduced for compute (``--epochs MODEL=N``; the reduction is recorded and reported).

    python -m experiments.fashion [--models ann cnn vgg16] [--epochs cnn=3 vgg16=3]

Reads experiments/results/tuned/<model>_choice.json for each recipe; writes
experiments/results/fashion/<model>/ (history, curves, result.json, eval/ PNGs) and summary.csv.
"""
import argparse
import json
import os

from experiments.common import RESULTS, train_and_test, write_csv, write_json


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["ann", "cnn", "vgg16"])
    ap.add_argument("--epochs", nargs="*", default=[], help="MODEL=N reductions")
    args = ap.parse_args()
    reduce = {k: int(v) for k, v in (e.split("=") for e in args.epochs)}
    for name in args.models:
        with open(f"{RESULTS}/tuned/{name}_choice.json") as fh:
            cfg = dict(json.load(fh)["config"], dataset="fashion-mnist")
        tuned_epochs = cfg["epochs"]
        if name in reduce:
            cfg["epochs"] = reduce[name]
        r = train_and_test("fashion", name, cfg, plots=True)
        write_json(f"{RESULTS}/fashion/{name}/epochs.json",
                   {"tuned_recipe_epochs": tuned_epochs, "epochs_run": cfg["epochs"]})
    rows = []
    for name in ("ann", "cnn", "vgg16"):
        path = f"{RESULTS}/fashion/{name}/result.json"
        if os.path.isfile(path):
            with open(path) as fh:
                r = json.load(fh)
            with open(f"{RESULTS}/fashion/{name}/epochs.json") as fh:
                ep = json.load(fh)
            rows.append({"model": name, "epochs": r["epochs_run"],
                         "tuned_recipe_epochs": ep["tuned_recipe_epochs"],
                         "val_acc": round(100 * r["val_acc"], 2),
                         "test_acc": round(100 * r["test_acc"], 2),
                         "seconds_per_epoch": round(r["seconds_per_epoch"], 1)})
    write_csv(f"{RESULTS}/fashion/summary.csv", rows)


if __name__ == "__main__":
    main()
