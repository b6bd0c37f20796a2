"""parity.json -> parity.md: numerical parity table, accuracy parity with a Welch t-test, and
the cross-engine prediction agreement. Every number in parity.md comes from parity.json.

    python -m experiments.parity numerical     # adds the numerical checks to parity.json
    python -m experiments.parity report        # writes parity.md
"""
import json
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


def numerical_table(numerical):
    lines = []
    for entry in numerical:
        lines += [f"**{entry['title']}** (batch {entry['batch_size']}, Adam lr "
                  f"{entry['lr']:g}, {entry['steps']} steps)", "",
                  "| check | float32 | float64 (both engines) | tolerance |",
                  "|---|---|---|---|"]
        f32, f64 = entry["results"]["float32"], entry["results"]["float64"]
        for a, b in zip(f32, f64):
            def cell(r):
                mark = "" if r["within"] is None else (" ✓" if r["within"] else " ✗")
                return f"{r['value']:.2e}{mark}"
            tol = "–" if a["tolerance"] is None else f"{a['tolerance']:.0e}"
            check = a["check"].replace("|", "\\|")      # a bare | would split the cell
            lines.append(f"| {check} | {cell(a)} | {cell(b)} | {tol} |")
        lines.append("")
    return lines


def load_runs(json_paths, extra_runs=()):
    """Merge the training JSON files (several ``run`` processes may write separate files) and
    ``extra_runs`` (records built from the study's nnlite result files). One record per
    (engine, model, seed, protocol): a timed record (the study driver's) wins over an older
    untimed one, and among equals the later one."""
    data = {"runs": [], "agreement": [], "machine_per_launch": []}
    for path in json_paths:
        with open(path) as fh:
            part = json.load(fh)
        for key in data:
            data[key] += part.get(key, [])
        if "machine" in part:
            data["machine_per_launch"].append(part["machine"])
    runs = _latest(data["runs"] + list(extra_runs), lambda r: (
        r["engine"], r["model"], r["seed"], r.get("protocol_name", "seed")))
    agreement = data["agreement"]
    if any("timing" in r for r in runs):
        # The study driver's runs replace every earlier one, also where the study has not run
        # yet (an earlier protocol's numbers would read as the study's); an agreement check
        # counts only for the nnlite run it was made with (same test accuracy).
        runs = [r for r in runs if "timing" in r]
        nnlite = {(r["model"], r["seed"], r.get("protocol_name", "seed")): r["test_accuracy"]
                  for r in runs if r["engine"] == "nnlite"}
        agreement = [a for a in agreement if a.get("nnlite_test_accuracy") is not None
                     and nnlite.get((a["model"], a["seed"], a["protocol_name"]))
                     == a["nnlite_test_accuracy"]]
    data["runs"] = _study_recipes_only(runs)
    data["agreement"] = _latest(agreement, lambda a: (a["model"], a["seed"], a["protocol_name"]))
    return data


def _study_recipes_only(runs):
    """Where the study driver has timed runs of a (model, protocol), keep only the runs of
    that recipe (seed aside), so both engines are compared on the same recipe."""
    def recipe(r):
        return {k: v for k, v in (r.get("recipe") or {}).items() if k != "seed"}
    study = {}
    for r in runs:
        if "timing" in r:
            study[r["model"], r.get("protocol_name", "seed")] = recipe(r)
    return [r for r in runs if (r["model"], r.get("protocol_name", "seed")) not in study
            or recipe(r) == study[r["model"], r.get("protocol_name", "seed")]]


def _latest(records, key):
    best = {}
    for r in records:
        k = key(r)
        if k not in best or "timing" in r or "timing" not in best[k]:
            best[k] = r
    return list(best.values())


