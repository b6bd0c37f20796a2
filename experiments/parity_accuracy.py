"""Accuracy parity for parity.md: the per-model rows (test accuracies of both engines, mean
difference, Welch's t-test), the protocols in words, the accuracy sections (2 and 3), the
summary of the acceptance criteria, and the epoch-to-epoch swing of validation accuracy.
``experiments.parity_report`` assembles the page.
"""
import math

import numpy as np

from nnlite.recipe import TUNED

ENGINES = ("nnlite", "keras")


def _fmt_acc(values):
    if not values:
        return "–"
    mean = 100 * np.mean(values)
    if len(values) == 1:
        return f"{mean:.2f} (n=1)"
    return f"{mean:.2f} ± {100 * np.std(values, ddof=1):.2f} (n={len(values)})"


def _seconds(runs):
    """(median s/epoch over all epochs, median without epoch 1) over the single-threaded runs
    (a run with default threads on the oversubscribed machine is not comparable), or over
    every run when all were timed by the study driver (one job at a time)."""
    if not all("timing" in r for r in runs):
        runs = [r for r in runs if r.get("threads") == "1"]
    if not runs:
        return "–"
    all_ = [s for r in runs for s in r["history"]["seconds"]]
    later = [s for r in runs for s in r["history"]["seconds"][1:]]
    return (f"{np.median(all_):.0f} ({np.median(later):.0f})" if later
            else f"{np.median(all_):.0f}")


def welch(a, b):
    """Welch's t-test (unequal variances): (t, p), or None with fewer than 2 runs a side."""
    if len(a) < 2 or len(b) < 2:
        return None
    from scipy import stats
    if np.std(a) == 0 and np.std(b) == 0:
        return (0.0, 1.0) if np.mean(a) == np.mean(b) else (math.inf, 0.0)
    t, p = stats.ttest_ind(a, b, equal_var=False)
    return float(t), float(p)


def accuracy_rows(runs, protocol_name="seed"):
    rows = []
    for model in ("ann", "cnn", "vgg16", "vgg16_bn"):
        by = {e: [r for r in runs if r["model"] == model and r["engine"] == e
                  and r.get("protocol_name", "seed") == protocol_name] for e in ENGINES}
        if not any(by.values()):
            continue
        acc = {e: [r["test_accuracy"] for r in by[e]] for e in ENGINES}
        diff = (100 * (np.mean(acc["nnlite"]) - np.mean(acc["keras"]))
                if acc["nnlite"] and acc["keras"] else None)
        rows.append({"model": model, "acc": acc, "runs": by, "diff_pp": diff,
                     "welch": welch(acc["nnlite"], acc["keras"]),
                     "seeds": {e: sorted(r["seed"] for r in by[e]) for e in ENGINES}})
    return rows


def _tuned_text(model, recipe):
    """"CNN: lr 1e-3, 30 epochs, dropout 0.3, affine augmentation" from the recipe itself."""
    name = {"ann": "ANN", "cnn": "CNN", "vgg16": f"VGG16 (width {recipe.width:g})",
            "vgg16_bn": f"VGG16-BN (width {recipe.width:g})"}.get(model, model)
    dropout = f", dropout {recipe.dropout:g}" if recipe.dropout else ""
    augment = recipe.augment.replace("+", " + ")
    lr = f"{recipe.lr:.0e}".replace("e-0", "e-")
    return f"{name}: lr {lr}, {recipe.epochs} epochs{dropout}, {augment} augmentation"


PROTOCOLS = {
    "seed": ("seed protocol", "Adam lr 1e-4 (constant), batch 32, 5 epochs, pixels / 255, no "
             "augmentation, the models' default dropout (VGG16 0.5)"),
    "tuned": ("tuned protocol", "each model's recipe chosen on validation accuracy by "
              "`experiments/tuned.py` (`nnlite.recipe.TUNED`): batch 32; Adam with "
              "cosine decay over all steps to 1 % (Keras' `CosineDecay`, nnlite's "
              "`CosineDecay`); a standardise layer (Rescaling with MNIST's mean/std) inside the "
              "model; " + "; ".join(_tuned_text(m, r) for m, r in TUNED.items()) + ". The "
              "augmentation is nnlite's `Augment` in both engines (Keras reads the batches "
              "from a `PyDataset`)"),
}


