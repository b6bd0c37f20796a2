"""End-to-end latency of reading one drawn digit: preprocessing + model, per digit.

    python -m apps.latency --models-dir models --n 200 --out apps/latency.json

MNIST test digits are traced into strokes and drawn on a 448x448 canvas (off the clock); then
two paths are timed per digit, each the median of ``--repeats`` runs:
    drawing_to_mnist + predict   the preprocessing of one drawn digit, and the model
    split_digits + predict       what the app runs on the whole canvas (finds the digits first)
Wall-clock and CPU time (of this process) are both recorded: on a machine shared with other
busy processes the wall time also counts the time spent waiting for a core. Prints the medians
and writes them, with the machine's load average, to ``--out``.
"""
import argparse
import json
import os
import time

import numpy as np


def measure(models_dir="models", model="cnn", n=200, repeats=5):
    from nnlite.datasets import load_mnist
    from nnlite.preprocess import drawing_to_mnist, split_digits

    from .canvas import Canvas
    from .model_slots import ModelSlot
    from .strokes import digit_strokes, place
    slot = ModelSlot(model, model.upper(), os.path.join(models_dir, f"{model}.npz"))
    if not slot.load():
        raise SystemExit(slot.error)
    _, (x_test, y_test) = load_mnist()
    wall = {"single": [], "split": []}     # wall-clock ms per digit
    cpu = {"single": [], "split": []}      # CPU ms of this process per digit (all threads):
    right = 0                              # on a busy machine wall time includes waiting
    for i in range(n):
        canvas = Canvas(448)
        for stroke in place(digit_strokes(x_test[i]), (0, 0, 448)):
            canvas.begin(tuple(stroke[0]), 34)
            for point in stroke[1:]:
                canvas.extend(tuple(point))
            canvas.end()
        for path in ("single", "split"):
            runs, cpu_runs = [], []
            for _ in range(repeats):
                start, start_cpu = time.perf_counter(), time.process_time()
                if path == "single":
                    probs = slot.predict_proba(drawing_to_mnist(canvas.image)[None])
                else:
                    digits = split_digits(canvas.image)
                    probs = slot.predict_proba(np.stack([d for _, d in digits]))
                runs.append((time.perf_counter() - start) * 1000 / len(probs))
                cpu_runs.append((time.process_time() - start_cpu) * 1000 / len(probs))
            wall[path].append(float(np.median(runs)))
            cpu[path].append(float(np.median(cpu_runs)))
        right += int(probs[0].argmax() == y_test[i])
    return {"model": model, "digits": n, "repeats": repeats,
            "median_ms_drawing_to_mnist_plus_model": float(np.median(wall["single"])),
            "p90_ms_drawing_to_mnist_plus_model": float(np.percentile(wall["single"], 90)),
            "median_ms_split_digits_plus_model": float(np.median(wall["split"])),
            "median_cpu_ms_drawing_to_mnist_plus_model": float(np.median(cpu["single"])),
            "median_cpu_ms_split_digits_plus_model": float(np.median(cpu["split"])),
            "accuracy_on_traced_digits": right / n,
            "load_average_1min": os.getloadavg()[0], "cpus": os.cpu_count()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", default="models")
    parser.add_argument("--model", default="cnn", choices=["ann", "cnn", "vgg16"])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=None, help="write the result JSON here")
    args = parser.parse_args(argv)
    result = measure(args.models_dir, args.model, args.n, args.repeats)
    print(json.dumps(result, indent=1))
    if args.out:
        with open(args.out, "w") as fh:
            json.dump(result, fh, indent=1)
            fh.write("\n")


if __name__ == "__main__":
    main()
