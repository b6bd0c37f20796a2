"""Experiment 1: the study's protocol with nnlite: Adam lr 1e-4, batch 32, 5 epochs,
48,000 train / 12,000 validation (last 20 %) / 10,000 test, pixels / 255, seeds 0, 1, 2.
VGG16 at width 0.25 (the "reduced" VGG16); width 1.0 is timed on a few steps and extrapolated.
The Keras runs of the same recipes and seeds are made by ``experiments/parity_study.py``.

    python -m experiments.seed_protocol [--models ann cnn vgg16] [--seeds 0 1 2]
                                        [--time-full-steps 10]

Writes experiments/results/seed_protocol/: <model>-s<seed>/ (history, curves, result.json,
eval/ confusion.png, mistakes.png, metrics.json), summary.json, summary.csv (mean ± std over
the seeds beside the original study's numbers and Keras'), vgg16_full_timing.json.
"""
import argparse
import time

import numpy as np

from experiments import parity_study
from experiments.common import RESULTS, STUDY_ACCURACY, finished_result, machine
from experiments.jobs import StepJob, TrainJob, shrink
from nnlite.files import write_csv, write_json
from nnlite.recipe import STUDY

MODELS = ("ann", "cnn", "vgg16")
SEEDS = (0, 1, 2)
FULL_STEPS = 10


def recipe_for(model, seed):
    return STUDY.replace(model=model, seed=seed)


def run_name(model, seed):
    return f"{model}-s{seed}"


def jobs(models=MODELS, seeds=SEEDS):
    """One TrainJob per (model, seed), model-major."""
    return [TrainJob("seed_protocol", run_name(m, s), recipe_for(m, s), plots=True)
            for m in models for s in seeds]


def step_jobs():
    """The summary table and the width-1.0 VGG16 timing."""
    return [StepJob("seed_protocol/summary", _summary_inputs, lambda _: summarise(),
                    "seed_protocol/summary.json"),
            StepJob("seed_protocol/vgg16-full-timing", lambda: {"steps": FULL_STEPS},
                    lambda inputs: time_full_vgg(inputs["steps"]),
                    "seed_protocol/vgg16_full_timing.json", estimate_seconds=60)]


def time_full_vgg(steps):
    """Seconds per training step of VGG16 width 1.0 at batch 32 (median of ``steps``), written
    to seed_protocol/vgg16_full_timing.json."""
    from nnlite import optimizers, zoo
    rng = np.random.default_rng(0)
    model = zoo.vgg16(width=1.0, seed=0)
    model.compile(optimizers.Adam(1e-4))
    x = rng.random((32, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 32)
    model.train_step(x, y)                        # compile kernels / warm up
    wall, cpu = [], []
    for _ in range(steps):
        t, c = time.perf_counter(), time.process_time()
        model.train_step(x, y)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    per_epoch = 48000 / 32
    timing = {"params": model.count_params(), "steps_timed": steps, "batch_size": 32,
              "median_wall_s_per_step": float(np.median(wall)),
              "median_cpu_s_per_step": float(np.median(cpu)),
              "extrapolated_wall_s_per_epoch": float(np.median(wall) * per_epoch),
              "extrapolated_cpu_s_per_epoch": float(np.median(cpu) * per_epoch),
              "machine": machine()}
    write_json(f"{RESULTS}/seed_protocol/vgg16_full_timing.json", timing)
    return timing


def _finished(model):
    return {s: r for s in SEEDS
            if (r := finished_result("seed_protocol", run_name(model, s),
                                     shrink(recipe_for(model, s)))) is not None}


def _summary_inputs():
    nn = [[run_name(m, s), r["test_acc"]] for m in MODELS for s, r in _finished(m).items()]
    keras = [[r["model"], r["seed"], r["test_accuracy"]] for r in _keras_records()]
    return {"nnlite": nn, "keras": keras}


def _keras_records():
    return parity_study.study_keras_records(
        "seed", {(m, s): shrink(recipe_for(m, s)) for m in MODELS for s in SEEDS})


def _mean_std(values, scale=100.0):
    v = scale * np.asarray(values, dtype=float)
    if not len(v):
        return None, None
    return round(float(v.mean()), 2), round(float(v.std(ddof=1)), 2) if len(v) > 1 else None


def summarise():
    """Mean ± std over the finished seeds of nnlite and Keras, beside the study's numbers."""
    rows = []
    keras = _keras_records()
    for model in MODELS:
        runs = list(_finished(model).values())
        kr = [r for r in keras if r["model"] == model]
        if not runs and not kr:
            continue
        row = {"model": model + (" (width 0.25)" if model == "vgg16" else ""),
               "params": runs[0]["params"] if runs else None,
               "nnlite_seeds": [r["config"]["seed"] for r in runs],
               "keras_seeds": [r["seed"] for r in kr]}
        for split in ("train", "val", "test"):
            row[f"{split}_mean"], row[f"{split}_std"] = _mean_std([r[f"{split}_acc"]
                                                                  for r in runs])
            row[f"study_{split}"] = STUDY_ACCURACY[model][split]
        row["keras_test_mean"], row["keras_test_std"] = _mean_std([r["test_accuracy"]
                                                                   for r in kr])
        for engine, recs in (("nnlite", [r.get("timing", {}) for r in runs]),
                             ("keras", [r.get("timing", {}) for r in kr])):
            for kind in ("wall", "cpu"):
                vals = [t[f"{kind}_s_per_epoch"] for t in recs if f"{kind}_s_per_epoch" in t]
                row[f"{engine}_{kind}_s_per_epoch"] = (round(float(np.median(vals)), 1)
                                                       if vals else None)
        rows.append(row)
    if rows:
        write_csv(f"{RESULTS}/seed_protocol/summary.csv", rows)
    write_json(f"{RESULTS}/seed_protocol/summary.json", {"machine": machine(), "rows": rows})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="*", default=list(MODELS))
    ap.add_argument("--seeds", nargs="*", type=int, default=list(SEEDS))
    ap.add_argument("--time-full-steps", type=int, default=FULL_STEPS,
                    help="time this many VGG16 width-1.0 steps (0: skip)")
    args = ap.parse_args()
    for job in jobs(args.models, args.seeds):
        job.run()
        summarise()
    if args.time_full_steps:
        print(time_full_vgg(args.time_full_steps))


if __name__ == "__main__":
    main()
