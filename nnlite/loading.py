"""``load_model``: a model file back into a ``Sequential``, safely (no pickle) and fully
validated: the config and its costs first (``nnlite.bounds``), then the zip directory against
the exact arrays the config implies, and only then the arrays, one at a time
(``nnlite.modelfile``)."""
from .bounds import MAX_PARAMS, expected_arrays, layers_from_config
from .errors import ModelFileError, NNLiteError
from .modelfile import ModelFile, load_arrays_into
from .sequential import Sequential


def model_from_config(meta, source="config", max_params=MAX_PARAMS):
    """An untrained, built ``Sequential`` from a model config (the JSON inside a model file)."""
    layers, input_shape, name = layers_from_config(meta, source, max_params)
    return _built(layers, input_shape, name, source, meta.get("class_names"))


def _built(layers, input_shape, name, source, class_names=None):
    try:
        model = Sequential(layers, name=name, class_names=class_names)
        model.build(input_shape)
    except (NNLiteError, TypeError, ValueError, KeyError) as exc:   # e.g. unknown initializer
        raise ModelFileError(f"{source}: the layers do not fit together: {exc}") from None
    return model


def load_model(path):
    """Load a model saved by ``Sequential.save`` -> a built, uncompiled ``Sequential``."""
    with ModelFile(path) as mf:
        layers, input_shape, name = layers_from_config(mf.meta, mf.source)
        arrays = mf.read_arrays(expected_arrays(layers, input_shape))  # checks the directory
        model = _built(layers, input_shape, name, mf.source, mf.meta.get("class_names"))
        load_arrays_into(model, arrays, mf.source)
    return model
