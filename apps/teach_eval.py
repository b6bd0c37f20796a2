"""What teaching does: held-out accuracy on a writer's digits, and MNIST test accuracy, before
and after teaching the model 5 drawings of each digit, as the app's teach view (T) does it.

    python -m apps.teach_eval --out apps/teach.json       # a few minutes on 2 cores

Writers: apps/data/writers.npz (``apps.make_sets``), each one font, jittered, 20 drawings per
digit: the first 5 per digit are taught, the other 15 are held out. For each writer, starting
from models/<model>.npz each time:
1. held-out accuracy through ``read_canvas`` (one reading, the right digit; "not a digit" is
   wrong) and of the model alone on the same 28x28 inputs; MNIST test accuracy;
2. the 50 drawings are taught one after another, in a shuffled order, each with
   ``apps.teach.Teacher`` (its steps, learning rate and batch mix: the drawing, the drawings
   taught before it as the user's saved drawings, a replay sample of MNIST training images);
3. the same accuracies again.
"""
import argparse
import json
import os
import time

import numpy as np

from nnlite import load_model
from nnlite.datasets import load_mnist
from nnlite.files import write_json

from . import synth
from .digit_reading import logits_of
from .make_sets import DATA_DIR, PER_WRITER_DIGIT
from .modes import REPLAY_UPTO
from .recognize import Reader, load_reader_files
from .segment import pieces
from .teach import LEARNING_RATE, STEPS, Teacher

TAUGHT_PER_DIGIT = 5


def _accuracies(model, reader_files, drawings, canvases, images, labels):
    reader = Reader(logits_of(model), "cnn", *reader_files)
    through_app = np.mean([[r.digit for r in reader.read(c)] == [int(d.label)]
                           for c, d in zip(canvases, drawings)])
    alone = np.mean(model.predict(images[..., None]).argmax(axis=1) == labels)
    return float(through_app), float(alone)


def _mnist_accuracy(model, x_test, y_test):
    return float(np.mean(model.predict(x_test[..., None] / np.float32(255)).argmax(axis=1)
                         == y_test))


def evaluate_writer(model_path, reader_files, drawings, mnist, seed):
    """One writer: the numbers before and after teaching, and the step times."""
    (x_train, y_train), (x_test, y_test) = mnist
    canvases = [d.render() for d in drawings]
    images = np.stack([max(pieces(c), key=lambda p: p[0][2] * p[0][3])[1] for c in canvases])
    labels = np.array([int(d.label) for d in drawings])
    taught = np.arange(len(drawings)) // 10 < TAUGHT_PER_DIGIT    # drawings go 0-9, 0-9, ...
    held = [i for i in range(len(drawings)) if not taught[i]]
    held_args = ([drawings[i] for i in held], [canvases[i] for i in held], images[held],
                 labels[held])
    model = load_model(model_path)
    out = {"taught": int(taught.sum()), "held_out": len(held)}
    out["held_out_through_app_before"], out["held_out_model_before"] = _accuracies(
        model, reader_files, *held_args)
    out["mnist_test_before"] = _mnist_accuracy(model, x_test, y_test)
    rng = np.random.default_rng(seed)
    order = rng.permutation(np.flatnonzero(taught))
    step_ms, done = [], []
    for k, i in enumerate(order):
        mine = (images[done], labels[done]) if done else None
        teacher = Teacher(model, images[i], labels[i], mine=mine,
                          replay=(x_train[:REPLAY_UPTO], y_train[:REPLAY_UPTO]), seed=seed + k)
        while not teacher.done:
            start = time.perf_counter()
            teacher.step()
            step_ms.append((time.perf_counter() - start) * 1000)
        done.append(i)
    out["held_out_through_app_after"], out["held_out_model_after"] = _accuracies(
        model, reader_files, *held_args)
    out["mnist_test_after"] = _mnist_accuracy(model, x_test, y_test)
    out["mnist_forgetting_points"] = 100 * (out["mnist_test_before"] - out["mnist_test_after"])
    out["median_step_ms"] = float(np.median(step_ms))
    return out


def evaluate(models_dir="models", model="cnn", data_dir=DATA_DIR, seed=0):
    drawings = synth.load_set(os.path.join(data_dir, "writers.npz"))
    per_writer = 10 * PER_WRITER_DIGIT
    mnist = load_mnist()
    reader_files = load_reader_files(models_dir)
    writers = {}
    for w in range(len(drawings) // per_writer):
        mine = drawings[w * per_writer:(w + 1) * per_writer]
        font = mine[0].kind.split()[-1]
        writers[font] = evaluate_writer(os.path.join(models_dir, f"{model}.npz"), reader_files,
                                        mine, mnist, seed + 100 * w)
        print(font, json.dumps(writers[font]))
    keys = ("held_out_through_app_before", "held_out_through_app_after", "held_out_model_before",
            "held_out_model_after", "mnist_test_before", "mnist_test_after")
    mean = {k: float(np.mean([r[k] for r in writers.values()])) for k in keys}
    forgetting = [r["mnist_forgetting_points"] for r in writers.values()]
    return {
        "model": model, "taught_per_digit": TAUGHT_PER_DIGIT,
        "teacher": {"steps": STEPS, "learning_rate": LEARNING_RATE},
        "writers": writers, "mean": mean,
        "largest_mnist_forgetting_points": float(max(forgetting)),
        # "rises": on average, and no writer falls (one already read at 100 % cannot rise)
        "met": {"held_out_rises": mean["held_out_through_app_after"]
                > mean["held_out_through_app_before"]
                and all(r["held_out_through_app_after"] >= r["held_out_through_app_before"]
                        for r in writers.values()),
                "forgetting_at_most_0.2_points": max(forgetting) <= 0.2},
        "machine": {"cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models-dir", default="models")
    p.add_argument("--model", default="cnn", choices=["ann", "cnn", "vgg16"])
    p.add_argument("--data-dir", default=DATA_DIR)
    p.add_argument("--out", default=None, help="write the report JSON here")
    args = p.parse_args(argv)
    started = time.perf_counter()
    report = evaluate(args.models_dir, args.model, args.data_dir)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=1))
    if args.out:
        write_json(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
