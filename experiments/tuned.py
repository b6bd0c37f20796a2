"""Experiment 2: the tuned protocol: the best honest test accuracy per model.

Every choice is made WITHOUT the test set:
1. candidates: each model's recipes below (Adam with cosine decay over longer runs, a
   standardise layer inside the model, on-the-fly augmentation, dropout), seed 0;
2. choice: the candidate with the highest VALIDATION accuracy (the last 12,000 training
   images) is the model's tuned recipe (tuned/<model>_choice.json); the test accuracy of every
   candidate is recorded after the fact but never used to choose;
3. runs of record: the chosen recipe again with seeds 1 and 2 (<model>-chosen-s1, -s2), so the
   tuned result is a mean ± std over seeds 0, 1, 2 and the ensemble has 3 seeds per model;
4. install: of those three runs the one with the highest validation accuracy replaces
   models/<model>.npz only if it beats the file there on the same validation images
   (tuned/<model>_record.json says which and why). Every model file takes (N, 28, 28, 1)
   float32 images in [0, 1] and returns 10 logits.

VGG16 is tuned twice, as two models reported separately: ``vgg16``, the original
architecture (width 0.25), and ``vgg16_bn``, a variant with BatchNormalization after every
convolution (``nnlite.zoo.vgg16_bn``; installed as models/vgg16_bn.npz).

    python -m experiments.tuned ann|cnn|vgg16|vgg16_bn [--only NAME ...] [--choose-only]
"""
import argparse
import json
import os
import shutil
import tempfile

import numpy as np

from experiments.common import LABEL, MODELS_DIR, RESULTS, finished_result, model_path
from experiments.jobs import StepJob, TrainJob, shrink
from nnlite import load_model
from nnlite.cli import main as nnlite_cli
from nnlite.files import write_json
from nnlite.recipe import Recipe, load_data
from nnlite.training import split_validation

_ANN = Recipe(model="ann", lr=1e-3, schedule="cosine", preprocess="standardize")
_CNN = Recipe(model="cnn", lr=1e-3, schedule="cosine", preprocess="standardize",
              augment="affine")
_VGG = Recipe(model="vgg16", lr=5e-4, schedule="cosine", preprocess="standardize",
              augment="affine", dropout=0.3)
_VGG_BN = _VGG.replace(model="vgg16_bn", lr=1e-3)
CANDIDATES = {
    "ann": {"ann-affelastic-drop0.2-30ep": _ANN.replace(epochs=30, augment="affine+elastic",
                                                        dropout=0.2),
            "ann-affelastic-drop0.3-60ep": _ANN.replace(epochs=60, augment="affine+elastic",
                                                        dropout=0.3),
            "ann-elastic-drop0.2-60ep": _ANN.replace(epochs=60, augment="elastic",
                                                     dropout=0.2)},
    "cnn": {"cnn-affine-20ep": _CNN.replace(epochs=20),
            "cnn-affine-drop0.3-30ep": _CNN.replace(epochs=30, dropout=0.3)},
    "vgg16": {"vgg16-affine-20ep": _VGG.replace(epochs=20),
              "vgg16-affine-30ep": _VGG.replace(epochs=30)},
    "vgg16_bn": {"vgg16_bn-affine-20ep": _VGG_BN.replace(epochs=20),
                 "vgg16_bn-affine-30ep": _VGG_BN.replace(epochs=30)},
}
RECORD_SEEDS = (1, 2)


def _candidate_results(model):
    return {name: finished_result("tuned", name, shrink(cfg))
            for name, cfg in CANDIDATES[model].items()}


def _choice_inputs(model):
    found = _candidate_results(model)
    if any(r is None for r in found.values()):
        return None
    return [[name, r["val_acc"]] for name, r in found.items()]


def choice_job(model):
    return StepJob(f"tuned/{model}-choice", lambda: _choice_inputs(model),
                   lambda _: choose(model), f"tuned/{model}_choice.json")


def chosen_recipe(model):
    """The recipe chosen for ``model`` (None until its choice step is done)."""
    if choice_job(model).state()[0] != "done":
        return None
    with open(f"{RESULTS}/tuned/{model}_choice.json") as fh:
        return Recipe.from_dict(json.load(fh)["config"])


def _with_seed(recipe, seed):
    return None if recipe is None else recipe.replace(seed=seed)


def record_jobs(model):
    """The chosen recipe with seeds 1 and 2 (seed 0 is the chosen candidate's own run)."""
    longest = max(CANDIDATES[model].values(), key=lambda r: r.epochs)
    return [TrainJob("tuned", f"{model}-chosen-s{seed}",
                     lambda seed=seed: _with_seed(chosen_recipe(model), seed),
                     plots=True, estimate=longest, needs=f"tuned/{model}-choice")
            for seed in RECORD_SEEDS]


def chosen_name(model):
    """The name of the candidate chosen for ``model`` (its choice file must exist)."""
    with open(f"{RESULTS}/tuned/{model}_choice.json") as fh:
        return json.load(fh)["chosen"]


class _ChosenCandidate(TrainJob):
    """The seed-0 run of record: the chosen candidate's own run (never run by this job: the
    candidate's job does; this one names it for the Keras twin and the reports)."""

    def __init__(self, model):
        longest = max(CANDIDATES[model].values(), key=lambda r: r.epochs)
        super().__init__("tuned", f"{model}-chosen-s0", lambda: chosen_recipe(model),
                         estimate=longest, needs=f"tuned/{model}-choice")
        self.model = model

    def recipe(self):
        recipe = super().recipe()
        if recipe is not None:          # the candidate's own folder holds this run
            self.name = chosen_name(self.model)
        return recipe


