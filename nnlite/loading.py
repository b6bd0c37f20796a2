"""``load_model``: a model file back into a ``Sequential``, safely (no pickle) and fully
validated (see ``nnlite.modelfile`` for what is checked before anything is allocated)."""
import os

from .errors import ModelFileError, NNLiteError
from .modelfile import MAX_PARAMS, layers_from_config, load_arrays_into, read_npz
from .sequential import Sequential


def model_from_config(meta, source="config", max_params=MAX_PARAMS):
    """An untrained, built ``Sequential`` from a model config (the JSON inside a model file)."""
    layers, input_shape, name = layers_from_config(meta, source, max_params)
    try:
        model = Sequential(layers, name=name)
        model.build(input_shape)
    except (NNLiteError, TypeError, ValueError, KeyError) as exc:   # e.g. unknown initializer
        raise ModelFileError(f"{source}: the layers do not fit together: {exc}") from None
    return model


def load_model(path):
    """Load a model saved by ``Sequential.save`` -> a built, uncompiled ``Sequential``."""
    meta, arrays = read_npz(path)
    source = os.fspath(path)
    model = model_from_config(meta, source,
                              max_params=min(MAX_PARAMS, sum(a.size for a in arrays.values())))
    load_arrays_into(model, arrays, source)
    return model
