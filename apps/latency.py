"""End-to-end latency of the app's work per digit: reading, explaining, one teaching step.

    python -m apps.latency --models-dir models --n 200 --out apps/latency.json

MNIST test digits are traced into strokes and drawn on a 448x448 canvas (off the clock); then,
per digit, the median of ``--repeats`` runs of:
    drawing_to_mnist + predict   the preprocessing of one drawn digit, and the model
    read_canvas                  what the app runs on the canvas (``apps.recognize``: pieces,
                                 the study model, the reader model, the rules)
    explain                      the explain view's two backward passes (``apps.explain``)
Then the teach view: the app (headless) teaches ``--teach`` drawings; per frame, one optimizer
step plus the redraw of the window (the UI update a user waits for).
Wall-clock and CPU time (of this process) are both recorded: on a machine shared with other
busy processes the wall time also counts the time spent waiting for a core. Prints the medians
and writes them, with the machine's load average, to ``--out``.
"""
import argparse
import json
import os
import tempfile
import time

import numpy as np

from nnlite.datasets import load_mnist
from nnlite.files import write_json
from nnlite.preprocess import drawing_to_mnist

from .canvas import render
from .draw import App
from .explain import explain
from .model_slots import ModelSlot
from .recognize import Reader
from .strokes import digit_strokes, place


def _timed(fn, repeats):
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return result, float(np.median(wall)), float(np.median(cpu))


def measure(models_dir="models", model="cnn", n=200, repeats=5, teach=3):
    slot = ModelSlot(model, model.upper(), os.path.join(models_dir, f"{model}.npz"))
    if not slot.load():
        raise SystemExit(slot.error)
    reader = Reader.load(models_dir, model)
    _, (x_test, y_test) = load_mnist()
    paths = ("single", "read", "explain")
    wall, cpu = {p: [] for p in paths}, {p: [] for p in paths}
    right = 0
    for i in range(n):
        canvas = render(place(digit_strokes(x_test[i]), (0, 0, 448)), 34)
        runs = {"single": lambda: slot.predict_proba(drawing_to_mnist(canvas)[None]),
                "read": lambda: reader.read(canvas)}
        for path, fn in runs.items():
            result, w, c = _timed(fn, repeats)
            wall[path].append(w)
            cpu[path].append(c)
        right += [r.digit for r in result] == [y_test[i]]
        _, w, c = _timed(lambda: explain(slot.model, result[0].image), repeats)
        wall["explain"].append(w)
        cpu["explain"].append(c)
    out = {"model": model, "digits": n, "repeats": repeats,
           "read_canvas_right": right / n, "reader_files": reader.reader is not None}
    for path in paths:
        out[f"median_ms_{path}"] = float(np.median(wall[path]))
        out[f"p90_ms_{path}"] = float(np.percentile(wall[path], 90))
        out[f"median_cpu_ms_{path}"] = float(np.median(cpu[path]))
    out.update(teach_frames(models_dir, model, x_test, y_test, teach))
    out.update({"load_average_1min": os.getloadavg()[0], "cpus": os.cpu_count()})
    return out


def teach_frames(models_dir, model, x_test, y_test, drawings):
    """Milliseconds per teach-view frame (one optimizer step + the window's redraw): the app
    (headless) is taught the true label of ``drawings`` test digits."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    frames = []
    with tempfile.TemporaryDirectory() as scratch:
        app = App(models_dir=models_dir, model=model, save_dir=os.path.join(scratch, "mine"),
                  taught_dir=os.path.join(scratch, "taught"))
        try:
            for i in range(drawings):
                app.do("clear")
                app.canvas.draw(place(digit_strokes(x_test[i]), (0, 0, app.canvas.size)), 34)
                app.read()
                app.do("teach")
                app.teaching.start(int(y_test[i]))
                while app.teaching.state == "running":
                    start = time.perf_counter()
                    app.step()
                    app.render()
                    frames.append((time.perf_counter() - start) * 1000)
        finally:
            app.pg.quit()
    return {"teach_frames": len(frames), "median_ms_teach_frame": float(np.median(frames)),
            "p90_ms_teach_frame": float(np.percentile(frames, 90))}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models-dir", default="models")
    parser.add_argument("--model", default="cnn", choices=["ann", "cnn", "vgg16"])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--teach", type=int, default=3, help="drawings taught (8 frames each)")
    parser.add_argument("--out", default=None, help="write the result JSON here")
    args = parser.parse_args(argv)
    result = measure(args.models_dir, args.model, args.n, args.repeats, args.teach)
    print(json.dumps(result, indent=1))
    if args.out:
        write_json(args.out, result)


if __name__ == "__main__":
    main()
