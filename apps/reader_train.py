"""Train the reader model and calibrate "not a digit": models/reader.npz and
models/reader-calibration.json, the two files ``apps.recognize`` reads beside the study's models.

    python -m apps.reader_train                      # the committed files (a few minutes, 2 cores)
    python -m apps.reader_train --quick --models-dir runs/reader-quick   # smoke run, seconds

The reader is a small CNN with twelve outputs: the digits 0-9, "not a digit" and "touching
digits" (one piece of ink holding two or three digits). It learns from
- MNIST training images 0-47,999 (never the validation images 48,000-59,999): ``--traced`` of
  them traced into pen strokes and drawn on the canvas at random sizes, places and brushes, the
  rest as they are;
- digits from the TRAINING fonts (``apps.fonts.TRAIN_FONTS``), drawn the same way;
- generated non-digits from the training fonts: letters, symbols, shapes, scribbles, dots;
- numbers of 2-3 touching digits, from MNIST training digits and the training fonts;
- spans of more such numbers cut where ``apps.segment`` cuts them (``apps.span_samples``): a
  span holding one digit is that digit, one straddling two digits is "touching digits", and
  (with ``--span-fragments``) a fragment of one digit is "not a digit".
Non-digits and touching numbers are used as the app meets them: the one piece
``apps.segment.pieces`` finds (drawings it cuts into several pieces are left out).
No drawing from the evaluation fonts (``EVAL_FONTS``) is ever seen in training.

Calibration: ``--calibration`` MNIST validation digits (48,000 onwards), drawn through the
canvas as above. The reader's threshold flags ``READER_SHARE`` of them; each study model's
energy threshold flags ``ENERGY_SHARE``; the file records how many the two flag together.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from nnlite import load_model
from nnlite.activations import softmax
from nnlite.datasets import MNIST_MEAN, MNIST_STD, load_mnist
from nnlite.files import write_json
from nnlite.layers import Conv2D, Dense, Flatten, MaxPool2D, Rescaling
from nnlite.optimizers import Adam
from nnlite.preprocess import drawing_to_mnist, make_augment
from nnlite.sequential import Sequential

from . import fonts, synth
from .digit_reading import energy
from .model_slots import NNLITE_MODELS
from .recognize import CALIBRATION_FILE, NOT_A_DIGIT, READER_FILE, TOUCHING
from .segment import pieces
from .span_samples import span_samples, touching_number

READER_SHARE = 0.005     # of validation digits the reader's threshold flags
ENERGY_SHARE = 0.002     # of validation digits each study model's energy threshold flags
VALIDATION_START = 48_000
STUDY_MODELS = tuple(key for key, _ in NNLITE_MODELS)   # the models the app offers


def reader_model(seed=0, width=1):
    """Standardise -> Conv 16w 3x3 relu -> pool -> Conv 32w 3x3 relu -> pool -> Dense 64w relu
    -> Dense 12 (0-9, "not a digit", "touching digits"); 105,996 parameters at width 1,
    421,900 at width 2."""
    return Sequential([Rescaling(1.0 / MNIST_STD, -MNIST_MEAN / MNIST_STD),
                       Conv2D(16 * width, 3, padding="same", activation="relu"), MaxPool2D(2),
                       Conv2D(32 * width, 3, padding="same", activation="relu"), MaxPool2D(2),
                       Flatten(), Dense(64 * width, activation="relu"), Dense(TOUCHING + 1)],
                      input_shape=(28, 28, 1), seed=seed, name="reader")


def drawn_images(drawings):
    """The 28x28 inputs of drawings, as the app makes them: (N, 28, 28) float32, and the
    indices of the drawings that had ink on the canvas."""
    images, kept = [], []
    for i, d in enumerate(drawings):
        image = drawing_to_mnist(d.render())
        if image is not None:
            images.append(image)
            kept.append(i)
    return np.stack(images).astype(np.float32), np.array(kept)


def single_pieces(drawings):
    """The 28x28 input of each drawing the reader sees as one piece (``apps.segment.pieces``)."""
    images = []
    for d in drawings:
        found = pieces(d.render())
        if len(found) == 1:
            images.append(found[0][1])
    return np.stack(images).astype(np.float32)


def touching_numbers(x_train, y_train, n, fonts, seed):
    """``n`` numbers of 2-3 touching digits: half MNIST training digits, half font digits."""
    rng = np.random.default_rng(seed)
    return [touching_number(rng, x_train, y_train, fonts, bool(i % 2), VALIDATION_START)[0]
            for i in range(n)]


def training_data(x_train, y_train, traced, font_digits, negatives, touching, seed,
                  raw_limit=None, spans=0, span_fragments=0):
    """(x (N, 28, 28, 1) float32 in [0, 1], y (N,) int64 in 0..11)."""
    parts_x, parts_y = [], []
    drawn = synth.mnist_drawings(x_train[:traced], y_train[:traced], seed)
    x, kept = drawn_images(drawn)
    parts_x.append(x)
    parts_y.append(y_train[:traced][kept])
    raw = slice(traced, VALIDATION_START if raw_limit is None else traced + raw_limit)
    parts_x.append(x_train[raw].astype(np.float32) / 255.0)
    parts_y.append(y_train[raw])
    written = synth.digits_set(fonts.TRAIN_FONTS, max(1, font_digits // 10), seed + 1)
    x, kept = drawn_images(written)
    parts_x.append(x)
    parts_y.append(np.array([int(written[i].label) for i in kept]))
    x = single_pieces(synth.nondigits_set(fonts.TRAIN_FONTS, negatives, seed + 2))
    parts_x.append(x)
    parts_y.append(np.full(len(x), NOT_A_DIGIT))
    x = single_pieces(touching_numbers(x_train, y_train, touching, fonts.TRAIN_FONTS, seed + 4))
    parts_x.append(x)
    parts_y.append(np.full(len(x), TOUCHING))
    if spans:
        x, y = span_samples(x_train, y_train, spans, fonts.TRAIN_FONTS, seed + 5,
                            {"digit": 1, "straddle": 2, "fragment": span_fragments},
                            mnist_limit=VALIDATION_START)
        parts_x.append(x)
        parts_y.append(y)
    return (np.concatenate(parts_x)[..., None].astype(np.float32),
            np.concatenate(parts_y).astype(np.int64))


def train(x, y, epochs, seed, width=1, lr=1e-3, batch_size=64):
    model = reader_model(seed, width)
    model.compile(Adam(lr))
    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=1,
              batch_transform=make_augment("affine"))
    return model


def calibrate(models_dir, reader, x_val, y_val, seed):
    """Thresholds from MNIST validation digits drawn on the canvas -> the calibration dict."""
    drawings = synth.mnist_drawings(x_val, y_val, seed, kind="mnist-validation")
    x, _ = drawn_images(drawings)
    not_digit = softmax(reader.predict(x[..., None]).astype(np.float64))[:, NOT_A_DIGIT:].sum(1)
    reader_cut = float(np.quantile(not_digit, 1 - READER_SHARE))
    flagged = not_digit > reader_cut
    energy_below, union = {}, {}
    for name in STUDY_MODELS:
        path = os.path.join(models_dir, f"{name}.npz")
        if not os.path.exists(path):
            continue
        energies = energy(load_model(path).predict(x[..., None]).astype(np.float64))
        energy_below[name] = float(np.quantile(energies, ENERGY_SHARE))
        union[name] = float(np.mean(flagged | (energies < energy_below[name])))
    return {
        "validation": f"MNIST training images {VALIDATION_START}-"
                      f"{VALIDATION_START + len(x_val) - 1} traced and drawn on the canvas "
                      f"(apps.synth.mnist_drawings, seed {seed})",
        "digits": int(len(x)),
        "reader": {"file": READER_FILE, "not_digit_above": reader_cut,
                   "flags": float(flagged.mean())},
        "energy_below": energy_below,
        "flagged_by_either": union,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models-dir", default="models", help="reads the study models, writes "
                   f"{READER_FILE} and {CALIBRATION_FILE} here (default: models)")
    p.add_argument("--study-dir", default=None,
                   help="read the study models from here instead (default: --models-dir)")
    p.add_argument("--traced", type=int, default=16_000,
                   help="MNIST training digits drawn through the canvas (default 16000)")
    p.add_argument("--font-digits", type=int, default=8_000,
                   help="digits written in the training fonts (default 8000)")
    p.add_argument("--negatives", type=int, default=24_000)
    p.add_argument("--touching", type=int, default=6_000, help="touching numbers")
    p.add_argument("--spans", type=int, default=6_000,
                   help="touching numbers cut into spans as segment cuts them (default 6000)")
    p.add_argument("--span-fragments", type=int, default=0,
                   help="fragments of one digit kept per number as 'not a digit' (default 0)")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--width", type=int, default=1, choices=(1, 2, 3),
                   help="channels and units times this (default 1: 16, 32, 64)")
    p.add_argument("--calibration", type=int, default=12_000,
                   help="MNIST validation digits for the thresholds (default all 12000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a smoke run: tiny sets, one epoch")
    p.add_argument("--calibrate-only", action="store_true",
                   help=f"keep {READER_FILE}, only recompute {CALIBRATION_FILE}")
    args = p.parse_args(argv)
    if args.quick:
        args.traced, args.font_digits, args.negatives, args.touching = 300, 200, 600, 200
        args.spans = 100
        args.epochs, args.calibration = 1, 500
    os.makedirs(args.models_dir, exist_ok=True)
    (x_train, y_train), _ = load_mnist()
    started = time.perf_counter()
    reader_path = os.path.join(args.models_dir, READER_FILE)
    if args.calibrate_only:
        reader = load_model(reader_path)
    else:
        x, y = training_data(x_train, y_train, args.traced, args.font_digits, args.negatives,
                             args.touching, args.seed, raw_limit=1000 if args.quick else None,
                             spans=args.spans, span_fragments=args.span_fragments)
        print(f"training data: {len(x)} images ({np.sum(y == NOT_A_DIGIT)} not digits, "
              f"{np.sum(y == TOUCHING)} touching digits), "
              f"{time.perf_counter() - started:.0f} s")
        reader = train(x, y, args.epochs, args.seed, args.width)
        reader.save(reader_path)
    val = slice(VALIDATION_START, VALIDATION_START + args.calibration)
    result = calibrate(args.study_dir or args.models_dir, reader, x_train[val], y_train[val],
                       args.seed + 3)
    command = ("python -m apps.reader_train " + " ".join(
        sys.argv[1:] if argv is None else argv)).strip()
    cal_path = os.path.join(args.models_dir, CALIBRATION_FILE)
    if args.calibrate_only:      # the reader is the one trained before: keep how it was made
        before = {}
        if os.path.exists(cal_path):
            with open(cal_path, encoding="utf-8") as fh:
                before = json.load(fh)
        result.update({k: before[k] for k in ("made_by", "training", "seconds") if k in before})
        result["recalibrated_by"] = command
        result["recalibration_seconds"] = round(time.perf_counter() - started, 1)
    else:
        result["made_by"] = command
        result["training"] = {k: getattr(args, k) for k in (
            "traced", "font_digits", "negatives", "touching", "spans", "span_fragments",
            "epochs", "seed", "width")}
        result["seconds"] = round(time.perf_counter() - started, 1)
    write_json(cal_path, result)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
