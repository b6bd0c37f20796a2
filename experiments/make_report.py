"""Render experiments/results/REPORT.md from experiments/report_template.md and the result
files under experiments/results/ (no number in the report is typed by hand).

Placeholders in the template:
    {{table:NAME}}       a Markdown table (NAME in TABLES below)
    {{value:PATH}}       one number from a result JSON: PATH = file.json:key.key.index
                         (relative to experiments/results; a file under benchmarks/results
                         is named from the repository root), formatted with 2 decimals;
                         suffix |pct turns a fraction into a percentage, |int prints an integer,
                         |pct3 / |f3 give 3 decimals.

    python -m experiments.make_report [--replot]     (--replot: redraw every curves.png)
"""
import json
import os
import re

from experiments.common import RESULTS

HERE = os.path.dirname(os.path.abspath(__file__))
TARGETS = {"ann": 98.5, "cnn": 99.5, "vgg16": 99.6, "ensemble": 99.7}


def _path(rel):
    """A result file: relative to experiments/results, or to the repository root for the speed
    measurements under benchmarks/results."""
    if rel.startswith("benchmarks/"):
        return os.path.join(os.path.dirname(HERE), rel)
    return os.path.join(RESULTS, rel)


def _load(rel):
    with open(_path(rel)) as fh:
        return json.load(fh)


def _exists(rel):
    return os.path.isfile(_path(rel))


def _md(header, rows):
    if not rows:
        return "_(not run yet)_"
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def table_seed():
    rows, done = [], set()
    if _exists("seed_protocol/summary.json"):
        for r in _load("seed_protocol/summary.json")["rows"]:
            done.add(r["model"].split()[0])
            rows.append([r["model"], f"{r['params']:,}",
                         f"{r['train_acc']:.2f} / {r['study_train']:.2f}",
                         f"{r['val_acc']:.2f} / {r['study_val']:.2f}",
                         f"{r['test_acc']:.2f} / {r['study_test']:.2f}",
                         f"{r['seconds_per_epoch']:.0f}"])
    from experiments.common import STUDY_ACCURACY as STUDY
    for name in ("ann", "cnn", "vgg16"):        # runs the shared CPU did not let finish
        if name in done or not _exists(f"seed_protocol/{name}/history.json"):
            continue
        h = _load(f"seed_protocol/{name}/history.json")
        k = len(h["loss"])
        rows.append([f"{name} (**unfinished: {k} of 5 epochs**)", "",
                     f"{100 * h['acc'][-1]:.2f} / {STUDY[name]['train']:.2f}",
                     f"{100 * h['val_acc'][-1]:.2f} / {STUDY[name]['val']:.2f}",
                     f"not tested / {STUDY[name]['test']:.2f}",
                     f"{sum(h['seconds']) / k:.0f}"])
    return _md(["model", "params", "train % (nnlite / study)", "val % (nnlite / study)",
                "test % (nnlite / study)", "wall s/epoch*"], rows)


def table_tuned():
    rows = []
    for name in ("ann", "cnn", "vgg16"):
        rel = f"tuned/{name}_choice.json"
        if not _exists(rel):
            rows.append([name, "_(not finished)_", "", "", "", "", ""])
            continue
        c = _load(rel)
        cfg = c["config"]
        r = _load(f"tuned/{c['chosen']}/result.json")
        recipe = (f"Adam {cfg['lr']:g} {cfg['schedule']}, {cfg['epochs']} ep, batch "
                  f"{cfg['batch_size']}, {cfg['preprocess']}, aug {cfg['augment']}"
                  + (f", dropout {cfg['dropout']}" if cfg.get("dropout") is not None else ""))
        rows.append([name, c["chosen"], recipe, f"{100 * r['train_acc']:.2f}",
                     f"{100 * r['val_acc']:.2f}", f"{100 * r['test_acc']:.2f}",
                     f"{r['seconds_per_epoch']:.0f}"])
    return _md(["model", "run", "recipe", "train %", "val %", "test %", "wall s/epoch*"], rows)


def _sweep(model, label):
    if not _exists(f"tuned/{model}_choice.json"):
        return _md([], [])
    c = _load(f"tuned/{model}_choice.json")
    rows = [[r["name"] + (" **(chosen)**" if r["name"] == c["chosen"] else ""),
             r["epochs_run"], f"{100 * r['val_acc']:.2f}", f"{100 * r['test_acc']:.2f}"]
            for r in c["candidates"]]
    return _md([label, "epochs", "val % (used to choose)", "test % (reported only)"], rows)


def table_ann_sweep():
    return _sweep("ann", "ANN candidate")


def table_cnn_sweep():
    return _sweep("cnn", "CNN candidate")


