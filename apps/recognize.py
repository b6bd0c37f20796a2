"""Reading a canvas: the digits on it, left to right, each a digit or "not a digit".

    from apps.recognize import read_canvas
    for r in read_canvas(image):             # image: uint8 (H, W), white ink on black
        print(r.digit, r.probs.max(), r.box)  # digit: int, or None for "not a digit"

How (one call, a few milliseconds for a digit):
1. ``nnlite.preprocess.split_digits`` finds the pieces of ink, left to right, each turned into
   an MNIST-style 28x28 image and a crop holding only its own ink; a small piece next to a
   big one (a 5's detached bar) joins it (``apps.segment.pieces``).
2. A piece the reader takes for touching digits (and without the reader: one wider than a
   digit, read unsurely) is read as a row of digits (``apps.segment.segment``): every span
   between two likely boundaries, cut upright and as drawn and without the small bits of its
   neighbours the cut leaves in it, is read, and the row whose spans read surest together is
   kept when every span reads as a digit.
3. The study model (models/<model>.npz, 10 logits) gives each piece its probabilities, averaged
   with the reader's digit probabilities when the reader is there (and, with
   ``upright_vote``, with the piece read sheared upright by its own slant). The
   piece is "not a digit" (digit None, ``why`` says which rule) when
   - it is a dot: shorter than ``DOT_LENGTH`` stroke widths; or
   - it is much smaller than the tallest piece (the digits of a number share a height); or
   - the reader model (models/reader.npz: 0-9, "not a digit" and "touching digits", trained
     on MNIST and on generated letters, symbols, shapes, scribbles and touching numbers) gives
     "not one digit" a probability above its threshold; or
   - the study model's energy, logsumexp(logits), is below its threshold: the drawing excites
     none of the classes the way digits do.
   Both thresholds come from models/reader-calibration.json, set on MNIST validation digits
   drawn through the canvas so that together they flag under 1 % of digits (0.5 % + 0.2 %)
   (``python -m apps.reader_train`` writes both files).
Without the reader files only the dot rule applies.
"""
import json
import os

import numpy as np

from nnlite import load_model
from nnlite.activations import softmax
from nnlite.errors import InputError
from nnlite.preprocess.drawing import drawing_to_mnist, stroke_width

from .digit_reading import DigitReading, energy as energy_of, logits_of
from .segment import DIGIT_WIDTH, EDGE_BITS, SMALL, deslant, pieces, segment

READER_FILE = "reader.npz"
CALIBRATION_FILE = "reader-calibration.json"
NOT_A_DIGIT = 10          # the reader's eleventh class
TOUCHING = 11             # its twelfth: two or more digits whose ink touches
DOT_LENGTH = 2.5          # a piece shorter than this many stroke widths is a dot
SPLIT_ASPECT = 0.6        # only pieces wider than this times their height are cut
SPLIT_BELIEF = 0.2        # ... when the reader gives "touching digits" at least this,
SURE_PART = 0.5           # and kept when every side reads at least this surely
UNSURE_WHOLE = 0.9        # without the reader: when the whole reads under this,
SPLIT_MARGIN = 0.2        # and the sides at least this much more surely
NARROW_DIGIT = 0.55       # a span narrower than this times the piece's height is thin for
NARROW_ZERO = 1           # 1: a narrow 0 is not thin for a digit either (a 0 may be tall)
SPAN_PRIOR = 0.5          # a digit other than 1; each span's score is multiplied by this
READER_VOTE = 0.5         # weight of the reader's digit probabilities in ``probs``
UPRIGHT_VOTE = 0.0        # weight of each piece read sheared upright too (0: read as drawn only)