def write_report(json_paths, numerical_json_path, md_path, extra_runs=()):
    data = load_runs(json_paths, extra_runs)
    try:
        with open(numerical_json_path) as fh:
            data.update({k: v for k, v in json.load(fh).items() if k != "machine"})
    except FileNotFoundError:
        pass
    runs = data.get("runs", [])
    machines = data["machine_per_launch"]
    m0 = machines[0] if machines else {}
    if runs and all("timing" in r for r in runs):
        return _write(md_path, _study_header(runs) + _body(data, runs))
    out = ["# nnlite vs Keras 3: numerical and accuracy parity", "",
           "Generated by `python -m experiments.parity report` from "
           "`parity.json` / `parity_runs_*.json` (training runs) and `parity_numerical.json`; the runs by `python -m experiments.parity run` / "
           "`agreement` / `numerical` (see the docstrings in "
           "[`experiments/parity.py`](../parity.py)).", "",
           f"Machine: {m0.get('cores', '?')} cores ({m0.get('cpu', '?')}), Python "
           f"{m0.get('python', '?')}, NumPy {m0.get('numpy', '?')}, Numba "
           f"{m0.get('numba', '?')}, TensorFlow {m0.get('tensorflow', '?')}, Keras "
           f"{m0.get('keras', '?')}. Load average when each `run` launch started: "
           + ", ".join(f"{m['load_average_at_start'][0]:.0f}" for m in machines
                       if "load_average_at_start" in m)
           + ". The runs in `parity.json` and `parity_runs_cnn*.json` shared the 2 cores "
           "with other processes (load average 12–24); those in `parity_runs_vgg_seed.json` "
           "and `parity_runs_tuned_*.json` ran as two single-threaded training processes side "
           "by side (one per core), and their timed epochs overlapped other processes on the "
           "same cores at times (the runs in `parity_runs_tuned_a.json` record when they "
           "started and finished). The nnlite runs in those last three files used "
           "single-threaded convolutions without Winograd, except the tuned VGG16 runs of "
           "seeds 0 and 1 (`parity_runs_tuned_a.json`: Winograd, `NNLITE_NUM_THREADS=1`). "
           "Seconds per epoch on this page are therefore not a speed comparison between the "
           "engines; "
           "[benchmarks/results/REPORT.md](../../benchmarks/results/REPORT.md) is.", ""]
    return _write(md_path, out + _body(data, runs))


def _study_header(runs):
    """The page's head when every run was made by the study driver (one job at a time)."""
    keras = next((r["machine"] for r in runs if r["engine"] == "keras"), {})
    m = runs[0]["machine"]
    loads = [v for r in runs for v in (r["timing"]["load_average_1_5_15min_start"][0],
                                       r["timing"]["load_average_1_5_15min_end"][0])]
    return ["# nnlite vs Keras 3: numerical and accuracy parity", "",
            "Generated by `python -m experiments report` from `parity.json` (the Keras runs "
            "and the agreement checks, `experiments/parity_study.py`), the nnlite runs' "
            "result files under `seed_protocol/` and `tuned/`, and `parity_numerical.json`.", "",
            f"Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores; Python "
            f"{m.get('python', '?')}, NumPy {m.get('numpy', '?')}, Numba "
            f"{keras.get('numba', '?')}, TensorFlow {keras.get('tensorflow', '?')}, Keras "
            f"{keras.get('keras', '?')}. Each run was the only job of the study running; the "
            f"1-minute load average at the start and end of the runs was "
            f"{min(loads):.2f}–{max(loads):.2f}. Seconds per epoch: wall time of the epoch "
            "(validation included); CPU seconds per epoch: the process's CPU time during the "
            "epoch, all threads included.", ""]


def _write(md_path, out):
    text = "\n".join(out) + "\n"
    with open(md_path, "w") as fh:
        fh.write(text)
    return text