def table_per_class():
    """Per-class precision / recall / F1 of the tuned CNN (and the seed-protocol ANN)."""
    cols, header = [], ["class"]
    if _exists("tuned/cnn_choice.json"):
        chosen = _load("tuned/cnn_choice.json")["chosen"]
        cols.append(_load(f"tuned/{chosen}/eval/metrics.json")["per_class"])
        header += ["tuned CNN P / R / F1 %"]
    if _exists("seed_protocol/ann/eval/metrics.json"):
        cols.append(_load("seed_protocol/ann/eval/metrics.json")["per_class"])
        header += ["seed-protocol ANN P / R / F1 %"]
    if not cols:
        return _md([], [])
    rows = [[k] + [f"{100 * c[k]['precision']:.2f} / {100 * c[k]['recall']:.2f} / "
                   f"{100 * c[k]['f1-score']:.2f}" for c in cols] for k in cols[0]]
    return _md(header, rows)


def table_preprocessing():
    if not _exists("preprocessing/summary.json"):
        return _md([], [])
    s = _load("preprocessing/summary.json")
    rows = []
    for model, conds in s["models"].items():
        for cond, e in conds.items():
            d = e.get("diff_vs_baseline")
            ci = d.get("ci95") if d else None
            p = d.get("paired_t_p") if d else None
            mc = e.get("mcnemar", [])
            label = {"ann": "ANN", "cnn": "CNN (stale BN stats)",
                     "cnn-bnrecal": "CNN (BN re-estimated)"}.get(model, model)
            rows.append([label, cond, len(e["seeds"]),
                         f"{e['mean']:.2f} ± {e['std']:.2f}",
                         f"{d['mean']:+.2f}" if d else ("(baseline)" if cond == "/255" else "n/a"),
                         f"[{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else "",
                         f"{p:.3f}" if p is not None else "",
                         ", ".join(_p(m["p"]) for m in mc)])
    return _md(["model", "preprocessing", "seeds", "test error % (mean ± std)",
                "Δ error vs /255 (points)", "95 % CI of Δ", "paired t p",
                "McNemar p per seed"], rows)


def _p(p):
    return "<1e-15" if p < 1e-15 else f"{p:.2g}"


def table_ensemble():
    if not _exists("ensemble/summary.json"):
        return _md([], [])
    rows = [[r["models"], f"{r['val_acc']:.2f}", f"{r['test_acc']:.2f}", r["test_errors"]]
            for r in _load("ensemble/summary.json")["rows"]]
    return _md(["models (mean of probabilities)", "val %", "test %", "test errors"], rows)


def table_fashion():
    path = os.path.join(RESULTS, "fashion", "summary.csv")
    if not os.path.isfile(path):
        return _md([], [])
    import csv
    with open(path) as fh:
        data = list(csv.DictReader(fh))
    rows = [[r["model"],
             r["recipe"] + (" (chosen on MNIST)" if r["chosen_on_mnist"] == "True" else ""),
             f"{r['epochs']} (recipe: {r['tuned_recipe_epochs']})", r["val_acc"],
             r["test_acc"], r["seconds_per_epoch"]] for r in data]
    return _md(["model", "recipe", "epochs run", "val %", "test %", "wall s/epoch*"], rows)


def table_cost():
    rows = []
    if _exists("benchmarks/results/augment_overhead.json"):
        o = _load("benchmarks/results/augment_overhead.json")
        for name, r in o["models"].items():
            rows.append([name, f"{r['train_step_ms']:.1f}",
                         f"{r['train_step_ms'] * 1.5:.0f}",
                         f"{r['overhead_pct_affine']:.1f}", f"{r['overhead_pct_elastic']:.1f}",
                         f"{r['overhead_pct_affine+elastic']:.1f}"])
    if _exists("seed_protocol/vgg16_full_timing.json"):
        t = _load("seed_protocol/vgg16_full_timing.json")
        rows.append(["vgg16 width 1.0 (14.9 M params)", f"{1e3 * t['median_cpu_s_per_step']:.0f}",
                     f"{t['extrapolated_cpu_s_per_epoch']:.0f}", "", "", ""])
    return _md(["model", "CPU ms per step (batch 32, 1 thread)",
                "CPU s per 48k-image epoch (= ms × 1.5)", "affine aug. extra %",
                "elastic aug. extra %", "affine+elastic extra %"], rows)


def table_targets():
    rows = []
    for name in ("ann", "cnn", "vgg16"):
        if _exists(f"tuned/{name}_choice.json"):
            acc = 100 * _load(f"tuned/{name}_choice.json")["test_acc"]
            rows.append([name, TARGETS[name], f"{acc:.2f}", _verdict(acc, TARGETS[name])])
    if not _exists("tuned/vgg16_choice.json"):
        rows.append(["vgg16", TARGETS["vgg16"], "unfinished", "not measured (run unfinished)"])
    if not _exists("ensemble/summary.json"):
        rows.append(["ensemble", TARGETS["ensemble"], "not run", "not measured (needs the VGG16)"])
    if _exists("ensemble/summary.json"):
        acc = [r for r in _load("ensemble/summary.json")["rows"]
               if r["models"] == "ann+cnn+vgg16"][0]["test_acc"]
        rows.append(["ensemble", TARGETS["ensemble"], f"{acc:.2f}",
                     _verdict(acc, TARGETS["ensemble"])])
    return _md(["model", "target test %", "nnlite test %", "verdict"], rows)


