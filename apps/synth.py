"""Generated drawings for measuring (and teaching) the app's reader, as pen strokes.

A ``Drawing`` is what a person's mouse would leave: strokes in canvas pixels, a brush width
and a canvas size; ``render(drawing)`` draws it with the app's own ``Canvas``. Every set is
made from a seed, so the same call gives the same drawings on any machine with the same
fonts; the committed sets (apps/data/*.npz, written by ``python -m apps.make_sets``) store
the strokes, not the pixels.

    digits_set(fonts, per_class, seed)   font digits 0-9, jittered, any size and place
    nondigits_set(fonts, n, seed)        letters, symbols, shapes, scribbles, dots
    numbers_set(fonts, n, seed)          2- to 5-digit numbers, some with touching digits

The digits are font glyphs redrawn as strokes (see ``apps.glyphs``), not handwriting: they
stand in for writers whose digits are not in MNIST.
"""
import numpy as np

from . import glyphs
from .canvas import render as render_strokes
from .strokes import digit_strokes, place

CANVAS_SIZES = (320, 448, 640)
STROKE_RATIO = (0.07, 0.15)   # brush width / glyph height (MNIST's median: 0.108)
FIXED = 8                     # stored coordinates are multiples of 1/8 px
KINDS = ("letter", "symbol", "shape", "scribble", "dot")
KIND_SHARES = (0.45, 0.15, 0.25, 0.10, 0.05)


class Drawing:
    """Strokes [(K, 2) float, canvas px], brush px, canvas side, label ("7", "2026", "" for
    not a digit) and kind (what it is, e.g. "letter A dejavu-sans")."""

    def __init__(self, strokes, brush, size, label, kind):
        self.strokes, self.brush, self.size = strokes, int(brush), int(size)
        self.label, self.kind = str(label), str(kind)

    def render(self):
        return render_strokes(self.strokes, self.brush, self.size)


def jitter(strokes, rng, rotate=12, shear=0.25, squeeze=(0.8, 1.15), wobble=0.35):
    """Random affine (rotation in degrees, shear, horizontal squeeze) about the frame's centre,
    plus a smooth random wobble (px of the 28 frame) along each stroke."""
    a = np.radians(rng.uniform(-rotate, rotate))
    m = (np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
         @ np.array([[1.0, rng.uniform(-shear, shear)], [0.0, 1.0]])
         @ np.diag([rng.uniform(*squeeze), 1.0]))
    out = []
    for s in strokes:
        p = (s - 14.0) @ m.T + 14.0
        if wobble and len(p) > 2:
            phase, freq = rng.uniform(0, 2 * np.pi, 2), rng.uniform(0.5, 2.0)
            t = np.linspace(0, 2 * np.pi * freq, len(p))[:, None]
            p = p + wobble * np.sin(t + phase)
        out.append(p)
    return out


def _brush(glyph_px, rng):
    return int(np.clip(round(rng.uniform(*STROKE_RATIO) * glyph_px), 3, 120))


def _placed(strokes, rng, size, min_glyph=40):
    """Place 28-frame strokes at a random size and position on a size x size canvas."""
    glyph = rng.uniform(min_glyph, 0.9 * size)          # ink height, px (the 20 px of 28)
    box = glyph * 28 / 20
    x0 = rng.uniform(-0.14 * box, size - 0.86 * box)
    y0 = rng.uniform(-0.14 * box, size - 0.86 * box)
    return place(strokes, (x0, y0, box)), _brush(glyph, rng)


def digits_set(fonts, per_class, seed):
    """``per_class`` drawings of each digit 0-9, from fonts taken in turn, jittered."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(per_class):
        for d in range(10):
            font = fonts[(i * 10 + d) % len(fonts)]
            size = int(rng.choice(CANVAS_SIZES))
            strokes, brush = _placed(jitter(glyphs.char_strokes(font, str(d)), rng), rng, size)
            out.append(Drawing(strokes, brush, size, str(d), f"digit {d} {font}"))
    return out


def mnist_drawings(images, labels, seed, kind="mnist"):
    """MNIST digits traced into strokes (``digit_strokes``) and drawn at a random size and
    place, with a random brush, as ``digits_set`` draws font digits."""
    rng = np.random.default_rng(seed)
    out = []
    for image, label in zip(images, labels):
        size = int(rng.choice(CANVAS_SIZES))
        strokes, brush = _placed(digit_strokes(image), rng, size)
        out.append(Drawing(strokes, brush, size, str(int(label)), kind))
    return out


def writer_set(font, per_class, seed, size=448):
    """One "writer": ``per_class`` jittered drawings of each digit in one font, drawn large
    enough to read on the app's canvas (labels "0".."9")."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(per_class):
        for d in range(10):
            strokes = jitter(glyphs.char_strokes(font, str(d)), rng)
            glyph = rng.uniform(0.35, 0.8) * size
            box = glyph * 28 / 20
            x0, y0 = rng.uniform(0, size - 0.86 * box, 2) - 0.14 * box / 2
            out.append(Drawing(place(strokes, (x0, y0, box)), _brush(glyph, rng), size, str(d),
                               f"digit {d} {font}"))
    return out


