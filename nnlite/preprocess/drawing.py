"""Turn a drawing (uint8 H x W, white ink on black) into MNIST-style 28x28 inputs.

MNIST was made this way (LeCun et al.): each digit's bounding box was scaled so its longer side
is 20 px, keeping the aspect ratio, with anti-aliasing; the 20 px patch was then placed in a
28x28 image so that its centre of mass sits at the centre. Models trained on MNIST expect
exactly that, so a drawing is prepared the same way:

    ink bounding box -> (stroke width brought near MNIST's) -> longer side to 20 px (area
    interpolation) -> pasted in 28x28 with the centre of mass at pixel (14, 14)

The optional stroke-width step exists because a brush has a fixed width in screen pixels while a
drawing's size varies: a small digit drawn with a wide brush becomes a blob after scaling, a big
one drawn with a thin brush becomes faint hairlines. MNIST strokes are about 0.11 of the digit's
longer side (median over the test set, measured with ``stroke_width`` below on 8x upsampled
digits; ``tests/test_drawing_preprocess.py`` re-measures it), so widths far from that are
thinned (erosion) or thickened (dilation) towards it.

``split_digits`` finds the digits of a written number: connected components of the ink after a
small dilation, merged when they overlap horizontally (a 5's bar, a 7's stroke, a 4 in two
strokes), read left to right. OpenCV (the ``app`` extra) is imported on first use.
"""
import numpy as np

from ..errors import ConfigError, InputError

BOX = 20                  # MNIST's digit box (longer side), px
SIZE = 28                 # MNIST image side, px
CENTRE = 14.0             # MNIST's mean centre of mass is (14.0, 14.0) in pixel-index coordinates
INK_LEVEL = 32            # grey level above which a pixel counts as ink (of 255)
MNIST_WIDTH_RATIO = 0.108  # median stroke width / longer side of the bounding box in MNIST
MAX_KERNEL = 41           # px; a wider erosion runs on a shrunk copy (a full-canvas blob: 170 ms)
WIDTH_TOLERANCE = (0.7, 1.4)  # widths within [0.7, 1.4] x the MNIST ratio are left alone


def _cv2():
    try:
        import cv2
    except ImportError:  # pragma: no cover - depends on the installed extras
        raise ConfigError("nnlite.preprocess needs OpenCV: pip install 'nnlite[app]' "
                          "(opencv-python-headless)") from None
    return cv2


def _check_image(image, name="image"):
    """Return ``image`` as a 2-D uint8 array, or raise InputError saying what was wrong."""
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim != 2:
        raise InputError(f"{name}: expected a 2-D grey image (H, W), got shape {arr.shape}")
    if arr.size == 0:
        raise InputError(f"{name}: is empty (shape {arr.shape})")
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    if arr.dtype != np.uint8:
        raise InputError(f"{name}: expected dtype uint8 (0..255, white ink on black), "
                         f"got {arr.dtype}")
    return np.ascontiguousarray(arr)


def stroke_width(ink):
    """Mean stroke width (px) of a binary image: 2 * area / perimeter (a ribbon of length L and
    width w has area L*w and perimeter about 2L). ``ink``: bool or uint8 (H, W)."""
    cv2 = _cv2()
    binary = (np.asarray(ink) > 0).astype(np.uint8)
    area = int(binary.sum())
    if area == 0:
        return 0.0
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    perimeter = sum(cv2.arcLength(c, True) for c in contours)
    return 2.0 * area / max(perimeter, 1.0)


def _ink_bbox(image):
    """(top, bottom, left, right) of pixels above INK_LEVEL, end-exclusive; None if none."""
    rows = np.flatnonzero(image.max(axis=1) > INK_LEVEL)
    if rows.size == 0:
        return None
    cols = np.flatnonzero(image.max(axis=0) > INK_LEVEL)
    return rows[0], rows[-1] + 1, cols[0], cols[-1] + 1


def _normalise_width(crop):
    """Erode or dilate ``crop`` (uint8) so its stroke width is near MNIST's, relative to size."""
    cv2 = _cv2()
    longer = max(crop.shape)
    if longer < 8:        # too small to say anything about a stroke
        return crop
    width = stroke_width(crop > 127)   # half level: as MNIST_WIDTH_RATIO was measured
    target = MNIST_WIDTH_RATIO * longer
    lo, hi = WIDTH_TOLERANCE
    if width < lo * target:
        grow = int(round(target - width))
        if grow >= 1:
            pad = grow // 2 + 1
            crop = np.pad(crop, pad)
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (grow + 1, grow + 1))
            crop = cv2.dilate(crop, kernel)
    elif width > hi * target:
        shrink = int(round(width - target))
        if shrink > MAX_KERNEL:
            f = MAX_KERNEL / shrink
            size = (max(1, int(round(crop.shape[1] * f))), max(1, int(round(crop.shape[0] * f))))
            crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
            shrink = MAX_KERNEL
        if shrink >= 2:
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (shrink + 1, shrink + 1))
            eroded = cv2.erode(crop, kernel)
            if (eroded > INK_LEVEL).any():   # a solid blob would vanish: keep it as it is
                crop = eroded
    return crop


