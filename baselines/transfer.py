"""Move a model between nnlite and Keras 3, architecture and weights, layer by layer.

Both engines store the same arrays in the same layout (NHWC; Dense kernel (in, units); Conv2D
kernel (kh, kw, in, filters); BN gamma, beta, moving_mean, moving_variance), so a transfer is a
layer-for-layer translation of the configs followed by a straight copy of the arrays in order.

    to_keras(nnlite_model)  -> keras.Sequential   (same weights and BN moving statistics)
    from_keras(keras_model) -> nnlite.Sequential  (the same)

Only layers both engines have are translated; anything else raises ``ConfigError`` naming it.
"""
import numpy as np

from nnlite import layers as nl
from nnlite.errors import ConfigError
from nnlite.sequential import Sequential
from nnlite.regularizers import L2

_ACTIVATION_LAYERS = {nl.Sigmoid: "sigmoid", nl.Tanh: "tanh", nl.Softmax: "softmax"}


# -- nnlite -> Keras ---------------------------------------------------------------------------
def _keras_regularizer(reg):
    import keras
    if reg is None:
        return None
    if isinstance(reg, L2):
        return keras.regularizers.L2(reg.c)
    raise ConfigError(f"cannot translate regularizer {reg!r} to Keras")


def _keras_activation(name):
    return "linear" if name in (None, "linear") else name


def _to_keras_layer(layer):
    """One nnlite layer -> an equivalent (unbuilt) Keras layer with the same name."""
    import keras
    L, kw = keras.layers, {"name": layer.name, "dtype": layer.dtype.name}
    if isinstance(layer, nl.Dense):
        return L.Dense(layer.units, activation=_keras_activation(layer.activation),
                       kernel_regularizer=_keras_regularizer(layer.kernel_regularizer), **kw)
    if isinstance(layer, nl.Conv2D):
        return L.Conv2D(layer.filters, layer.kernel_size, strides=layer.strides,
                        padding=layer.padding, activation=_keras_activation(layer.activation),
                        kernel_regularizer=_keras_regularizer(layer.kernel_regularizer), **kw)
    if isinstance(layer, nl.MaxPool2D):
        return L.MaxPooling2D(layer.pool_size, strides=layer.strides, padding=layer.padding, **kw)
    if isinstance(layer, nl.BatchNormalization):
        return L.BatchNormalization(momentum=layer.momentum, epsilon=layer.epsilon, **kw)
    if isinstance(layer, nl.ReLU):
        return L.ReLU(**kw)
    if type(layer) in _ACTIVATION_LAYERS:
        return L.Activation(_ACTIVATION_LAYERS[type(layer)], **kw)
    if isinstance(layer, nl.Flatten):
        return L.Flatten(**kw)
    if isinstance(layer, nl.Dropout):
        return L.Dropout(layer.rate, seed=layer.seed, **kw)
    if isinstance(layer, nl.Rescaling):
        return L.Rescaling(layer.scale, layer.offset, **kw)
    raise ConfigError(f"to_keras: no Keras equivalent for layer '{layer.name}' "
                      f"({type(layer).__name__})")


def to_keras(model):
    """A built nnlite ``Sequential`` -> a built ``keras.Sequential`` holding the same weights."""
    import keras
    if not isinstance(model, Sequential) or not model.built:
        raise ConfigError("to_keras needs a built nnlite Sequential (pass input_shape)")
    dtype = model.layers[0].dtype.name if model.layers else "float32"
    kmodel = keras.Sequential([keras.Input(model.input_shape, dtype=dtype)]
                              + [_to_keras_layer(l) for l in model.layers], name=model.name)
    kmodel.set_weights(model.get_weights())   # params then state, layer by layer, both engines
    return kmodel


# -- Keras -> nnlite ---------------------------------------------------------------------------
def _nnlite_regularizer(reg, where):
    if reg is None:
        return None
    cfg = reg.get_config()
    if set(cfg) == {"l2"}:
        return L2(float(cfg["l2"]))
    if set(cfg) == {"l1", "l2"} and not cfg["l1"]:
        return L2(float(cfg["l2"]))
    raise ConfigError(f"from_keras: layer '{where}' has regularizer {cfg}; nnlite has only l2")


def _nnlite_activation(layer):
    name = layer.get_config().get("activation", "linear")
    if not isinstance(name, str):
        raise ConfigError(f"from_keras: layer '{layer.name}' has a custom activation {name!r}")
    return None if name == "linear" else name


