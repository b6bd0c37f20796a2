"""Experiment 2: the tuned protocol: the best honest test accuracy per model.

Every choice is made WITHOUT the test set:
- ann: a small sweep (learning-rate schedule fixed: Adam 1e-3, cosine; standardise layer;
  variants: no augmentation; affine + dropout 0.2; affine+elastic + dropout 0.2), 12 epochs
  each; the variant with the best VALIDATION accuracy is the tuned ANN. All variants' test accuracy is recorded
  (after the fact) but never used to choose.
- cnn: two one-epoch candidates (Adam 1e-3 cosine, standardise layer; with / without random
  affine augmentation); when the shared CPU freed up, the better one (affine, on validation)
  was also run for 6 epochs. The highest validation accuracy is chosen.
- vgg16: a one-epoch run (Adam 5e-4 cosine, standardise layer, dropout 0.3) and, when the CPU
  freed up, the same with affine augmentation for 5 epochs; chosen on validation accuracy.
  Compute, not choice, limited these: on the shared CPU most runs got ~2 % of a core.

    python -m experiments.tuned ann|cnn|vgg16 [--epochs N] [--only NAME ...] [--choose-only]

Writes experiments/results/tuned/<run>/ (history, curves, result.json, eval/ PNGs),
tuned/<model>_choice.json, and copies the chosen model file to models/<model>.npz.
"""
import argparse
import json
import os
import shutil

from experiments.common import RESULTS, RUNS, train_and_test
from nnlite.files import write_json
from nnlite.recipe import Recipe

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CANDIDATES = {
    "ann": {
        "ann-plain": Recipe(model="ann", epochs=12, lr=1e-3, schedule="cosine",
                            preprocess="standardize"),
        "ann-affine-drop0.2": Recipe(model="ann", epochs=12, lr=1e-3, schedule="cosine",
                                     preprocess="standardize", augment="affine", dropout=0.2),
        "ann-affelastic-drop0.2": Recipe(model="ann", epochs=12, lr=1e-3, schedule="cosine",
                                         preprocess="standardize", augment="affine+elastic",
                                         dropout=0.2),
    },
    # one epoch each: the shared CPU gave every run ~2 % of a core (see REPORT.md)
    "cnn": {
        "cnn-cosine": Recipe(model="cnn", epochs=1, lr=1e-3, schedule="cosine",
                             preprocess="standardize"),
        "cnn-affine-cosine": Recipe(model="cnn", epochs=1, lr=1e-3, schedule="cosine",
                                    preprocess="standardize", augment="affine"),
        # added once the one-epoch runs were done and the CPU had room: same recipe, 6 epochs
        "cnn-affine-cosine-6ep": Recipe(model="cnn", epochs=6, lr=1e-3, schedule="cosine",
                                        preprocess="standardize", augment="affine"),
    },
    "vgg16": {
        "vgg16-cosine": Recipe(model="vgg16", epochs=1, lr=5e-4, schedule="cosine",
                               preprocess="standardize", dropout=0.3),
        # added when the shared CPU freed up at 04:25: 5 epochs, with the CNN's augmentation
        "vgg16-affine-cosine-5ep": Recipe(model="vgg16", epochs=5, lr=5e-4, schedule="cosine",
                                          preprocess="standardize", augment="affine",
                                          dropout=0.3),
    },
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", choices=sorted(CANDIDATES))
    ap.add_argument("--epochs", type=int, help="override the epochs of every candidate")
    ap.add_argument("--only", nargs="+", help="run only these candidate names")
    ap.add_argument("--choose-only", action="store_true",
                    help="train nothing: choose among the candidates that have finished")
    args = ap.parse_args()
    results = []
    for name, cfg in CANDIDATES[args.model].items():
        if args.only and name not in args.only:
            continue
        if args.choose_only:
            if os.path.isfile(os.path.join(RESULTS, "tuned", name, "result.json")):
                with open(os.path.join(RESULTS, "tuned", name, "result.json")) as fh:
                    results.append(json.load(fh))
            continue
        if args.epochs:
            cfg = cfg.replace(epochs=args.epochs)
        results.append(train_and_test("tuned", name, cfg, plots=True, verbose=0))
    if args.only:          # parallel workers train; a final run without --only chooses
        return
    best = max(results, key=lambda r: r["val_acc"])     # chosen on VALIDATION accuracy
    dest = os.path.join(ROOT, "models", f"{args.model}.npz")
    # committed results name the file as "$NNLITE_RUNS/..." rather than this machine's path
    shutil.copyfile(best["model_file"].replace("$NNLITE_RUNS", RUNS), dest)
    write_json(f"{RESULTS}/tuned/{args.model}_choice.json", {
        "chosen": best["name"], "rule": "highest validation accuracy",
        "candidates": [{k: r[k] for k in ("name", "val_acc", "test_acc", "train_acc",
                                          "epochs_run", "seconds_per_epoch")}
                       for r in results],
        "model_file": f"models/{args.model}.npz", "config": best["config"],
        "test_acc": best["test_acc"]})
    print(json.dumps({"chosen": best["name"], "val": best["val_acc"],
                      "test": best["test_acc"]}))


if __name__ == "__main__":
    main()