def nondigit_strokes(kind, fonts, rng):
    """Strokes (28 frame) and a description of one random thing of ``kind`` (not a digit)."""
    if kind in ("letter", "symbol"):
        chars = glyphs.LETTERS if kind == "letter" else glyphs.SYMBOLS
        font, char = fonts[int(rng.integers(len(fonts)))], chars[int(rng.integers(len(chars)))]
        return jitter(glyphs.char_strokes(font, char), rng), f"{kind} {char} {font}"
    if kind == "shape":
        name = glyphs.SHAPES[int(rng.integers(len(glyphs.SHAPES)))]
        return jitter(glyphs.shape_strokes(name, rng), rng, rotate=20), f"shape {name}"
    if kind == "scribble":
        return glyphs.scribble_strokes(rng), "scribble"
    return glyphs.dot_strokes(rng), "dot"


def nondigits_set(fonts, n, seed):
    """``n`` drawings that are not digits, ``KIND_SHARES`` of each kind."""
    rng = np.random.default_rng(seed)
    out = []
    for kind in rng.choice(KINDS, size=n, p=KIND_SHARES):
        strokes, what = nondigit_strokes(str(kind), fonts, rng)
        size = int(rng.choice(CANVAS_SIZES))
        if not strokes:
            continue
        strokes, brush = _placed(strokes, rng, size, min_glyph=20 if kind == "dot" else 40)
        out.append(Drawing(strokes, brush, size, "", what))
    return out


def _extent(strokes):
    xs = np.concatenate([s[:, 0] for s in strokes])
    return xs.min(), xs.max()


def number_drawing(digits, font, rng, size=448, touching=False):
    """The number ``digits`` (a string) written left to right in one font; with ``touching``
    neighbouring digits' ink meets or overlaps a little."""
    shapes = [jitter(glyphs.char_strokes(font, ch), rng, rotate=6) for ch in digits]
    return write_number(shapes, digits, rng, size, touching,
                        f"number {digits} {font}" + (" touching" if touching else ""))


def write_number(shapes, label, rng, size=448, touching=False, kind="number"):
    """Digits given as strokes in the 28 frame (one list per digit) written left to right at
    one random size and place, with gaps (or, ``touching``, ink that meets)."""
    n = len(shapes)
    largest = min(0.55 * size, 0.85 * size / (0.75 * n))
    glyph = rng.uniform(min(40, largest), largest)
    brush = _brush(glyph, rng)
    scale = glyph / 20                                  # canvas px per 28-frame px
    strokes, cursor = [], 0.0
    for s in shapes:
        lo, hi = _extent(s)
        gap = (rng.uniform(0.4, 1.0) * brush if touching
               else brush + rng.uniform(0.1, 0.45) * glyph)
        left = cursor + (gap if strokes else 0.0) - lo * scale
        dy = rng.normal(0, 0.03) * glyph
        strokes += [np.column_stack([left + p[:, 0] * scale, dy + p[:, 1] * scale]) for p in s]
        cursor = left + hi * scale
    pts = np.vstack(strokes)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    need = float((hi - lo).max()) + brush
    if need > size:          # wide glyphs and gaps can outgrow the canvas: shrink to fit
        f = size / need
        strokes = [lo + (s - lo) * f for s in strokes]
        brush = max(3, int(brush * f))
        hi = lo + (hi - lo) * f
    room = np.maximum(size - (hi - lo) - brush, 0)
    shift = rng.uniform(0, 1, 2) * room + brush / 2 - lo
    return Drawing([s + shift for s in strokes], brush, size, label, kind)


def numbers_set(fonts, n, seed, touching_share=0.3):
    """``n`` numbers of 2 to 5 digits, each in one font; ``touching_share`` with touching digits."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        digits = "".join(str(d) for d in rng.integers(0, 10, size=int(rng.integers(2, 6))))
        out.append(number_drawing(digits, fonts[i % len(fonts)], rng,
                                  touching=bool(rng.random() < touching_share)))
    return out


# -- storing sets as strokes -----------------------------------------------------------------------
def save_set(path, drawings):
    """Write drawings to one compressed .npz (coordinates to 1/8 px)."""
    strokes = [s for d in drawings for s in d.strokes]
    points = np.vstack(strokes)
    np.savez_compressed(
        path, points=np.clip(np.round(points * FIXED), -32000, 32000).astype(np.int16),
        stroke_points=np.array([len(s) for s in strokes], np.int32),
        drawing_strokes=np.array([len(d.strokes) for d in drawings], np.int32),
        brush=np.array([d.brush for d in drawings], np.int16),
        size=np.array([d.size for d in drawings], np.int16),
        label=np.array([d.label for d in drawings]), kind=np.array([d.kind for d in drawings]))


def load_set(path):
    """The drawings of a set written by ``save_set``."""
    with np.load(path, allow_pickle=False) as z:
        points = z["points"].astype(np.float64) / FIXED
        strokes = np.split(points, np.cumsum(z["stroke_points"])[:-1])
        per = np.split(np.arange(len(strokes)), np.cumsum(z["drawing_strokes"])[:-1])
        return [Drawing([strokes[i] for i in idx], b, s, lab, kind)
                for idx, b, s, lab, kind in zip(per, z["brush"], z["size"], z["label"], z["kind"])]
