"""Experiment 3: does image preprocessing significantly change the error rate?

Conditions (all else equal, same seeds, so runs are PAIRED by seed: same initial weights,
same shuffling): raw 0-255 pixels, /255 (the baseline), standardised (MNIST mean/std, a layer
in the model), deskewed (moments), random affine augmentation, elastic augmentation.
Seeds 0, 1, 2.

Both models under the study's protocol: Adam 1e-4, batch 32, 5 epochs, 48,000 train /
12,000 validation, the full 10,000 test set.

Statistics per model and condition, against the /255 baseline: mean +- std test error over the
seeds; the mean paired difference with a 95 % t confidence interval (df = seeds - 1) and a
paired t-test; and per seed an exact McNemar test on the 10,000 paired test predictions.

    python -m experiments.preprocessing [--models ann cnn] [--seeds 0 1 2] [--analyse-only]

The analysis reads only results of exactly these recipes (a result of another protocol in the
same folder is left out). Writes experiments/results/preprocessing/
<model>-<condition>-s<seed>/result.json, summary.json, summary.csv, preprocessing_error.png.
"""
import argparse
import os

import numpy as np

from experiments.common import RESULTS, finished_result
from experiments.jobs import StepJob, TrainJob, shrink
from nnlite.files import write_csv, write_json
from nnlite.recipe import Recipe

CONDITIONS = {                       # name -> recipe changes
    "raw 0-255": {"preprocess": "raw"},
    "/255": {"preprocess": "scale"},
    "standardised": {"preprocess": "standardize"},
    "deskewed": {"preprocess": "deskew"},
    "affine aug.": {"preprocess": "scale", "augment": "affine"},
    "elastic aug.": {"preprocess": "scale", "augment": "elastic"},
}
BASELINE = "/255"
SEEDS = [0, 1, 2]
PROTOCOL = {"ann": {"model": "ann"}, "cnn": {"model": "cnn"}}     # the study's (Recipe defaults)
SLUG = {"raw 0-255": "raw", "/255": "scale", "standardised": "standardize",
        "deskewed": "deskew", "affine aug.": "affine", "elastic aug.": "elastic"}
OUT = os.path.join(RESULTS, "preprocessing")
ANALYSED = ["ann", "cnn", "cnn-bnrecal"]


def run_name(model, cond, seed):
    return f"{model}-{SLUG[cond]}-s{seed}"


def recipe_for(model, cond, seed):
    return Recipe(**PROTOCOL[model], **CONDITIONS[cond], seed=seed)


def jobs(models=("ann", "cnn"), seeds=SEEDS, conditions=None):
    """One TrainJob per (model, seed, condition): seed-major, so a full paired set of
    conditions finishes early."""
    return [TrainJob("preprocessing", run_name(model, cond, seed), recipe_for(model, cond, seed),
                     keep_predictions=True)
            for model in models for seed in seeds for cond in CONDITIONS
            if not conditions or SLUG[cond] in conditions]


def _analysis_inputs():
    return sorted([run_name(m, c, s), r["test_acc"]] for m in ("ann", "cnn") for c in CONDITIONS
                  for s in SEEDS
                  if (r := finished_result("preprocessing", run_name(m, c, s),
                                           shrink(recipe_for(m, c, s)))) is not None)


def analysis_job():
    return StepJob("preprocessing/analysis", _analysis_inputs,
                   lambda _: analyse(ANALYSED, SEEDS), "preprocessing/summary.json",
                   estimate_seconds=20)


def _load(model, cond, seed):
    """The finished result of (model, cond, seed) under this protocol, or None; for
    "cnn-bnrecal" the CNN run re-scored after re-estimating its BN statistics."""
    folder_model, file = (("cnn", "result_bnrecal.json") if model == "cnn-bnrecal"
                          else (model, "result.json"))
    recipe = shrink(recipe_for(folder_model, cond, seed))
    if file == "result.json":
        return finished_result("preprocessing", run_name(model, cond, seed), recipe)
    import json
    path = os.path.join(OUT, run_name(folder_model, cond, seed), file)
    if not os.path.isfile(path):
        return None
    with open(path) as fh:
        res = json.load(fh)
    return res if Recipe.from_dict(res["config"]) == recipe else None


