"""What the app made of the canvas: the digits of ``apps.recognize``, as the window shows them.
"""
import numpy as np


class Reading:
    """What the model made of the canvas: digits [apps.digit_reading.DigitReading] left to right,
    probs (n, 10), labels (int, or None for "not a digit"), latency per digit."""

    def __init__(self, digits, latency_ms, model_label):
        self.digits = digits
        self.probs = np.stack([d.probs for d in digits])
        self.latency_ms = latency_ms      # per digit: split + preprocess + models
        self.model_label = model_label
        self.labels = [d.digit for d in digits]

    @property
    def number(self):
        """The digits read, "?" for each "not a digit"."""
        return "".join("?" if d is None else str(d) for d in self.labels)

    @property
    def refused(self):
        """The pieces that are not digits."""
        return [d for d in self.digits if d.digit is None]

    @property
    def confidence(self):
        """The least confident digit's top probability (over the pieces that are digits)."""
        sure = [float(d.probs.max()) for d in self.digits if d.digit is not None]
        return min(sure) if sure else 0.0


def focus_index(digits, strokes, pinned, focus):
    """The digit the panels show: the one chosen by a thumbnail click (``pinned``) while the
    drawing stays the same; else the one under the end of the last stroke (being written);
    else the last."""
    if pinned and focus < len(digits):
        return focus
    if strokes:
        x, y = strokes[-1][1][-1]
        for i, d in enumerate(digits):
            bx, by, bw, bh = d.box
            if bx <= x < bx + bw and by <= y < by + bh:
                return i
    return len(digits) - 1
