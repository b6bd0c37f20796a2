"""The study's reports, generated before the study has finished, show only finished jobs:
no table reads a result file an earlier protocol left on disk, and both say what is missing."""
import json
import os
import subprocess
import sys

import pytest

from experiments import parity_report, report_tables

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def states(monkeypatch):
    """Stand-in job states for report_tables (instead of the plan's files on disk)."""
    def set_states(mapping):
        monkeypatch.setattr(report_tables._states, "cache", mapping, raising=False)
    return set_states


def test_a_summary_left_by_an_earlier_protocol_is_not_reported(tmp_path, monkeypatch, states):
    (tmp_path / "preprocessing").mkdir()
    (tmp_path / "preprocessing" / "summary.json").write_text(json.dumps({"models": {"cnn": {
        "/255": {"seeds": [0, 1, 2], "mean": 88.65, "std": 0.0}}}}))
    monkeypatch.setattr(report_tables, "RESULTS", str(tmp_path))
    states({"preprocessing/cnn-raw-s0": ("redo", "its result.json is of another recipe"),
            "preprocessing/analysis": ("to do", "")})
    assert report_tables.table_preprocessing() == "_(not run yet)_"
    assert "88.65" not in report_tables.table_preprocessing()
    states({"preprocessing/analysis": ("done", "")})
    table = report_tables.table_preprocessing()
    assert "88.65 ± 0.00" in table and "preprocessing_error.png" in table


def test_status_and_unfinished_jobs(states):
    states({"a/one": ("done", ""), "a/two": ("partial", "18/30 epochs"),
            "b/three": ("waiting", "needs a/two")})
    assert "1 of 3 jobs" in report_tables.table_status()
    unfinished = report_tables.table_unfinished()
    assert "| a/two | partial (18/30 epochs) |" in unfinished
    assert "| b/three | waiting (needs a/two) |" in unfinished and "a/one" not in unfinished
    states({"a/one": ("done", "")})
    assert "complete" in report_tables.table_status()
    assert report_tables.table_unfinished().startswith("None")


def _run(engine, seed, acc, timed, protocol="tuned", model="vgg16"):
    record = {"engine": engine, "model": model, "seed": seed, "protocol_name": protocol,
              "test_accuracy": acc, "recipe": {"epochs": 30 if timed else 5, "seed": seed}}
    if timed:
        record["timing"] = {"wall_s_per_epoch": 60.0}
    return record


def test_parity_keeps_only_the_study_runs_once_it_has_any(tmp_path):
    """An earlier protocol's tuned VGG16 runs (untimed) must not stand in for the study's
    while the study has not run them; agreement checks count only for their own nnlite run."""
    old = {"runs": [_run("nnlite", 0, 0.9938, False), _run("keras", 0, 0.9929, False),
                    _run("nnlite", 0, 0.97, False, "seed", "cnn")],
           "agreement": [{"model": "cnn", "seed": 0, "protocol_name": "seed", "n": 10000}]}
    new = {"runs": [_run("keras", 0, 0.9801, True, "seed", "cnn")],
           "agreement": [{"model": "cnn", "seed": 0, "protocol_name": "seed", "n": 10000,
                          "nnlite_test_accuracy": 0.9807, "keras_test_accuracy": 0.9801}]}
    paths = []
    for name, content in (("new.json", new), ("old.json", old)):   # the old one read last
        (tmp_path / name).write_text(json.dumps(content))
        paths.append(str(tmp_path / name))
    study_nnlite = [_run("nnlite", 0, 0.9807, True, "seed", "cnn")]
    data = parity_report.load_runs(paths, extra_runs=study_nnlite)
    assert sorted((r["engine"], r["model"]) for r in data["runs"]) == [
        ("keras", "cnn"), ("nnlite", "cnn")]
    assert [a.get("nnlite_test_accuracy") for a in data["agreement"]] == [0.9807]
    earlier_only = parity_report.load_runs(paths[1:])         # no study run: kept as they are
    assert len(earlier_only["runs"]) == 3 and len(earlier_only["agreement"]) == 1


def test_fashion_summary_puts_each_recipe_beside_its_mnist_result(tmp_path, monkeypatch,
                                                                 states):
    """fashion.summarise reads the Fashion-MNIST run and the same recipe's MNIST run, writes
    the table's rows and the figure; the report table shows both accuracies."""
    code = """
import json, os
from experiments import fashion, tuned
from experiments.common import RESULTS
name = "cnn-affine-20ep"
cfg = tuned.CANDIDATES["cnn"][name]
for experiment, recipe, acc in (("tuned", cfg, 0.9951),
                                ("fashion", cfg.replace(dataset="fashion-mnist"), 0.9310)):
    os.makedirs(f"{RESULTS}/{experiment}/{name}")
    with open(f"{RESULTS}/{experiment}/{name}/result.json", "w") as fh:
        json.dump({"config": recipe.to_dict(), "test_acc": acc, "val_acc": acc,
                   "epochs_run": recipe.epochs, "seconds_per_epoch": 50.0,
                   "timing": {"cpu_s_per_epoch": 80.0}}, fh)
print(json.dumps(fashion.summarise()))
"""
    env = dict(os.environ, NNLITE_RESULTS=str(tmp_path), MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [row] = json.loads(proc.stdout.splitlines()[-1])
    assert (row["recipe"], row["test_acc"], row["mnist_test_acc"]) == (
        "cnn-affine-20ep", 93.1, 99.51)
    assert (tmp_path / "fashion" / "fashion_vs_mnist.png").stat().st_size > 1000
    monkeypatch.setattr(report_tables, "RESULTS", str(tmp_path))
    states({"fashion/summary": ("done", "")})
    table = report_tables.table_fashion()
    assert "| CNN | cnn-affine-20ep | 20 | 93.10 | 93.10 | 99.51 |" in table   # two decimals
    assert "fashion/fashion_vs_mnist.png" in table