def drawing_to_mnist(image, normalise_width=True):
    """MNIST-style input from a drawing.

    image: uint8 (H, W) (or (H, W, 1)), white ink on black.
    Returns float32 (28, 28) in [0, 1], or None when the image has no ink.
    """
    cv2 = _cv2()
    image = _check_image(image)
    box = _ink_bbox(image)
    if box is None:
        return None
    top, bottom, left, right = box
    crop = image[top:bottom, left:right]
    if normalise_width:
        crop = _normalise_width(crop)
        inner = _ink_bbox(crop)
        crop = crop[inner[0]:inner[1], inner[2]:inner[3]]
    h, w = crop.shape
    scale = BOX / max(h, w)
    new_h, new_w = max(1, int(round(h * scale))), max(1, int(round(w * scale)))
    patch = cv2.resize(crop, (new_w, new_h), interpolation=cv2.INTER_AREA).astype(np.float32)
    patch /= 255.0
    mass = patch.sum()
    if mass <= 0:
        return None
    ys, xs = np.arange(new_h, dtype=np.float32), np.arange(new_w, dtype=np.float32)
    cy = float(patch.sum(axis=1) @ ys) / mass
    cx = float(patch.sum(axis=0) @ xs) / mass
    # Sub-pixel shift (bilinear): the same digit drawn anywhere lands on the same pixels, where
    # rounding the shift to whole pixels would move it by up to half a pixel either way.
    shift = np.float32([[1, 0, CENTRE - cx], [0, 1, CENTRE - cy]])
    out = cv2.warpAffine(patch, shift, (SIZE, SIZE), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return np.clip(out, 0.0, 1.0)


def split_digits(image, min_area_ratio=0.02, with_ink=False):
    """The digits of a drawing, left to right.

    image: uint8 (H, W), white ink on black.
    Returns a list of ((x, y, w, h), float32 (28, 28)) pairs; [] for a blank image. With
    ``with_ink``, triples whose third item is the digit's own ink, uint8 (h, w): its box of
    the image with any other digit's ink in that box blanked. Ink is
    dilated by about 2 % of the image size so a digit drawn in strokes that nearly touch stays
    one piece; pieces overlapping horizontally by over half the narrower one's width are one
    digit. Pieces with under ``min_area_ratio`` of the largest piece's ink are specks, dropped.
    """
    cv2 = _cv2()
    image = _check_image(image)
    box = _ink_bbox(image)
    if box is None:
        return []
    # work on the inked region only (plus room for the dilation): most of a canvas is empty
    radius = max(1, int(round(0.01 * max(image.shape))))
    top, left = max(box[0] - radius, 0), max(box[2] - radius, 0)
    region = image[top:box[1] + radius, left:box[3] + radius]
    ink = (region > INK_LEVEL).astype(np.uint8)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(ink, kernel), connectivity=8)
    areas = np.bincount(labels[ink > 0], minlength=n)
    x0s = stats[1:, cv2.CC_STAT_LEFT]
    groups = _merge_by_x_overlap(list(zip(x0s, x0s + stats[1:, cv2.CC_STAT_WIDTH])))
    group_area = [sum(areas[i + 1] for i in g) for g in groups]
    biggest = max(group_area)
    digits = []
    for members, area in zip(groups, group_area):
        if area == 0 or area < min_area_ratio * biggest:
            continue
        ids = [i + 1 for i in members]
        gy0 = min(stats[i, cv2.CC_STAT_TOP] for i in ids)
        gy1 = max(stats[i, cv2.CC_STAT_TOP] + stats[i, cv2.CC_STAT_HEIGHT] for i in ids)
        gx0 = min(stats[i, cv2.CC_STAT_LEFT] for i in ids)
        gx1 = max(stats[i, cv2.CC_STAT_LEFT] + stats[i, cv2.CC_STAT_WIDTH] for i in ids)
        in_group = np.zeros(n, bool)
        in_group[ids] = True
        mask = in_group[labels[gy0:gy1, gx0:gx1]] & (ink[gy0:gy1, gx0:gx1] > 0)
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        y0, y1, x0, x1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        piece = np.where(mask[y0:y1, x0:x1], region[gy0 + y0:gy0 + y1, gx0 + x0:gx0 + x1], 0)
        digit = drawing_to_mnist(piece.astype(np.uint8))
        if digit is not None:
            bbox = (int(left + gx0 + x0), int(top + gy0 + y0), int(x1 - x0), int(y1 - y0))
            digits.append((bbox, digit, piece.astype(np.uint8)) if with_ink else (bbox, digit))
    digits.sort(key=lambda d: d[0][0] + d[0][2] / 2)
    return digits


def _merge_by_x_overlap(spans):
    """Group indices of (x0, x1) spans that overlap by > half the narrower span (transitively)."""
    parent = list(range(len(spans)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (a0, a1) in enumerate(spans):
        for j in range(i + 1, len(spans)):
            b0, b1 = spans[j]
            overlap = min(a1, b1) - max(a0, b0)
            if overlap > 0.5 * min(a1 - a0, b1 - b0):
                parent[root(i)] = root(j)
    groups = {}
    for i in range(len(spans)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())