def _body(data, runs):
    out = []
    out += summary_section(runs, data.get("agreement", []))
    out += ["## 1. Numerical parity (same weights, same batches)", "",
            "From `baselines.parity.compare`, the same code as `python -m baselines compare MODEL` and the "
            "tests in `tests/test_parity.py`. BN layers get random gamma, beta and moving "
            "statistics; inputs are uniform random images (no MaxPool ties); dropout off.", ""]
    out += numerical_table(data.get("numerical", [])) or ["(not run)", ""]

    for number, protocol in ((2, "seed"), (3, "tuned")):
        out += accuracy_section(number, protocol, runs)
    out += ["Per run:", "", "| model | protocol | engine | seed | test acc | val acc per epoch | "
            "median s/epoch | CPU s/epoch | threads |", "|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: (r["model"], r.get("protocol_name", "seed"), r["seed"],
                                         r["engine"])):
        threads = r.get("threads", "default")
        out.append(f"| {r['model']} | {r.get('protocol_name', 'seed')} | {r['engine']} | "
                   f"{r['seed']} | {100 * r['test_accuracy']:.2f} | "
                   + ", ".join(f"{100 * v:.2f}" for v in r["history"]["val_accuracy"])
                   + " | "
                   f"{np.median(r['history']['seconds']):.0f} | {_cpu_seconds([r])} | "
                   f"{threads} |")
    out.append("")

    out += ["## 4. Trained CNN moved between the engines", "",
            "Each engine's trained CNN is moved to the other with `baselines.transfer` "
            "(weights and BN moving statistics) and both predict the 10,000 test digits.", "",
            "| training | seed | test acc nnlite / Keras | Keras-trained, predicted in "
            "nnlite: same class | nnlite-trained, predicted in Keras: same class |",
            "|---|---|---|---|---|"]
    for a in data.get("agreement", []):
        accs = (f"{100 * a['nnlite_test_accuracy']:.2f} / {100 * a['keras_test_accuracy']:.2f}"
                if "nnlite_test_accuracy" in a else "see section 2")
        label = {"seed": "seed protocol, 5 epochs"}.get(a["protocol_name"], a["protocol_name"])
        out.append(f"| {label} | {a['seed']} | {accs} | "
                   f"{a['keras_to_nnlite_same']:,} / {a['n']:,} "
                   f"({100 * a['keras_to_nnlite_fraction']:.2f} %) | "
                   f"{a['nnlite_to_keras_same']:,} / {a['n']:,} "
                   f"({100 * a['nnlite_to_keras_fraction']:.2f} %) |")
    out.append("")
    swing = epoch_swing(runs, "cnn")
    if not math.isnan(swing["nnlite"]):
        out += [f"The CNN's validation accuracy jumps by up to {swing['nnlite']:.2f} pp "
                f"(nnlite) and {swing['keras']:.2f} pp (Keras) from one epoch to the next under "
                "this protocol (per-run table), so its last-epoch test accuracy, and the "
                "seed-to-seed spread, are large in both engines.", ""]
    out += gradient_error_section(data.get("cnn_float32_gradient_error", []))
    out += NOTES
    out += scope_section(runs, data.get("agreement", []))
    return out


def _tuned_text(model, recipe):
    """"CNN: lr 1e-3, 30 epochs, dropout 0.3, affine augmentation" from the recipe itself."""
    name = {"ann": "ANN", "cnn": "CNN", "vgg16": f"VGG16 (width {recipe.width:g})"}.get(
        model, model)
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


def _cpu_seconds(runs):
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
                   f"{_cpu_seconds(r['runs']['nnlite'])} | {_cpu_seconds(r['runs']['keras'])} | "
                   f"nnlite {r['seeds']['nnlite']}, Keras {r['seeds']['keras']} |")
    return out + [""]


def gradient_error_section(rows):
    if not rows:
        return []
    out = ["## 5. Where the float32 differences come from", "",
           "CNN, one batch of 8: each engine's float32 gradient against the float64 gradient "
           "(nnlite's float64 gradient, equal to Keras' float64 gradient within the float64 "
           "column of section 1).",
           "", "| weight | max abs gradient (float64) | nnlite float32 error | Keras float32 "
           "error |", "|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['weight']} | {r['max_abs_grad_float64']:.2e} | "
                   f"{r['nnlite_float32_error']:.2e} | {r['keras_float32_error']:.2e} |")
    worse = sum(r["nnlite_float32_error"] > r["keras_float32_error"] for r in rows)
    out += ["", f"nnlite's float32 error is larger than Keras' in {worse} of {len(rows)} arrays. "
            "The conv biases' true gradient is 0 (≈1e-14 in float64): the BatchNormalization "
            "after each conv subtracts the batch mean, so a constant shift of the conv output "
            "changes nothing. In float32 both engines return rounding noise there.", ""]
    return out