class Reader:
    """A study model plus what it needs to say "not a digit".

    logits: function (N, 28, 28) -> (N, 10) logits of the study model; name: its name in the
    calibration ("cnn", ...); reader: the reader model (nnlite, 12 logits) or None;
    calibration: the dict of reader-calibration.json, or None; narrow_digit, span_prior,
    widest_span: how touching digits are cut (``NARROW_DIGIT``, ``SPAN_PRIOR``,
    ``apps.segment.DIGIT_WIDTH[1]``); reader_vote: the weight of the reader's digit
    probabilities against the study model's (``READER_VOTE``); upright_vote: the weight of
    each piece's reading sheared upright (``UPRIGHT_VOTE``); split_belief, sure_part: when a
    wide piece is cut into touching digits (``SPLIT_BELIEF``, ``SURE_PART``); edge_bits: the
    largest share of a span's ink that is dropped as a neighbour's bit
    (``apps.segment.without_edge_bits``).
    ``apps.segment_dev`` compares settings."""

    def __init__(self, logits, name="cnn", reader=None, calibration=None,
                 narrow_digit=NARROW_DIGIT, span_prior=SPAN_PRIOR, widest_span=DIGIT_WIDTH[1],
                 reader_vote=READER_VOTE, upright_vote=UPRIGHT_VOTE, split_belief=SPLIT_BELIEF,
                 sure_part=SURE_PART, edge_bits=EDGE_BITS, narrow_zero=NARROW_ZERO):
        self.logits, self.name = logits, name
        self.edge_bits = edge_bits
        self.thin = (0, 1) if narrow_zero else (1,)
        self.split_belief, self.sure_part = split_belief, sure_part
        self.reader = reader
        self.narrow_digit, self.span_prior = narrow_digit, span_prior
        self.digit_width = (DIGIT_WIDTH[0], widest_span)
        self.reader_vote, self.upright_vote = reader_vote, upright_vote
        cal = calibration or {}
        self.not_digit_above = cal.get("reader", {}).get("not_digit_above") if reader else None
        self.energy_below = cal.get("energy_below", {}).get(name)

    @classmethod
    def load(cls, models_dir="models", model="cnn", **cutting):
        """The study model models_dir/<model>.npz, with the reader files beside it if present;
        ``cutting``: the keyword settings of ``Reader`` (narrow_digit, span_prior, ...)."""
        study = load_model(os.path.join(models_dir, f"{model}.npz"))
        reader, calibration = load_reader_files(models_dir)
        return cls(logits_of(study), model, reader, calibration, **cutting)

    # -- scoring ------------------------------------------------------------------------------
    def judge(self, items):
        """items: [(box, image28, crop)] -> [DigitReading], one batch through the models."""
        if not items:
            return []
        x = np.stack([img for _, img, _ in items]).astype(np.float32)
        probs, z, q = self._which_digit(x)
        energy = energy_of(z)
        if q is not None:
            not_digit, touching = q[:, NOT_A_DIGIT:].sum(axis=1), q[:, TOUCHING]
        else:
            not_digit = touching = [None] * len(x)
        if self.upright_vote:       # which digit, also asked of the piece stood upright
            upright = np.stack([_upright(img, crop) for _, img, crop in items])
            probs = ((1 - self.upright_vote) * probs
                     + self.upright_vote * self._which_digit(upright)[0])
        out = []
        for (box, img, crop), p, e, nd, t in zip(items, probs, energy, not_digit, touching):
            why = self._why_not(box, crop, e, nd)
            out.append(DigitReading(None if why else int(p.argmax()), p.astype(np.float32), box,
                                    img, why, None if nd is None else float(nd),
                                    None if t is None else float(t), float(e)))
        return out

    def _which_digit(self, x):
        """(N, 28, 28) -> (probs (N, 10), the study model's logits, the reader's (N, 12)
        probabilities or None). The reader has seen printed digits as well as MNIST: its
        vote on WHICH digit (its digit probabilities, renormalised) is mixed in."""
        z = np.asarray(self.logits(x), np.float64)
        if self.reader is None:
            return softmax(z), z, None
        q = softmax(np.asarray(logits_of(self.reader)(x), np.float64))
        digits = q[:, :NOT_A_DIGIT] / np.maximum(q[:, :NOT_A_DIGIT].sum(1, keepdims=True), 1e-12)
        return (1 - self.reader_vote) * softmax(z) + self.reader_vote * digits, z, q

    def _why_not(self, box, crop, energy, not_digit):
        width = stroke_width(crop > 127)
        if max(box[2], box[3]) < DOT_LENGTH * max(width, 1.0):
            return "a dot"
        if self.not_digit_above is not None and not_digit > self.not_digit_above:
            return f"not one digit (reader: {not_digit:.0%})"
        if self.energy_below is not None and energy < self.energy_below:
            return f"unlike any digit the model knows (energy {energy:.1f})"
        return ""

    # -- reading a canvas ----------------------------------------------------------------------
    def read(self, canvas):
        """The digits of ``canvas`` (uint8 (H, W), white on black), left to right."""
        items = pieces(check_canvas(canvas))
        readings = []
        for item, whole in zip(items, self.judge(items)):
            readings += self._split(item, whole)
        tallest = max((r.box[3] for r in readings), default=0)
        for r in readings:
            if r.digit is not None and r.box[3] < SMALL * tallest:
                r.digit, r.why = None, "much smaller than the other digits"
        return sorted(readings, key=lambda r: r.box[0] + r.box[2] / 2)

    def _split(self, item, whole):
        """``whole`` (the piece read as one), or its touching digits when a row of digit-wide
        spans reads better (``apps.segment.segment``)."""
        box, _, crop = item
        if box[2] <= SPLIT_ASPECT * box[3]:
            return [whole]
        if whole.touching is not None:
            if whole.touching < self.split_belief:
                return [whole]
            needed = self.sure_part
        elif whole.digit is None or whole.confidence >= UNSURE_WHOLE:
            return [whole]
        else:
            needed = whole.confidence + SPLIT_MARGIN
        readings, _ = segment(crop, box[:2], self.judge, self._span_score_of(box[3]),
                              self.digit_width, self.edge_bits)
        if len(readings) < 2 or min(r.confidence for r in readings) < needed:
            return [whole]
        return readings

    def _span_score_of(self, height):
        """How good a span of a touching piece (``height`` pixels tall) is as one digit of it:
        its confidence, less for a digit other than 1 much narrower than digits are (the right
        half of a 6 reads as a 5), and multiplied by the span prior (halved per span: a cut
        must earn its place)."""
        narrow = self.narrow_digit * height

        def score(reading):
            squeeze = 1.0 if reading.digit in self.thin or reading.box[2] >= narrow else \
                (reading.box[2] / narrow) ** 2
            return reading.confidence * squeeze * self.span_prior
        return score


