"""The committed model files score what the study reports for them.

The study's install step (``experiments/tuned.py``, ``install``) runs ``nnlite evaluate
models/<name>.npz`` and writes the accuracy it printed into
``experiments/results/tuned/<name>_record.json``; here the same command runs again on the
committed file and must print the same accuracy (inference is deterministic)."""
import json
import os

import pytest

from nnlite.cli import main as cli
from nnlite.zoo import ZOO

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RECORDS = os.path.join(ROOT, "experiments", "results", "tuned")
MODELS = tuple(ZOO)


def _record(name):
    path = os.path.join(RECORDS, f"{name}_record.json")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as fh:
        record = json.load(fh)
    return record if record.get("model_file_test_acc") is not None else None


@pytest.mark.parametrize("name", MODELS)
def test_nnlite_evaluate_reproduces_the_recorded_test_accuracy(name, mnist, tmp_path):
    record = _record(name)
    if record is None:
        pytest.skip(f"the study has not installed a tuned {name} yet "
                    f"(experiments/results/tuned/{name}_record.json)")
    model_file = os.path.join(ROOT, record["model_file"])
    assert cli(["evaluate", model_file, "--out", str(tmp_path), "--gallery", "0"]) == 0
    with open(tmp_path / "metrics.json", encoding="utf-8") as fh:
        metrics = json.load(fh)
    assert metrics["n"] == 10_000
    assert metrics["accuracy"] == record["model_file_test_acc"]
