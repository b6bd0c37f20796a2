"""Experiment 4: ensemble of the tuned models: mean of their softmax probabilities.

The ensemble is fixed in advance as all three tuned models (models/ann.npz, cnn.npz,
vgg16.npz); the pairs are reported too, with their VALIDATION accuracy (the last 12,000
training images, which none of the models trained on) beside the test accuracy.

    python -m experiments.ensemble

Writes experiments/results/ensemble/summary.json and summary.csv.
"""
import itertools
import os

import numpy as np

from experiments.common import RESULTS
from nnlite.files import write_csv, write_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ("ann", "cnn", "vgg16")


def main():
    from nnlite import load_model
    from nnlite.datasets import load_mnist
    from nnlite.preprocess import scale01
    (x, y), (xt, yt) = load_mnist()
    xv, yv = scale01(x[48000:, :, :, None]), y[48000:]
    xt = scale01(xt[..., None])
    probs = {}
    for name in MODELS:
        model = load_model(os.path.join(ROOT, "models", f"{name}.npz"))
        probs[name] = (model.predict_proba(xv), model.predict_proba(xt))
    rows = []
    for k in (1, 2, 3):
        for combo in itertools.combinations(MODELS, k):
            pv = np.mean([probs[m][0] for m in combo], axis=0)
            pt = np.mean([probs[m][1] for m in combo], axis=0)
            rows.append({"models": "+".join(combo),
                         "val_acc": round(100 * float(np.mean(pv.argmax(1) == yv)), 2),
                         "test_acc": round(100 * float(np.mean(pt.argmax(1) == yt)), 2),
                         "test_errors": int(np.sum(pt.argmax(1) != yt))})
    write_csv(f"{RESULTS}/ensemble/summary.csv", rows)
    write_json(f"{RESULTS}/ensemble/summary.json",
               {"rule": "mean of softmax probabilities; the ensemble of record is ann+cnn+vgg16",
                "rows": rows})
    for r in rows:
        print(r)


if __name__ == "__main__":
    main()