def table_vgg_status():
    """One sentence on the tuned VGG16 run: final numbers, or how far it got."""
    run = "tuned/vgg16-affine-cosine-5ep"
    if _exists(f"{run}/result.json"):
        r = _load(f"{run}/result.json")
        return (f"It reaches {100 * r['val_acc']:.2f} % validation and **{100 * r['test_acc']:.2f} %** "
                "test accuracy.")
    if _exists(f"{run}/history.json"):
        h = _load(f"{run}/history.json")
        return (f"**Unfinished when this report was generated**: {len(h['loss'])} of 5 epochs done, "
                f"validation accuracy {100 * h['val_acc'][-1]:.2f} % after the last one (the run "
                "continues in the background; see the final note).")
    return "_(not started)_"


def table_unfinished():
    """Runs with a training history but no result.json when the report was generated."""
    rows = []
    for folder, _, files in sorted(os.walk(RESULTS)):
        if "run.json" in files and "result.json" not in files and "history.json" in files:
            h = _load(os.path.relpath(os.path.join(folder, "history.json"), RESULTS))
            with open(os.path.join(folder, "run.json")) as fh:
                cfg = json.load(fh)["config"]
            rows.append([os.path.relpath(folder, RESULTS), f"{len(h['loss'])} / {cfg['epochs']}",
                         f"{100 * h['val_acc'][-1]:.2f}" if h.get("val_acc") else ""])
    if not rows:
        return "None: every run had finished."
    return _md(["run", "epochs done / planned", "last val %"], rows)


def _verdict(acc, target):
    return "met" if acc >= target else f"missed by {target - acc:.2f} points"


TABLES = {"seed": table_seed, "tuned": table_tuned, "ann_sweep": table_ann_sweep,
          "cnn_sweep": table_cnn_sweep, "per_class": table_per_class,
          "vgg_status": table_vgg_status, "unfinished": table_unfinished,
          "preprocessing": table_preprocessing, "ensemble": table_ensemble,
          "fashion": table_fashion, "cost": table_cost, "targets": table_targets}


def _value(spec):
    path, _, fmt = spec.partition("|")
    rel, _, keys = path.partition(":")
    if not _exists(rel):
        return "_(pending)_"
    v = _load(rel)
    parts = keys.split(".")
    while parts:                   # keys may contain dots ("affine aug."): join greedily
        k = parts.pop(0)
        while isinstance(v, dict) and k not in v and parts:
            k += "." + parts.pop(0)
        v = v[int(k)] if isinstance(v, list) else v[k]
    if fmt == "pct":
        return f"{100 * v:.2f}"
    if fmt == "pct3":
        return f"{100 * v:.3f}"
    if fmt == "int":
        return f"{int(round(v)):,}"
    if fmt == "f3":
        return f"{v:.3f}"
    if fmt == "f1":
        return f"{v:.1f}"
    if fmt == "str":
        return str(v)
    return f"{v:.2f}"


def replot_curves():
    """Redraw every run's curves.png from its history.json (after plot changes)."""
    from nnlite.plots import plot_history
    from nnlite.recipe import Recipe, title
    for folder, _, files in os.walk(RESULTS):
        if "history.json" in files and "run.json" in files:
            with open(os.path.join(folder, "history.json")) as fh:
                history = json.load(fh)
            with open(os.path.join(folder, "run.json")) as fh:
                config = json.load(fh)["config"]
            if history.get("loss"):
                plot_history(history, os.path.join(folder, "curves.png"),
                             title(Recipe.from_dict(config)))


def main():
    import sys
    if "--replot" in sys.argv:
        replot_curves()
    with open(os.path.join(HERE, "report_template.md")) as fh:
        text = fh.read()
    text = re.sub(r"\{\{table:(\w+)\}\}", lambda m: TABLES[m.group(1)](), text)
    text = re.sub(r"\{\{value_str:([^}]+)\}\}", lambda m: _value(m.group(1) + "|str"), text)
    text = re.sub(r"\{\{value:([^}]+)\}\}", lambda m: _value(m.group(1)), text)
    with open(os.path.join(RESULTS, "REPORT.md"), "w") as fh:
        fh.write(text)
    print(f"wrote {RESULTS}/REPORT.md")


if __name__ == "__main__":
    main()