def _check_default(layer, cfg, defaults):
    for key, value in defaults.items():
        if key in cfg and cfg[key] != value:
            raise ConfigError(f"from_keras: layer '{layer.name}' ({type(layer).__name__}) has "
                              f"{key}={cfg[key]!r}; nnlite supports only {value!r}")


def _float_dtype(layer):
    dtype = getattr(layer, "compute_dtype", None) or "float32"
    if dtype not in ("float32", "float64"):
        raise ConfigError(f"from_keras: layer '{layer.name}' computes in {dtype}; nnlite has "
                          "float32 and float64")
    return dtype


def _from_keras_layer(layer):
    """One Keras layer -> the equivalent nnlite layer with the same name."""
    import keras
    L, cfg = keras.layers, layer.get_config()
    kw = {"name": layer.name, "dtype": _float_dtype(layer)}
    if isinstance(layer, L.Dense):
        _check_default(layer, cfg, {"use_bias": True, "bias_regularizer": None,
                                    "activity_regularizer": None})
        return nl.Dense(cfg["units"], activation=_nnlite_activation(layer),
                        kernel_regularizer=_nnlite_regularizer(layer.kernel_regularizer,
                                                               layer.name), **kw)
    if isinstance(layer, L.Conv2D):
        _check_default(layer, cfg, {"use_bias": True, "dilation_rate": (1, 1), "groups": 1,
                                    "data_format": "channels_last", "bias_regularizer": None,
                                    "activity_regularizer": None})
        return nl.Conv2D(cfg["filters"], tuple(cfg["kernel_size"]), strides=tuple(cfg["strides"]),
                         padding=cfg["padding"], activation=_nnlite_activation(layer),
                         kernel_regularizer=_nnlite_regularizer(layer.kernel_regularizer,
                                                                layer.name), **kw)
    if isinstance(layer, L.MaxPooling2D):
        _check_default(layer, cfg, {"data_format": "channels_last"})
        return nl.MaxPool2D(tuple(cfg["pool_size"]), strides=tuple(cfg["strides"]),
                            padding=cfg["padding"], **kw)
    if isinstance(layer, L.BatchNormalization):
        _check_default(layer, cfg, {"axis": -1, "center": True, "scale": True, "renorm": False})
        return nl.BatchNormalization(momentum=cfg["momentum"], epsilon=cfg["epsilon"], **kw)
    if isinstance(layer, L.ReLU):
        _check_default(layer, cfg, {"max_value": None, "negative_slope": 0.0, "threshold": 0.0})
        return nl.ReLU(**kw)
    if isinstance(layer, L.Activation):
        name = cfg["activation"]
        classes = {"relu": nl.ReLU, **{v: k for k, v in _ACTIVATION_LAYERS.items()}}
        if name not in classes:
            raise ConfigError(f"from_keras: activation layer '{layer.name}' uses {name!r}")
        return classes[name](**kw)
    if isinstance(layer, L.Flatten):
        return nl.Flatten(**kw)
    if isinstance(layer, L.Dropout):
        _check_default(layer, cfg, {"noise_shape": None})
        return nl.Dropout(cfg["rate"], seed=cfg.get("seed"), **kw)
    if isinstance(layer, L.Rescaling):
        scale, offset = cfg["scale"], cfg["offset"]
        if np.ndim(scale) or np.ndim(offset):
            raise ConfigError(f"from_keras: Rescaling '{layer.name}' has per-channel values")
        return nl.Rescaling(float(scale), float(offset), **kw)
    raise ConfigError(f"from_keras: no nnlite equivalent for layer '{layer.name}' "
                      f"({type(layer).__name__})")


def from_keras(kmodel):
    """A built Keras Sequential -> a built nnlite ``Sequential`` holding the same weights."""
    import keras
    if not isinstance(kmodel, keras.Sequential):
        raise ConfigError(f"from_keras needs a keras.Sequential, got {type(kmodel).__name__}")
    if not kmodel.built:
        raise ConfigError("from_keras needs a built Keras model (give it a keras.Input)")
    input_shape = tuple(kmodel.input_shape[1:])
    model = Sequential([_from_keras_layer(l) for l in kmodel.layers],
                       input_shape=input_shape, name=kmodel.name)
    model.set_weights(kmodel.get_weights())
    return model
