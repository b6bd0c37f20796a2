"""The three models of the study, as built ``Sequential`` models that output logits.

Every model takes (N, 28, 28, 1) float32 images in [0, 1]. The study's Keras models ended in
softmax AND were trained with from_logits=True (softmax applied twice); these output logits and
the loss applies softmax once.

Preprocessing sits inside the model, so a model file carries it: ``standardize=True`` puts a
Rescaling layer with MNIST's mean/std first, ``input_layers`` puts layers before that (e.g.
``[Deskew()]``; ``nnlite.recipe.input_layers`` names them per preprocessing).
"""
from .datasets import MNIST_MEAN, MNIST_STD
from .errors import ConfigError
from .layers import (BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPool2D, ReLU,
                     Rescaling)
from .sequential import Sequential
from .regularizers import l2

INPUT_SHAPE = (28, 28, 1)


def _stem(standardize, input_layers):
    """The first layers: ``input_layers``, then standardisation with MNIST's mean/std."""
    return list(input_layers) + (
        [Rescaling(1.0 / MNIST_STD, -MNIST_MEAN / MNIST_STD)] if standardize else [])


def ann(seed=None, standardize=False, dropout=0.0, input_layers=()):
    """Flatten -> Dense 512 relu -> Dense 128 relu -> Dense 10 (468,874 params)."""
    def drop():   # a fresh layer each time: one layer object cannot sit at two places
        return [Dropout(dropout)] if dropout else []
    return Sequential(_stem(standardize, input_layers) + [
        Flatten(), Dense(512, activation="relu"), *drop(), Dense(128, activation="relu"),
        *drop(), Dense(10)], input_shape=INPUT_SHAPE, seed=seed, name="ann")


def cnn(seed=None, standardize=False, l2_factor=0.01, dropout=0.0, input_layers=()):
    """Three [Conv2D -> BN -> ReLU -> MaxPool 2] blocks (32 3x3, 64 5x5, 128 3x3, 'same',
    L2 on the conv kernels) -> Flatten -> Dense 120 relu -> Dense 10 (265,906 params)."""
    layers = _stem(standardize, input_layers)
    for filters, k in ((32, 3), (64, 5), (128, 3)):
        layers += [Conv2D(filters, k, padding="same",
                          kernel_regularizer=l2(l2_factor) if l2_factor else None),
                   BatchNormalization(), ReLU(), MaxPool2D(2)]
    layers += [Flatten(), Dense(120, activation="relu")]
    layers += [Dropout(dropout)] if dropout else []
    layers += [Dense(10)]
    return Sequential(layers, input_shape=INPUT_SHAPE, seed=seed, name="cnn")


def vgg16(width=0.25, seed=None, standardize=False, dropout=0.5, batchnorm=False,
          input_layers=()):
    """VGG16 for 28x28x1: blocks of [2, 2, 3, 3, 3] 3x3 'same' Conv2D+ReLU, widths
    64-128-256-512-512 x width, MaxPool 2 after the first four blocks (28->14->7->3->1), then
    Dense 256 relu -> Dropout -> Dense 256 relu -> Dropout -> Dense 10.
    width=1.0: 14,913,226 params; width=0.25: 1,021,882.
    batchnorm=True: the VGG16-BN variant (not the original architecture): every Conv2D is
    followed by BatchNormalization, then ReLU; width=0.25: 1,026,106 params."""
    if not 0 < width <= 4:
        raise ConfigError(f"vgg16 width must be in (0, 4], got {width}")
    layers = _stem(standardize, input_layers)
    for block, (n_conv, base) in enumerate(zip((2, 2, 3, 3, 3), (64, 128, 256, 512, 512))):
        filters = max(1, int(round(base * width)))
        for _ in range(n_conv):
            layers += ([Conv2D(filters, 3, padding="same"), BatchNormalization(), ReLU()]
                       if batchnorm else [Conv2D(filters, 3, padding="same", activation="relu")])
        if block < 4:
            layers.append(MaxPool2D(2))
    layers += [Flatten(), Dense(256, activation="relu"), Dropout(dropout),
               Dense(256, activation="relu"), Dropout(dropout), Dense(10)]
    return Sequential(layers, input_shape=INPUT_SHAPE, seed=seed,
                      name="vgg16_bn" if batchnorm else "vgg16")


def vgg16_bn(width=0.25, seed=None, standardize=False, dropout=0.5, input_layers=()):
    """VGG16-BN: ``vgg16(..., batchnorm=True)``, BatchNormalization after every convolution."""
    return vgg16(width, seed, standardize, dropout, batchnorm=True, input_layers=input_layers)


ZOO = {"ann": ann, "cnn": cnn, "vgg16": vgg16, "vgg16_bn": vgg16_bn}


def build(name, **kwargs):
    """Build a zoo model by name (``ann``, ``cnn``, ``vgg16``) with keyword options."""
    if name not in ZOO:
        raise ConfigError(f"unknown model {name!r}; choose from {sorted(ZOO)}")
    return ZOO[name](**kwargs)