def _upright(image, crop):
    """The 28x28 input of ``crop`` sheared upright by its own slant (``apps.segment.deslant``);
    ``image`` when it does not lean."""
    sheared, _ = deslant(crop)
    found = drawing_to_mnist(sheared) if sheared is not crop else None
    return image if found is None else found.astype(np.float32)


def check_canvas(canvas):
    """``canvas`` as a 2-D uint8 array, or InputError saying what is wrong with it."""
    arr = np.asarray(canvas)
    if arr.ndim != 2 or arr.size == 0:
        raise InputError(f"canvas: expected a 2-D image (H, W), got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise InputError(f"canvas: expected uint8 (0..255, white ink on black), got {arr.dtype}")
    return np.ascontiguousarray(arr)


def load_reader_files(models_dir):
    """(reader model or None, calibration dict or None) from ``models_dir``."""
    path = os.path.join(models_dir, READER_FILE)
    cal_path = os.path.join(models_dir, CALIBRATION_FILE)
    reader = load_model(path) if os.path.exists(path) else None
    calibration = None
    if os.path.exists(cal_path):
        with open(cal_path, encoding="utf-8") as fh:
            calibration = json.load(fh)
    return reader, calibration


_CACHE = {}


def _cached(what, models_dir, *key):
    """Loaded once per folder and file version: the reader files, or a study model's Reader."""
    names = [READER_FILE, CALIBRATION_FILE] + [f"{k}.npz" for k in key if isinstance(k, str)]
    paths = [os.path.join(os.path.abspath(models_dir), name) for name in names]
    stamp = (what, *key, *((p, os.path.getmtime(p)) for p in paths if os.path.exists(p)))
    if stamp not in _CACHE:
        _CACHE[stamp] = (load_reader_files(models_dir) if what == "files"
                         else Reader.load(models_dir, *key))
    return _CACHE[stamp]


def read_canvas(canvas, models_dir="models", model="cnn"):
    """The digits on ``canvas`` (2-D uint8, white ink on black, any size), left to right:
    a list of ``DigitReading`` (.digit int or None for "not a digit", .probs (10,), .box
    (x, y, w, h) in canvas pixels); [] for an empty canvas. ``model``: "ann", "cnn", "vgg16"
    (read from ``models_dir``, loaded once) or a loaded nnlite model; the reader files are
    taken from ``models_dir`` either way."""
    if isinstance(model, str):
        reader = _cached("reader", models_dir, model)
    else:
        extra, calibration = _cached("files", models_dir)
        reader = Reader(logits_of(model), getattr(model, "name", "cnn"), extra, calibration)
    return reader.read(canvas)
