"""What a model file's architecture may cost, checked from its config alone before anything is
allocated, so that a small file can make loading neither allocate much nor take long, and
cannot make ``predict`` run for hours or exhaust memory either:

- at most 1000 layers and 10^9 parameter values;
- an input of 1 to 4 positive dimensions holding at most 2^24 values per image;
- every layer fits its input (a pool window is never larger than the image it slides over);
- every layer's output, and Conv2D's unfolded patches, hold at most 2^24 values per image;
- the whole model takes at most 2^34 multiply-adds per image (VGG16 at 224x224 takes 1.5e10;
  the zoo's widest, VGG16 width 4 at 28x28, 3.3e9).

``layers_from_config`` checks a config and creates its (unbuilt) layers; ``expected_arrays``
says exactly which arrays, of which shape and dtype, a file with that config must hold.
"""
import math

from .errors import ModelFileError, NNLiteError
from .layers import REGISTRY, Conv2D, Dense, MaxPool2D
from .modelfile import MAX_LAYERS, check_format

MAX_PARAMS = 1_000_000_000
MAX_VALUES_PER_IMAGE = 2 ** 24
MAX_MACS_PER_IMAGE = 2 ** 34


def layers_from_config(meta, source="config", max_params=MAX_PARAMS):
    """Check a model config (the JSON inside a model file) and create its unbuilt layers,
    refusing unknown classes, bad arguments and every bound above.
    -> (layers, input_shape, name)."""
    if not isinstance(meta, dict):
        raise ModelFileError(f"{source}: the model config must be a JSON object")
    check_format(meta, source)
    layers_cfg, shape = meta.get("layers"), meta.get("input_shape")
    if not isinstance(layers_cfg, list) or not 0 < len(layers_cfg) <= MAX_LAYERS:
        raise ModelFileError(f"{source}: 'layers' must be a list of 1..{MAX_LAYERS} layers")
    if (not isinstance(shape, list) or not 1 <= len(shape) <= 4
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
            or math.prod(shape) > MAX_VALUES_PER_IMAGE):
        raise ModelFileError(f"{source}: absurd input_shape {shape!r} (1 to 4 positive sizes, "
                             f"at most {MAX_VALUES_PER_IMAGE:,} values)")
    layers = []
    for i, entry in enumerate(layers_cfg):
        if not isinstance(entry, dict) or not isinstance(entry.get("class"), str) \
                or entry["class"] not in REGISTRY:
            cls = entry.get("class") if isinstance(entry, dict) else entry
            raise ModelFileError(f"{source}: layer {i} names unknown class {cls!r}; "
                                 f"known: {sorted(REGISTRY)}")
        cfg = entry.get("config")
        if not isinstance(cfg, dict):
            raise ModelFileError(f"{source}: layer {i} has no config object")
        try:
            layers.append(REGISTRY[entry["class"]].from_config(cfg))
        except (NNLiteError, TypeError, ValueError, OverflowError) as exc:
            raise ModelFileError(f"{source}: layer {i} ({entry['class']}): {exc}") from None
    check_costs(layers, tuple(shape), source, max_params)
    return layers, tuple(shape), str(meta.get("name", "sequential"))[:100]


def check_costs(layers, input_shape, source, max_params=MAX_PARAMS):
    """Walk ``layers`` over ``input_shape`` from shapes alone, refusing any bound above."""
    shape, params, macs = tuple(input_shape), 0, 0
    for i, layer in enumerate(layers):
        what = f"{source}: layer {i} ({type(layer).__name__})"
        try:
            params += layer.count_params_for(shape)
            out = tuple(int(s) for s in layer.compute_output_shape(shape))
            if isinstance(layer, MaxPool2D) and (layer.pool_size[0] > shape[0]
                                                 or layer.pool_size[1] > shape[1]):
                raise ModelFileError(f"pool window {layer.pool_size} is larger than its input")
        except (NNLiteError, TypeError, ValueError, IndexError, ZeroDivisionError) as exc:
            raise ModelFileError(f"{what} does not fit inputs of shape {shape}: {exc}") from None
        if not out or min(out) <= 0:
            raise ModelFileError(f"{what}: inputs of shape {shape} give an empty output {out}")
        if params > max_params:
            raise ModelFileError(f"{source}: the architecture needs more than {max_params:,} "
                                 "parameters, the most allowed; refusing")
        layer_macs, held = _cost(layer, shape, out)
        if held > MAX_VALUES_PER_IMAGE:
            raise ModelFileError(f"{what} holds {held:,} values per image (output {out}), more "
                                 f"than the {MAX_VALUES_PER_IMAGE:,} allowed")
        macs += layer_macs
        if macs > MAX_MACS_PER_IMAGE:
            raise ModelFileError(f"{what}: the model needs over {MAX_MACS_PER_IMAGE:,} "
                                 "multiply-adds per image, more than allowed")
        shape = out


def _cost(layer, shape, out):
    """-> (multiply-adds, values held at once) per image for one layer, from shapes."""
    values_out = math.prod(out)
    if isinstance(layer, Conv2D):         # im2col: (OH*OW, KH*KW*C) patches @ (KH*KW*C, F)
        patches = out[0] * out[1] * math.prod(layer.kernel_size) * shape[2]
        return patches * layer.filters, max(values_out, patches)
    if isinstance(layer, MaxPool2D):
        return values_out * math.prod(layer.pool_size), values_out
    if isinstance(layer, Dense):
        return shape[0] * layer.units, values_out
    return math.prod(shape) + values_out, values_out    # element-wise


def expected_arrays(layers, input_shape):
    """{'layers/<i>/<key>': (shape, dtype)}: exactly the arrays a model file with these layers
    holds (``Layer.weight_shapes_for``), for layers that passed ``check_costs``."""
    expected, shape = {}, tuple(input_shape)
    for i, layer in enumerate(layers):
        for key, s in layer.weight_shapes_for(shape).items():
            expected[f"layers/{i}/{key}"] = (tuple(s), layer.dtype)
        shape = tuple(layer.compute_output_shape(shape))
    return expected
