"""How the reader's cutting settings were chosen: numbers written in the reader's TRAINING fonts
(never the evaluation fonts of apps/data/numbers.npz), read whole with each setting.

    python -m apps.segment_dev                        # the committed setting and its neighbours
    python -m apps.segment_dev --grid 0.55,0.5,1.0 0.45,0.5,1.1 --out dev.json
    python -m apps.segment_dev --fonts unseen --grid sure_part=0.5 sure_part=0.25,split_belief=0.2
    python -m apps.segment_dev --reader-dir runs/reader-other --grid 0.55,0.5,1.0   # another reader

A setting is NARROW_DIGIT,SPAN_PRIOR,WIDEST[,VOTE[,UPRIGHT]] (the ``Reader`` parameters
``narrow_digit``, ``span_prior``, ``widest_span``, ``reader_vote``, ``upright_vote``), and/or
NAME=VALUE items for any ``Reader`` setting (``split_belief``, ``sure_part`` too); what a
setting leaves out keeps ``apps.recognize``'s default. "0,1,1.1" is the dynamic programme
alone, without the width and span priors. About a minute per setting. ``--fonts unseen``
writes the dev set in fonts that neither the reader's training nor the evaluation uses
(``apps.fonts.DEV_FONTS``), and reads font digits, non-digits written in those fonts and
MNIST validation digits (never test digits) as well, so that a setting's cost in refusals is
seen beside its gain in numbers.
"""
import argparse
import json
import os

from nnlite import load_model
from nnlite.datasets import load_mnist
from nnlite.files import write_json

from . import fonts, recognize, synth
from .reader_train import VALIDATION_START
from .recognition_eval import digits_report, nondigits_report, numbers_report
from .segment import DIGIT_WIDTH

DEV_NUMBERS, DEV_SEED = 400, 2031
DEV_DIGITS = 50            # per class, with --fonts unseen
DEV_NONDIGITS, DEV_MNIST = 400, 1000     # with --fonts unseen
FONT_SETS = {"training": fonts.TRAIN_FONTS, "unseen": fonts.DEV_FONTS}
GRID = ("0.55,0.5,1.0", "0.45,0.5,1.0", "0.55,1.0,1.0", "0.55,0.5,1.3", "0,1,1.1")
POSITIONAL = ("narrow_digit", "span_prior", "widest_span", "reader_vote", "upright_vote")
DEFAULTS = {"narrow_digit": recognize.NARROW_DIGIT, "span_prior": recognize.SPAN_PRIOR,
            "widest_span": DIGIT_WIDTH[1], "reader_vote": recognize.READER_VOTE,
            "upright_vote": recognize.UPRIGHT_VOTE, "split_belief": recognize.SPLIT_BELIEF,
            "sure_part": recognize.SURE_PART, "edge_bits": recognize.EDGE_BITS,
            "narrow_zero": recognize.NARROW_ZERO}


def setting(text):
    """"0.55,0.5,1.0" or "sure_part=0.25,split_belief=0.2" (or both, positional first) -> the
    dict of every ``Reader`` cutting setting."""
    out, position = dict(DEFAULTS), 0
    try:
        for item in text.split(","):
            if "=" in item:
                name, value = item.split("=", 1)
                if name not in DEFAULTS:
                    raise ValueError(f"unknown setting {name!r} (known: {', '.join(DEFAULTS)})")
                out[name] = float(value)
            else:
                if position >= len(POSITIONAL):
                    raise ValueError(f"more than {len(POSITIONAL)} positional values")
                out[POSITIONAL[position]] = float(item)
                position += 1
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"bad setting {text!r}: {e}") from None
    if 0 < position < 3:
        raise argparse.ArgumentTypeError(
            f"bad setting {text!r}: give NARROW,PRIOR,WIDEST together")
    return out


def evaluate(settings, models_dir="models", reader_dir=None, fonts_used="training"):
    drawings = synth.numbers_set(FONT_SETS[fonts_used], DEV_NUMBERS, DEV_SEED)
    unseen = fonts_used == "unseen"
    digits = synth.digits_set(FONT_SETS[fonts_used], DEV_DIGITS, DEV_SEED) if unseen else []
    nondigits = synth.nondigits_set(FONT_SETS[fonts_used], DEV_NONDIGITS, DEV_SEED) if unseen else []
    if unseen:
        (x, y), _ = load_mnist()
        val = slice(VALIDATION_START, VALIDATION_START + DEV_MNIST)
        mnist = synth.mnist_drawings(x[val], y[val], DEV_SEED, kind="mnist-validation")
    else:
        mnist = []
    canvases = {id(d): d.render() for d in drawings + digits + nondigits + mnist}
    study = recognize.logits_of(load_model(os.path.join(models_dir, "cnn.npz")))
    extra = recognize.load_reader_files(reader_dir or models_dir)
    rows = []
    for values in settings:
        reader = recognize.Reader(study, "cnn", *extra, **values)

        def read(ds):
            return [(d, reader.read(canvases[id(d)])) for d in ds]
        report = numbers_report(read(drawings))
        if unseen:
            one = digits_report(read(digits))
            report.update(digits_n=one["n"], digits_right=one["right"],
                          digits_right_by_font=one["right_by_font"])
            report["nondigits_flagged"] = nondigits_report(read(nondigits))["flagged"]
            valid = digits_report(read(mnist))
            report.update(mnist_validation_flagged=valid["flagged"],
                          mnist_validation_right=valid["right"])
        rows.append({**values, **report})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grid", nargs="+", type=setting, default=[setting(g) for g in GRID],
                   metavar="SETTING", help="settings to compare (see above; default: "
                   + " ".join(GRID) + ")")
    p.add_argument("--fonts", choices=sorted(FONT_SETS), default="training",
                   help="write the dev set in the reader's training fonts (default) or in "
                   "fonts neither it nor the evaluation ever uses (fonts.DEV_FONTS; then "
                   f"{DEV_DIGITS} digits per class, {DEV_NONDIGITS} non-digits and "
                   f"{DEV_MNIST} MNIST validation digits are read as well)")
    p.add_argument("--models-dir", default="models", help="the study's cnn.npz (and the "
                   "reader files, unless --reader-dir) are read from here (default: models)")
    p.add_argument("--reader-dir", default=None,
                   help="read reader.npz and reader-calibration.json from here instead")
    p.add_argument("--out", default=None, help="write the rows as JSON here")
    args = p.parse_args(argv)
    rows = evaluate(args.grid, args.models_dir, args.reader_dir, args.fonts)
    if args.out:
        names = ", ".join(FONT_SETS[args.fonts])
        extra = (f", {DEV_DIGITS} digits per class and {DEV_NONDIGITS} non-digits"
                 if args.fonts == "unseen" else "")
        mnist = (f"; {DEV_MNIST} MNIST validation digits (from {VALIDATION_START}) drawn"
                 if args.fonts == "unseen" else "")
        write_json(args.out, {"dev_set": f"{DEV_NUMBERS} numbers{extra}, {args.fonts} fonts "
                              f"({names}), seed {DEV_SEED}{mnist}", "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
