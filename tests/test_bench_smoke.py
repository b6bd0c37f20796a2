"""Smoke test of the benchmark harness (`python -m benchmarks --quick`): it runs end to end, nnlite
and every installed peer (Keras, PyTorch; a peer that is not installed is skipped and the result
says why), and every number it reports is positive and finite. No timing thresholds: machines
are noisy; the targets live in benchmarks/results/REPORT.md."""
import json
import math
import os
import subprocess
import sys

import pytest

from benchmarks import harness
from benchmarks.engines import keras_available, torch_available
from benchmarks.tables import markdown

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _numbers(obj, path=""):
    """Every (path, number) in a nested dict/list."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _numbers(v, f"{path}/{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _numbers(v, f"{path}[{i}]")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, obj


@pytest.fixture(scope="module")
def quick_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "quick.json"
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--json",
                           "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    printed = json.loads(proc.stdout)
    with open(out) as f:
        assert json.load(f) == printed          # --json prints what it writes
    assert os.path.exists(str(out)[:-5] + ".md")
    return printed


def _check_engine(res, name):
    eng = res["engines"][name]
    for b, r in eng["train"].items():
        for k in ("median", "min", "max"):
            assert r["samples_per_s"][k] > 0 and math.isfinite(r["samples_per_s"][k])
        assert r["samples"] >= 2 * int(b)
    for r in eng["predict"].values():
        assert r["samples_per_s"]["median"] > 0
    assert 0 < eng["latency_ms"]["median"] < math.inf
    assert eng["peak_rss_mb"] > 0
    assert eng["setup"]["build_s"] >= 0


def test_quick_bench_reports_positive_finite_numbers(quick_result):
    assert quick_result["kind"] == "quick"
    assert [m["model"] for m in quick_result["models"]] == ["cnn"]
    assert quick_result["sgemm_peak_gflops"]["threads_1"] > 0
    assert quick_result["sgemm_peak_gflops"]["threads_2"] > 0
    assert quick_result["copy_bandwidth_gbs"]["threads_1"] > 0
    assert quick_result["copy_bandwidth_gbs"]["threads_2"] > 0
    for path, value in _numbers(quick_result):
        assert math.isfinite(value), path
    for m in quick_result["models"]:
        _check_engine(m, "nnlite")
        assert len(m["engines"]["nnlite"]["train"]["32"]["samples_per_s"]["runs"]) == 2


def test_quick_bench_times_keras_in_the_same_run(quick_result):
    ok, reason = keras_available()
    if not ok:
        pytest.skip(f"Keras half not run: {reason}")
    assert quick_result["engines"][:2] == ["nnlite", "keras"]
    for m in quick_result["models"]:
        _check_engine(m, "keras")
        ratio = m["ratio_nnlite_over_keras"]
        assert ratio["train"]["32"] > 0 and math.isfinite(ratio["train"]["32"])
        assert ratio["latency"] > 0


def test_quick_bench_times_pytorch_in_the_same_run(quick_result):
    ok, reason = torch_available()
    if not ok:
        assert quick_result["skipped"]["torch"] == reason
        pytest.skip(f"PyTorch half not run: {reason}")
    assert "torch" in quick_result["engines"]
    for m in quick_result["models"]:
        _check_engine(m, "torch")
        ratio = m["ratio_nnlite_over_torch"]
        assert ratio["train"]["32"] > 0 and math.isfinite(ratio["train"]["32"])
        assert ratio["latency"] > 0


def test_a_peer_that_is_not_installed_is_skipped_and_named(monkeypatch, quick_result):
    monkeypatch.setattr(harness, "peer_available",
                        lambda peer: (False, f"{peer} is not installed (test)"))
    engines, skipped = harness.available_engines()
    assert engines == ["nnlite"]
    assert skipped == {"keras": "keras is not installed (test)",
                       "torch": "torch is not installed (test)"}
    only_nnlite = {**quick_result, "engines": engines, "skipped": skipped}
    text = markdown(only_nnlite)
    assert "Not run: Keras (keras is not installed (test))" in text
    assert "Not run: PyTorch" in text and "nnlite/Keras" not in text


@pytest.mark.parametrize("fuse", [False, True])
def test_profile_lists_every_layer_with_times(fuse):
    from benchmarks.profile import profile_model
    import nnlite.zoo
    prof = profile_model("cnn", 8, repeats=2, fuse=fuse)
    names = [layer.name for layer in nnlite.zoo.build("cnn").layers]
    assert "+".join(r["layer"] for r in prof["layers"]) == "+".join(names)
    assert len(prof["layers"]) == (len(names) if not fuse else len(names) - 9)
    for r in prof["layers"]:
        assert r["fwd_ms"] > 0 and r["bwd_ms"] > 0
        if "Conv2D" in r["kind"] or "Dense" in r["kind"]:
            assert r["fwd_gflops"] > 0 and r["bwd_gflops"] > 0
        if r["kind"] in ("BatchNormalization", "ReLU", "MaxPool2D"):
            assert r["fwd_gbs"] > 0 and r["bwd_gbs"] > 0
