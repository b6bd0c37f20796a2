"""Layers: each file holds one concept, its forward and backward side by side."""
from .activation_layers import ReLU, Sigmoid, Softmax, Tanh
from .base import Layer
from .batchnorm import BatchNormalization
from .conv2d import Conv2D
from .dense import Dense
from .deskew import Deskew
from .dropout import Dropout
from .flatten import Flatten
from .pooling import MaxPool2D
from .rescaling import Rescaling

# Every class a model file may name. The loader refuses anything else.
REGISTRY = {cls.__name__: cls for cls in (
    Dense, Conv2D, MaxPool2D, ReLU, Sigmoid, Tanh, Softmax, Flatten, BatchNormalization, Dropout,
    Rescaling, Deskew)}

MaxPooling2D = MaxPool2D   # Keras' other name

__all__ = ["Layer", "REGISTRY"] + sorted(REGISTRY) + ["MaxPooling2D"]
