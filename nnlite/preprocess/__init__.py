"""Preprocessing shared by training, the experiments and the drawing app.

``transforms``: scale01, standardize, deskew, Augment (random affine + elastic), make_augment.
"""
from .transforms import (AUGMENTATIONS, MNIST_MEAN, MNIST_STD, Augment, deskew, make_augment,
                         moments, scale01, standardize)

__all__ = ["AUGMENTATIONS", "MNIST_MEAN", "MNIST_STD", "Augment", "deskew", "make_augment",
           "moments", "scale01", "standardize"]
# drawing helpers (drawing_to_mnist, split_digits) are re-exported below by their owner
from .drawing import drawing_to_mnist, split_digits  # noqa: E402,F401  (the drawing app's)
