"""How well ``read_canvas`` reads digits and refuses non-digits, on drawn canvases.

    python -m apps.recognition_eval --out apps/recognition.json      # about 2 minutes, 2 cores

Every canvas goes through the app's path: strokes drawn by ``Canvas``, then ``read_canvas``.
- MNIST test digits, traced into strokes and drawn at random sizes, places and brushes
  (``apps.synth.mnist_drawings``): how many are flagged "not a digit" (any reading None), and
  how many are read right (exactly one reading, the right digit).
- apps/data/nondigits.npz: how many are flagged (every reading None).
- apps/data/digits.npz (font digits, writers not in MNIST): read right (a None is wrong).
- apps/data/numbers.npz and numbers written with MNIST test digits: read whole (every digit
  right, none missing or extra, no None).
The sets are described in ``apps.make_sets``.
"""
import argparse
import json
import os
import time
from collections import Counter, defaultdict

import numpy as np

from nnlite.datasets import load_mnist
from nnlite.files import write_json

from . import synth
from .demo import number_strokes
from .make_sets import DATA_DIR
from .recognize import UPRIGHT_VOTE, Reader

TARGETS = {"nondigits_flagged": 0.80, "mnist_test_flagged_at_most": 0.01,
           "font_digits_right": 0.95, "numbers_whole": 0.90}


def _read_all(reader, drawings):
    """[(drawing, readings)], and the median ms of one read_canvas call."""
    out, times = [], []
    for d in drawings:
        image = d.render()
        start = time.perf_counter()
        readings = reader.read(image)
        times.append((time.perf_counter() - start) * 1000)
        out.append((d, readings))
    return out, float(np.median(times)) if times else None


def _share(flags):
    return float(np.mean(flags)) if len(flags) else None


def digits_report(results):
    right = [len(r) == 1 and r[0].digit == int(d.label) for d, r in results]
    flagged = [any(x.digit is None for x in r) for _, r in results]
    errors = Counter(f"{d.label}->{''.join('?' if x.digit is None else str(x.digit) for x in r)}"
                     for (d, r), ok in zip(results, right) if not ok)
    by_font = defaultdict(list)
    for (d, _), ok in zip(results, right):
        by_font[d.kind.split()[-1]].append(ok)
    return {"n": len(results), "right": _share(right), "flagged": _share(flagged),
            "right_by_font": {k: _share(v) for k, v in sorted(by_font.items())},
            "commonest_errors": dict(errors.most_common(12))}


def nondigits_report(results):
    flagged = [bool(r) and all(x.digit is None for x in r) for _, r in results]
    by_kind, why = defaultdict(list), Counter()
    for (d, r), f in zip(results, flagged):
        by_kind[d.kind.split()[0]].append(f)
        why.update(x.why.split(" (")[0] for x in r if x.digit is None)
    missed = Counter(" ".join(d.kind.split()[:2]) + "->" +
                     "".join("?" if x.digit is None else str(x.digit) for x in r)
                     for (d, r), f in zip(results, flagged) if not f)
    return {"n": len(results), "flagged": _share(flagged),
            "flagged_by_kind": {k: _share(v) for k, v in sorted(by_kind.items())},
            "rules_that_fired": dict(why), "commonest_misses": dict(missed.most_common(15))}


def numbers_report(results):
    whole = [all(x.digit is not None for x in r) and
             "".join(str(x.digit) for x in r) == d.label for d, r in results]
    touching = [ok for (d, _), ok in zip(results, whole) if d.kind.endswith("touching")]
    apart = [ok for (d, _), ok in zip(results, whole) if not d.kind.endswith("touching")]
    return {"n": len(results), "whole": _share(whole), "whole_touching": _share(touching),
            "whole_apart": _share(apart)}


def mnist_numbers(x_test, y_test, n, seed, size=448):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        digits = "".join(map(str, rng.integers(0, 10, int(rng.integers(2, 6)))))
        strokes, brush = number_strokes(digits, x_test, y_test, size, seed=seed * 1000 + i)
        out.append(synth.Drawing(strokes, brush, size, digits, f"mnist-number {digits}"))
    return out


def evaluate(models_dir="models", model="cnn", mnist_n=10_000, data_dir=DATA_DIR, seed=7,
             upright_vote=UPRIGHT_VOTE):
    reader = Reader.load(models_dir, model, upright_vote=upright_vote)
    _, (x_test, y_test) = load_mnist()
    mnist = synth.mnist_drawings(x_test[:mnist_n], y_test[:mnist_n], seed, kind="mnist-test")
    sets = {name: synth.load_set(os.path.join(data_dir, f"{name}.npz"))
            for name in ("nondigits", "digits", "numbers")}
    report = {"model": model, "reader": reader.reader is not None,
              "thresholds": {"not_digit_above": reader.not_digit_above,
                             "energy_below": reader.energy_below}}
    results, ms = _read_all(reader, mnist)
    m = digits_report(results)
    report["mnist_test"] = {"n": m["n"], "flagged": m["flagged"], "right": m["right"],
                            "commonest_errors": m["commonest_errors"], "median_ms": ms}
    results, ms = _read_all(reader, sets["nondigits"])
    report["nondigits"] = {**nondigits_report(results), "median_ms": ms}
    results, ms = _read_all(reader, sets["digits"])
    report["font_digits"] = {**digits_report(results), "median_ms": ms}
    results, ms = _read_all(reader, sets["numbers"])
    report["numbers"] = {**numbers_report(results), "median_ms": ms}
    results, ms = _read_all(reader, mnist_numbers(x_test, y_test, 200, seed))
    report["mnist_numbers"] = {**numbers_report(results), "median_ms": ms}
    report["targets"] = TARGETS
    report["met"] = {
        "nondigits_flagged": report["nondigits"]["flagged"] >= TARGETS["nondigits_flagged"],
        "mnist_test_flagged": m["flagged"] <= TARGETS["mnist_test_flagged_at_most"],
        "font_digits_right": report["font_digits"]["right"] >= TARGETS["font_digits_right"],
        "numbers_whole": report["numbers"]["whole"] >= TARGETS["numbers_whole"]}
    report["machine"] = {"cpus": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}
    return report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models-dir", default="models")
    p.add_argument("--model", default="cnn", choices=["ann", "cnn", "vgg16"])
    p.add_argument("--mnist", type=int, default=10_000, help="MNIST test digits (default all)")
    p.add_argument("--data-dir", default=DATA_DIR)
    p.add_argument("--upright-vote", type=float, default=UPRIGHT_VOTE,
                   help="weight of each piece read sheared upright as well (default "
                   f"{UPRIGHT_VOTE}: the app's setting)")
    p.add_argument("--out", default=None, help="write the report JSON here")
    args = p.parse_args(argv)
    started = time.perf_counter()
    report = evaluate(args.models_dir, args.model, args.mnist, args.data_dir,
                      upright_vote=args.upright_vote)
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=1))
    if args.out:
        write_json(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
