"""How the touching-digit constants were chosen: numbers written in the reader's TRAINING fonts
(never the evaluation fonts of apps/data/numbers.npz), read whole with each setting.

    python -m apps.segment_dev                        # the committed setting and its neighbours
    python -m apps.segment_dev --grid 0.55,0.5,1.0 0.45,0.5,1.1 --out dev.json
    python -m apps.segment_dev --reader-dir runs/reader-other --grid 0.55,0.5,1.0   # another reader

A setting is NARROW_DIGIT,SPAN_PRIOR,widest span (the ``Reader`` parameters ``narrow_digit``,
``span_prior``, ``widest_span``; defaults ``apps.recognize.NARROW_DIGIT``,
``apps.recognize.SPAN_PRIOR``, ``apps.segment.DIGIT_WIDTH[1]``); "0,1,1.1" is the dynamic
programme alone, without the width and span priors. About a minute per setting.
"""
import argparse
import json
import os

from nnlite import load_model
from nnlite.files import write_json

from . import glyphs, recognize, synth
from .recognition_eval import numbers_report

DEV_NUMBERS, DEV_SEED = 400, 2031
GRID = ("0.55,0.5,1.0", "0.45,0.5,1.0", "0.55,1.0,1.0", "0.55,0.5,1.3", "0,1,1.1")


def setting(text):
    narrow, prior, widest = (float(v) for v in text.split(","))
    return narrow, prior, widest


def evaluate(settings, models_dir="models", reader_dir=None):
    drawings = synth.numbers_set(glyphs.TRAIN_FONTS, DEV_NUMBERS, DEV_SEED)
    canvases = [d.render() for d in drawings]
    study = recognize.logits_of(load_model(os.path.join(models_dir, "cnn.npz")))
    extra = recognize.load_reader_files(reader_dir or models_dir)
    rows = []
    for narrow, prior, widest in settings:
        reader = recognize.Reader(study, "cnn", *extra, narrow_digit=narrow, span_prior=prior,
                                  widest_span=widest)
        report = numbers_report([(d, reader.read(c)) for d, c in zip(drawings, canvases)])
        rows.append({"narrow_digit": narrow, "span_prior": prior, "widest_span": widest,
                     **report})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grid", nargs="+", type=setting, default=[setting(g) for g in GRID],
                   metavar="NARROW,PRIOR,WIDEST")
    p.add_argument("--models-dir", default="models", help="the study's cnn.npz (and the "
                   "reader files, unless --reader-dir) are read from here (default: models)")
    p.add_argument("--reader-dir", default=None,
                   help="read reader.npz and reader-calibration.json from here instead")
    p.add_argument("--out", default=None, help="write the rows as JSON here")
    args = p.parse_args(argv)
    rows = evaluate(args.grid, args.models_dir, args.reader_dir)
    if args.out:
        write_json(args.out, {"dev_set": f"{DEV_NUMBERS} numbers, training fonts, seed {DEV_SEED}",
                              "rows": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
