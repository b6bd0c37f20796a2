"""Training images for the reader cut the way ``apps.segment`` cuts touching digits.

When digits touch, ``segment`` reads every digit-wide span between two likely boundaries and
keeps the row whose spans read surest. A span that straddles two digits, or holds only a
fragment of one, must therefore read as "not one digit": otherwise a 6's left stroke reads as
a confident 1 and its bowl as a 5. Here touching numbers are written with known digit
positions, cut at the same boundaries (``boundary_columns``), and each span is labelled by
how much of each digit's width it covers:

    one digit >= WHOLE, every other <= STRAY    -> that digit (a digit with bits of its neighbours)
    two or more digits >= STRADDLE              -> "touching digits"
    one digit between STRAY and PART, no other  -> "not a digit" (a fragment)
    anything else                               -> not used (ambiguous)

A fragment thinner than ``THIN`` times the piece's height is not used either, nor any
fragment of a 1: a lone vertical stroke is a fine 1, and must keep reading as one.

    x, y = span_samples(x_train, y_train, numbers=4000, fonts=fonts.TRAIN_FONTS, seed=5)
"""
import numpy as np

from nnlite.preprocess.drawing import drawing_to_mnist

from . import fonts, glyphs, synth
from .recognize import NOT_A_DIGIT, TOUCHING
from .segment import digit_spans, pieces, trimmed
from .strokes import digit_strokes

WHOLE, STRAY, STRADDLE, PART = 0.85, 0.15, 0.3, 0.6
THIN = 0.35
PER_NUMBER = {"digit": 1, "straddle": 2, "fragment": 1}   # spans kept from each number
MNIST_SHARE = 0.5          # of the numbers written with traced MNIST training digits


def touching_number(rng, x_train, y_train, fonts, use_mnist, mnist_limit):
    """A number of 2-3 touching digits and the canvas x-extent of each digit:
    (Drawing, [(x0, x1)], label string)."""
    count = int(rng.integers(2, 4))
    if use_mnist:
        picks = rng.integers(0, mnist_limit, count)
        shapes = [digit_strokes(x_train[k]) for k in picks]
        label = "".join(str(y_train[k]) for k in picks)
    else:
        label = "".join(map(str, rng.integers(0, 10, count)))
        font = fonts[int(rng.integers(len(fonts)))]
        shapes = [synth.jitter(glyphs.char_strokes(font, ch), rng, rotate=6) for ch in label]
    drawing = synth.write_number(shapes, label, rng, int(rng.choice(synth.CANVAS_SIZES)),
                                 touching=True)
    extents, start = [], 0
    for s in shapes:              # write_number keeps the strokes in order, digit by digit
        xs = np.concatenate([p[:, 0] for p in drawing.strokes[start:start + len(s)]])
        extents.append((xs.min() - drawing.brush / 2, xs.max() + drawing.brush / 2))
        start += len(s)
    return drawing, extents, label


def span_kind(lo, hi, extents, label):
    """("digit", k), ("straddle", None), ("fragment", None) or (None, None) for a span
    [lo, hi) of canvas columns over the digits ``label`` at ``extents``."""
    cover = np.array([max(0.0, min(hi, b) - max(lo, a)) / max(b - a, 1e-9)
                      for a, b in extents])
    order = np.argsort(cover)[::-1]
    first, second = cover[order[0]], (cover[order[1]] if len(cover) > 1 else 0.0)
    if first >= WHOLE and second <= STRAY:
        return "digit", int(order[0])
    if second >= STRADDLE:
        return "straddle", None
    if STRAY <= first <= PART and second <= STRAY / 2 and label[order[0]] != "1":
        return "fragment", None
    return None, None


def number_spans(drawing, extents, label):
    """Every digit-wide span ``segment`` would read in the drawing's one piece of ink:
    [(kind, digit index or None, (28, 28) image)]; [] when the number is not one piece."""
    found = pieces(drawing.render())
    if len(found) != 1:
        return []
    (ox, _, _, _), _, crop = found[0]
    h = crop.shape[0]
    cuts, spans = digit_spans(crop)
    out = []
    for i, j in spans:
        kind, k = span_kind(ox + cuts[i], ox + cuts[j], extents, label)
        part = trimmed(crop[:, cuts[i]:cuts[j]], (cuts[i], 0)) if kind else None
        if kind == "fragment" and part and part[0][2] < THIN * h:
            continue
        image = drawing_to_mnist(part[1]) if part else None
        if image is not None:
            out.append((kind, k, image))
    return out


def span_samples(x_train, y_train, numbers, fonts, seed, per_number=None, mnist_limit=48_000):
    """Spans of ``numbers`` touching numbers, ``per_number`` (default ``PER_NUMBER``) of each
    kind from each:
    (x (N, 28, 28) float32 in [0, 1], y (N,) int64: 0-9, NOT_A_DIGIT or TOUCHING)."""
    rng = np.random.default_rng(seed)
    label_of = {"straddle": TOUCHING, "fragment": NOT_A_DIGIT}
    xs, ys = [], []
    for _ in range(numbers):
        drawing, extents, label = touching_number(rng, x_train, y_train, fonts,
                                                  rng.random() < MNIST_SHARE, mnist_limit)
        spans = number_spans(drawing, extents, label)
        for kind, keep in (per_number or PER_NUMBER).items():
            of_kind = [s for s in spans if s[0] == kind]
            for pick in rng.permutation(len(of_kind))[:keep]:
                _, k, image = of_kind[pick]
                xs.append(image)
                ys.append(int(label[k]) if kind == "digit" else label_of[kind])
    if not xs:
        return np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int64)
    return np.stack(xs).astype(np.float32), np.array(ys, np.int64)
