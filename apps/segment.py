"""Cutting a piece of ink that may hold touching digits (a 1 against a 0) into candidates.

``nnlite.preprocess.split_digits`` separates digits whose ink does not touch. When two digits
touch they arrive as one piece, wider than a digit. ``cut_options`` proposes where to cut such a
piece: vertical cuts at the columns with the least ink, near where a digit boundary is likely;
the reader (``apps.recognize``) then reads each side and keeps a cut only when every side reads
as a digit more surely than the whole piece does.

    parts = cut_at(crop, (x, y), column)   # [(box, crop)] for the left and right sides
"""
import numpy as np

from nnlite.preprocess.drawing import INK_LEVEL

CUT_RANGE = (0.15, 0.85)   # cuts only in this span of the piece's width (no slivers)
MAX_CUTS = 5               # candidate cuts tried per piece


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
