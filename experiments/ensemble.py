"""Experiment 4: ensembles of the tuned models.

The ensemble of record was fixed before any of its runs: the MEAN OF THE SOFTMAX
PROBABILITIES of the nine runs of record of the tuned CNN, the tuned VGG16 (original
architecture) and the tuned VGG16-BN, three seeds (0, 1, 2) of each model's chosen recipe
(``experiments/tuned.py``). The ANN is left out: its error rate is several times the others',
and an unweighted mean would give it the same vote. Its test accuracy is the number compared
with the 99.7 % goal.

Reported beside it, for information only (nothing here is chosen on the test set): each
model's own three-seed ensemble, every single run of record, the ensemble with the ANN's runs
added, and the combinations of the installed model files (models/*.npz). Every row shows its
validation accuracy (the last 12,000 training images, which no model trained on) beside the
test accuracy.

    python -m experiments.ensemble

Writes experiments/results/ensemble/summary.json and summary.csv.
"""
import itertools
import os

import numpy as np

from experiments import tuned
from experiments.common import MODELS_DIR, RESULTS, model_path
from experiments.jobs import StepJob
from nnlite.files import write_csv, write_json

OF_RECORD = ("cnn", "vgg16", "vgg16_bn")
RULE = "mean of softmax probabilities"
FILES = ("ann", "cnn", "vgg16", "vgg16_bn")


def _inputs():
    found = []
    for model in OF_RECORD:
        runs = tuned.runs_of_record(model)
        if runs is None:
            return None
        found += [[model, name, r["val_acc"]] for name, r in runs]
    return found


def job():
    return StepJob("ensemble/of-record", _inputs, lambda _: evaluate(), "ensemble/summary.json",
                   estimate_seconds=300)


def _images():
    from nnlite.datasets import load_mnist
    from nnlite.preprocess import scale01
    (x, y), (xt, yt) = load_mnist()
    return (scale01(x[48000:, :, :, None]), y[48000:]), (scale01(xt[..., None]), yt)


def _probs(path, xv, xt):
    from nnlite import load_model
    model = load_model(path)
    return model.predict_proba(xv), model.predict_proba(xt)


def _row(label, members, probs, yv, yt):
    pv = np.mean([probs[m][0] for m in members], axis=0)
    pt = np.mean([probs[m][1] for m in members], axis=0)
    return {"ensemble": label, "networks": len(members),
            "val_acc": round(100 * float(np.mean(pv.argmax(1) == yv)), 2),
            "test_acc": round(100 * float(np.mean(pt.argmax(1) == yt)), 2),
            "test_errors": int(np.sum(pt.argmax(1) != yt))}


def evaluate():
    """Score the ensemble of record and the informative rows; write ensemble/summary.*."""
    (xv, yv), (xt, yt) = _images()
    runs = {m: tuned.runs_of_record(m) for m in FILES}
    probs, members = {}, {}
    for model, found in runs.items():
        if found is None:
            continue
        members[model] = [name for name, _ in found]
        for name, result in found:
            probs[name] = _probs(model_path(result), xv, xt)
    record = [n for m in OF_RECORD for n in members[m]]
    rows = [_row("of record: " + " + ".join(OF_RECORD) + " (3 seeds each)", record, probs,
                 yv, yt)]
    if "ann" in members:
        rows.append(_row("of record + ANN (3 seeds)", record + members["ann"], probs, yv, yt))
    for model, names in members.items():
        rows.append(_row(f"{model}, 3 seeds", names, probs, yv, yt))
        rows += [_row(name, [name], probs, yv, yt) for name in names]
    files = {m: os.path.join(MODELS_DIR, f"{m}.npz") for m in FILES}
    files = {m: p for m, p in files.items() if os.path.isfile(p)}
    for m, p in files.items():
        probs[f"models/{m}.npz"] = _probs(p, xv, xt)
    for k in range(1, len(files) + 1):
        for combo in itertools.combinations(files, k):
            rows.append(_row("files: " + "+".join(combo), [f"models/{m}.npz" for m in combo],
                             probs, yv, yt))
    write_csv(f"{RESULTS}/ensemble/summary.csv", rows)
    write_json(f"{RESULTS}/ensemble/summary.json", {
        "rule": RULE, "of_record": {"models": list(OF_RECORD), "runs": record, **rows[0]},
        "rows": rows})
    print(rows[0])


def main():
    if _inputs() is None:
        raise SystemExit("the runs of record of " + ", ".join(OF_RECORD) + " are not all "
                         "finished: run python -m experiments.tuned MODEL first")
    evaluate()


if __name__ == "__main__":
    main()
