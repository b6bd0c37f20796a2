"""Pen strokes for things that are not MNIST digits: characters from fonts, and shapes.

    strokes = char_strokes("dejavu-sans", "A")     # list of (K, 2) arrays, (x, y) in 0..28
    strokes = shape_strokes("star", rng)

Every result lives in MNIST's 28x28 frame (the ink in the central 20x20 box), like
``apps.strokes.digit_strokes``, so ``apps.strokes.place`` puts it anywhere on a canvas and the
app's ``Canvas`` draws it with a brush, exactly as a person's mouse strokes are drawn.

Characters are rendered from a font (TrueType through pygame, or OpenCV's ``putText``),
framed as MNIST frames a digit at four times its resolution, then thinned and walked into
strokes (``skeleton_strokes``): what is drawn is the glyph's centre line, redrawn with a
round brush, not the font's outline. The fonts, and which sets use which, are in
``apps.fonts``.
"""
import functools

import numpy as np

from .fonts import FONTS, pygame_font
from .strokes import skeleton_strokes

RENDER_PX = 128     # font size the glyphs are rendered at
FRAME = 112         # they are traced in a frame this big (4x MNIST's), then scaled to 28

# Characters a person could fairly read as a digit (O and 0, l and 1, S and 5, ...) are never
# used as "not a digit": the sets would otherwise punish a right answer.
DIGIT_LOOKALIKES = set("OoQDIlij|/\\()[]!;:ZzSsBbGgq")
LETTERS = "".join(c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  if c not in DIGIT_LOOKALIKES)
SYMBOLS = "".join(c for c in "+-=*#%&@$?<>{}~^_" if c not in DIGIT_LOOKALIKES)

SHAPES = ("square", "rectangle", "triangle", "diamond", "plus", "cross", "star", "arrow",
          "zigzag", "wave", "spiral", "heart", "check", "crossed-circle", "target",
          "flat-ellipse", "hline", "grid", "smiley", "blob")


