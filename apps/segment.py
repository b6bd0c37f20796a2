"""Cutting a piece of ink that may hold touching digits (a 1 against a 0) into candidates.

``nnlite.preprocess.split_digits`` separates digits whose ink does not touch. When two digits
touch they arrive as one piece, wider than a digit. ``cut_options`` proposes where to cut such a
piece: vertical cuts at the columns with the least ink, near where a digit boundary is likely;
the reader (``apps.recognize``) then reads each side and keeps a cut only when every side reads
as a digit more surely than the whole piece does.

    parts = cut_at(crop, (x, y), column)   # [(box, crop)] for the left and right sides

``pieces`` is the reader's first step: the pieces of ink ``split_digits`` finds, with small
pieces next to big ones (a detached stroke) joined to them.
"""
import numpy as np

from nnlite.preprocess.drawing import INK_LEVEL, drawing_to_mnist, split_digits

CUT_RANGE = (0.15, 0.85)   # cuts only in this span of the piece's width (no slivers)
MAX_CUTS = 5               # candidate cuts tried per piece
SMALL = 0.45               # a piece under this fraction of the tallest piece's height is small
ATTACH_GAP = 0.25          # a small piece this close (x the big piece's height) is part of it


def pieces(image):
    """The pieces of ink of a canvas, left to right: [(box (x, y, w, h), (28, 28) input,
    crop of the canvas)]. ``split_digits``'s pieces, except that a small piece (a detached bar
    of a 5, a stray dot) lying next to a big one is joined to it."""
    found = [[box, img] for box, img in split_digits(image)]
    if len(found) > 1:
        tallest = max(box[3] for box, _ in found)
        big = [p for p in found if p[0][3] >= SMALL * tallest]
        kept = list(big)
        for piece in (p for p in found if p[0][3] < SMALL * tallest):
            near = min(big, key=lambda b: _gap(b[0], piece[0]))
            if _gap(near[0], piece[0]) <= ATTACH_GAP * near[0][3]:
                near[0], near[1] = _union(near[0], piece[0]), None
            else:
                kept.append(piece)
        found = sorted(kept, key=lambda p: p[0][0] + p[0][2] / 2)
    out = []
    for (x, y, w, h), img in found:
        crop = image[y:y + h, x:x + w]
        img = drawing_to_mnist(crop) if img is None else img
        out.append(((x, y, w, h), img, crop))
    return out


def _gap(a, b):
    """Distance between two boxes (x, y, w, h); 0 when they overlap."""
    dx = max(0, max(a[0], b[0]) - min(a[0] + a[2], b[0] + b[2]))
    dy = max(0, max(a[1], b[1]) - min(a[1] + a[3], b[1] + b[3]))
    return float(np.hypot(dx, dy))


def _union(a, b):
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


def ink_box(image):
    """(x, y, w, h) of the pixels above INK_LEVEL, or None when there are none."""
    if image.size == 0:
        return None
    rows = np.flatnonzero(image.max(axis=1) > INK_LEVEL)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(image.max(axis=0) > INK_LEVEL)
    return int(cols[0]), int(rows[0]), int(cols[-1] + 1 - cols[0]), int(rows[-1] + 1 - rows[0])


def cut_columns(crop, max_cuts=MAX_CUTS):
    """Up to ``max_cuts`` columns of ``crop`` (uint8, H x W) to cut at, thinnest ink first,
    at least a tenth of the width apart."""
    h, w = crop.shape
    ink = (crop > INK_LEVEL).sum(axis=0).astype(float)
    ink = np.convolve(ink, np.ones(3) / 3, mode="same")          # one-pixel gaps are noise
    lo, hi = max(1, int(CUT_RANGE[0] * w)), min(w - 1, int(CUT_RANGE[1] * w))
    order = lo + np.argsort(ink[lo:hi], kind="stable")
    picked = []
    for c in order:
        if all(abs(int(c) - p) >= max(2, w // 10) for p in picked):
            picked.append(int(c))
        if len(picked) == max_cuts:
            break
    return picked


def cut_at(crop, origin, column):
    """The two sides of ``crop`` cut at ``column``, trimmed to their ink:
    [(box (x, y, w, h) in canvas pixels, crop)] (a side without ink is left out)."""
    x0, y0 = origin
    parts = []
    for side, dx in ((crop[:, :column], 0), (crop[:, column:], column)):
        box = ink_box(side)
        if box is None:
            continue
        bx, by, bw, bh = box
        parts.append(((x0 + dx + bx, y0 + by, bw, bh), side[by:by + bh, bx:bx + bw]))
    return parts
