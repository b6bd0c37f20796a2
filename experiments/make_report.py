"""Render experiments/results/REPORT.md from experiments/report_template.md and the result
files under experiments/results/ (no number in the report is typed by hand).

Placeholders in the template:
    {{table:NAME}}       a Markdown table (NAME in ``experiments.report_tables.TABLES``)
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
from experiments.report_tables import TABLES

HERE = os.path.dirname(os.path.abspath(__file__))


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


def main(argv=None):
    import sys
    if "--replot" in (sys.argv[1:] if argv is None else argv):
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
