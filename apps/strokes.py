"""Pen strokes traced from an MNIST digit, so the app can be driven like a person drawing.

    strokes = digit_strokes(x_test[0])          # list of (K, 2) float arrays, (x, y) in 0..28
    canvas_strokes = place(strokes, (x0, y0, size))

A digit is upsampled 4x, thresholded and thinned to a one-pixel skeleton (Zhang-Suen, in NumPy);
the skeleton's pixels are then walked as a graph into polylines that run between end points
and junctions (plus closed loops, as in a 0 or an 8). Each polyline is one stroke.
"""
import numpy as np

UPSAMPLE = 4


def _neighbours(img):
    """The 8 neighbours P2..P9 of every pixel (clockwise from north), zero-padded."""
    p = np.pad(img, 1)
    h, w = img.shape
    at = lambda dy, dx: p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
    return [at(-1, 0), at(-1, 1), at(0, 1), at(1, 1), at(1, 0), at(1, -1), at(0, -1), at(-1, -1)]


def thin(binary):
    """Zhang-Suen thinning of a bool (H, W) image to a one-pixel-wide skeleton."""
    img = binary.astype(np.uint8).copy()
    while True:
        changed = False
        for step in (0, 1):
            p2, p3, p4, p5, p6, p7, p8, p9 = _neighbours(img)
            ring = [p2, p3, p4, p5, p6, p7, p8, p9, p2]
            count = sum(ring[:8])
            transitions = sum(((ring[i] == 0) & (ring[i + 1] == 1)).astype(np.uint8)
                              for i in range(8))
            if step == 0:
                c1, c2 = p2 * p4 * p6, p4 * p6 * p8
            else:
                c1, c2 = p2 * p4 * p8, p2 * p6 * p8
            remove = ((img == 1) & (count >= 2) & (count <= 6) & (transitions == 1)
                      & (c1 == 0) & (c2 == 0))
            if remove.any():
                img[remove] = 0
                changed = True
        if not changed:
            return img.astype(bool)


def _walk_graph(skeleton):
    """Polylines [(K, 2) int (row, col)] covering every edge of the 8-connected skeleton."""
    pixels = set(zip(*np.nonzero(skeleton)))
    offsets = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]

    def linked(p, dy, dx):
        if (p[0] + dy, p[1] + dx) not in pixels:
            return False
        # a diagonal step is redundant when a 4-connected corner pixel already joins the two
        return not (dy and dx and ((p[0] + dy, p[1]) in pixels or (p[0], p[1] + dx) in pixels))

    nbrs = {p: [(p[0] + dy, p[1] + dx) for dy, dx in offsets if linked(p, dy, dx)]
            for p in pixels}
    used = set()

    def edge(a, b):
        return (a, b) if a < b else (b, a)

    def walk(start, nxt):
        path = [start, nxt]
        used.add(edge(start, nxt))
        while len(nbrs[path[-1]]) == 2:
            cur = path[-1]
            step = [q for q in nbrs[cur] if edge(cur, q) not in used]
            if not step:
                break
            used.add(edge(cur, step[0]))
            path.append(step[0])
        return path

    paths = []
    # start at end points and junctions first, then whatever is left (closed loops)
    for order in (lambda p: len(nbrs[p]) != 2, lambda p: True):
        for p in sorted(pixels):
            if not order(p):
                continue
            for q in nbrs[p]:
                if edge(p, q) not in used:
                    paths.append(walk(p, q))
    paths += [[p] for p in sorted(pixels) if not nbrs[p]]   # isolated dots
    return [np.array(path) for path in paths]


def _merge_tiny(paths, min_len=3):
    """Drop 2-pixel hops that are fully covered by longer strokes (junction corners)."""
    long_pixels = {tuple(p) for path in paths if len(path) >= min_len for p in path}
    return [p for p in paths if len(p) >= min_len or not all(tuple(q) in long_pixels for q in p)]


def digit_strokes(digit, level=0.35, every=3):
    """Strokes of a 28x28 digit (uint8 0..255 or float 0..1, white on black).

    Returns a list of (K, 2) float64 arrays of (x, y) points in the digit's 28x28 frame,
    one per stroke, with about one point every ``every`` upsampled pixels.
    """
    import cv2
    img = np.asarray(digit, dtype=np.float32)
    if img.max() > 1.0:
        img = img / 255.0
    big = cv2.resize(img, (28 * UPSAMPLE, 28 * UPSAMPLE), interpolation=cv2.INTER_CUBIC)
    return skeleton_strokes(big > level, every)


def skeleton_strokes(binary, every=3):
    """Strokes along the centre line of the ink of a square bool image (S, S), as (K, 2)
    (x, y) arrays in a 28x28 frame (S pixels map onto 28)."""
    side = binary.shape[0]
    strokes = []
    for path in _merge_tiny(_walk_graph(thin(binary))):
        keep = path[::every]
        if len(path) > 1 and not np.array_equal(keep[-1], path[-1]):
            keep = np.vstack([keep, path[-1:]])
        # (row, col) of a pixel centre -> (x, y) in the 28-px frame
        strokes.append((keep[:, ::-1].astype(np.float64) + 0.5) * 28.0 / side)
    return strokes


def place(strokes, box):
    """Map strokes from the 28x28 frame into ``box`` = (x0, y0, size) on a canvas."""
    x0, y0, size = box
    return [np.column_stack([x0 + s[:, 0] * size / 28.0, y0 + s[:, 1] * size / 28.0])
            for s in strokes]


def number_boxes(n_digits, canvas_size, margin=0.04):
    """Boxes (x0, y0, size) that lay ``n_digits`` MNIST frames left to right on a square canvas."""
    usable = canvas_size * (1 - 2 * margin)
    size = min(usable / n_digits * 1.15, canvas_size * 0.9)  # frames overlap: digits fill 20/28
    step = (usable - size) / max(n_digits - 1, 1) if n_digits > 1 else 0
    x_start = canvas_size * margin if n_digits > 1 else (canvas_size - size) / 2
    y0 = (canvas_size - size) / 2
    return [(x_start + i * step, y0, size) for i in range(n_digits)]
