"""The study's three models in PyTorch, layer for layer as ``baselines.models`` (Keras) and
``nnlite.zoo`` build them, for the benchmark's second peer.

PyTorch computes in NCHW; the models are put in ``channels_last`` memory format (NHWC in memory,
oneDNN's preferred CPU layout), so the benchmark's NHWC images enter as a zero-copy
``permute(0, 3, 1, 2)`` view. What matches Keras (and nnlite):

- initial weights: Glorot-uniform kernels (``xavier_uniform_``: the same fans for dense and conv
  kernels), zero biases;
- 'same' padding of the odd 3x3 / 5x5 kernels = ``padding=k // 2``; MaxPool 2 = 'valid';
- BatchNormalization(momentum 0.99, epsilon 1e-3) = ``BatchNorm2d(momentum=0.01, eps=1e-3)``
  (PyTorch's momentum is the weight of the new batch);
- the CNN's ``kernel_regularizer=l2(0.01)``: ``l2_terms`` lists (factor, kernel) pairs that the
  training step adds to the loss as ``factor * sum(kernel ** 2)``, as Keras does;
- Adam(learning rate, epsilon 1e-7), cross-entropy on logits (mean over the batch).
"""
import torch
from torch import nn

from nnlite.errors import ConfigError

L2_FACTOR = 0.01


def _init(model):
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
    return model


def ann():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(inplace=True),
                         nn.Linear(512, 128), nn.ReLU(inplace=True), nn.Linear(128, 10)), []


def cnn():
    """Three [Conv2D -> BN -> ReLU -> MaxPool 2] blocks (32 3x3, 64 5x5, 128 3x3, 'same', L2 on
    the conv kernels) -> Flatten -> Dense 120 relu -> Dense 10 (265,906 params)."""
    layers, l2, c_in = [], [], 1
    for filters, k in ((32, 3), (64, 5), (128, 3)):
        conv = nn.Conv2d(c_in, filters, k, padding=k // 2)
        layers += [conv, nn.BatchNorm2d(filters, eps=1e-3, momentum=0.01),
                   nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        l2.append((L2_FACTOR, conv.weight))
        c_in = filters
    layers += [nn.Flatten(), nn.Linear(c_in * 3 * 3, 120), nn.ReLU(inplace=True),
               nn.Linear(120, 10)]
    return nn.Sequential(*layers), l2


def vgg16(width=0.25, dropout=0.5):
    """Blocks of [2, 2, 3, 3, 3] 3x3 'same' conv + ReLU, widths 64-128-256-512-512 x width,
    MaxPool 2 after the first four (28->14->7->3->1), Dense 256 -> Dropout -> Dense 256 ->
    Dropout -> Dense 10."""
    if not 0 < width <= 4:
        raise ConfigError(f"vgg16 width must be in (0, 4], got {width}")
    layers, c_in = [], 1
    for block, (n_conv, base) in enumerate(zip((2, 2, 3, 3, 3), (64, 128, 256, 512, 512))):
        filters = max(1, int(round(base * width)))
        for _ in range(n_conv):
            layers += [nn.Conv2d(c_in, filters, 3, padding=1), nn.ReLU(inplace=True)]
            c_in = filters
        if block < 4:
            layers.append(nn.MaxPool2d(2))
    layers += [nn.Flatten(), nn.Linear(c_in, 256), nn.ReLU(inplace=True), nn.Dropout(dropout),
               nn.Linear(256, 256), nn.ReLU(inplace=True), nn.Dropout(dropout),
               nn.Linear(256, 10)]
    return nn.Sequential(*layers), []


def build(name, width=0.25, seed=0):
    """-> (model in channels_last format, l2_terms [(factor, kernel)]) for ann, cnn or vgg16."""
    torch.manual_seed(seed)
    if name == "ann":
        model, l2 = ann()
    elif name == "cnn":
        model, l2 = cnn()
    elif name == "vgg16":
        model, l2 = vgg16(width)
    else:
        raise ConfigError(f"unknown model {name!r}; choose from ann, cnn, vgg16")
    return _init(model).to(memory_format=torch.channels_last), l2


def regularization(l2_terms):
    """sum of factor * sum(kernel ** 2): the loss term of Keras' l2 kernel regularizers."""
    return sum(factor * kernel.square().sum() for factor, kernel in l2_terms)
