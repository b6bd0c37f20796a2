"""Experiment 1: the study's protocol with nnlite: Adam lr 1e-4, batch 32, 5 epochs,
48,000 train / 12,000 validation (last 20 %) / 10,000 test, pixels / 255, one seed (0).
VGG16 at width 0.25 (the "reduced" VGG16); width 1.0 is timed on a few steps and extrapolated.

    python -m experiments.seed_protocol [--models ann cnn vgg16] [--time-full-steps 10]

Writes experiments/results/seed_protocol/: <model>/ (history, curves, result.json, eval/
confusion.png, mistakes.png, metrics.json), summary.json, summary.csv, vgg16_full_timing.json.
"""
import argparse
import time

from experiments.common import RESULTS, STUDY_ACCURACY, machine, train_and_test
from nnlite.files import write_csv, write_json
from nnlite.recipe import STUDY


def time_full_vgg(steps):
    """Seconds per training step of VGG16 width 1.0 at batch 32 (median of ``steps``)."""
    import numpy as np
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
    return {"params": model.count_params(), "steps_timed": steps, "batch_size": 32,
            "median_wall_s_per_step": float(np.median(wall)),
            "median_cpu_s_per_step": float(np.median(cpu)),
            "extrapolated_wall_s_per_epoch": float(np.median(wall) * per_epoch),
            "extrapolated_cpu_s_per_epoch": float(np.median(cpu) * per_epoch)}


def summarise():
    """Table of every finished seed-protocol run (several processes may train in parallel)."""
    import json
    import os
    rows = []
    for name in ("ann", "cnn", "vgg16"):
        path = f"{RESULTS}/seed_protocol/{name}/result.json"
        if not os.path.isfile(path):
            continue
        with open(path) as fh:
            r = json.load(fh)
        rows.append({"model": name + (" (width 0.25)" if name == "vgg16" else ""),
                     "params": r["params"],
                     "train_acc": round(100 * r["train_acc"], 2),
                     "val_acc": round(100 * r["val_acc"], 2),
                     "test_acc": round(100 * r["test_acc"], 2),
                     "study_train": STUDY_ACCURACY[name]["train"],
                     "study_val": STUDY_ACCURACY[name]["val"],
                     "study_test": STUDY_ACCURACY[name]["test"],
                     "seconds_per_epoch": round(r["seconds_per_epoch"], 1)})
    write_csv(f"{RESULTS}/seed_protocol/summary.csv", rows)
    write_json(f"{RESULTS}/seed_protocol/summary.json", {"machine": machine(), "rows": rows})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="*", default=["ann", "cnn", "vgg16"])
    ap.add_argument("--time-full-steps", type=int, default=10,
                    help="time this many VGG16 width-1.0 steps (0: skip)")
    args = ap.parse_args()
    for name in args.models:
        train_and_test("seed_protocol", name, STUDY.replace(model=name), plots=True)
        summarise()
    if args.time_full_steps:
        timing = time_full_vgg(args.time_full_steps)
        write_json(f"{RESULTS}/seed_protocol/vgg16_full_timing.json", timing)
        print(timing)


if __name__ == "__main__":
    main()
