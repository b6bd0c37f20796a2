"""How the touching-digit constants were chosen: numbers written in the reader's TRAINING fonts
(never the evaluation fonts of apps/data/numbers.npz), read whole with each setting.

    python -m apps.segment_dev                        # the committed setting and its neighbours
    python -m apps.segment_dev --grid 0.55,0.5,1.0 0.45,0.5,1.1 --out dev.json
    python -m apps.segment_dev --reader-dir runs/reader-other --grid 0.55,0.5,1.0   # another reader

A setting is NARROW_DIGIT,SPAN_PRIOR,widest span[,reader vote[,upright vote]] (the ``Reader``
parameters ``narrow_digit``, ``span_prior``, ``widest_span``, ``reader_vote``,
``upright_vote``; defaults ``apps.recognize.NARROW_DIGIT``, ``SPAN_PRIOR``,
``apps.segment.DIGIT_WIDTH[1]``, ``READER_VOTE``, ``UPRIGHT_VOTE``); "0,1,1.1" is the dynamic programme alone, without the width and span
priors. About a minute per setting. ``--fonts unseen`` writes the dev set in fonts that
neither the reader's training nor the evaluation uses (``apps.fonts.DEV_FONTS``), and reads
font digits as well.
"""
import argparse
import json
import os

from nnlite import load_model
from nnlite.files import write_json

from . import fonts, recognize, synth
from .recognition_eval import digits_report, numbers_report

DEV_NUMBERS, DEV_SEED = 400, 2031
DEV_DIGITS = 50            # per class, with --fonts unseen
FONT_SETS = {"training": fonts.TRAIN_FONTS, "unseen": fonts.DEV_FONTS}
GRID = ("0.55,0.5,1.0", "0.45,0.5,1.0", "0.55,1.0,1.0", "0.55,0.5,1.3", "0,1,1.1")


def setting(text):
    """"NARROW,PRIOR,WIDEST[,VOTE[,UPRIGHT]]" -> (narrow, prior, widest, vote, upright); VOTE
    and UPRIGHT default to ``apps.recognize.READER_VOTE`` and ``UPRIGHT_VOTE``."""
    values = [float(v) for v in text.split(",")]
    if len(values) not in (3, 4, 5):
        raise argparse.ArgumentTypeError(
            f"expected NARROW,PRIOR,WIDEST[,VOTE[,UPRIGHT]], got {text!r}")
    return tuple(values + [recognize.READER_VOTE, recognize.UPRIGHT_VOTE][len(values) - 3:])


def evaluate(settings, models_dir="models", reader_dir=None, fonts="training"):
    drawings = synth.numbers_set(FONT_SETS[fonts], DEV_NUMBERS, DEV_SEED)
    canvases = [d.render() for d in drawings]
    digits = synth.digits_set(FONT_SETS[fonts], DEV_DIGITS, DEV_SEED) if fonts == "unseen" else []
    digit_canvases = [d.render() for d in digits]
    study = recognize.logits_of(load_model(os.path.join(models_dir, "cnn.npz")))
    extra = recognize.load_reader_files(reader_dir or models_dir)
    rows = []
    for narrow, prior, widest, vote, upright in settings:
        reader = recognize.Reader(study, "cnn", *extra, narrow_digit=narrow, span_prior=prior,
                                  widest_span=widest, reader_vote=vote, upright_vote=upright)
        report = numbers_report([(d, reader.read(c)) for d, c in zip(drawings, canvases)])
        if digits:
            one = digits_report([(d, reader.read(c)) for d, c in zip(digits, digit_canvases)])
            report.update(digits_n=one["n"], digits_right=one["right"],
                          digits_right_by_font=one["right_by_font"])
        rows.append({"narrow_digit": narrow, "span_prior": prior, "widest_span": widest,
                     "reader_vote": vote, "upright_vote": upright, **report})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grid", nargs="+", type=setting, default=[setting(g) for g in GRID],
                   metavar="NARROW,PRIOR,WIDEST[,VOTE[,UPRIGHT]]")
    p.add_argument("--fonts", choices=sorted(FONT_SETS), default="training",
                   help="write the dev set in the reader's training fonts (default) or in "
                   "fonts neither it nor the evaluation ever uses (fonts.DEV_FONTS; then "
                   f"{DEV_DIGITS} digits per class are read as well)")
    p.add_argument("--models-dir", default="models", help="the study's cnn.npz (and the "
                   "reader files, unless --reader-dir) are read from here (default: models)")
    p.add_argument("--reader-dir", default=None,
                   help="read reader.npz and reader-calibration.json from here instead")
    p.add_argument("--out", default=None, help="write the rows as JSON here")
    args = p.parse_args(argv)
    rows = evaluate(args.grid, args.models_dir, args.reader_dir, args.fonts)
    if args.out:
        fonts = ", ".join(FONT_SETS[args.fonts])
        write_json(args.out, {"dev_set": f"{DEV_NUMBERS} numbers"
                              + (f" and {DEV_DIGITS} digits per class" if args.fonts == "unseen"
                                 else "") + f", {args.fonts} fonts ({fonts}), seed {DEV_SEED}",
                              "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
