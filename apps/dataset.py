"""Your own test set: the app's S key saves each drawn digit with its label.

Folder format (what ``nnlite evaluate MODEL --images DIR`` reads):
    DIR/<label>_<timestamp>.png          28x28 8-bit grey, white digit on black: exactly the
                                         image the model was given (drawing_to_mnist output)
    DIR/canvas/<label>_<timestamp>.png   the digit's region of the canvas as drawn, for reference
                                         (in a sub-folder: evaluate reads only 28x28 files)
"""
import os
import time

import numpy as np


def save_digit(folder, label, digit28, canvas_crop, stamp=None):
    """Write one labelled sample; returns the path of the 28x28 file.

    digit28: float (28, 28) in [0, 1]; canvas_crop: uint8 (H, W); label: int 0-9.
    """
    import cv2
    label = int(label)
    if not 0 <= label <= 9:
        raise ValueError(f"label must be a digit 0-9, got {label}")
    stamp = stamp or timestamp()
    os.makedirs(os.path.join(folder, "canvas"), exist_ok=True)
    name = f"{label}_{stamp}.png"
    path = os.path.join(folder, name)
    small = (np.clip(digit28, 0, 1) * 255).round().astype(np.uint8)
    if not cv2.imwrite(path, small):
        raise OSError(f"could not write {path}")
    cv2.imwrite(os.path.join(folder, "canvas", name), canvas_crop)
    return path


def timestamp():
    """Local time to the millisecond, e.g. 20261125-031501-042 (sorts in time order)."""
    now = time.time()
    return time.strftime("%Y%m%d-%H%M%S", time.localtime(now)) + f"-{int(now * 1000) % 1000:03d}"