def record_runs(model):
    """[(TrainJob, seed)] of the runs of record: the chosen candidate (seed 0), seeds 1, 2."""
    return [(_ChosenCandidate(model), 0)] + list(zip(record_jobs(model), RECORD_SEEDS))


def runs_of_record(model):
    """[(run name, result)] of the chosen recipe, seeds 0, 1, 2 (None while unfinished)."""
    if chosen_recipe(model) is None:
        return None
    found = []
    for job, _ in record_runs(model):
        recipe = job.recipe()
        found.append((job.name, finished_result("tuned", job.name, recipe)))
    return None if any(r is None for _, r in found) else found


def _install_inputs(model):
    runs = runs_of_record(model)
    return None if runs is None else [[name, r["val_acc"]] for name, r in runs]


def jobs(models=tuple(CANDIDATES)):
    """Per model: its candidates, the choice, the runs of record, the install step."""
    out = []
    for model in models:
        out += [TrainJob("tuned", name, cfg, plots=True)
                for name, cfg in CANDIDATES[model].items()]
        out += [choice_job(model)] + record_jobs(model)
        out.append(StepJob(f"tuned/{model}-install", lambda m=model: _install_inputs(m),
                           lambda _, m=model: install(m), f"tuned/{model}_record.json",
                           estimate_seconds=60))
    return out


def choose(model):
    """Write tuned/<model>_choice.json: the candidate with the highest validation accuracy."""
    results = [r for r in _candidate_results(model).values() if r is not None]
    best = max(results, key=lambda r: r["val_acc"])     # ties: the first (shortest) candidate
    write_json(f"{RESULTS}/tuned/{model}_choice.json", {
        "model": model, "label": LABEL[model], "chosen": best["name"],
        "rule": "highest validation accuracy",
        "candidates": [{k: r[k] for k in ("name", "val_acc", "test_acc", "train_acc",
                                          "epochs_run", "seconds_per_epoch")}
                       for r in results],
        "config": best["config"], "test_acc": best["test_acc"]})
    print(json.dumps({"model": model, "chosen": best["name"], "val": best["val_acc"]}))


def _validation_accuracy(model_file, xv, yv):
    model = load_model(model_file)
    model.compile()
    if model.predict(xv[:1]).shape != (1, 10):
        raise ValueError(f"{model_file} does not return 10 logits per image")
    return float(np.mean(model.predict(xv).argmax(1) == yv))


def evaluated_test_accuracy(model_file):
    """The test accuracy ``nnlite evaluate <model_file>`` prints (the command itself, run
    here), as a fraction."""
    with tempfile.TemporaryDirectory() as out:
        code = nnlite_cli(["evaluate", model_file, "--out", out, "--overwrite", "--gallery", "0"])
        if code:
            raise RuntimeError(f"nnlite evaluate {model_file} failed (exit code {code})")
        with open(os.path.join(out, "metrics.json"), encoding="utf-8") as fh:
            return json.load(fh)["accuracy"]


def install(model):
    """Copy the best run of record (on validation) to models/<model>.npz if it beats the file
    there on the same validation images; write tuned/<model>_record.json either way."""
    runs = runs_of_record(model)
    recipe = Recipe.from_dict(runs[0][1]["config"])
    (x, y), _ = load_data(recipe.replace(preprocess="scale"))      # [0, 1] images
    _, (xv, yv) = split_validation(x, y, recipe.validation_split)
    name, best = max(runs, key=lambda run: run[1]["val_acc"])
    new = _validation_accuracy(model_path(best), xv, yv)
    dest = os.path.join(MODELS_DIR, f"{model}.npz")
    old = _validation_accuracy(dest, xv, yv) if os.path.isfile(dest) else None
    installed = old is None or new > old
    if installed:
        os.makedirs(MODELS_DIR, exist_ok=True)
        shutil.copyfile(model_path(best), dest)
    file_test_acc = evaluated_test_accuracy(dest) if os.path.isfile(dest) else None
    test = 100 * np.array([r["test_acc"] for _, r in runs])
    write_json(f"{RESULTS}/tuned/{model}_record.json", {
        "model": model, "label": LABEL[model], "recipe": runs[0][0],
        "runs": [{"name": n, "seed": r["config"]["seed"], "val_acc": r["val_acc"],
                  "test_acc": r["test_acc"]} for n, r in runs],
        "test_acc_mean_pct": float(test.mean()), "test_acc_std_pct": float(test.std(ddof=1)),
        "best_on_validation": name, "validation_images": int(len(yv)),
        "val_acc_best": new, "val_acc_file_before": old, "installed": installed,
        "model_file": f"models/{model}.npz",
        "model_file_test_acc": file_test_acc,
        "reproduce": f"nnlite evaluate models/{model}.npz",
        "rule": "the run of record with the highest validation accuracy replaces the model "
                "file only if it is more accurate on the same validation images"})
    print(f"{model}: best of record {name} val {new:.4f} vs file {old}: "
          f"{'installed' if installed else 'kept the file'}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", choices=sorted(CANDIDATES))
    ap.add_argument("--only", nargs="+", help="train only these candidate names")
    ap.add_argument("--choose-only", action="store_true",
                    help="train nothing: choose among the candidates (all must have finished)")
    args = ap.parse_args()
    for job in jobs([args.model]):
        if isinstance(job, TrainJob) and args.choose_only:
            continue
        if args.only and job.id.split("/", 1)[1] not in args.only:
            continue
        if job.state()[0] != "done":
            job.run()


if __name__ == "__main__":
    main()
