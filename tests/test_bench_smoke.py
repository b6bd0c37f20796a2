"""Smoke test of the benchmark harness (`python -m benchmarks --quick`): it runs end to end, both
engines, and every number it reports is positive and finite. No timing thresholds: machines
are noisy; the targets live in benchmarks/results/REPORT.md."""
import json
import math
import os
import subprocess
import sys

import pytest

from benchmarks.engines import keras_available

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
    for path, value in _numbers(quick_result):
        assert math.isfinite(value), path
    for m in quick_result["models"]:
        _check_engine(m, "nnlite")
        assert len(m["engines"]["nnlite"]["train"]["32"]["samples_per_s"]["runs"]) == 2


def test_quick_bench_times_keras_in_the_same_run(quick_result):
    ok, reason = keras_available()
    if not ok:
        pytest.skip(f"Keras half not run: {reason}")
    assert quick_result["engines"] == ["nnlite", "keras"]
    for m in quick_result["models"]:
        _check_engine(m, "keras")
        ratio = m["ratio_nnlite_over_keras"]
        assert ratio["train"]["32"] > 0 and math.isfinite(ratio["train"]["32"])
        assert ratio["latency"] > 0


def test_profile_lists_every_layer_with_times():
    from benchmarks.profile import profile_model
    import nnlite.zoo
    prof = profile_model("cnn", 8, repeats=2)
    names = [layer.name for layer in nnlite.zoo.build("cnn").layers]
    assert [r["layer"] for r in prof["layers"]] == names
    for r in prof["layers"]:
        assert r["fwd_ms"] > 0 and r["bwd_ms"] > 0
        if r["kind"] in ("Conv2D", "Dense"):
            assert r["fwd_gflops"] > 0 and r["bwd_gflops"] > 0
