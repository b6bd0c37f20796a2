"""The study driver (``python -m experiments``): it lists the whole plan, a dry run prints it
without running anything, and one shrunk job (NNLITE_STUDY_SMOKE=1: 600 images, 1 epoch)
runs in seconds, records machine, load and times, and is skipped when run again.

Every command runs in a fresh process with its results and weights in a temporary folder
(NNLITE_RESULTS, NNLITE_RUNS), so the committed results are never read or written."""
import json
import os
import signal
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SMOKE_JOB = "seed_protocol/ann-s0"


@pytest.fixture
def study(tmp_path):
    """Run ``python -m experiments ARGS`` on an empty results folder -> CompletedProcess."""
    env = dict(os.environ, NNLITE_STUDY_SMOKE="1", NNLITE_RESULTS=str(tmp_path / "results"),
               NNLITE_RUNS=str(tmp_path / "runs"), MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))

    def run(*args, timeout=120):
        proc = subprocess.run([sys.executable, "-m", "experiments", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=timeout)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
        return proc
    run.results = tmp_path / "results"
    return run


def test_list_prints_every_part_of_the_study(study):
    out = study("list").stdout
    for job in ("seed_protocol/ann-s0", "seed_protocol/vgg16-s2", "parity/seed/keras-cnn-s1",
                "preprocessing/cnn-deskew-s2", "preprocessing/analysis",
                "tuned/vgg16_bn-affine-20ep", "tuned/cnn-choice", "tuned/cnn-chosen-s2",
                "tuned/vgg16-install", "ensemble/of-record", "parity/tuned/keras-vgg16_bn-s0",
                "fashion/cnn-affine-20ep"):
        assert job in out
    assert "waiting" in out and "to do" in out        # the tuned seeds wait for the choice
    assert "Estimated time left" in out


def test_the_plan_is_paired_and_the_ensemble_is_fixed_in_advance(study):
    code = """
import json
from experiments import ensemble, plan, preprocessing, seed_protocol
jobs = plan.study_jobs()
recipes = {j.id: j.recipe().to_dict() for j in jobs if hasattr(j, "experiment") and j.recipe()}
print(json.dumps({"ids": [j.id for j in jobs], "recipes": recipes,
                  "of_record": list(ensemble.OF_RECORD)}))
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, env=dict(os.environ, NNLITE_RESULTS=str(study.results)))
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    assert len(data["ids"]) == len(set(data["ids"]))                 # ids are unique
    recipes = data["recipes"]
    for model in ("ann", "cnn", "vgg16"):                             # 3 seeds, study protocol
        seeds = [recipes[f"seed_protocol/{model}-s{s}"] for s in (0, 1, 2)]
        assert [r["seed"] for r in seeds] == [0, 1, 2]
        assert all(r["lr"] == 1e-4 and r["epochs"] == 5 and r["batch_size"] == 32
                   and r["preprocess"] == "scale" and r["limit"] is None for r in seeds)
    for model in ("ann", "cnn"):                                      # full protocol, paired
        for seed in (0, 1, 2):
            conds = [r for k, r in recipes.items()
                     if k.startswith(f"preprocessing/{model}-") and k.endswith(f"-s{seed}")]
            assert len(conds) == 6
            assert {(r["epochs"], r["lr"], r["limit"], r["seed"]) for r in conds} == {
                (5, 1e-4, None, seed)}
    assert data["of_record"] == ["cnn", "vgg16", "vgg16_bn"]
    assert all(recipes[k]["dataset"] == "fashion-mnist" for k in recipes if k.startswith("fash"))


def test_dry_run_prints_the_plan_and_runs_nothing(study):
    proc = study("run", "--dry-run", "--only", "seed_protocol/*")
    assert SMOKE_JOB in proc.stdout and "seed_protocol/summary" in proc.stdout
    assert not (study.results / "seed_protocol").exists()


def test_one_smoke_job_runs_records_its_machine_and_times_and_is_then_skipped(study):
    study("run", "--only", SMOKE_JOB)
    path = study.results / SMOKE_JOB / "result.json"
    result = json.loads(path.read_text())
    assert result["config"]["limit"] == 600 and result["epochs_run"] == 1
    assert result["machine"]["cpu"] and result["machine"]["cores"] >= 1
    timing = result["timing"]
    for key in ("wall_s", "cpu_s", "train_wall_s", "train_cpu_s", "wall_s_per_epoch",
                "cpu_s_per_epoch"):
        assert timing[key] > 0, key
    assert len(timing["load_average_1_5_15min_start"]) == 3
    assert len(timing["load_average_1_5_15min_end"]) == 3
    log = json.loads((study.results / "study_log.json").read_text())
    entry = log["jobs"][-1]
    assert entry["job"] == SMOKE_JOB and entry["exit_code"] == 0
    assert entry["wall_s"] > 0 and entry["cpu_s"] > 0
    assert log["launches"][-1]["machine"]["cores"] >= 1
    mtime = path.stat().st_mtime_ns
    again = study("run", "--only", SMOKE_JOB)
    assert "nothing to run" in again.stdout
    assert path.stat().st_mtime_ns == mtime
    assert "done" in study("list", "--only", SMOKE_JOB).stdout


def test_a_driver_started_in_the_background_can_still_be_interrupted(tmp_path):
    """A shell starts `nohup python -m experiments run &` with SIGINT ignored; the driver puts
    Python's handler back, so `kill -INT` pauses it (and its job) as Ctrl+C would."""
    env = dict(os.environ, NNLITE_STUDY_SMOKE="1", NNLITE_RESULTS=str(tmp_path / "results"),
               NNLITE_RUNS=str(tmp_path / "runs"), MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    code = ("import signal\n"
            "from experiments.__main__ import main\n"
            "print('before:', signal.getsignal(signal.SIGINT) is signal.SIG_IGN)\n"
            "main(['list'])\n"
            "print('after:', signal.getsignal(signal.SIGINT) is signal.default_int_handler)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "before: True" in proc.stdout and "after: True" in proc.stdout, proc.stdout[-500:]
