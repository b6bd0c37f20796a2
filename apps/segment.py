"""Cutting a piece of ink that may hold touching digits (a 1 against a 0) into digits.

``nnlite.preprocess.split_digits`` separates digits whose ink does not touch. When digits
touch they arrive as one piece, wider than a digit. ``segment`` reads such a piece the way a
person would try: it proposes boundaries (``boundary_columns``: the columns with the least
ink, and even spacings for the digit counts the width allows), reads every span between two
boundaries that is as wide as a digit can be, and keeps the sequence of spans whose readings
are surest together (dynamic programming over the boundaries: the largest sum of the spans'
log confidences). The reader (``apps.recognize``) accepts it only when every span
reads as a digit.

    readings, log_score = segment(crop, (x, y), judge, confidence)

``pieces`` is the reader's first step: the pieces of ink ``split_digits`` finds, with small
pieces next to big ones (a detached stroke) joined to them.
"""
import numpy as np

from nnlite.preprocess.drawing import INK_LEVEL, drawing_to_mnist, split_digits

MAX_BOUNDARIES = 14        # boundaries tried inside one piece (the spans grow as their square)
DIGIT_WIDTH = (0.12, 1.0)  # a digit's span: this many times the piece's height, at least/most
FLOOR = 1e-6               # a span read as "not a digit" scores this (a log of 0 is no order)
SMALL = 0.45               # a piece under this fraction of the tallest piece's height is small
ATTACH_GAP = 0.25          # a small piece this close (x the big piece's height) is part of it
EDGE_BITS = 0.1            # a span's bit of ink cut off a neighbour: at most this share of it


def pieces(image):
    """The pieces of ink of a canvas, left to right: [(box (x, y, w, h), (28, 28) input,
    crop of the canvas)]. ``split_digits``'s pieces, except that a small piece (a detached bar
    of a 5, a stray dot) lying next to a big one is joined to it."""
    found = [list(p) for p in split_digits(image, with_ink=True)]
    if len(found) > 1:
        tallest = max(p[0][3] for p in found)
        big = [p for p in found if p[0][3] >= SMALL * tallest]
        kept = list(big)
        for piece in (p for p in found if p[0][3] < SMALL * tallest):
            near = min(big, key=lambda b: _gap(b[0], piece[0]))
            if _gap(near[0], piece[0]) <= ATTACH_GAP * near[0][3]:
                box = _union(near[0], piece[0])
                near[:] = box, None, _ink_of(box, near, piece)
            else:
                kept.append(piece)
        found = sorted(kept, key=lambda p: p[0][0] + p[0][2] / 2)
    # A piece's crop is its own ink: a neighbour reaching into its box (an italic digit's
    # tail) would otherwise be cut and read as a digit of it.
    return [(box, drawing_to_mnist(ink) if img is None else img, ink)
            for box, img, ink in found]


def _ink_of(box, *parts):
    """The ink of ``parts`` ([box, image, ink] each) drawn in one crop covering ``box``."""
    out = np.zeros((box[3], box[2]), np.uint8)
    for (x, y, w, h), _, ink in parts:
        window = out[y - box[1]:y - box[1] + h, x - box[0]:x - box[0] + w]
        np.maximum(window, ink, out=window)
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


def trimmed(crop, origin):
    """``crop`` trimmed to its ink: (box (x, y, w, h) with ``origin`` added, trimmed crop), or
    None when it holds no ink."""
    box = ink_box(crop)
    if box is None:
        return None
    bx, by, bw, bh = box
    return (origin[0] + bx, origin[1] + by, bw, bh), crop[by:by + bh, bx:bx + bw]


def boundary_columns(crop, max_boundaries=MAX_BOUNDARIES):
    """Where touching digits may meet, inside ``crop`` (uint8, H x W): the local minima of the
    (smoothed) ink per column, thinnest first, and the even cuts into k digits for every k the
    width allows; sorted, at least a few pixels apart."""
    h, w = crop.shape
    ink = np.convolve((crop > INK_LEVEL).sum(axis=0).astype(float), np.ones(3) / 3, mode="same")
    inner = np.arange(1, w - 1)
    minima = inner[(ink[1:-1] <= ink[:-2]) & (ink[1:-1] <= ink[2:])]
    minima = minima[np.argsort(ink[minima], kind="stable")]
    most = max(2, int(round(w / (0.5 * h))))       # digits are rarely narrower than h / 2
    even = [round(w * i / k) for k in range(2, most + 1) for i in range(1, k)]
    apart, picked = max(2, int(0.06 * h)), []
    half = max_boundaries // 2       # the thinnest minima, the even cuts, then the other minima
    for c in [int(c) for c in minima[:half]] + even + [int(c) for c in minima[half:]]:
        if 0 < c < w and all(abs(c - p) >= apart for p in picked):
            picked.append(c)
        if len(picked) == max_boundaries:
            break
    return sorted(picked)


def digit_spans(crop, digit_width=DIGIT_WIDTH):
    """Where a piece may be cut into digits: (cuts, spans). cuts: column 0, the
    ``boundary_columns`` and the width; spans: the (i, j) pairs of cuts as far apart as a
    digit can be wide (``digit_width`` times the piece's height)."""
    h, w = crop.shape
    cuts = [0] + boundary_columns(crop) + [w]
    spans = [(i, j) for i in range(len(cuts)) for j in range(i + 1, len(cuts))
             if digit_width[0] * h <= cuts[j] - cuts[i] <= digit_width[1] * h]
    return cuts, spans


