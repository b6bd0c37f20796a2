"""One digit of a canvas as read (``DigitReading``), and the scoring helpers that turn a
model's logits into it: ``logits_of`` (a model as a logits function) and ``energy``
(logsumexp of the logits); probabilities come from ``nnlite.activations.softmax``. ``apps.recognize`` reads canvases with them.
"""
import numpy as np

from nnlite.ops.threads import blas_threads


class DigitReading:
    """One digit of a canvas: ``digit`` (int, or None for "not a digit"), ``probs`` (10,) the
    study model's probabilities (averaged with the reader's digit probabilities when the reader
    is there), ``box`` (x, y, w, h) canvas pixels, ``image`` the (28, 28)
    input the model read, ``why`` the rule that said "not a digit" ("" for a digit), and the
    scores behind it: ``not_digit`` (the reader's probability that this is not one digit),
    ``touching`` (that it is touching digits) and ``energy``."""

    __slots__ = ("digit", "probs", "box", "image", "why", "not_digit", "touching", "energy")

    def __init__(self, digit, probs, box, image, why="", not_digit=None, touching=None,
                 energy=None):
        self.digit, self.probs, self.box, self.image = digit, probs, tuple(box), image
        self.why, self.not_digit, self.touching, self.energy = why, not_digit, touching, energy

    @property
    def confidence(self):
        """How surely this is the digit it says: top probability, times the reader's belief
        that it is a digit at all; 0 for "not a digit"."""
        if self.digit is None:
            return 0.0
        sure = float(self.probs.max())
        return sure * (1.0 - self.not_digit) if self.not_digit is not None else sure

    def __repr__(self):
        what = self.digit if self.digit is not None else f"None ({self.why})"
        return f"DigitReading({what}, p={self.probs.max():.3f}, box={self.box})"


def logits_of(model):
    """(N, 28, 28) float32 -> (N, 10) logits, for an nnlite model (one BLAS thread: tiny)."""
    def logits(x):
        with blas_threads(1):
            return model.predict(np.asarray(x, np.float32)[..., None])
    return logits


def energy(z):
    top = z.max(axis=1)
    return top + np.log(np.exp(z - top[:, None]).sum(axis=1))