def glyph_image(font, char):
    """The character as a float32 (112, 112) image in [0, 1], framed as MNIST frames a digit
    (longer side 80 px, centre of mass in the middle), or None if it has no ink."""
    import cv2
    kind, face = FONTS[font]
    if kind in ("ttf", "system"):
        import pygame
        surface = pygame_font(font, RENDER_PX).render(char, True, (255, 255, 255), (0, 0, 0))
        big = np.ascontiguousarray(pygame.surfarray.array3d(surface)[:, :, 0].T)
    else:
        name, thickness = face
        big = np.zeros((3 * RENDER_PX, 3 * RENDER_PX), np.uint8)
        cv2.putText(big, char, (RENDER_PX // 2, 2 * RENDER_PX),
                    getattr(cv2, "FONT_HERSHEY_" + name), RENDER_PX / 30, 255, thickness,
                    cv2.LINE_AA)
    return _frame(big, FRAME)


def _frame(image, side):
    """MNIST's framing at ``side`` px: the ink's box scaled to 20/28 of the side, centre of
    mass at the centre."""
    import cv2
    rows, cols = np.flatnonzero(image.max(axis=1) > 32), np.flatnonzero(image.max(axis=0) > 32)
    if rows.size == 0:
        return None
    crop = image[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].astype(np.float32) / 255.0
    scale = side * 20 / 28 / max(crop.shape)
    h, w = max(1, round(crop.shape[0] * scale)), max(1, round(crop.shape[1] * scale))
    patch = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
    mass = patch.sum()
    cy = (patch.sum(axis=1) @ np.arange(h)) / mass
    cx = (patch.sum(axis=0) @ np.arange(w)) / mass
    shift = np.float32([[1, 0, side / 2 - 0.5 - cx], [0, 1, side / 2 - 0.5 - cy]])
    return cv2.warpAffine(patch, shift, (side, side), flags=cv2.INTER_LINEAR)


@functools.lru_cache(maxsize=4096)
def _char_strokes(font, char):
    image = glyph_image(font, char)
    return tuple(skeleton_strokes(image > 0.5)) if image is not None else ()


def char_strokes(font, char):
    """Strokes (list of (K, 2) float arrays, 28x28 frame) tracing ``char`` in ``font``."""
    return [s.copy() for s in _char_strokes(font, char)]


# -- shapes, drawn directly in the 28x28 frame ---------------------------------------------
def _poly(points, closed=False):
    pts = np.asarray(points, float)
    return np.vstack([pts, pts[:1]]) if closed else pts


def _ellipse(cx, cy, rx, ry, turns=1.0, start=0.0, n=48):
    t = start + np.linspace(0, 2 * np.pi * turns, max(8, int(n * turns)))
    return np.column_stack([cx + rx * np.cos(t), cy + ry * np.sin(t)])


def shape_strokes(name, rng):
    """Strokes of one shape (random proportions from ``rng``), fitted to the 20x20 box."""
    u = lambda a, b: float(rng.uniform(a, b))  # noqa: E731
    if name == "square":
        s = [_poly([(4, 4), (24, 4), (24, 24), (4, 24)], closed=True)]
    elif name == "rectangle":
        h = u(5, 12)
        s = [_poly([(4, 14 - h), (24, 14 - h), (24, 14 + h), (4, 14 + h)], closed=True)]
    elif name == "triangle":
        top = u(6, 22)
        s = [_poly([(top, 4), (24, 23), (4, 23)], closed=True)]
    elif name == "diamond":
        w = u(7, 10)
        s = [_poly([(14, 4), (14 + w, 14), (14, 24), (14 - w, 14)], closed=True)]
    elif name == "plus":
        s = [_poly([(4, 14), (24, 14)]), _poly([(14, 4), (14, 24)])]
    elif name == "cross":
        s = [_poly([(5, 5), (23, 23)]), _poly([(23, 5), (5, 23)])]
    elif name == "star":
        k = np.arange(6) * 4 * np.pi / 5 - np.pi / 2
        s = [np.column_stack([14 + 10 * np.cos(k), 15 + 10 * np.sin(k)])]
    elif name == "arrow":
        y = u(11, 17)
        s = [_poly([(4, y), (24, y)]), _poly([(18, y - 5), (24, y), (18, y + 5)])]
    elif name == "zigzag":
        n = int(rng.integers(3, 7))
        xs = np.linspace(4, 24, n + 1)
        s = [np.column_stack([xs, np.where(np.arange(n + 1) % 2, 9.0, 19.0)])]
    elif name == "wave":
        x = np.linspace(4, 24, 40)
        s = [np.column_stack([x, 14 + u(3, 6) * np.sin((x - 4) / 20 * 2 * np.pi * u(1, 2.5))])]
    elif name == "spiral":
        t = np.linspace(0, 2 * np.pi * u(2, 3.5), 120)
        r = 10 * t / t[-1]
        s = [np.column_stack([14 + r * np.cos(t), 14 + r * np.sin(t)])]
    elif name == "heart":
        t = np.linspace(0, 2 * np.pi, 60)
        x = 16 * np.sin(t) ** 3
        y = 13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)
        s = [np.column_stack([14 + x * 10 / 16, 14 - y * 10 / 16])]
    elif name == "check":
        s = [_poly([(4, 14), (10, 22), (24, 5)])]
    elif name == "crossed-circle":
        s = [_ellipse(14, 14, 10, 10), _poly([(5, 5), (23, 23)]), _poly([(23, 5), (5, 23)])]
    elif name == "target":
        s = [_ellipse(14, 14, 10, 10), _ellipse(14, 14, u(3, 6), u(3, 6))]
    elif name == "flat-ellipse":
        s = [_ellipse(14, 14, 10, u(2.5, 4))]
    elif name == "hline":
        a = u(-0.45, 0.45)
        s = [_poly([(14 - 10 * np.cos(a), 14 - 10 * np.sin(a)),
                    (14 + 10 * np.cos(a), 14 + 10 * np.sin(a))])]
    elif name == "grid":
        n = int(rng.integers(3, 5))
        at = np.linspace(5, 23, n)
        s = [_poly([(4, y), (24, y)]) for y in at] + [_poly([(x, 4), (x, 24)]) for x in at]
    elif name == "smiley":
        s = [_ellipse(14, 14, 10, 10), _poly([(10, 10), (10, 10.5)]), _poly([(18, 10), (18, 10.5)]),
             _ellipse(14, 15, 5, 4, turns=0.45, start=0.15 * np.pi)]
    elif name == "blob":   # a filled patch: many overlapping passes
        r = u(4, 10)
        t = np.linspace(0, 2 * np.pi * 6, 160)
        rr = r * np.linspace(1, 0.1, t.size)
        s = [np.column_stack([14 + rr * np.cos(t), 14 + rr * np.sin(t)])]
    else:
        raise ValueError(f"unknown shape {name!r}")
    return s


def scribble_strokes(rng):
    """A random smooth curve through 6 to 16 points: a scribble."""
    k = int(rng.integers(6, 17))
    pts = rng.uniform(4, 24, size=(k, 2))
    # Catmull-Rom through the points, 8 samples per segment
    p = np.vstack([pts[:1], pts, pts[-1:]])
    t = np.linspace(0, 1, 8, endpoint=False)[:, None]
    out = []
    for i in range(1, len(p) - 2):
        p0, p1, p2, p3 = p[i - 1], p[i], p[i + 1], p[i + 2]
        out.append(0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t ** 2
                          + (-p0 + 3 * p1 - 3 * p2 + p3) * t ** 3))
    return [np.vstack(out + [pts[-1:]])]


def dot_strokes(rng):
    """One to three dots (strokes of a single point)."""
    n = int(rng.integers(1, 4))
    return [rng.uniform(4, 24, size=(1, 2)) for _ in range(n)]