def analyse(models, seeds):
    from scipy import stats
    rows, summary = [], {"protocol": PROTOCOL, "seeds": seeds, "models": {}}
    for model in models:
        res = {(cond, seed): r for cond in CONDITIONS for seed in seeds
               if (r := _load(model, cond, seed)) is not None}
        per_cond = {}
        for cond in CONDITIONS:
            have = [s for s in seeds if (cond, s) in res]
            if not have:
                continue
            err = np.array([100 * (1 - res[cond, s]["test_acc"]) for s in have])
            entry = {"seeds": have, "test_error_pct": err.tolist(), "mean": float(err.mean()),
                     "std": float(err.std(ddof=1)) if len(err) > 1 else 0.0,
                     "val_error_pct": [100 * (1 - res[cond, s]["val_acc"]) for s in have],
                     "seconds_per_epoch": float(np.mean([res[cond, s].get("seconds_per_epoch",
                                                                              np.nan)
                                                         for s in have]))}
            paired = [s for s in have if (BASELINE, s) in res]
            if cond != BASELINE and paired:
                d = np.array([100 * (res[BASELINE, s]["test_acc"] - res[cond, s]["test_acc"])
                              for s in paired])      # error(cond) - error(baseline), in points
                entry["diff_vs_baseline"] = {"seeds": paired, "diffs": d.tolist(),
                                             "mean": float(d.mean())}
                if len(d) > 1:
                    sd = d.std(ddof=1)
                    half = stats.t.ppf(0.975, len(d) - 1) * sd / np.sqrt(len(d))
                    entry["diff_vs_baseline"].update(
                        ci95=[float(d.mean() - half), float(d.mean() + half)],
                        paired_t_p=float(stats.ttest_rel(
                            [100 * (1 - res[cond, s]["test_acc"]) for s in paired],
                            [100 * (1 - res[BASELINE, s]["test_acc"]) for s in paired]).pvalue)
                        if sd > 0 else None)
                entry["mcnemar"] = [_mcnemar(res[BASELINE, s], res[cond, s]) for s in paired]
            per_cond[cond] = entry
            rows.append({"model": model, "condition": cond, "n_seeds": len(have),
                         "test_error_mean": round(entry["mean"], 3),
                         "test_error_std": round(entry["std"], 3),
                         "diff_vs_/255": (round(entry["diff_vs_baseline"]["mean"], 3)
                                          if "diff_vs_baseline" in entry else None),
                         "ci95": entry.get("diff_vs_baseline", {}).get("ci95"),
                         "paired_t_p": entry.get("diff_vs_baseline", {}).get("paired_t_p"),
                         "mcnemar_p": [m["p"] for m in entry.get("mcnemar", [])]})
        summary["models"][model] = per_cond
    write_json(os.path.join(OUT, "summary.json"), summary)
    if rows:
        write_csv(os.path.join(OUT, "summary.csv"), rows)
    _chart(summary, models)
    return summary


def _mcnemar(base, other):
    """Exact McNemar test on paired test predictions: b = only baseline right, c = only other
    right; p = two-sided binomial test of b vs c."""
    from scipy.stats import binomtest
    from nnlite.datasets import load
    _, (_, y) = load(base["config"]["dataset"])
    pa = np.frombuffer(base["test_pred"].encode(), np.uint8) - 48
    pb = np.frombuffer(other["test_pred"].encode(), np.uint8) - 48
    a_ok, b_ok = pa == y, pb == y
    b = int(np.sum(a_ok & ~b_ok))
    c = int(np.sum(~a_ok & b_ok))
    p = binomtest(b, b + c, 0.5).pvalue if b + c else 1.0
    return {"seed": base["config"]["seed"], "only_baseline_right": b, "only_other_right": c,
            "p": float(p)}


def _chart(summary, models):
    from nnlite.plots import plot_bars
    models = [m for m in models if summary["models"].get(m)]
    conds = [c for c in CONDITIONS if all(c in summary["models"][m] for m in models)]
    if not models or not conds:
        return
    means = [[summary["models"][m][c]["mean"] for m in models] for c in conds]
    stds = [[summary["models"][m][c]["std"] for m in models] for c in conds]
    labels = [_protocol_note(m) for m in models]
    plot_bars(conds, labels, means, stds, os.path.join(OUT, "preprocessing_error.png"),
              ylabel="test error (%), mean ± std over seeds",
              title="Preprocessing vs MNIST test error (bars: mean, whiskers: std)")


def _protocol_note(model):
    return {"ann": "ANN (5 epochs, 48k)", "cnn": "CNN (5 epochs, 48k)",
            "cnn-bnrecal": "CNN, BN statistics re-estimated"}[model]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["ann", "cnn"])
    ap.add_argument("--seeds", nargs="+", type=int, default=SEEDS,
                    help="seeds to TRAIN (one process per seed runs in parallel); the summary "
                         "always covers every finished run")
    ap.add_argument("--conditions", nargs="+", choices=list(SLUG.values()),
                    help="train only these conditions (default all)")
    ap.add_argument("--analyse-only", action="store_true")
    args = ap.parse_args()
    if not args.analyse_only:
        for job in jobs(args.models, args.seeds, args.conditions):
            job.run()
            analyse(ANALYSED, SEEDS)
    analyse(ANALYSED, SEEDS)


if __name__ == "__main__":
    main()
