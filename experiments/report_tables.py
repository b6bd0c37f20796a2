"""The tables of REPORT.md, each computed from the result files (``make_report`` places them).

Every function returns Markdown. A table whose results do not exist yet says so.
"""
import csv
import json
import os

import numpy as np

from experiments.common import LABEL, RESULTS
from experiments.plan import GOALS

MODELS = tuple(LABEL)


def _load(rel):
    try:
        with open(os.path.join(RESULTS, rel)) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def md(header, rows):
    if not rows:
        return "_(not run yet)_"
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join("" if c is None else str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _pm(mean, std):
    if mean is None:
        return "–"
    return f"{mean:.2f}" + (f" ± {std:.2f}" if std is not None else " (1 seed)")


def _verdict(acc, goal):
    return "met" if acc >= goal else f"missed by {goal - acc:.2f} points"


def table_goals():
    rows = []
    for model in MODELS:
        record = _load(f"tuned/{model}_record.json")
        if record is None:
            rows.append([LABEL[model], GOALS[model], "_(not run yet)_", "", ""])
            continue
        mean = record["test_acc_mean_pct"]
        best = next(r for r in record["runs"] if r["name"] == record["best_on_validation"])
        seeds = " / ".join(f"{100 * r['test_acc']:.2f}"
                           for r in sorted(record["runs"], key=lambda r: r["seed"]))
        rows.append([LABEL[model], GOALS[model],
                     f"{_pm(mean, record['test_acc_std_pct'])} ({seeds})",
                     f"{100 * best['test_acc']:.2f}", _verdict(mean, GOALS[model])])
    ens = _load("ensemble/summary.json") if _done("ensemble/of-record") else None
    if ens and "of_record" in ens:
        acc = ens["of_record"]["test_acc"]
        rows.append(["ensemble of record", GOALS["ensemble"], f"{acc:.2f}", "",
                     _verdict(acc, GOALS["ensemble"])])
    else:
        rows.append(["ensemble of record", GOALS["ensemble"], "_(not run yet)_", "", ""])
    return md(["model", "goal: test %",
               "test % of the chosen recipe: mean ± std (seeds 0 / 1 / 2)",
               "test % of the model file (best of the 3 on validation)", "verdict (on the "
               "mean)"], rows)


def _states():
    """{job id: (state, detail)} of every job of the study's plan, as ``experiments list``
    shows them: a table whose job is not "done" says "not run yet" rather than showing the
    results of an earlier protocol still on disk."""
    if not hasattr(_states, "cache"):
        from experiments.plan import study_jobs
        _states.cache = {job.id: job.state() for job in study_jobs()}
    return _states.cache


def _done(job_id):
    return _states().get(job_id, ("",))[0] == "done"


def _timed_results():
    """[(job, result)] of every finished, timed nnlite run of the study."""
    from experiments.common import finished_result
    from experiments.jobs import TrainJob
    from experiments.plan import study_jobs
    found = []
    for job in study_jobs():
        recipe = job.recipe() if isinstance(job, TrainJob) else None
        result = finished_result(job.experiment, job.name, recipe) if recipe else None
        if result and "timing" in result:
            found.append((job, result))
    return found


def table_machine():
    log = _load("study_log.json") or {}
    launches = log.get("launches", [])
    timings = [r["timing"] for _, r in _timed_results()]
    if not launches and not timings:
        return "_(not run yet)_"
    m = launches[-1]["machine"] if launches else {}
    loads = [t[k][0] for t in timings for k in ("load_average_1_5_15min_start",
                                                "load_average_1_5_15min_end")]
    threads = ", ".join(f"{k}={v}" for k, v in m.get("threads", {}).items() if v is not None)
    rows = [["CPU", m.get("cpu", "?")], ["cores", m.get("cores", "?")],
            ["Python / NumPy", f"{m.get('python', '?')} / {m.get('numpy', '?')}"],
            ["threads", threads or "defaults"],
            ["runs timed", len(timings)],
            ["1-minute load average, start and end of the runs",
             f"{min(loads):.2f} – {max(loads):.2f}" if loads else "–"]]
    return md(["", ""], rows)


def table_timing():
    """Median wall and CPU seconds per epoch per (experiment, model, engine)."""
    from experiments.parity_study import KerasJob
    from experiments.plan import study_jobs
    groups = {}
    for job, result in _timed_results():
        t = result["timing"]
        key = (job.experiment, result["config"]["model"], "nnlite")
        groups.setdefault(key, []).append((t["wall_s_per_epoch"], t["cpu_s_per_epoch"],
                                           t["train_images"]))
    for job in study_jobs():
        if isinstance(job, KerasJob) and (t := job.timing()):
            key = (f"parity/{job.protocol}", job.model, "keras")
            groups.setdefault(key, []).append((t["wall_s_per_epoch"], t["cpu_s_per_epoch"],
                                               t["train_images"]))
    rows = [[exp, LABEL[model], engine, len(v), f"{np.median([w for w, _, _ in v]):.1f}",
             f"{np.median([c for _, c, _ in v]):.1f}", f"{v[0][2]:,}"]
            for (exp, model, engine), v in sorted(groups.items())]
    return md(["experiment", "model", "engine", "runs", "wall s per epoch (median)",
               "CPU s per epoch (median)", "training images per epoch"], rows)


def table_seed():
    s = _load("seed_protocol/summary.json")
    if not s or not s.get("rows") or "test_mean" not in s["rows"][0]:
        return md([], [])
    rows = [[r["model"], f"{r['params']:,}" if r["params"] else "",
             f"{_pm(r['train_mean'], r['train_std'])} / {r['study_train']:.2f}",
             f"{_pm(r['val_mean'], r['val_std'])} / {r['study_val']:.2f}",
             f"{_pm(r['test_mean'], r['test_std'])} / {r['study_test']:.2f}",
             _pm(r["keras_test_mean"], r["keras_test_std"]),
             f"{r['nnlite_seeds']} / {r['keras_seeds']}"] for r in s["rows"]]
    return md(["model", "params", "train % (nnlite / study)", "val % (nnlite / study)",
               "test % (nnlite / study)", "test % Keras", "seeds nnlite / Keras"], rows)


def _recipe_text(cfg):
    return (f"Adam {cfg['lr']:g} {cfg['schedule']}, {cfg['epochs']} epochs, "
            f"{cfg['preprocess']}, augmentation {cfg['augment']}"
            + (f", dropout {cfg['dropout']}" if cfg.get("dropout") is not None else ""))


def table_tuned():
    rows = []
    for model in MODELS:
        choice, record = _load(f"tuned/{model}_choice.json"), _load(f"tuned/{model}_record.json")
        if not choice or "label" not in choice:
            rows.append([LABEL[model], "_(not chosen yet)_", "", "", "", ""])
            continue
        rows.append([LABEL[model], choice["chosen"], _recipe_text(choice["config"]),
                     _pm(record["test_acc_mean_pct"], record["test_acc_std_pct"])
                     if record else "_(seeds 1, 2 not run yet)_",
                     record["best_on_validation"] if record else "",
                     ("installed" if record["installed"] else "kept the previous file "
                      "(better on validation)") if record else ""])
    return md(["model", "chosen candidate (validation)", "recipe", "test %, seeds 0-2",
               "model file from", "models/*.npz"], rows)


def table_candidates():
    rows = []
    for model in MODELS:
        choice = _load(f"tuned/{model}_choice.json")
        if not choice or "label" not in choice:
            continue
        rows += [[LABEL[model], c["name"] + (" **(chosen)**" if c["name"] == choice["chosen"]
                                             else ""), c["epochs_run"],
                  f"{100 * c['val_acc']:.2f}", f"{100 * c['test_acc']:.2f}"]
                 for c in choice["candidates"]]
    return md(["model", "candidate", "epochs", "val % (used to choose)",
               "test % (reported only)"], rows)


def table_per_class():
    """Per-class precision / recall / F1 of the chosen tuned CNN and the seed-protocol ANN."""
    cols, header = [], ["class"]
    choice = _load("tuned/cnn_choice.json")
    metrics = _load(f"tuned/{choice['chosen']}/eval/metrics.json") if choice else None
    if metrics:
        cols.append(metrics["per_class"])
        header.append("tuned CNN (seed 0) P / R / F1 %")
    metrics = _load("seed_protocol/ann-s0/eval/metrics.json")
    if metrics:
        cols.append(metrics["per_class"])
        header.append("seed-protocol ANN (seed 0) P / R / F1 %")
    rows = [[k] + [f"{100 * c[k]['precision']:.2f} / {100 * c[k]['recall']:.2f} / "
                   f"{100 * c[k]['f1-score']:.2f}" for c in cols] for k in (cols[0] if cols
                                                                           else [])]
    return md(header, rows)


def _p(p):
    return "<1e-15" if p < 1e-15 else f"{p:.2g}"


def table_preprocessing():
    s = _load("preprocessing/summary.json") if _done("preprocessing/analysis") else None
    rows = []
    for model, conds in (s or {}).get("models", {}).items():
        for cond, e in conds.items():
            d = e.get("diff_vs_baseline")
            ci, p = (d.get("ci95"), d.get("paired_t_p")) if d else (None, None)
            rows.append([{"ann": "ANN", "cnn": "CNN", "cnn-bnrecal": "CNN (BN re-estimated)"}
                         .get(model, model), cond, len(e["seeds"]),
                         f"{e['mean']:.2f} ± {e['std']:.2f}",
                         f"{d['mean']:+.2f}" if d else ("(baseline)" if cond == "/255" else ""),
                         f"[{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else "",
                         f"{p:.3f}" if p is not None else "",
                         ", ".join(_p(m["p"]) for m in e.get("mcnemar", []))])
    table = md(["model", "preprocessing", "seeds", "test error % (mean ± std)",
                "Δ error vs /255 (points)", "95 % CI of Δ", "paired t p",
                "McNemar p per seed"], rows)
    figure = "\n\n![test error by preprocessing](preprocessing/preprocessing_error.png)"
    return table + figure if rows else table


def table_ensemble():
    s = _load("ensemble/summary.json") if _done("ensemble/of-record") else None
    if not s or "of_record" not in s:
        return md([], [])
    rows = [[r["ensemble"], r["networks"], f"{r['val_acc']:.2f}", f"{r['test_acc']:.2f}",
             r["test_errors"]] for r in s["rows"]]
    return md(["ensemble (mean of softmax probabilities)", "networks", "val %", "test %",
               "test errors"], rows)


def _pct(text):
    """A percentage from the summary CSV with two decimals, as every other table ("90.3" ->
    "90.30"); "–" when the cell is empty."""
    return f"{float(text):.2f}" if text else "–"


def table_fashion():
    path = os.path.join(RESULTS, "fashion", "summary.csv")
    if not os.path.isfile(path) or not _done("fashion/summary"):
        return md([], [])
    with open(path) as fh:
        data = list(csv.DictReader(fh))
    if data and "cpu_s_per_epoch" not in data[0]:
        return md([], [])
    rows = [[LABEL.get(r["model"], r["model"]),
             r["recipe"] + (" (chosen on MNIST)" if r["chosen_on_mnist"] == "True" else ""),
             r["epochs"], _pct(r["val_acc"]), _pct(r["test_acc"]),
             _pct(r.get("mnist_test_acc")), r["wall_s_per_epoch"], r["cpu_s_per_epoch"]]
            for r in data]
    table = md(["model", "recipe", "epochs", "val %", "test %", "MNIST test % (same recipe)",
                "wall s/epoch", "CPU s/epoch"], rows)
    if os.path.isfile(os.path.join(RESULTS, "fashion", "fashion_vs_mnist.png")):
        table += "\n\n![test error on MNIST and Fashion-MNIST](fashion/fashion_vs_mnist.png)"
    return table


def table_cost():
    t = _load("seed_protocol/vgg16_full_timing.json")
    costs = _load("study_costs.json") or {}
    rows = [[name, f"{1e3 * c['train_step_s']:.1f}", f"{1e6 * c['predict_s_per_image']:.0f}"]
            for name, c in sorted(costs.get("per_step", {}).items())]
    if t:
        rows.append(["nnlite:vgg16 width 1.0 (14.9 M params)",
                     f"{1e3 * t['median_wall_s_per_step']:.0f}", ""])
    return md(["engine:model", "wall ms per training step (batch 32, median)",
               "wall µs per predicted image"], rows)


def table_status():
    """One line: is the study complete?"""
    states = _states()
    done = sum(state == "done" for state, _ in states.values())
    if done == len(states):
        return f"**Status: complete.** All {len(states)} jobs of the study's plan have finished."
    return (f"**Status: {done} of {len(states)} jobs of the study's plan have finished.** Only "
            "finished jobs' results appear below; a section whose jobs have not finished says "
            "so, and the unfinished jobs are listed at the end.")


def table_unfinished():
    """The jobs of the study's plan that were not done when the report was generated."""
    rows = [[job_id, state + (f" ({detail})" if detail else "")]
            for job_id, (state, detail) in _states().items() if state != "done"]
    if not rows:
        return "None: every job of the study had finished."
    return md(["job", "state"], rows)


TABLES = {"goals": table_goals, "machine": table_machine, "timing": table_timing,
          "seed": table_seed, "tuned": table_tuned, "candidates": table_candidates,
          "per_class": table_per_class, "preprocessing": table_preprocessing,
          "ensemble": table_ensemble, "fashion": table_fashion, "cost": table_cost,
          "unfinished": table_unfinished, "status": table_status}