def deslant(crop):
    """``crop`` sheared so that its strokes stand upright (a row of italic digits is cut
    between the digits, not through them): (sheared crop, to_crop), where to_crop maps a box
    of the sheared crop back to the box of ``crop`` that holds it. The shear is the ink's
    own slant, mu11 / mu02 of its moments (as MNIST deskewing measures it)."""
    import cv2
    m = cv2.moments(crop)
    h, w = crop.shape
    if m["mu02"] <= 1e-6 or abs(m["mu11"] / m["mu02"]) < 0.05:
        return crop, lambda box: box
    slant, cy = m["mu11"] / m["mu02"], m["m01"] / m["m00"]
    pad = int(np.ceil(abs(slant) * h)) + 1
    # x' = x - slant (y - cy) + pad: the top of a right-leaning stroke moves left.
    shear = np.float32([[1, -slant, slant * cy + pad], [0, 1, 0]])
    sheared = cv2.warpAffine(crop, shear, (w + 2 * pad, h), flags=cv2.INTER_LINEAR)

    def to_crop(box):
        bx, by, bw, bh = box
        xs = [bx + dx + slant * (y - cy) - pad for dx in (0, bw) for y in (by, by + bh)]
        x0, x1 = max(0, int(np.floor(min(xs)))), min(w, int(np.ceil(max(xs))))
        return (x0, by, max(1, x1 - x0), bh)
    return sheared, to_crop


def without_edge_bits(span, left_cut, right_cut, share=EDGE_BITS):
    """``span`` (uint8, a column range of a piece) without the bits of a neighbouring digit
    that a cut left in it: the separate pieces of ink (8-connected) that touch a side where
    the piece was cut (``left_cut``, ``right_cut``), hold at most ``share`` of its ink and
    are under half its height (a whole digit beside the cut is kept).
    A span cut from "40959" keeps its 0, not the 0 with the 4's bar end and the 9's edge."""
    if share <= 0 or not (left_cut or right_cut):
        return span
    import cv2
    ink = (span > INK_LEVEL).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 2:
        return span
    total = stats[1:, cv2.CC_STAT_AREA].sum()
    h, w = span.shape
    drop = [k for k in range(1, n) if stats[k, cv2.CC_STAT_AREA] <= share * total
            and stats[k, cv2.CC_STAT_HEIGHT] < h / 2
            and ((left_cut and stats[k, cv2.CC_STAT_LEFT] == 0)
                 or (right_cut and stats[k, cv2.CC_STAT_LEFT] + stats[k, cv2.CC_STAT_WIDTH] == w))]
    if not drop:
        return span
    return np.where(np.isin(labels, drop), 0, span).astype(span.dtype)


def segment(crop, origin, judge, confidence, digit_width=DIGIT_WIDTH, edge_bits=EDGE_BITS):
    """The best reading of ``crop`` (a piece of ink at canvas position ``origin``) as a row
    of digits: (readings left to right, sum of log confidences), or ([], -inf) when no
    sequence of digit-wide spans covers it. The piece is cut upright and as drawn; the
    surer of the two readings is kept.

    judge: [(box, image28, crop)] -> [reading], one batch; confidence: reading -> [0, 1];
    digit_width: (narrowest, widest) span, times the piece's height; edge_bits: see
    ``without_edge_bits``."""
    upright, to_crop = deslant(crop)
    found = [_segment(crop, origin, judge, confidence, lambda box: box, digit_width, edge_bits)]
    if upright is not crop:
        found.append(_segment(upright, origin, judge, confidence, to_crop, digit_width,
                              edge_bits))
    return max(found, key=lambda f: f[1])


def _segment(crop, origin, judge, confidence, to_crop, digit_width=DIGIT_WIDTH,
             edge_bits=EDGE_BITS):
    """``segment`` on one image of the piece; to_crop maps its boxes to the piece as drawn."""
    cuts, candidates = digit_spans(crop, digit_width)
    spans, items = [], []
    for i, j in candidates:
        span = without_edge_bits(crop[:, cuts[i]:cuts[j]], i > 0, j < len(cuts) - 1, edge_bits)
        part = trimmed(span, (cuts[i], 0))
        image = drawing_to_mnist(part[1]) if part else None
        if image is not None:
            x, y, bw, bh = to_crop(part[0])
            spans.append((i, j))
            items.append(((origin[0] + x, origin[1] + y, bw, bh), image, part[1]))
    readings = judge(items) if items else []
    score = {span: (np.log(max(confidence(r), FLOOR)), r) for span, r in zip(spans, readings)}
    best = {0: (0.0, [])}                   # boundary index -> (log score, readings so far)
    for j in range(1, len(cuts)):
        options = [(best[i][0] + score[(i, j)][0], best[i][1] + [score[(i, j)][1]])
                   for i in range(j) if i in best and (i, j) in score]
        if options:
            best[j] = max(options, key=lambda o: o[0])
    total, path = best.get(len(cuts) - 1, (-np.inf, []))
    return path, total