NOTES = """## 6. Reading the numbers

**float64 (both engines) is the proof of identical algorithms.** Every check holds in float64
for all three models, most by many orders of magnitude (section 1). Keras runs in
float64 with `keras.backend.set_floatx("float64")` and float64 layers; nnlite with
`dtype="float64"` layers. The remaining float64 differences in the CNN (~1e-9 after Adam)
come from its conv biases, whose zero gradient is rounding noise of ~1e-14 that Adam divides
by epsilon.

**An Adam step-size difference was found and fixed in nnlite.** Keras 3's Adam turns `beta_1` and
`beta_2` into float32 tensors before casting them to the variable's dtype, and computes the
bias corrections `1 - beta**t` in that dtype. nnlite computed them from the exact double
betas, so its step size `alpha` differed from Keras' at step 1 by the factor
`sqrt(1 - f32(0.999)) / sqrt(0.001) * 0.1 / (1 - f32(0.9)) = 0.9999933` (6.7e-6). In float64
parity this showed as a weight difference of 6.7e-6 x lr after one step, which the training
dynamics then amplified step after step (far past 1e-4 in 50 CNN steps). After the fix
(`nnlite/optimizers.py`, `Adam.update`) the float64 rows of section 1 hold; to see the old
behaviour, compute alpha from the double betas and run `python -m baselines compare cnn --dtype float64`.

**A second, float32-only difference was fixed in the fused Adam kernel.** Keras computes
`1 - beta_1` and `1 - beta_2` in double (Python floats) and rounds the results to float32
(0.001 for beta_2); the kernel computed them in float32 from the rounded betas
(`1 - f32(0.999) = 0.0009999871`, 1.3e-5 off), a systematic difference in every update of `v`.
It now receives the betas as Python floats and rounds `1 - beta` once
(`nnlite/ops/update.py`, `nnlite/optimizers.py`). The ANN float32 rows of section 1 are
measured after both fixes.

**Keras' L2 factor also goes through float32** (0.01 becomes 0.0099999998), a 2e-8 relative
difference in the regularisation loss (the "L2 loss" row). nnlite keeps the exact factor; the
difference is below the 1e-6 tolerance and left as is.

**float32 differences are rounding, amplified where the maths is ill-conditioned.**
- Forward passes agree to about 1e-6 (tolerance 1e-4) and gradients to float32 rounding.
- Adam divides each gradient by its own root-mean-square, so for a weight whose gradient is
  near 0 a rounding difference of 1e-8 becomes a step difference of up to ~lr. The CNN's conv
  biases (true gradient 0) therefore get float32 steps of about ±lr in directions set by each
  engine's rounding noise (CNN float32 "Adam 1 step" row). These biases do not change the
  training-mode output (BN removes them), but they drift the BN moving means.
- A ReLU whose input is within rounding of 0 (met in VGG16 while writing the tests) or a
  MaxPool window with a near-tie switches between engines and sends that unit's gradient
  elsewhere; over 50 steps such switches and the Adam amplification compound
  (float32 50-step rows). Both effects vanish in float64.
- The float32 rows are therefore printed, not hidden: they are what a user sees when training
  in float32 with either engine, and they show how fast two float32 trainings from the same
  weights drift apart. Which engine is closer to the exact (float64) gradient is in section 4.

**Accuracy parity.** Both engines train the same architectures with their own random
initialisation and shuffling, so per-seed results differ; the question is whether the mean
difference is within seed-to-seed variation. Welch's t-test (scipy.stats.ttest_ind,
equal_var=False) on the per-seed test accuracies answers it where each engine has >= 2 seeds.
""".splitlines() + [""]


def scope_section(runs, agreement):
    """What was run, from the JSON, and what was not."""
    out = ["## 7. What was run and what was not", ""]
    for protocol in PROTOCOLS:
        for model in ("ann", "cnn", "vgg16"):
            seeds = {e: sorted(r["seed"] for r in runs if r["model"] == model
                               and r["engine"] == e
                               and r.get("protocol_name", "seed") == protocol)
                     for e in ENGINES}
            out.append(f"- {model}, {PROTOCOLS[protocol][0]}: " + (
                f"nnlite seeds {seeds['nnlite']}, Keras seeds {seeds['keras']}."
                if any(seeds.values()) else "not run."))
    out += ["- The ANN and CNN seed-protocol nnlite runs (`parity.json`, "
            "`parity_runs_cnn*.json`) predate one or both Adam fixes of section 6: ANN seed 0 "
            "both, the others the float32 `1 - beta` fix. Each fix changes a step by < 1e-5 "
            "relative, far below what separates two seeds.",
            "- Trained-model transfer: CNN seeds " + (", ".join(
                f"{a['seed']} ({a['protocol_name']} protocol)" for a in agreement)
                or "none") + ". VGG16 and the ANN were not moved between engines after "
            "training (the numerical checks of section 1 cover their layers).",
            ""]
    return out


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