def cpu_seconds(runs):
    """Median CPU seconds per epoch over the timed runs ("–" without any)."""
    cpu = [r["timing"]["cpu_s_per_epoch"] for r in runs if "timing" in r]
    return f"{np.median(cpu):.0f}" if cpu else "–"


def _recipe_text(runs, protocol):
    """The protocol in words: the fixed text of PROTOCOLS, or for the study's tuned runs each
    model's recorded recipe."""
    title, recipe = PROTOCOLS[protocol]
    timed = {r["model"]: r["recipe"] for r in runs if "timing" in r
             and r.get("protocol_name", "seed") == protocol}
    if protocol != "tuned" or not timed:
        return recipe
    return ("each model's recipe chosen on validation accuracy by `experiments/tuned.py`; "
            "Adam with cosine decay over all steps to 1 %, batch 32, a standardise layer "
            "inside the model, nnlite's `Augment` in both engines; "
            + "; ".join(f"{m}: lr {r['lr']:g}, {r['epochs']} epochs, augmentation "
                        f"{r['augment']}, dropout {r['dropout']}"
                        + (f", width {r['width']:g}" if m.startswith("vgg16") else "")
                        for m, r in sorted(timed.items())))


def accuracy_section(number, protocol, runs):
    title, _ = PROTOCOLS[protocol]
    recipe = _recipe_text(runs, protocol)
    rows = accuracy_rows(runs, protocol)
    study = bool(runs) and all("timing" in r for r in runs)
    threads = ("; CPU seconds per epoch (median over the runs). Threads as each run "
               "recorded them (nnlite: its worker threads, BLAS single-threaded; Keras: "
               "TensorFlow's defaults)." if study else
               " for single-threaded runs (OMP/OpenBLAS/Numba/TF intra- and inter-op "
               "threads = 1).")
    out = [f"## {number}. Accuracy parity, {title}", "",
           f"{recipe[0].upper() + recipe[1:]}; 48,000 train / 12,000 validation (the last 20 %, as "
           "Keras' `validation_split`) / 10,000 test; float32 NHWC; each engine initialises "
           "its own weights from the seed. Test accuracy in %, mean ± sample std over seeds. "
           "Seconds per epoch (median over epochs, validation pass included; in brackets "
           "without epoch 1, where Keras traces its graph)" + threads, ""]
    if not rows:
        return out + ["(not run)", ""]
    out += ["| model | nnlite test acc | Keras test acc | diff (pp) | Welch t-test | "
            "nnlite s/epoch | Keras s/epoch | nnlite CPU s/epoch | Keras CPU s/epoch | seeds |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        w = r["welch"]
        wtxt = f"t = {w[0]:.2f}, p = {w[1]:.2f}" if w else "needs ≥ 2 seeds per engine"
        diff = f"{round(r['diff_pp'], 2) + 0.0:+.2f}" if r["diff_pp"] is not None else "–"
        out.append(f"| {r['model']} | {_fmt_acc(r['acc']['nnlite'])} | "
                   f"{_fmt_acc(r['acc']['keras'])} | {diff} | {wtxt} | "
                   f"{_seconds(r['runs']['nnlite'])} | {_seconds(r['runs']['keras'])} | "
                   f"{cpu_seconds(r['runs']['nnlite'])} | {cpu_seconds(r['runs']['keras'])} | "
                   f"nnlite {r['seeds']['nnlite']}, Keras {r['seeds']['keras']} |")
    return out + [""]


def epoch_swing(runs, model):
    """Largest change of validation accuracy (pp) between consecutive epochs, per engine."""
    out = {}
    for e in ENGINES:
        vals = [r["history"]["val_accuracy"] for r in runs if r["model"] == model
                and r["engine"] == e]
        steps = [abs(b - a) for v in vals for a, b in zip(v, v[1:])]
        out[e] = 100 * max(steps) if steps else float("nan")
    return out


def summary_section(runs, agreement):
    """The acceptance criteria, each with its measured value; then the other protocol /
    model comparisons with their t-tests."""
    out = ["## Summary (acceptance criteria)", ""]
    for protocol in PROTOCOLS:
        for r in accuracy_rows(runs, protocol):
            if r["diff_pp"] is not None:
                out.append(summary_line(r, protocol))
    for a in agreement:
        ok = min(a["keras_to_nnlite_fraction"], a["nnlite_to_keras_fraction"]) >= 0.999
        label = {"seed": "seed protocol, 5 epochs"}.get(a["protocol_name"],
                                                        a["protocol_name"] + " protocol")
        out.append(f"- Trained CNN ({label}, seed {a['seed']}) moved between the "
                   f"engines: same predicted class on {100 * a['keras_to_nnlite_fraction']:.2f} % "
                   f"(Keras → nnlite) and {100 * a['nnlite_to_keras_fraction']:.2f} % "
                   f"(nnlite → Keras) of the {a['n']:,} test digits ({'≥' if ok else '<'} 99.9 %"
                   f" {'✓' if ok else '✗'}).")
    out += ["- Numerical parity: every check within its tolerance in float64 (both "
            "engines); in float32 forward passes and most gradients too, Adam trajectories "
            "not (rounding noise amplified, sections 1, 5, 6).", ""]
    return out


def summary_line(r, protocol):
    """One model under one protocol: the mean difference, Welch's test, and (for the
    acceptance rows, ANN and CNN under the seed protocol) the 0.15 pp verdict."""
    n = {e: len(r["acc"][e]) for e in ENGINES}
    w = r["welch"]
    acceptance = protocol == "seed" and r["model"] in ("ann", "cnn")
    verdict = ""
    if acceptance:
        verdict = ("≤ 0.15 pp ✓; " if abs(r["diff_pp"]) <= 0.15 else "> 0.15 pp ✗; ")
    sd = {e: 100 * np.std(r["acc"][e], ddof=1) if n[e] > 1 else float("nan") for e in ENGINES}
    test = (f"Welch t-test p = {w[1]:.2f}: "
            + ("not significant at the 5 % level, the difference is within seed-to-seed "
               "variation" if w[1] > 0.05 else "significant at the 5 % level")
            + f" (seed std nnlite {sd['nnlite']:.2f}, Keras {sd['keras']:.2f} pp)" if w else
            "no t-test: fewer than 2 seeds per engine")
    se = math.sqrt(sum((sd[e] ** 2) / n[e] for e in ENGINES)) if w else float("nan")
    resolved = ""
    if w and acceptance:
        need = math.ceil(sum(sd[e] ** 2 for e in ENGINES) / 0.075 ** 2)
        resolved = (f" The standard error of that difference is {se:.2f} pp"
                    + (f": {n['nnlite']} / {n['keras']} seeds cannot resolve 0.15 pp either way "
                       f"(about {need} per engine would bring 2 standard errors to 0.15 pp); "
                       "this spread, present in both engines, is the measured reason: the "
                       "data show no difference between the engines but cannot bound it to "
                       "0.15 pp." if se > 0.15 and abs(r["diff_pp"]) > 0.15 else "."))
    elif w:
        resolved = f" Standard error of the difference {se:.2f} pp."
    return (f"- {r['model'].upper()}, {PROTOCOLS[protocol][0]}: mean test accuracy nnlite − "
            f"Keras = {round(r['diff_pp'], 2) + 0.0:+.2f} pp ({verdict}n = {n['nnlite']} / {n['keras']} seeds); "
            f"{test}.{resolved}")
