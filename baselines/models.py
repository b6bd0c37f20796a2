"""The study's three models in Keras 3, layer for layer the same as ``nnlite.zoo``.

Every model takes (N, 28, 28, 1) float32 images in [0, 1] and outputs LOGITS; train it with
``SparseCategoricalCrossentropy(from_logits=True)``. (The study's Keras models ended in softmax
AND used from_logits=True, so softmax was applied twice; that bug is not repeated here.)

The layer order matches nnlite's exactly (ReLU as its own layer after BN, Dropout only when its
rate is non-zero except in VGG16, which always has its two Dropout layers), so
``baselines.transfer`` can move weights between the engines layer by layer.
"""
from nnlite.errors import ConfigError
from nnlite.datasets import MNIST_MEAN, MNIST_STD
from nnlite.zoo import INPUT_SHAPE


def _keras():
    import keras
    return keras


def _stem(standardize):
    layers = _keras().layers
    return [layers.Rescaling(1.0 / MNIST_STD, -MNIST_MEAN / MNIST_STD)] if standardize else []


def _sequential(layers, name, seed):
    keras = _keras()
    if seed is not None:   # Keras draws initial weights from its global seed
        keras.utils.set_random_seed(int(seed))
    return keras.Sequential([keras.Input(INPUT_SHAPE)] + layers, name=name)


def ann(seed=None, standardize=False, dropout=0.0):
    """Flatten -> Dense 512 relu -> Dense 128 relu -> Dense 10 (468,874 params)."""
    L = _keras().layers
    drop = [L.Dropout(dropout)] if dropout else []
    return _sequential(_stem(standardize) + [
        L.Flatten(), L.Dense(512, activation="relu"), *drop, L.Dense(128, activation="relu"),
        *drop, L.Dense(10)], "ann", seed)


def cnn(seed=None, standardize=False, l2_factor=0.01, dropout=0.0):
    """Three [Conv2D -> BN -> ReLU -> MaxPool 2] blocks (32 3x3, 64 5x5, 128 3x3, 'same',
    L2 on the conv kernels) -> Flatten -> Dense 120 relu -> Dense 10 (265,906 params)."""
    keras = _keras()
    L = keras.layers
    layers = _stem(standardize)
    for filters, k in ((32, 3), (64, 5), (128, 3)):
        reg = keras.regularizers.L2(l2_factor) if l2_factor else None
        layers += [L.Conv2D(filters, k, padding="same", kernel_regularizer=reg),
                   L.BatchNormalization(), L.ReLU(), L.MaxPooling2D(2)]
    layers += [L.Flatten(), L.Dense(120, activation="relu")]
    layers += [L.Dropout(dropout)] if dropout else []
    layers += [L.Dense(10)]
    return _sequential(layers, "cnn", seed)


def vgg16(width=0.25, seed=None, standardize=False, dropout=0.5, batchnorm=False):
    """VGG16 for 28x28x1 (see ``nnlite.zoo.vgg16``); width=0.25: 1,021,882 params.
    batchnorm=True: VGG16-BN, Conv2D -> BatchNormalization -> ReLU (1,026,106 params)."""
    if not 0 < width <= 4:
        raise ConfigError(f"vgg16 width must be in (0, 4], got {width}")
    L = _keras().layers
    layers = _stem(standardize)
    for block, (n_conv, base) in enumerate(zip((2, 2, 3, 3, 3), (64, 128, 256, 512, 512))):
        filters = max(1, int(round(base * width)))
        for _ in range(n_conv):
            layers += ([L.Conv2D(filters, 3, padding="same"), L.BatchNormalization(), L.ReLU()]
                       if batchnorm else [L.Conv2D(filters, 3, padding="same", activation="relu")])
        if block < 4:
            layers.append(L.MaxPooling2D(2))
    layers += [L.Flatten(), L.Dense(256, activation="relu"), L.Dropout(dropout),
               L.Dense(256, activation="relu"), L.Dropout(dropout), L.Dense(10)]
    return _sequential(layers, "vgg16_bn" if batchnorm else "vgg16", seed)


def vgg16_bn(width=0.25, seed=None, standardize=False, dropout=0.5):
    """VGG16-BN: ``vgg16(..., batchnorm=True)``, as ``nnlite.zoo.vgg16_bn``."""
    return vgg16(width, seed, standardize, dropout, batchnorm=True)


ZOO = {"ann": ann, "cnn": cnn, "vgg16": vgg16, "vgg16_bn": vgg16_bn}


def build(name, **kwargs):
    """Build a Keras zoo model by name (``ann``, ``cnn``, ``vgg16``) with keyword options."""
    if name not in ZOO:
        raise ConfigError(f"unknown model {name!r}; choose from {sorted(ZOO)}")
    return ZOO[name](**kwargs)


def compile_model(model, learning_rate=1e-4):
    """Adam + sparse CE on logits + accuracy: the study's setup with its softmax bug fixed."""
    keras = _keras()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model
