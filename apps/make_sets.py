"""Write the committed drawing sets (apps/data/*.npz, pen strokes) and a picture of them.

    python -m apps.make_sets            # seconds; the same files on every run (fixed seeds)

All sets use the EVALUATION fonts only (``apps.fonts.EVAL_FONTS``); the reader model learns
from the disjoint training fonts. What each file holds:

    digits.npz      100 drawings of each digit 0-9, fonts in turn, jittered, any size and place
    nondigits.npz   1000 letters, symbols, shapes, scribbles and dots (no digit look-alikes)
    numbers.npz     300 numbers of 2-5 digits, 30 % with touching digits
    writers.npz     per "writer" (one font each, ``WRITERS``): 20 drawings of each digit, the
                    first 5 per digit for teaching, the other 15 held out

The digits are font glyphs traced into strokes and redrawn with a round brush (see
``apps.glyphs``): they stand in for writers who are not in MNIST; they are not handwriting.
"""
import argparse
import os

import numpy as np

from . import fonts, synth

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
WRITERS = ("cm-italic", "freesans-bold", "dejavu-sans-oblique", "stix-italic")
PER_WRITER_DIGIT = 20
SEEDS = {"digits": 101, "nondigits": 102, "numbers": 103, "writers": 104}


def make_sets():
    """{name: [Drawing]} for every committed set."""
    writers = []
    for i, font in enumerate(WRITERS):
        writers += synth.writer_set(font, PER_WRITER_DIGIT, SEEDS["writers"] + i)
    return {"digits": synth.digits_set(fonts.EVAL_FONTS, 100, SEEDS["digits"]),
            "nondigits": synth.nondigits_set(fonts.EVAL_FONTS, 1000, SEEDS["nondigits"]),
            "numbers": synth.numbers_set(fonts.EVAL_FONTS, 300, SEEDS["numbers"]),
            "writers": writers}


def contact_sheet(sets, path, per_set=20, tile=96):
    """One row of ``per_set`` thumbnails per set, written as a PNG."""
    import cv2
    rows, rng = [], np.random.default_rng(0)
    for drawings in sets.values():
        tiles = []
        for i in rng.choice(len(drawings), size=min(per_set, len(drawings)), replace=False):
            d = drawings[i]
            t = cv2.resize(d.render(), (tile, tile), interpolation=cv2.INTER_AREA)
            t[0, :], t[:, 0] = 70, 70
            tiles.append(t)
        rows.append(np.hstack(tiles))
    cv2.imwrite(path, np.vstack(rows))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out-dir", default=DATA_DIR)
    p.add_argument("--sheet", default=None, help="also write a PNG with examples of each set")
    args = p.parse_args(argv)
    os.makedirs(args.out_dir, exist_ok=True)
    sets = make_sets()
    for name, drawings in sets.items():
        path = os.path.join(args.out_dir, f"{name}.npz")
        synth.save_set(path, drawings)
        print(f"{path}: {len(drawings)} drawings, {os.path.getsize(path) / 1e3:.0f} kB")
    if args.sheet:
        contact_sheet(sets, args.sheet)
        print(f"wrote {args.sheet}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
